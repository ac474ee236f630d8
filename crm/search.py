"""Global search (being built)."""

from django.http import HttpResponse
from django.views import View
from rest_framework import viewsets


class SearchView(View):
    def get(self, request):
        return HttpResponse(status=501)


class SearchViewSet(viewsets.ViewSet):
    pass

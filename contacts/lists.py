"""Contact and company lists (being built: placeholder views answering 501 until filled in)."""

from django.http import HttpResponse
from django.views import View


class _Todo(View):
    def dispatch(self, request, *args, **kwargs):
        return HttpResponse(status=501)


class ContactListView(_Todo):
    pass


class ContactExportView(_Todo):
    pass


class ContactBulkView(_Todo):
    pass


class CompanyListView(_Todo):
    pass


class CompanyExportView(_Todo):
    pass


class TrashView(_Todo):
    pass


class RestoreView(_Todo):
    pass

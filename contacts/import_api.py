"""API of contact imports (being built)."""

from rest_framework import viewsets


class ImportViewSet(viewsets.ViewSet):
    pass

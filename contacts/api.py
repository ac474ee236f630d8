"""API of the contacts app (being built)."""

from rest_framework import viewsets


class CompanyViewSet(viewsets.ViewSet):
    pass


class ContactViewSet(viewsets.ViewSet):
    pass


class SocialProfileViewSet(viewsets.ViewSet):
    pass


class TagViewSet(viewsets.ViewSet):
    pass

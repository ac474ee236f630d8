"""Contact and company pages (being built: placeholder views answering 501 until filled in)."""

from django.http import HttpResponse
from django.views import View


class _Todo(View):
    def dispatch(self, request, *args, **kwargs):
        return HttpResponse(status=501)


class ContactCreateView(_Todo):
    pass


class QuickCreateView(_Todo):
    pass


class ContactDetailView(_Todo):
    pass


class ContactEditView(_Todo):
    pass


class ContactTimelineView(_Todo):
    pass


class ContactTagsView(_Todo):
    pass


class SocialProfileCreateView(_Todo):
    pass


class ContactDeleteView(_Todo):
    pass


class ContactMergeView(_Todo):
    pass


class ContactHistoryView(_Todo):
    pass


class SocialProfileDeleteView(_Todo):
    pass


class InteractionDeleteView(_Todo):
    pass


class CompanyCreateView(_Todo):
    pass


class CompanyDetailView(_Todo):
    pass


class CompanyEditView(_Todo):
    pass


class CompanyTimelineView(_Todo):
    pass


class CompanyDeleteView(_Todo):
    pass


class CompanyHistoryView(_Todo):
    pass

"""Import and vCard pages (being built: placeholder views answering 501 until filled in)."""

from django.http import HttpResponse
from django.views import View


class _Todo(View):
    def dispatch(self, request, *args, **kwargs):
        return HttpResponse(status=501)


class ImportListView(_Todo):
    pass


class ImportUploadView(_Todo):
    pass


class ImportDetailView(_Todo):
    pass


class ImportProgressView(_Todo):
    pass


class ImportErrorReportView(_Todo):
    pass


class ImportUndoView(_Todo):
    pass


class ContactVCardView(_Todo):
    pass


class VCardImportView(_Todo):
    pass

"""Import and vCard pages: upload, map columns (with a live preview), progress, report, undo; vCard out and in.

The work happens in `contacts.imports` (and the Celery task behind it); these parse input and render.
"""

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponse, HttpResponseBadRequest, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.http import content_disposition_header
from django.utils.text import slugify
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views import View

from contacts import imports, vcard
from contacts.models import Contact, DuplicateMode, ImportStatus
from crm import policy
from crm.listing import CappedPaginator
from crm.models import Role
from crm.views import PageMixin, form_errors_from
from crm.visibility import can_see

IMPORTER_ROLES = {Role.ADMIN, Role.MANAGER, Role.SALES_REP}
RUNNING = (ImportStatus.QUEUED, ImportStatus.RUNNING, ImportStatus.UNDOING)


class UploadForm(forms.Form):
    file = forms.FileField(
        label=gettext_lazy("CSV or Excel file"),
        help_text=gettext_lazy("CSV or Excel (.xlsx), up to 50 MB. The first row names the columns."),
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,.txt,.tsv,.xlsx,text/csv,"
                                                         "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}),
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > imports.MAX_FILE_BYTES:
            raise ValidationError(_("The file is %(size)s MB; upload at most %(limit)s MB.") % {
                "size": round(upload.size / 1024 / 1024, 1), "limit": imports.MAX_FILE_BYTES // 1024 // 1024})
        return upload


class VCardForm(UploadForm):
    file = forms.FileField(
        label=gettext_lazy("vCard file (.vcf)"),
        help_text=gettext_lazy("One or many cards, vCard 2.1, 3.0 or 4.0, from a phone or an address book."),
        widget=forms.ClearableFileInput(attrs={"accept": ".vcf,.vcard,text/vcard"}),
    )
    duplicate_mode = forms.ChoiceField(label=gettext_lazy("When a contact with the same email or phone exists"),
                                       choices=DuplicateMode.choices, initial=DuplicateMode.SKIP,
                                       widget=forms.RadioSelect)


def _import_or_404(request, pk):
    """An import the user may see (the file itself loads only when a preview needs it)."""
    return get_object_or_404(imports.imports_visible_to(request.user).select_related("owner").defer("data"), pk=pk)


def _read_file(upload) -> bytes:
    return b"".join(upload.chunks())


# --- List and upload ----------------------------------------------------------------------------


class ImportListView(PageMixin, View):
    roles = IMPORTER_ROLES
    PAGE = 25

    def get(self, request):
        qs = (imports.imports_visible_to(request.user).select_related("owner")
              .defer("data", "headers", "mapping").order_by("-created_at", "-id"))
        page = CappedPaginator(qs, self.PAGE).get_page(request.GET.get("page"))
        return render(request, "contacts/imports.html", {"page": page, "imports": page.object_list})


class ImportUploadView(PageMixin, View):
    roles = IMPORTER_ROLES
    template = "contacts/import_upload.html"

    def get(self, request):
        return render(request, self.template, {"form": UploadForm(), "vcard_form": VCardForm()})

    def post(self, request):
        form = UploadForm(request.POST, request.FILES)
        if form.is_valid():
            upload = form.cleaned_data["file"]
            try:
                contact_import = imports.create_import(by=request.user, filename=upload.name, data=_read_file(upload))
            except ValidationError as exc:
                form_errors_from(form, exc)
            else:
                return redirect("contacts:import", pk=contact_import.pk)
        return render(request, self.template, {"form": form, "vcard_form": VCardForm()}, status=400)


class VCardImportView(PageMixin, View):
    roles = IMPORTER_ROLES
    template = "contacts/import_upload.html"

    def get(self, request):
        return render(request, self.template, {"form": UploadForm(), "vcard_form": VCardForm()})

    def post(self, request):
        form = VCardForm(request.POST, request.FILES)
        if form.is_valid():
            upload = form.cleaned_data["file"]
            try:
                contact_import = imports.create_vcard_import(
                    by=request.user, filename=upload.name, data=_read_file(upload),
                    duplicate_mode=form.cleaned_data["duplicate_mode"])
            except ValidationError as exc:
                form_errors_from(form, exc)
            else:
                return redirect("contacts:import", pk=contact_import.pk)
        return render(request, self.template, {"form": UploadForm(), "vcard_form": form}, status=400)


# --- One import ---------------------------------------------------------------------------------


def preview_table(user, contact_import, rows: list[imports.PreparedRow]) -> list[dict]:
    """Preview rows for the template: each cell's value, what will be imported, and its errors."""
    out = []
    for row in rows:
        cells = []
        for header in contact_import.headers:
            raw = row.values.get(header, "")
            raw = "; ".join(raw) if isinstance(raw, list) else raw
            shown = row.shown.get(header)
            cells.append({"raw": raw, "shown": shown if shown not in (None, raw) else None,
                          "errors": row.errors.get(header, [])})
        duplicate = None
        if row.duplicate is not None:
            duplicate = row.duplicate if can_see(user, row.duplicate) else _("a contact in another team's records")
        out.append({"number": row.number, "cells": cells, "row_errors": row.errors.get(imports.ROW, []),
                    "duplicate": duplicate})
    return out


class ImportDetailView(PageMixin, View):
    template = "contacts/import_detail.html"

    def context(self, request, contact_import, *, mapping=None, errors=None, duplicate_mode=None):
        context = {"imp": contact_import, "can_edit": policy.can_edit(request.user, contact_import),
                   "errors": errors or {}, "running": contact_import.status in RUNNING}
        if contact_import.status == ImportStatus.UPLOADED:
            mapping = contact_import.mapping if mapping is None else mapping
            rows = imports.preview(contact_import, mapping=mapping)
            context.update(
                columns=[{"index": str(i), "header": h, "target": mapping.get(str(i), ""),
                          "sample": next((r.values.get(h) for r in rows if r.values.get(h)), "")}
                         for i, h in enumerate(contact_import.headers)],
                targets=list(imports.TARGETS.items()), preview=preview_table(request.user, contact_import, rows),
                duplicate_modes=DuplicateMode.choices,
                duplicate_mode=duplicate_mode or contact_import.duplicate_mode,
            )
        else:
            context["problems"] = imports.problem_rows(contact_import)
        return context

    def get(self, request, pk):
        contact_import = _import_or_404(request, pk)
        return render(request, self.template, self.context(request, contact_import))

    def post(self, request, pk):
        contact_import = _import_or_404(request, pk)
        action = request.POST.get("action", "start")
        if action == "retry":
            try:
                imports.retry_import(by=request.user, contact_import=contact_import)
            except ValidationError as exc:
                messages.error(request, " ".join(exc.messages))
            return redirect("contacts:import", pk=contact_import.pk)
        if not policy.can_edit(request.user, contact_import):
            raise PermissionDenied
        if contact_import.status != ImportStatus.UPLOADED:
            messages.error(request, _("This import has started; its mapping can no longer change."))
            return redirect("contacts:import", pk=contact_import.pk)
        mapping = {key[4:]: value for key, value in request.POST.items() if key.startswith("col_")}
        duplicate_mode = request.POST.get("duplicate_mode", contact_import.duplicate_mode)
        errors = {}
        try:
            cleaned = imports.clean_mapping(contact_import.headers, mapping)
        except ValidationError as exc:
            errors, cleaned = exc.message_dict, mapping
        if action == "preview":
            context = self.context(request, contact_import, mapping=cleaned, errors=errors,
                                   duplicate_mode=duplicate_mode)
            if request.htmx:
                return render(request, "contacts/partials/import_preview.html", context)
            return render(request, self.template, context)
        if not errors:
            try:
                imports.start_import(by=request.user, contact_import=contact_import, mapping=cleaned,
                                     duplicate_mode=duplicate_mode)
            except ValidationError as exc:
                errors = exc.message_dict
            else:
                messages.success(request, _("The import has started. You can leave this page; it carries on."))
                return redirect("contacts:import", pk=contact_import.pk)
        contact_import.refresh_from_db()
        return render(request, self.template, self.context(
            request, contact_import, mapping=cleaned, errors=errors, duplicate_mode=duplicate_mode), status=400)


class ImportProgressView(PageMixin, View):
    """The status block, polled by htmx every second while the import runs."""

    def get(self, request, pk):
        contact_import = _import_or_404(request, pk)
        return render(request, "contacts/partials/import_progress.html", {
            "imp": contact_import, "can_edit": policy.can_edit(request.user, contact_import),
            "running": contact_import.status in RUNNING, "problems": imports.problem_rows(contact_import)})


class ImportErrorReportView(PageMixin, View):
    def get(self, request, pk):
        contact_import = _import_or_404(request, pk)
        response = StreamingHttpResponse(imports.error_report_lines(contact_import),
                                         content_type="text/csv; charset=utf-8")
        name = (contact_import.filename.rsplit(".", 1)[0] or "import") + "-errors.csv"
        response["Content-Disposition"] = content_disposition_header(True, name)
        return response


class ImportUndoView(PageMixin, View):
    def post(self, request, pk):
        contact_import = _import_or_404(request, pk)
        try:
            imports.request_undo(by=request.user, contact_import=contact_import)
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(request, _("Undoing the import: the contacts it created are being deleted and the ones "
                                        "it updated put back."))
        return redirect("contacts:import", pk=contact_import.pk)


# --- vCard --------------------------------------------------------------------------------------


class ContactVCardView(PageMixin, View):
    def get(self, request, pk):
        contact = get_object_or_404(
            Contact.objects.visible_to(request.user).select_related("company")
            .prefetch_related("emails", "phones", "tag_links__tag"), pk=pk)
        version = request.GET.get("version", "3.0")
        if version not in vcard.VERSIONS:
            return HttpResponseBadRequest(_("Choose vCard version 3.0 or 4.0."), content_type="text/plain; charset=utf-8")
        response = HttpResponse(vcard.serialize(contact, version=version).encode(),
                                content_type="text/vcard; charset=utf-8")
        name = slugify(contact.full_name, allow_unicode=True) or f"contact-{contact.pk}"
        response["Content-Disposition"] = content_disposition_header(True, f"{name}.vcf")
        return response

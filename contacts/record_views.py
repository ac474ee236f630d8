"""What the pages of a contact and of a company share: one record page (`RecordPage`), its views.

A kind (`contacts.views.ContactPage`, `contacts.company_views.CompanyPage`) says its templates, forms,
services and what its page shows; the `Record…View` classes here do the rest once: the panel edited
in place, giving the record to another owner, deleting, the history, the timeline, create and edit.
"""

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views import View

from contacts import services
from contacts.forms import (
    ActivityForm,
    OwnerForm,
)
from contacts.models import Company, Tag
from crm import audit, policy
from crm.models import Role
from crm.views import OwnedObjectMixin, form_errors_from

SUGGESTIONS = 200  # datalist hints for tags and companies (any name can still be typed)
CREATORS = {Role.ADMIN, Role.MANAGER, Role.SALES_REP}


# --- Helpers ------------------------------------------------------------------------------------


def hx_redirect(request, url: str) -> HttpResponse:
    """A redirect that also works for htmx requests (which follow HX-Redirect, not a 302)."""
    if request.htmx:
        response = HttpResponse()
        response["HX-Redirect"] = url
        return response
    return redirect(url)


def tag_suggestions():
    return Tag.objects.order_by("name").values_list("name", flat=True)[:SUGGESTIONS]


def company_suggestions(user):
    return Company.objects.visible_to(user).order_by("name", "id").only("name", "domain")[:SUGGESTIONS]


def form_sections(form, sections: dict, titles: dict) -> list[dict]:
    """The form's fields grouped as on the record page (only the sections the form has)."""
    out, covered = [], {"allow_duplicate"}
    for name, field_names in sections.items():
        present = [n for n in field_names if n in form.fields]
        covered.update(field_names)
        if present:
            out.append({"name": name, "title": titles[name], "fields": present})
    rest = [n for n in form.fields if n not in covered]
    if rest:
        out.append({"name": "more", "title": _("Tags") if rest == ["tags"] else _("Owner and tags"), "fields": rest})
    return out


# --- What the pages of a contact and of a company share ---------------------------------------


class RecordPage(OwnedObjectMixin):
    """A page about one contact or company; a kind (`ContactPage`, `CompanyPage`) fills in the blanks."""

    record_arg = ""  # "contact" or "company": the keyword the services take the record by, and its template variable
    detail_url = list_url = timeline_url = ""  # URL names: the record's page, where leaving it goes, its timeline
    detail_template = form_template = section_template = section_form_template = ""
    sections: dict = {}  # panels edited in place: name -> field names
    section_titles: dict = {}
    header_sections = ()  # panels whose save also refreshes the page's header
    history_parts = ()  # rows belonging to the record whose changes show in its history
    timeline_extra: dict = {}  # more context for the timeline's fragments
    #: the services for this kind (staticmethods): create, update, transfer, delete
    create_service = update_service = transfer_service = delete_service = None

    def record_context(self, record) -> dict:
        """What the kind's page shows besides what every record page does (`page_context`)."""
        raise NotImplementedError

    def section_context(self, record, section: str, form=None) -> dict:
        """One panel of the page: its read view, or (with `form`) its form."""
        raise NotImplementedError

    def edit_form(self, *data, record, section: str | None = None):
        """The edit form of the record (one panel's fields with `section`); bound when given the data."""
        raise NotImplementedError

    def timeline(self, record, *, kind: str, before: str) -> dict:
        """One page of the record's timeline (a selector)."""
        raise NotImplementedError

    def suggestions(self) -> dict:
        """The datalists the create and edit pages offer."""
        return {"tag_suggestions": tag_suggestions()}

    def put_errors(self, form, exc: ValidationError) -> None:
        """Show a service's refusal on the form."""
        form_errors_from(form, exc)

    def page_context(self, record, *, tab: str = "timeline", kind: str = "", before: str = "", **extra) -> dict:
        """Everything the record's page shows (a fixed number of queries, whatever the record holds)."""
        user = self.request.user
        context = {
            **self.record_context(record),
            "sections": list(self.section_titles.items()),
            "can_edit": policy.can_edit(user, record),
            "can_delete": policy.can_delete(user, record),
            "can_transfer": policy.can_transfer(user, record),
            "tab": tab,
            "timeline_url": reverse(self.timeline_url, args=[record.pk]),
        }
        if context["can_transfer"]:
            context["owner_form"] = OwnerForm(user=user, initial={"owner": record.owner_id})
        if tab == "history":
            context["history"] = audit.history_for(record, parts=self.history_parts)
        else:
            context.update(self.timeline(record, kind=kind, before=before))
        context.update(extra)
        return context

    def detail(self, record, *, status: int = 200, **context):
        """The record's page (status 400 when it shows a refused form)."""
        return render(self.request, self.detail_template, self.page_context(record, **context), status=status)

    def form_page(self, form, *, record=None, status: int = 200, **extra):
        """The edit page of `record`, or (no record) the create page."""
        context = {"form": form, "sections": form_sections(form, self.sections, self.section_titles),
                   **self.suggestions(), **extra}
        if record is not None:
            context[self.record_arg] = record
        return render(self.request, self.form_template, context, status=status)

    def create_from(self, form):
        """Create a record from a valid form, or put the service's errors on the form and return None."""
        if not form.is_valid():
            return None
        try:
            return self.create_service(by=self.request.user, **form.service_kwargs())
        except ValidationError as exc:
            self.put_errors(form, exc)
            return None


class RecordDetailView(RecordPage, View):
    def get(self, request, pk):
        record = self.get_object()
        section = request.GET.get("section", "")
        if request.htmx and section in self.sections:  # "Cancel" on an inline edit: the read view again
            return render(request, self.section_template, self.section_context(record, section))
        return self.detail(record)


class RecordEditView(RecordPage, View):
    """The full edit page, or (htmx, `?section=`) one panel's form that swaps back to its read view on save.

    A POST with `section=owner` gives the record to another owner.
    """

    def get(self, request, pk):
        record = self.get_editable_object()
        section = request.GET.get("section", "")
        if request.htmx and section in self.sections:
            form = self.edit_form(record=record, section=section)
            return render(request, self.section_form_template, self.section_context(record, section, form))
        return self.form_page(self.edit_form(record=record), record=record)

    def post(self, request, pk):
        record = self.get_object()
        section = request.POST.get("section") or request.GET.get("section", "")
        if section == "owner":
            return self.transfer(request, record)
        if not policy.can_edit(request.user, record):
            raise PermissionDenied
        inline = request.htmx and section in self.sections
        form = self.edit_form(request.POST, record=record, section=section if section in self.sections else None)
        if form.is_valid():
            try:
                self.update_service(by=request.user, **{self.record_arg: record}, **form.service_kwargs())
            except ValidationError as exc:
                self.put_errors(form, exc)
            else:
                if inline:
                    record = self.get_object()
                    context = self.section_context(record, section)
                    context["oob_header"] = section in self.header_sections
                    return render(request, self.section_template, context)
                messages.success(request, _("%(name)s is saved.") % {"name": record})
                return redirect(self.detail_url, pk=record.pk)
        record = self.get_object()  # the service may have changed the object before refusing
        if inline:
            return render(request, self.section_form_template, self.section_context(record, section, form), status=400)
        return self.form_page(form, record=record, status=400)

    def transfer(self, request, record):
        if not policy.can_transfer(request.user, record):
            raise PermissionDenied
        form = OwnerForm(request.POST, user=request.user)
        if form.is_valid():
            try:
                self.transfer_service(by=request.user, **{self.record_arg: record}, owner=form.cleaned_data["owner"])
            except ValidationError as exc:
                form_errors_from(form, exc)
            else:
                messages.success(request, _("%(name)s now belongs to %(owner)s.") % {
                    "name": record, "owner": form.cleaned_data["owner"]})
                if self.model.objects.visible_to(request.user).filter(pk=record.pk).exists():
                    return hx_redirect(request, reverse(self.detail_url, args=[record.pk]))
                return hx_redirect(request, reverse(self.list_url))
        record = self.get_object()
        return self.detail(record, status=400, owner_form=form, owner_open=True)


class RecordTimelineView(RecordPage, View):
    """GET: the timeline (filter by kind, older entries by keyset). POST: log an activity (`log_activity`)."""

    def get(self, request, pk):
        record = self.get_object()
        kind, before = request.GET.get("kind", ""), request.GET.get("before", "")
        if not request.htmx:
            return self.detail(record, kind=kind, before=before)
        context = {"timeline_url": reverse(self.timeline_url, args=[record.pk]), self.record_arg: record,
                   **self.timeline_extra, "activity_form": ActivityForm(), **self.timeline(record, kind=kind, before=before)}
        return render(request, self.timeline_template(before), context)

    def timeline_template(self, before: str) -> str:
        if before:
            return "contacts/partials/timeline_page.html"
        if self.request.GET.get("part") == "panel":
            return "contacts/partials/timeline.html"
        return "contacts/partials/timeline_list.html"

    def post(self, request, pk):
        record = self.get_object()
        url = reverse(self.timeline_url, args=[record.pk])
        form = ActivityForm(request.POST)
        if form.is_valid():
            try:
                entry = services.log_activity(by=request.user, **{self.record_arg: record}, **form.cleaned_data)
            except ValidationError as exc:
                form_errors_from(form, exc)
            else:
                if request.htmx:
                    entry.can_remove = True
                    return render(request, "contacts/partials/timeline_added.html", {
                        "entry": entry, "activity_form": ActivityForm(), "timeline_url": url, self.record_arg: record})
                messages.success(request, _("Added to the timeline."))
                return redirect(self.detail_url, pk=record.pk)
        if request.htmx:
            response = render(request, "contacts/partials/activity_form.html",
                              {"activity_form": form, "timeline_url": url}, status=400)
            response["HX-Retarget"], response["HX-Reswap"] = "#activity-form", "outerHTML"
            return response
        return self.detail(record, status=400, activity_form=form)


class RecordDeleteView(RecordPage, View):
    def post(self, request, pk):
        record = self.get_object()
        self.delete_service(by=request.user, **{self.record_arg: record})
        messages.success(request, _("%(name)s is in the trash; it can be restored for 30 days.") % {"name": record})
        return hx_redirect(request, reverse(self.list_url))


class RecordHistoryView(RecordPage, View):
    def get(self, request, pk):
        record = self.get_object()
        if request.htmx:
            return render(request, "partials/history.html", {"history": audit.history_for(record, parts=self.history_parts)})
        return self.detail(record, tab="history")


class RecordCreateView(RecordPage, View):
    roles = CREATORS

    def new_form(self, data=None):
        """The create page's form."""
        raise NotImplementedError

    def quick_form(self, *data):
        """The compact form of the top bar's "+" (`QuickCreateView`)."""
        raise NotImplementedError

    def get(self, request):
        return self.form_page(self.new_form())

    def post(self, request):
        form = self.new_form(request.POST)
        record = self.create_from(form)
        if record is not None:
            messages.success(request, _("%(name)s is added.") % {"name": record})
            return redirect(self.detail_url, pk=record.pk)
        return self.form_page(form, status=400)

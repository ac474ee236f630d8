"""Pages about one contact: the record, inline edits, the timeline, tags, social profiles, merge; quick create.

Every page finds its record through `visible_to` (another user's record is a 404), checks the
right to change it with `crm.policy` (403) and calls `contacts.services` for every write. Panels
that update in place answer htmx requests with the same partial the full page includes.

A contact's page and a company's (`contacts.company_views`) work alike: what they share is in
`contacts.record_views`.
"""

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views import View

from contacts import selectors, services
from contacts.company_views import CompanyCreateView
from contacts.forms import (
    CONTACT_SECTION_TITLES,
    CONTACT_SECTIONS,
    ActivityForm,
    ContactForm,
    MergeSearchForm,
    QuickContactForm,
    SocialProfileForm,
    TagForm,
)
from contacts.models import Company, Contact, Interaction, SocialProfile, Tag
from contacts.normalise import ascii_digits, looks_like_phone, search_key
from contacts.record_views import (
    CREATORS,
    RecordCreateView,
    RecordDeleteView,
    RecordDetailView,
    RecordEditView,
    RecordHistoryView,
    RecordPage,
    RecordTimelineView,
    company_suggestions,
    hx_redirect,
    tag_suggestions,
)
from crm import policy
from crm.models import Role
from crm.views import PageMixin, form_errors_from

#: Rows that belong to a contact, whose changes show in its history (an email added, a tag removed).
CONTACT_HISTORY_PARTS = ("contacts.ContactEmailEvent", "contacts.ContactPhoneEvent", "contacts.ContactTagEvent",
                         "contacts.SocialProfileEvent")


# --- Contacts -----------------------------------------------------------------------------------


class ContactPage(RecordPage):
    model = Contact
    record_arg = "contact"
    detail_url, list_url, timeline_url = "contacts:contact", "contacts:index", "contacts:contact_timeline"
    detail_template = "contacts/contact_detail.html"
    form_template = "contacts/contact_form.html"
    section_template = "contacts/partials/contact_section.html"
    section_form_template = "contacts/partials/contact_section_form.html"
    sections, section_titles = CONTACT_SECTIONS, CONTACT_SECTION_TITLES
    header_sections = ("details",)
    history_parts = CONTACT_HISTORY_PARTS
    create_service = staticmethod(services.create_contact)
    update_service = staticmethod(services.update_contact)
    transfer_service = staticmethod(services.transfer_contact)
    delete_service = staticmethod(services.delete_contact)

    def get_queryset(self):
        return super().get_queryset().select_related("company")

    def record_context(self, contact) -> dict:
        user = self.request.user
        return {
            "contact": contact,
            "emails": list(contact.emails.all()),
            "phones": list(contact.phones.all()),
            "tag_links": list(contact.tag_links.select_related("tag").order_by("tag__name")),
            "profiles": list(contact.social_profiles.all()),
            "can_merge": user.role in (Role.ADMIN, Role.MANAGER) and policy.can_delete(user, contact),
            "activity_form": ActivityForm(),
            "tag_form": TagForm(),
            "social_form": SocialProfileForm(),
            "tag_suggestions": tag_suggestions(),
        }

    def section_context(self, contact, section, form=None) -> dict:
        user = self.request.user
        return {"contact": contact, "section": section, "title": CONTACT_SECTION_TITLES[section], "form": form,
                "emails": list(contact.emails.all()), "phones": list(contact.phones.all()),
                "can_edit": policy.can_edit(user, contact),
                "company_suggestions": company_suggestions(user) if form and "company" in form.fields else ()}

    def edit_form(self, *data, record, section=None):
        return ContactForm(*data, user=self.request.user, instance=record, section=section)

    def timeline(self, contact, *, kind, before) -> dict:
        return selectors.contact_timeline(user=self.request.user, contact=contact, kind=kind, before=before)

    def suggestions(self) -> dict:
        return {"company_suggestions": company_suggestions(self.request.user), **super().suggestions()}

    def put_errors(self, form, exc) -> None:
        form.note_duplicate(exc)
        form_errors_from(form, exc)


class ContactDetailView(ContactPage, RecordDetailView):
    pass


class ContactEditView(ContactPage, RecordEditView):
    pass


class ContactTimelineView(ContactPage, RecordTimelineView):
    pass


class ContactDeleteView(ContactPage, RecordDeleteView):
    pass


class ContactHistoryView(ContactPage, RecordHistoryView):
    pass


class ContactCreateView(ContactPage, RecordCreateView):
    def new_form(self, data=None):
        initial = {}
        company_id = self.request.GET.get("company", "")
        if data is None and company_id.isdigit():
            initial["company"] = Company.objects.visible_to(self.request.user).filter(pk=company_id).first()
        return ContactForm(data, user=self.request.user, with_tags=True, with_owner=True, initial=initial)

    def quick_form(self, *data):
        return QuickContactForm(*data, user=self.request.user)


class ContactTagsView(ContactPage, View):
    """GET: the tags panel. POST `name=`: add a tag (new names create one); POST `remove=<tag id>`: remove it."""

    def render_panel(self, request, contact, form=None, status=200):
        tag_links = list(contact.tag_links.select_related("tag").order_by("tag__name"))
        return render(request, "contacts/partials/tags.html", {
            "contact": contact, "tag_links": tag_links, "tag_form": form or TagForm(),
            "tag_suggestions": tag_suggestions(), "can_edit": policy.can_edit(request.user, contact)},
            status=status)

    def get(self, request, pk):
        return self.render_panel(request, self.get_object())

    def post(self, request, pk):
        contact = self.get_object()
        if not policy.can_edit(request.user, contact):
            raise PermissionDenied
        if "remove" in request.POST:
            tag = get_object_or_404(Tag, pk=request.POST["remove"]) if request.POST["remove"].isdigit() else None
            if tag is None:
                raise Http404
            services.remove_tag(by=request.user, obj=contact, tag=tag)
            return self.done(request, contact)
        form = TagForm(request.POST)
        if form.is_valid():
            try:
                services.add_tags(by=request.user, obj=contact, tags=[form.cleaned_data["name"]])
            except ValidationError as exc:
                form_errors_from(form, exc)
            else:
                return self.done(request, contact)
        if request.htmx:
            return self.render_panel(request, contact, form, status=400)
        return self.detail(contact, status=400, tag_form=form)

    def done(self, request, contact):
        if request.htmx:
            return self.render_panel(request, contact)
        return redirect("contacts:contact", pk=contact.pk)


class SocialProfileCreateView(ContactPage, View):
    """GET: the social profiles panel. POST: link a profile (interests become tags marked social)."""

    def render_panel(self, request, contact, form=None, status=200, with_tags=False):
        context = {"contact": contact, "profiles": list(contact.social_profiles.all()),
                   "social_form": form or SocialProfileForm(), "can_edit": policy.can_edit(request.user, contact),
                   "social_open": form is not None}
        if with_tags:
            context.update(oob_tags=True, tag_form=TagForm(), tag_suggestions=tag_suggestions(),
                           tag_links=list(contact.tag_links.select_related("tag").order_by("tag__name")))
        return render(request, "contacts/partials/social.html", context, status=status)

    def get(self, request, pk):
        return self.render_panel(request, self.get_object())

    def post(self, request, pk):
        contact = self.get_object()
        if not policy.can_edit(request.user, contact):
            raise PermissionDenied
        form = SocialProfileForm(request.POST)
        if form.is_valid():
            try:
                services.add_social_profile(by=request.user, contact=contact, **form.cleaned_data)
            except ValidationError as exc:
                form_errors_from(form, exc)
            else:
                if request.htmx:
                    return self.render_panel(request, contact, with_tags=bool(form.cleaned_data["interests"]))
                messages.success(request, _("The profile is linked."))
                return redirect("contacts:contact", pk=contact.pk)
        if request.htmx:
            return self.render_panel(request, contact, form, status=400)
        return self.detail(contact, status=400, social_form=form, social_open=True)


class SocialProfileDeleteView(PageMixin, View):
    def post(self, request, pk):
        profile = get_object_or_404(SocialProfile.objects.visible_to(request.user).select_related("contact"), pk=pk)
        contact = profile.contact
        services.remove_social_profile(by=request.user, profile=profile)
        if request.htmx:
            return SocialProfileCreateView().render_panel(request, contact)
        messages.success(request, _("The profile is removed."))
        return redirect("contacts:contact", pk=contact.pk)


class InteractionDeleteView(PageMixin, View):
    """Remove an entry logged by hand (its author, or whoever may edit the customer)."""

    def post(self, request, pk):
        entry = get_object_or_404(Interaction.objects.visible_to(request.user).select_related("contact", "company"),
                                  pk=pk)
        services.delete_interaction(by=request.user, interaction=entry)
        if request.htmx:
            return HttpResponse()  # the entry's <li> is swapped for nothing
        messages.success(request, _("The entry is removed from the timeline."))
        if entry.contact_id:
            return redirect("contacts:contact", pk=entry.contact_id)
        return redirect("contacts:company", pk=entry.company_id)


class ContactMergeView(ContactPage, View):
    """Managers and admins fold a duplicate into this contact: find it, compare both, confirm."""

    CANDIDATES = 20

    def get_mergeable(self):
        contact = self.get_object()
        if self.request.user.role not in (Role.ADMIN, Role.MANAGER) or not policy.can_delete(self.request.user, contact):
            raise PermissionDenied
        return contact

    def context(self, contact, *, search_form, duplicate=None, error=""):
        user = self.request.user
        candidates = []
        if search_form.is_valid() and search_form.cleaned_data["q"].strip() and duplicate is None:
            q = search_form.cleaned_data["q"].strip()
            key = "".join(c for c in ascii_digits(q) if c.isdigit()) if looks_like_phone(q) else search_key(q)
            candidates = list(Contact.objects.visible_to(user).filter(search_text__icontains=key)
                              .exclude(pk=contact.pk).select_related("company", "owner")
                              .order_by("first_name", "last_name", "id")[: self.CANDIDATES])
        pair = [contact, duplicate] if duplicate is not None else []
        return {"contact": contact, "search_form": search_form, "candidates": candidates, "duplicate": duplicate,
                "pair": [_merge_summary(c) for c in pair], "error": error}

    def get(self, request, pk):
        contact = self.get_mergeable()
        duplicate = None
        if request.GET.get("duplicate", "").isdigit():
            duplicate = get_object_or_404(
                Contact.objects.visible_to(request.user).select_related("company", "owner").exclude(pk=contact.pk),
                pk=request.GET["duplicate"])
        return render(request, "contacts/merge.html",
                      self.context(contact, search_form=MergeSearchForm(request.GET or None), duplicate=duplicate))

    def post(self, request, pk):
        contact = self.get_mergeable()
        visible = Contact.objects.visible_to(request.user).select_related("company", "owner")
        raw = request.POST.get("duplicate", "")
        duplicate = visible.exclude(pk=contact.pk).filter(pk=raw).first() if raw.isdigit() else None
        if duplicate is None:
            return render(request, "contacts/merge.html", self.context(
                contact, search_form=MergeSearchForm(), error=_("Choose the duplicate among the contacts you can see.")),
                status=400)
        keep = request.POST.get("keep", str(contact.pk))
        primary, other = (duplicate, contact) if keep == str(duplicate.pk) else (contact, duplicate)
        try:
            primary = services.merge_contacts(by=request.user, primary=primary, duplicate=other)
        except ValidationError as exc:
            return render(request, "contacts/merge.html", self.context(
                contact, search_form=MergeSearchForm(), duplicate=duplicate, error=" ".join(exc.messages)), status=400)
        messages.success(request, _("%(other)s is merged into %(name)s.") % {"other": other, "name": primary})
        return redirect("contacts:contact", pk=primary.pk)


def _merge_summary(contact: Contact) -> dict:
    return {
        "contact": contact,
        "emails": [e.email for e in contact.emails.all()],
        "phones": [p.number for p in contact.phones.all()],
        "tags": [t.name for t in contact.tags.all()],
        "entries": contact.interactions.count(),
    }


# --- Quick create -------------------------------------------------------------------------------


class QuickCreateView(PageMixin, View):
    """The top bar's "+": a compact form in a <dialog> (htmx); without htmx, the full create page."""

    roles = CREATORS

    def kind(self, request):
        kind = request.POST.get("kind") or request.GET.get("kind") or "contact"
        if kind not in ("contact", "company"):
            raise Http404
        return kind

    def create_page(self, request, kind) -> RecordCreateView:

        return (ContactCreateView if kind == "contact" else CompanyCreateView)(request=request)

    def fragment(self, request, kind, form, status=200):
        return render(request, "contacts/partials/quick_create.html", {
            "kind": kind, "form": form,
            "company_suggestions": company_suggestions(request.user) if kind == "contact" else ()}, status=status)

    def get(self, request):
        kind = self.kind(request)
        if not request.htmx:
            return redirect("contacts:contact_create" if kind == "contact" else "contacts:company_create")
        return self.fragment(request, kind, self.create_page(request, kind).quick_form())

    def post(self, request):
        kind = self.kind(request)
        page = self.create_page(request, kind)
        form = page.quick_form(request.POST)
        record = page.create_from(form)
        if record is not None:
            messages.success(request, _("%(name)s is added.") % {"name": record})
            return hx_redirect(request, reverse(page.detail_url, args=[record.pk]))
        if request.htmx:
            return self.fragment(request, kind, form, status=400)
        return page.form_page(form, status=400, action=reverse("contacts:quick_create"), kind=kind)

"""Pages about one contact or company: the record, inline edits, the timeline, tags, social profiles, merge.

Every page finds its record through `visible_to` (another user's record is a 404), checks the
right to change it with `crm.policy` (403) and calls `contacts.services` for every write. Panels
that update in place answer htmx requests with the same partial the full page includes.
"""

from datetime import UTC, datetime

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import FETCH_PEERS, Q
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views import View

from contacts import services
from contacts.forms import (
    COMPANY_SECTION_TITLES,
    COMPANY_SECTIONS,
    CONTACT_SECTION_TITLES,
    CONTACT_SECTIONS,
    ActivityForm,
    CompanyForm,
    ContactForm,
    MergeSearchForm,
    OwnerForm,
    QuickCompanyForm,
    QuickContactForm,
    SocialProfileForm,
    TagForm,
)
from contacts.models import Company, Contact, Interaction, InteractionKind, SocialProfile, Tag
from contacts.normalise import ascii_digits, looks_like_phone, search_key
from crm import audit, policy
from crm.models import Role
from crm.views import OwnedObjectMixin, PageMixin, form_errors_from

TIMELINE_PAGE = 25
PEOPLE_SHOWN = 25
SUGGESTIONS = 200  # datalist hints for tags and companies (any name can still be typed)
CREATORS = {Role.ADMIN, Role.MANAGER, Role.SALES_REP}
_CURSOR_FORMAT = "%Y%m%dT%H%M%S%f"

#: Rows that belong to a contact/company, whose changes show in its history (an email added, a tag removed).
CONTACT_HISTORY_PARTS = ("contacts.ContactEmailEvent", "contacts.ContactPhoneEvent", "contacts.ContactTagEvent",
                         "contacts.SocialProfileEvent")
COMPANY_HISTORY_PARTS = ("contacts.CompanyTagEvent",)


# --- Helpers ------------------------------------------------------------------------------------


def _redirect(request, url: str) -> HttpResponse:
    """A redirect that also works for htmx requests (which follow HX-Redirect, not a 302)."""
    if request.htmx:
        response = HttpResponse()
        response["HX-Redirect"] = url
        return response
    return redirect(url)


def _retarget(response: HttpResponse, target: str, swap: str = "outerHTML") -> HttpResponse:
    response["HX-Retarget"], response["HX-Reswap"] = target, swap
    return response


def _tag_suggestions():
    return Tag.objects.order_by("name").values_list("name", flat=True)[:SUGGESTIONS]


def _company_suggestions(user):
    return Company.objects.visible_to(user).order_by("name", "id").only("name", "domain")[:SUGGESTIONS]


def _cursor(entry: Interaction) -> str:
    return f"{entry.occurred_at.astimezone(UTC).strftime(_CURSOR_FORMAT)}-{entry.pk}"


def _parse_cursor(text: str):
    try:
        stamp, pk = text.rsplit("-", 1)
        return datetime.strptime(stamp, _CURSOR_FORMAT).replace(tzinfo=UTC), int(pk)
    except ValueError:
        return None


def timeline_page(entries, *, user, kind: str = "", before: str = "", editable_target=None) -> dict:
    """One page of a timeline, newest first, by keyset (occurred_at, id); which entries the user may remove.

    `entries` is already narrowed to what the user sees; `editable_target` is the record whose edit
    right lets one remove others' entries (None: each entry's own contact or company).
    """
    if kind in InteractionKind.values:
        entries = entries.filter(kind=kind)
    else:
        kind = ""
    cursor = _parse_cursor(before) if before else None
    if cursor is not None:
        at, pk = cursor
        entries = entries.filter(Q(occurred_at__lt=at) | Q(occurred_at=at, pk__lt=pk))
    related = ("author",) if editable_target is not None else ("author", "contact", "company")
    rows = list(entries.select_related(*related).fetch_mode(FETCH_PEERS)
                .order_by("-occurred_at", "-id")[: TIMELINE_PAGE + 1])
    more = len(rows) > TIMELINE_PAGE
    rows = rows[:TIMELINE_PAGE]
    target_editable = editable_target is not None and policy.can_edit(user, editable_target)
    for entry in rows:
        if entry.kind not in services.LOGGABLE_KINDS:
            entry.can_remove = False
        elif entry.author_id == user.pk:
            entry.can_remove = True
        elif editable_target is not None:
            entry.can_remove = target_editable
        else:
            entry.can_remove = policy.can_edit(user, entry.contact or entry.company)
    return {"entries": rows, "next_cursor": _cursor(rows[-1]) if more else "", "kind": kind,
            "kinds": InteractionKind.choices, "is_first_page": cursor is None}


# --- Contacts -----------------------------------------------------------------------------------


class ContactMixin(OwnedObjectMixin):
    model = Contact

    def get_queryset(self):
        return super().get_queryset().select_related("company")


def contact_context(request, contact: Contact, *, tab: str = "timeline", kind: str = "", before: str = "",
                    **extra) -> dict:
    """Everything the contact page shows (a fixed number of queries, whatever the record holds)."""
    user = request.user
    tag_links = list(contact.tag_links.select_related("tag").order_by("tag__name"))
    context = {
        "contact": contact,
        "emails": list(contact.emails.all()),
        "phones": list(contact.phones.all()),
        "tag_links": tag_links,
        "profiles": list(contact.social_profiles.all()),
        "sections": list(CONTACT_SECTION_TITLES.items()),
        "can_edit": policy.can_edit(user, contact),
        "can_delete": policy.can_delete(user, contact),
        "can_transfer": policy.can_transfer(user, contact),
        "can_merge": user.role in (Role.ADMIN, Role.MANAGER) and policy.can_delete(user, contact),
        "tab": tab,
        "activity_form": ActivityForm(),
        "tag_form": TagForm(),
        "social_form": SocialProfileForm(),
        "tag_suggestions": _tag_suggestions(),
        "timeline_url": reverse("contacts:contact_timeline", args=[contact.pk]),
    }
    if context["can_transfer"]:
        context["owner_form"] = OwnerForm(user=user, initial={"owner": contact.owner_id})
    if tab == "history":
        context["history"] = audit.history_for(contact, parts=CONTACT_HISTORY_PARTS)
    else:
        context.update(timeline_page(contact.interactions.all(), user=user, kind=kind, before=before,
                                     editable_target=contact))
    context.update(extra)
    return context


def _contact_section_context(request, contact, section, form=None):
    return {"contact": contact, "section": section, "title": CONTACT_SECTION_TITLES[section], "form": form,
            "emails": list(contact.emails.all()), "phones": list(contact.phones.all()),
            "can_edit": policy.can_edit(request.user, contact),
            "company_suggestions": _company_suggestions(request.user) if form and "company" in form.fields else ()}


class ContactDetailView(ContactMixin, View):
    def get(self, request, pk):
        contact = self.get_object()
        section = request.GET.get("section", "")
        if request.htmx and section in CONTACT_SECTIONS:  # "Cancel" on an inline edit: the read view again
            return render(request, "contacts/partials/contact_section.html",
                          _contact_section_context(request, contact, section))
        return render(request, "contacts/contact_detail.html", contact_context(request, contact))


class ContactEditView(ContactMixin, View):
    """The full edit page, or (htmx, `?section=`) one panel's form that swaps back to its read view on save."""

    def get(self, request, pk):
        contact = self.get_editable_object()
        section = request.GET.get("section", "")
        if request.htmx and section in CONTACT_SECTIONS:
            form = ContactForm(user=request.user, instance=contact, section=section)
            return render(request, "contacts/partials/contact_section_form.html",
                          _contact_section_context(request, contact, section, form))
        return self.page(request, contact, ContactForm(user=request.user, instance=contact))

    def page(self, request, contact, form, status=200):
        return render(request, "contacts/contact_form.html", {
            "contact": contact, "form": form, "sections": _form_sections(form, CONTACT_SECTIONS, CONTACT_SECTION_TITLES),
            "company_suggestions": _company_suggestions(request.user), "tag_suggestions": _tag_suggestions(),
        }, status=status)

    def post(self, request, pk):
        contact = self.get_object()
        section = request.POST.get("section") or request.GET.get("section", "")
        if section == "owner":
            return self.transfer(request, contact)
        if not policy.can_edit(request.user, contact):
            raise PermissionDenied
        inline = request.htmx and section in CONTACT_SECTIONS
        form = ContactForm(request.POST, user=request.user, instance=contact,
                           section=section if section in CONTACT_SECTIONS else None)
        if form.is_valid():
            try:
                services.update_contact(by=request.user, contact=contact, **form.service_kwargs())
            except ValidationError as exc:
                form.note_duplicate(exc)
                form_errors_from(form, exc)
            else:
                if inline:
                    contact = self.get_object()
                    context = _contact_section_context(request, contact, section)
                    context["oob_header"] = section == "details"
                    return render(request, "contacts/partials/contact_section.html", context)
                messages.success(request, _("%(name)s is saved.") % {"name": contact})
                return redirect("contacts:contact", pk=contact.pk)
        contact = self.get_object()  # the service may have changed the object before refusing
        if inline:
            return render(request, "contacts/partials/contact_section_form.html",
                          _contact_section_context(request, contact, section, form), status=400)
        return self.page(request, contact, form, status=400)

    def transfer(self, request, contact):
        if not policy.can_transfer(request.user, contact):
            raise PermissionDenied
        form = OwnerForm(request.POST, user=request.user)
        if form.is_valid():
            try:
                services.transfer_contact(by=request.user, contact=contact, owner=form.cleaned_data["owner"])
            except ValidationError as exc:
                form_errors_from(form, exc)
            else:
                messages.success(request, _("%(name)s now belongs to %(owner)s.") % {
                    "name": contact, "owner": form.cleaned_data["owner"]})
                if Contact.objects.visible_to(request.user).filter(pk=contact.pk).exists():
                    return _redirect(request, reverse("contacts:contact", args=[contact.pk]))
                return _redirect(request, reverse("contacts:index"))
        contact = self.get_object()
        return render(request, "contacts/contact_detail.html",
                      contact_context(request, contact, owner_form=form, owner_open=True), status=400)


def _form_sections(form, sections: dict, titles: dict) -> list[dict]:
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


class ContactTimelineView(ContactMixin, View):
    """GET: the timeline (filter by kind, older entries by keyset). POST: log an activity (`log_activity`)."""

    def get(self, request, pk):
        contact = self.get_object()
        kind, before = request.GET.get("kind", ""), request.GET.get("before", "")
        if not request.htmx:
            return render(request, "contacts/contact_detail.html",
                          contact_context(request, contact, kind=kind, before=before))
        entries = timeline_page(contact.interactions.all(), user=request.user, kind=kind, before=before,
                                editable_target=contact)
        context = {"timeline_url": reverse("contacts:contact_timeline", args=[contact.pk]), "contact": contact,
                   "activity_form": ActivityForm(), **entries}
        return render(request, _timeline_template(request, before), context)

    def post(self, request, pk):
        contact = self.get_object()
        return log_activity(request, contact=contact, url=reverse("contacts:contact_timeline", args=[contact.pk]),
                            page=lambda form: render(request, "contacts/contact_detail.html",
                                                     contact_context(request, contact, activity_form=form),
                                                     status=400),
                            done_url=reverse("contacts:contact", args=[contact.pk]))


def _timeline_template(request, before: str) -> str:
    if before:
        return "contacts/partials/timeline_page.html"
    if request.GET.get("part") == "panel":
        return "contacts/partials/timeline.html"
    return "contacts/partials/timeline_list.html"


def log_activity(request, *, url, page, done_url, contact=None, company=None):
    form = ActivityForm(request.POST)
    if form.is_valid():
        try:
            entry = services.log_activity(by=request.user, contact=contact, company=company, **form.cleaned_data)
        except ValidationError as exc:
            form_errors_from(form, exc)
        else:
            if request.htmx:
                entry.can_remove = True
                return render(request, "contacts/partials/timeline_added.html", {
                    "entry": entry, "activity_form": ActivityForm(), "timeline_url": url, "contact": contact})
            messages.success(request, _("Added to the timeline."))
            return redirect(done_url)
    if request.htmx:
        response = render(request, "contacts/partials/activity_form.html",
                          {"activity_form": form, "timeline_url": url}, status=400)
        return _retarget(response, "#activity-form")
    return page(form)


class ContactTagsView(ContactMixin, View):
    """GET: the tags panel. POST `name=`: add a tag (new names create one); POST `remove=<tag id>`: remove it."""

    def render_panel(self, request, contact, form=None, status=200):
        tag_links = list(contact.tag_links.select_related("tag").order_by("tag__name"))
        return render(request, "contacts/partials/tags.html", {
            "contact": contact, "tag_links": tag_links, "tag_form": form or TagForm(),
            "tag_suggestions": _tag_suggestions(), "can_edit": policy.can_edit(request.user, contact)},
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
        return render(request, "contacts/contact_detail.html",
                      contact_context(request, contact, tag_form=form), status=400)

    def done(self, request, contact):
        if request.htmx:
            return self.render_panel(request, contact)
        return redirect("contacts:contact", pk=contact.pk)


class SocialProfileCreateView(ContactMixin, View):
    """GET: the social profiles panel. POST: link a profile (interests become tags marked social)."""

    def render_panel(self, request, contact, form=None, status=200, with_tags=False):
        context = {"contact": contact, "profiles": list(contact.social_profiles.all()),
                   "social_form": form or SocialProfileForm(), "can_edit": policy.can_edit(request.user, contact),
                   "social_open": form is not None}
        if with_tags:
            context.update(oob_tags=True, tag_form=TagForm(), tag_suggestions=_tag_suggestions(),
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
        return render(request, "contacts/contact_detail.html",
                      contact_context(request, contact, social_form=form, social_open=True), status=400)


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


class ContactDeleteView(ContactMixin, View):
    def post(self, request, pk):
        contact = self.get_object()
        services.delete_contact(by=request.user, contact=contact)
        messages.success(request, _("%(name)s is in the trash; it can be restored for 30 days.") % {"name": contact})
        return _redirect(request, reverse("contacts:index"))


class ContactHistoryView(ContactMixin, View):
    def get(self, request, pk):
        contact = self.get_object()
        if request.htmx:
            return render(request, "partials/history.html", {"history": audit.history_for(contact, parts=CONTACT_HISTORY_PARTS)})
        return render(request, "contacts/contact_detail.html", contact_context(request, contact, tab="history"))


class ContactMergeView(ContactMixin, View):
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


class ContactCreateView(PageMixin, View):
    roles = CREATORS
    template = "contacts/contact_form.html"

    def form(self, data=None):
        initial = {}
        company_id = self.request.GET.get("company", "")
        if data is None and company_id.isdigit():
            initial["company"] = Company.objects.visible_to(self.request.user).filter(pk=company_id).first()
        return ContactForm(data, user=self.request.user, with_tags=True, with_owner=True, initial=initial)

    def page(self, form, status=200, **extra):
        return render(self.request, self.template, {
            "form": form, "sections": _form_sections(form, CONTACT_SECTIONS, CONTACT_SECTION_TITLES),
            "company_suggestions": _company_suggestions(self.request.user), "tag_suggestions": _tag_suggestions(),
            **extra}, status=status)

    def get(self, request):
        return self.page(self.form())

    def post(self, request):
        form = self.form(request.POST)
        contact = create_contact_from(request, form)
        if contact is not None:
            messages.success(request, _("%(name)s is added.") % {"name": contact})
            return redirect("contacts:contact", pk=contact.pk)
        return self.page(form, status=400)


def create_contact_from(request, form) -> Contact | None:
    """Create a contact from a valid form, or put the service's errors on the form and return None."""
    if not form.is_valid():
        return None
    try:
        return services.create_contact(by=request.user, **form.service_kwargs())
    except ValidationError as exc:
        form.note_duplicate(exc)
        form_errors_from(form, exc)
        return None


def create_company_from(request, form) -> Company | None:
    if not form.is_valid():
        return None
    try:
        return services.create_company(by=request.user, **form.service_kwargs())
    except ValidationError as exc:
        form_errors_from(form, exc)
        return None


class QuickCreateView(PageMixin, View):
    """The top bar's "+": a compact form in a <dialog> (htmx); without htmx, the full create page."""

    roles = CREATORS

    def kind(self, request):
        kind = request.POST.get("kind") or request.GET.get("kind") or "contact"
        if kind not in ("contact", "company"):
            raise Http404
        return kind

    def fragment(self, request, kind, form, status=200):
        return render(request, "contacts/partials/quick_create.html", {
            "kind": kind, "form": form,
            "company_suggestions": _company_suggestions(request.user) if kind == "contact" else ()}, status=status)

    def get(self, request):
        kind = self.kind(request)
        if not request.htmx:
            return redirect("contacts:contact_create" if kind == "contact" else "contacts:company_create")
        form = QuickContactForm(user=request.user) if kind == "contact" else QuickCompanyForm()
        return self.fragment(request, kind, form)

    def post(self, request):
        kind = self.kind(request)
        if kind == "contact":
            form = QuickContactForm(request.POST, user=request.user)
            record = create_contact_from(request, form)
            url = reverse("contacts:contact", args=[record.pk]) if record else ""
        else:
            form = QuickCompanyForm(request.POST)
            record = create_company_from(request, form)
            url = reverse("contacts:company", args=[record.pk]) if record else ""
        if record is not None:
            messages.success(request, _("%(name)s is added.") % {"name": record})
            return _redirect(request, url)
        if request.htmx:
            return self.fragment(request, kind, form, status=400)
        page = ContactCreateView if kind == "contact" else CompanyCreateView
        return page(request=request).page(form, status=400, action=reverse("contacts:quick_create"), kind=kind)


# --- Companies ----------------------------------------------------------------------------------


class CompanyMixin(OwnedObjectMixin):
    model = Company


def company_context(request, company: Company, *, tab: str = "timeline", kind: str = "", before: str = "",
                    **extra) -> dict:
    user = request.user
    people = list(Contact.objects.visible_to(user).filter(company=company)
                  .order_by("first_name", "last_name", "id")[: PEOPLE_SHOWN + 1])
    context = {
        "company": company,
        "company_tags": list(company.tags.order_by("name")),
        "people": people[:PEOPLE_SHOWN],
        "more_people": len(people) > PEOPLE_SHOWN,
        "sections": list(COMPANY_SECTION_TITLES.items()),
        "can_edit": policy.can_edit(user, company),
        "can_delete": policy.can_delete(user, company),
        "can_transfer": policy.can_transfer(user, company),
        "can_create": user.role in CREATORS,
        "on_company": True,
        "tab": tab,
        "activity_form": ActivityForm(initial={"kind": InteractionKind.NOTE}),
        "timeline_url": reverse("contacts:company_timeline", args=[company.pk]),
    }
    if context["can_transfer"]:
        context["owner_form"] = OwnerForm(user=user, initial={"owner": company.owner_id})
    if tab == "history":
        context["history"] = audit.history_for(company, parts=COMPANY_HISTORY_PARTS)
    else:
        context.update(_company_timeline(request, company, kind=kind, before=before))
    context.update(extra)
    return context


def _company_timeline(request, company, *, kind="", before=""):
    """The company's entries and those of its people the user can see."""
    entries = Interaction.objects.visible_to(request.user).filter(company=company)
    return timeline_page(entries, user=request.user, kind=kind, before=before)


def _company_section_context(request, company, section, form=None):
    return {"company": company, "section": section, "title": COMPANY_SECTION_TITLES[section], "form": form,
            "company_tags": list(company.tags.order_by("name")) if section == "tags" else (),
            "can_edit": policy.can_edit(request.user, company),
            "tag_suggestions": _tag_suggestions() if form is not None and "tags" in form.fields else ()}


class CompanyDetailView(CompanyMixin, View):
    def get(self, request, pk):
        company = self.get_object()
        section = request.GET.get("section", "")
        if request.htmx and section in COMPANY_SECTIONS:
            return render(request, "contacts/partials/company_section.html",
                          _company_section_context(request, company, section))
        return render(request, "contacts/company_detail.html", company_context(request, company))


class CompanyEditView(CompanyMixin, View):
    def get(self, request, pk):
        company = self.get_editable_object()
        section = request.GET.get("section", "")
        if request.htmx and section in COMPANY_SECTIONS:
            form = CompanyForm(instance=company, section=section)
            return render(request, "contacts/partials/company_section_form.html",
                          _company_section_context(request, company, section, form))
        return self.page(request, company, CompanyForm(instance=company))

    def page(self, request, company, form, status=200):
        return render(request, "contacts/company_form.html", {
            "company": company, "form": form, "tag_suggestions": _tag_suggestions(),
            "sections": _form_sections(form, COMPANY_SECTIONS, COMPANY_SECTION_TITLES)}, status=status)

    def post(self, request, pk):
        company = self.get_object()
        section = request.POST.get("section") or request.GET.get("section", "")
        if section == "owner":
            return self.transfer(request, company)
        if not policy.can_edit(request.user, company):
            raise PermissionDenied
        inline = request.htmx and section in COMPANY_SECTIONS
        form = CompanyForm(request.POST, instance=company, section=section if section in COMPANY_SECTIONS else None)
        if form.is_valid():
            try:
                services.update_company(by=request.user, company=company, **form.service_kwargs())
            except ValidationError as exc:
                form_errors_from(form, exc)
            else:
                if inline:
                    company = self.get_object()
                    context = _company_section_context(request, company, section)
                    context["oob_header"] = section in ("details", "address")
                    return render(request, "contacts/partials/company_section.html", context)
                messages.success(request, _("%(name)s is saved.") % {"name": company})
                return redirect("contacts:company", pk=company.pk)
        company = self.get_object()
        if inline:
            return render(request, "contacts/partials/company_section_form.html",
                          _company_section_context(request, company, section, form), status=400)
        return self.page(request, company, form, status=400)

    def transfer(self, request, company):
        if not policy.can_transfer(request.user, company):
            raise PermissionDenied
        form = OwnerForm(request.POST, user=request.user)
        if form.is_valid():
            try:
                services.transfer_company(by=request.user, company=company, owner=form.cleaned_data["owner"])
            except ValidationError as exc:
                form_errors_from(form, exc)
            else:
                messages.success(request, _("%(name)s now belongs to %(owner)s.") % {
                    "name": company, "owner": form.cleaned_data["owner"]})
                if Company.objects.visible_to(request.user).filter(pk=company.pk).exists():
                    return _redirect(request, reverse("contacts:company", args=[company.pk]))
                return _redirect(request, reverse("contacts:companies"))
        company = self.get_object()
        return render(request, "contacts/company_detail.html",
                      company_context(request, company, owner_form=form, owner_open=True), status=400)


class CompanyTimelineView(CompanyMixin, View):
    def get(self, request, pk):
        company = self.get_object()
        kind, before = request.GET.get("kind", ""), request.GET.get("before", "")
        if not request.htmx:
            return render(request, "contacts/company_detail.html",
                          company_context(request, company, kind=kind, before=before))
        entries = _company_timeline(request, company, kind=kind, before=before)
        context = {"timeline_url": reverse("contacts:company_timeline", args=[company.pk]), "company": company,
                   "on_company": True, "activity_form": ActivityForm(), **entries}
        return render(request, _timeline_template(request, before), context)

    def post(self, request, pk):
        company = self.get_object()
        return log_activity(request, company=company, url=reverse("contacts:company_timeline", args=[company.pk]),
                            page=lambda form: render(request, "contacts/company_detail.html",
                                                     company_context(request, company, activity_form=form),
                                                     status=400),
                            done_url=reverse("contacts:company", args=[company.pk]))


class CompanyDeleteView(CompanyMixin, View):
    def post(self, request, pk):
        company = self.get_object()
        services.delete_company(by=request.user, company=company)
        messages.success(request, _("%(name)s is in the trash; it can be restored for 30 days.") % {"name": company})
        return _redirect(request, reverse("contacts:companies"))


class CompanyHistoryView(CompanyMixin, View):
    def get(self, request, pk):
        company = self.get_object()
        if request.htmx:
            return render(request, "partials/history.html", {"history": audit.history_for(company, parts=COMPANY_HISTORY_PARTS)})
        return render(request, "contacts/company_detail.html", company_context(request, company, tab="history"))


class CompanyCreateView(PageMixin, View):
    roles = CREATORS

    def page(self, form, status=200, **extra):
        return render(self.request, "contacts/company_form.html", {
            "form": form, "tag_suggestions": _tag_suggestions(),
            "sections": _form_sections(form, COMPANY_SECTIONS, COMPANY_SECTION_TITLES), **extra}, status=status)

    def get(self, request):
        return self.page(CompanyForm(user=request.user))

    def post(self, request):
        form = CompanyForm(request.POST, user=request.user)
        company = create_company_from(request, form)
        if company is not None:
            messages.success(request, _("%(name)s is added.") % {"name": company})
            return redirect("contacts:company", pk=company.pk)
        return self.page(form, status=400)


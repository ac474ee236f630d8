"""Forms of the contact and company pages. They parse what people type; `contacts.services` applies the rules.

Emails and phones are lists (several inputs with the same name, the first is primary); they are
passed to the services as typed, which normalise them and answer errors keyed `emails`/`phones`.
"""

import re

from django import forms
from django.core.exceptions import ValidationError
from django.forms.models import fields_for_model
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from contacts import services
from contacts.models import (
    Company,
    Contact,
    Direction,
    InteractionKind,
    PhoneKind,
    Platform,
)
from contacts.normalise import normalise_email, normalise_phone
from contacts.services import CONSENT_CHANNELS, LOGGABLE_KINDS
from crm.models import Role, User

# --- Sections of a record: what the inline edit of one panel changes ---------------------------

CONTACT_SECTIONS = {
    "details": ("first_name", "last_name", "company", "job_title", "lifecycle_stage", "source", "emails", "phones"),
    "demographics": ("birth_date", "age_band", "gender", "city", "region", "country", "income_band"),
    "preferences": ("preferred_channel", "preferred_language", "contact_times"),
    "needs": ("service_preferences", "project_requirements", "project_type", "project_budget", "project_start"),
    "consent": ("do_not_contact", *[f"{c}_{s}" for c in CONSENT_CHANNELS for s in ("opt_in", "opt_in_source")]),
    "notes": ("notes",),
}
CONTACT_SECTION_TITLES = {
    "details": _("Details"),
    "demographics": _("Demographics"),
    "preferences": _("Preferences"),
    "needs": _("Service needs and project"),
    "consent": _("Consent"),
    "notes": _("Notes"),
}
COMPANY_SECTIONS = {
    "details": ("name", "legal_name", "industry", "size_band", "website", "phone"),
    "address": ("address", "city", "region", "country"),
    "tags": ("tags",),
    "notes": ("notes",),
}
COMPANY_SECTION_TITLES = {
    "details": _("Details"),
    "address": _("Address"),
    "tags": _("Tags"),
    "notes": _("Notes"),
}

_CONTACT_MODEL_FIELDS = services.CONTACT_FIELDS
_COMPANY_MODEL_FIELDS = services.COMPANY_FIELDS
_DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
_SHORT_TEXT = forms.Textarea(attrs={"rows": 3})


# --- List inputs ------------------------------------------------------------------------------


class ListInput(forms.Widget):
    """Several inputs sharing one name; rendered by the page templates (one row per value)."""

    def value_from_datadict(self, data, files, name):
        return data.getlist(name) if hasattr(data, "getlist") else list(data.get(name) or [])

    def value_omitted_from_data(self, data, files, name):
        return name not in data


class PhoneListInput(ListInput):
    """Pairs of inputs `phones` (number) and `phone_kinds` (kind), in the same order."""

    def value_from_datadict(self, data, files, name):
        numbers = super().value_from_datadict(data, files, name)
        kinds = super().value_from_datadict(data, files, "phone_kinds")
        kinds = list(kinds) + [PhoneKind.MOBILE] * (len(numbers) - len(kinds))
        return list(zip(numbers, kinds, strict=False))


class EmailListField(forms.Field):
    """The emails as typed, blanks left out (the service normalises and validates each one)."""

    widget = ListInput

    def to_python(self, value):
        return [str(v).strip() for v in (value or []) if str(v).strip()]


class PhoneListField(forms.Field):
    """(number as typed, kind) pairs, blanks left out; any format (the service makes them E.164)."""

    widget = PhoneListInput

    def to_python(self, value):
        out = []
        for number, kind in value or []:
            number = str(number).strip()
            if not number:
                continue
            if kind not in PhoneKind.values:
                raise ValidationError(_("Choose the kind of each phone number."), code="invalid")
            out.append((number, kind))
        return out


class TagListField(forms.CharField):
    """Tags typed as a comma-separated list (new names create tags)."""

    def to_python(self, value):
        text = super().to_python(value)
        names, seen = [], set()
        for part in text.split(","):
            name = " ".join(part.split())
            if name and name.lower() not in seen:
                seen.add(name.lower())
                names.append(name)
        return names


# --- Company picker ---------------------------------------------------------------------------

_NAME_AND_DOMAIN = re.compile(r"^(?P<name>.*?)\s*\((?P<domain>[^()\s]+)\)$")


def company_label(company: Company) -> str:
    """How a company is written in the picker: its name, and its domain when it has one (names may repeat)."""
    return f"{company.name} ({company.domain})" if company.domain else company.name


class CompanyPickerField(forms.CharField):
    """A company the user can see, typed by name (a datalist suggests them); blank means none."""

    def __init__(self, *args, user=None, current: Company | None = None, **kwargs):
        self.user, self.current = user, current
        kwargs.setdefault("required", False)
        kwargs.setdefault("label", _("Company"))
        kwargs.setdefault("help_text", _("Start typing a company's name."))
        kwargs.setdefault("widget", forms.TextInput(attrs={"list": "company-options", "autocomplete": "off"}))
        super().__init__(*args, **kwargs)

    def prepare_value(self, value):
        if isinstance(value, Company):
            return company_label(value)
        return value

    def clean(self, value):
        text = " ".join(str(value or "").split())
        if not text:
            return None
        if self.current is not None and text in (company_label(self.current), self.current.name):
            return self.current  # kept as it is, even if the editor could not pick it themselves
        visible = Company.objects.visible_to(self.user)
        match = _NAME_AND_DOMAIN.match(text)
        if match:
            found = list(visible.filter(domain=match["domain"].lower())[:1])
            if found:
                return found[0]
        found = list(visible.filter(name__iexact=text).order_by("id")[:2])
        if len(found) == 1:
            return found[0]
        if found:
            raise ValidationError(
                _("Several companies are called “%(name)s”: choose one from the suggestions."),
                code="ambiguous", params={"name": text})
        raise ValidationError(_("No company you can see is called “%(name)s”."), code="invalid", params={"name": text})


# --- Contacts -----------------------------------------------------------------------------------


class ContactForm(forms.Form):
    """A contact's fields, or one section of them (`section=`): create page, full edit page, inline edit."""

    phone_kind_choices = PhoneKind.choices

    def __init__(self, *args, user: User, instance: Contact | None = None, section: str | None = None,
                 with_tags: bool = False, with_owner: bool = False, **kwargs):
        if instance is not None and "initial" not in kwargs and not args:
            kwargs["initial"] = contact_initial(instance)
        super().__init__(*args, **kwargs)
        self.user, self.instance, self.section = user, instance, section
        self.duplicate_found = False
        fields = fields_for_model(Contact, fields=_CONTACT_MODEL_FIELDS, widgets={
            "birth_date": _DATE, "project_start": _DATE,
            "service_preferences": _SHORT_TEXT, "project_requirements": _SHORT_TEXT, "notes": _SHORT_TEXT,
        })
        fields["country"].widget.attrs.update({"maxlength": 2, "size": 2})
        fields["project_budget"].widget.attrs.update({"step": "0.01", "min": "0"})
        names = CONTACT_SECTIONS[section] if section else [n for s in CONTACT_SECTIONS.values() for n in s]
        for name in names:
            if name in fields:
                self.fields[name] = fields[name]
            elif name == "company":
                self.fields[name] = CompanyPickerField(user=user, current=instance.company if instance else None)
            elif name == "emails":
                self.fields[name] = EmailListField(required=False, label=_("Emails"),
                                                   help_text=_("The first one is the primary email."))
            elif name == "phones":
                self.fields[name] = PhoneListField(required=False, label=_("Phones"),
                                                   help_text=_("Any format, e.g. 01712-345678; the first is primary."))
            elif name.endswith("_opt_in"):
                self.fields[name] = forms.BooleanField(required=False, label=Contact._meta.get_field(name).verbose_name)
            elif name.endswith("_opt_in_source"):
                self.fields[name] = forms.CharField(
                    required=False, max_length=100, label=_("How was it given or withdrawn?"),
                    help_text=_("E.g. “signed up at the Dhaka fair”; recorded with the date when the choice changes."))
        if with_tags:
            self.fields["tags"] = TagListField(required=False, label=_("Tags"), help_text=_("Separate tags with commas."),
                                               widget=forms.TextInput(attrs={"list": "tag-options"}))
        if with_owner:
            add_owner_field(self, user)
        if "emails" in self.fields or "phones" in self.fields:
            self.fields["allow_duplicate"] = forms.BooleanField(
                required=False, label=_("Save anyway: this is a different person with the same email or phone"))

    # Rows for the list inputs, as typed (bound) or as stored, plus one blank row to add another.

    def email_rows(self) -> list[str]:
        return [*(self["emails"].value() or []), ""]

    def phone_rows(self) -> list[tuple[str, str]]:
        values = self["phones"].value() or []
        return [*values, ("", PhoneKind.MOBILE)]

    def show_allow_duplicate(self) -> bool:
        return self.duplicate_found or bool(self.data.get("allow_duplicate"))

    def service_kwargs(self) -> dict:
        """What `create_contact`/`update_contact` take, from the cleaned data of the fields present."""
        data = self.cleaned_data
        out = {name: data[name] for name in _CONTACT_MODEL_FIELDS if name in self.fields}
        for name in ("emails", "phones", "company", "tags", "allow_duplicate"):
            if name in self.fields and not self._unchanged(name, data[name]):
                out[name] = data[name]
        if data.get("owner") is not None:
            out["owner"] = data["owner"]
        consent = {}
        for channel in CONSENT_CHANNELS:
            if f"{channel}_opt_in" not in self.fields:
                continue
            granted, source = data[f"{channel}_opt_in"], data[f"{channel}_opt_in_source"].strip()
            current = getattr(self.instance, f"{channel}_opt_in") if self.instance is not None else False
            if granted != current or source:
                consent[channel] = (granted, source)
        if consent:
            out["consent"] = consent
        return out

    def _unchanged(self, name: str, value) -> bool:
        """An email or phone list or a company as stored is not passed on, so editing other fields does not
        re-run the duplicate check on numbers the contact already had, nor the company visibility check."""
        if self.instance is None or name not in ("emails", "phones", "company"):
            return False
        if name == "company":
            return value is not None and value.pk == self.instance.company_id
        try:
            if name == "emails":
                return [normalise_email(v) for v in value] == [e.email for e in self.instance.emails.all()]
            return [(normalise_phone(n), k) for n, k in value] == [(p.number, p.kind) for p in self.instance.phones.all()]
        except ValidationError:
            return False

    def note_duplicate(self, exc: ValidationError) -> None:
        """Remember a duplicate refusal, so the page offers "save anyway"."""
        errors = getattr(exc, "error_dict", {})
        if any(e.code == "duplicate" for field in errors.values() for e in field):
            self.duplicate_found = True


def contact_initial(contact: Contact) -> dict:
    initial = {name: getattr(contact, name) for name in _CONTACT_MODEL_FIELDS}
    initial["company"] = contact.company
    initial["emails"] = [e.email for e in contact.emails.all()]
    initial["phones"] = [(p.number, p.kind) for p in contact.phones.all()]
    for channel in CONSENT_CHANNELS:
        initial[f"{channel}_opt_in_source"] = ""
    return initial


class QuickContactForm(ContactForm):
    """The top bar's "+ Contact": a name, an email, a phone, a company."""

    def __init__(self, *args, user: User, **kwargs):
        kwargs.setdefault("auto_id", "quick-%s")
        super().__init__(*args, user=user, section="details", **kwargs)
        for name in ("job_title", "lifecycle_stage", "source"):
            self.fields.pop(name)


# --- Companies ----------------------------------------------------------------------------------


class CompanyForm(forms.Form):
    """A company's fields, or one section of them."""

    def __init__(self, *args, instance: Company | None = None, section: str | None = None, with_tags: bool = True,
                 user: User | None = None, **kwargs):
        if instance is not None and "initial" not in kwargs and not args:
            kwargs["initial"] = company_initial(instance)
        super().__init__(*args, **kwargs)
        self.instance, self.section = instance, section
        fields = fields_for_model(Company, fields=_COMPANY_MODEL_FIELDS, widgets={"notes": _SHORT_TEXT})
        fields["country"].widget.attrs.update({"maxlength": 2, "size": 2})
        fields["website"].widget.attrs.update({"inputmode": "url", "placeholder": "example.com"})
        fields["phone"].help_text = _("Any format, e.g. 02-9876543.")
        names = COMPANY_SECTIONS[section] if section else [n for s in COMPANY_SECTIONS.values() for n in s]
        for name in names:
            if name in fields:
                self.fields[name] = fields[name]
            elif name == "tags" and with_tags:
                self.fields[name] = TagListField(required=False, label=_("Tags"),
                                                 help_text=_("Separate tags with commas."),
                                                 widget=forms.TextInput(attrs={"list": "tag-options"}))
        if user is not None:
            add_owner_field(self, user)

    def service_kwargs(self) -> dict:
        data = dict(self.cleaned_data)
        if data.get("owner", "") is None:
            data.pop("owner")
        return data


def company_initial(company: Company) -> dict:
    initial = {name: getattr(company, name) for name in _COMPANY_MODEL_FIELDS}
    initial["tags"] = ", ".join(t.name for t in company.tags.all())
    return initial


class QuickCompanyForm(CompanyForm):
    def __init__(self, *args, **kwargs):
        kwargs.setdefault("auto_id", "quick-%s")
        super().__init__(*args, section="details", with_tags=False, **kwargs)
        for name in ("legal_name", "size_band"):
            self.fields.pop(name)


# --- Owner ----------------------------------------------------------------------------------------


def assignable_owners(user: User):
    """People `user` may give a record to (the service has the last word)."""
    people = User.objects.filter(is_active=True).exclude(role=Role.SUPPORT_AGENT).order_by("full_name", "id")
    if user.role == Role.ADMIN:
        return people
    if user.role == Role.MANAGER:
        return people.filter(team_id__in=sorted(user.managed_team_ids() | {user.team_id} - {None}))
    if user.team_id is None:
        return people.filter(pk=user.pk)
    return people.filter(team_id=user.team_id)


def add_owner_field(form: forms.Form, user: User) -> None:
    """Managers and admins choose who owns a new record (empty: themselves)."""
    if user.role in (Role.ADMIN, Role.MANAGER):
        form.fields["owner"] = forms.ModelChoiceField(
            label=_("Owner"), queryset=assignable_owners(user), required=False, empty_label=_("Me"))


class OwnerForm(forms.Form):
    owner = forms.ModelChoiceField(label=_("Owner"), queryset=User.objects.none(), empty_label=None)

    def __init__(self, *args, user: User, **kwargs):
        kwargs.setdefault("auto_id", "owner-%s")
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = assignable_owners(user)


# --- Timeline, tags, social -------------------------------------------------------------------


class ActivityForm(forms.Form):
    """A call, email, meeting, message or note logged by hand (`log_activity` checks the rest)."""

    kind = forms.ChoiceField(label=_("What"), choices=[(k.value, k.label) for k in LOGGABLE_KINDS],
                             initial=InteractionKind.NOTE)
    direction = forms.ChoiceField(label=_("Direction"), required=False,
                                  choices=[("", _("Not applicable")), *Direction.choices])
    occurred_at = forms.DateTimeField(
        label=_("When"), required=False, help_text=_("Leave empty for now."),
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
    )
    subject = forms.CharField(label=_("Subject"), required=False, max_length=200)
    body = forms.CharField(label=_("Details"), required=False, widget=forms.Textarea(attrs={"rows": 3}))
    outcome = forms.CharField(label=_("Outcome"), required=False, max_length=200)

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("auto_id", "activity-%s")
        super().__init__(*args, **kwargs)
        if not self.is_bound:
            self.initial.setdefault("occurred_at", timezone.localtime().replace(second=0, microsecond=0))


class TagForm(forms.Form):
    name = forms.CharField(label=_("Add a tag"), max_length=60,
                           widget=forms.TextInput(attrs={"list": "tag-options", "autocomplete": "off"}))

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("auto_id", "tag-%s")
        super().__init__(*args, **kwargs)


class SocialProfileForm(forms.Form):
    platform = forms.ChoiceField(label=_("Platform"), choices=Platform.choices)
    handle = forms.CharField(label=_("Handle"), required=False, max_length=200)
    url = forms.URLField(label=_("Profile link"), required=False, max_length=500, assume_scheme="https")
    followers = forms.IntegerField(label=_("Followers"), required=False, min_value=0)
    interests = TagListField(label=_("Interests learned"), required=False,
                             help_text=_("Separate with commas; they become tags marked as learned from social."))

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("auto_id", "social-%s")
        super().__init__(*args, **kwargs)


class MergeSearchForm(forms.Form):
    q = forms.CharField(label=_("Find the duplicate by name, email or phone"), required=False, max_length=200)

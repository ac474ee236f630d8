"""Forms of the sales pages: parse input only; the rules live in `sales.services`."""

import re
from urllib.parse import urlencode

from django import forms
from django.db.models import Q, Value
from django.db.models.functions import Concat
from django.utils.translation import gettext_lazy as _

from contacts.models import Contact
from crm.forms import IdListField
from crm.models import Role, Team, TeamKind, User
from crm.widgets import FastSelect
from sales.models import Deal, Pipeline, Product, Stage
from sales.services import DEAL_FIELDS

MONTH = re.compile(r"^(\d{4})-(\d{2})$")


class BoardFilterForm(forms.Form):
    """The board's filters (GET): owner, team, expected close month."""

    owner = forms.ModelChoiceField(label=_("Owner"), queryset=User.objects.none(), required=False, empty_label=_("Anyone"))
    team = forms.ModelChoiceField(label=_("Team"), queryset=Team.objects.none(), required=False, empty_label=_("Any team"))
    close = forms.CharField(label=_("Close month"), required=False, widget=forms.DateInput(attrs={"type": "month"}))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = User.objects.filter(
            is_active=True, role__in=[Role.ADMIN, Role.MANAGER, Role.SALES_REP]).order_by("full_name", "id")
        self.fields["team"].queryset = Team.objects.filter(kind=TeamKind.SALES).order_by("name", "id")

    def clean_close(self):
        value = (self.cleaned_data.get("close") or "").strip()
        if not value:
            return None
        match = MONTH.match(value)
        if not match or not 1 <= int(match.group(2)) <= 12:
            raise forms.ValidationError(_("Choose a month such as 2026-03."))
        return int(match.group(1)), int(match.group(2))

    def to_q(self) -> Q | None:
        """The deals the valid filters keep (None: no filter); call after is_valid()."""
        data = getattr(self, "cleaned_data", {})
        q = Q()
        if data.get("owner"):
            q &= Q(owner=data["owner"])
        if data.get("team"):
            q &= Q(team=data["team"])
        if data.get("close"):
            year, month = data["close"]
            q &= Q(expected_close__year=year, expected_close__month=month)
        return q if q else None

    def querystring(self) -> str:
        """The valid filters as a query string (for "load more" and the move's response)."""
        data = getattr(self, "cleaned_data", {})
        pairs = []
        if data.get("owner"):
            pairs.append(("owner", data["owner"].pk))
        if data.get("team"):
            pairs.append(("team", data["team"].pk))
        if data.get("close"):
            pairs.append(("close", "{:04d}-{:02d}".format(*data["close"])))
        return urlencode(pairs)


class QuickDealForm(forms.Form):
    """The quick-add card at the top of the board's first column."""

    title = forms.CharField(label=_("Title"), max_length=200)
    amount = forms.CharField(label=_("Amount"), required=False, max_length=30,
                             widget=forms.TextInput(attrs={"inputmode": "decimal"}))


class MoveForm(forms.Form):
    """Move a deal to another stage of its pipeline (a lost stage needs a reason: the service says so)."""

    stage = forms.ModelChoiceField(label=_("Stage"), queryset=Stage.objects.none(), empty_label=None)
    lost_reason = forms.CharField(label=_("Lost reason"), required=False, max_length=300,
                                  help_text=_("Needed when the deal is lost."))

    def __init__(self, *args, deal, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["stage"].queryset = Stage.objects.filter(pipeline_id=deal.pipeline_id, archived_at__isnull=True)
        self.fields["stage"].initial = deal.stage_id
        self.fields["lost_reason"].initial = deal.lost_reason


# --- Deal list, forecast --------------------------------------------------------------------------


class DealBulkForm(forms.Form):
    ACTIONS = [("assign", _("Assign owner")), ("stage", _("Move to stage")), ("delete", _("Delete"))]
    NEEDS = {"assign": ("owner", _("Choose the new owner.")), "stage": ("stage", _("Choose a stage."))}

    ids = IdListField(error_messages={"required": _("Choose at least one deal."),
                                      "invalid": _("Choose deals from the list.")})
    action = forms.ChoiceField(label=_("Action"), choices=[("", _("Choose an action…")), *ACTIONS])
    owner = forms.ModelChoiceField(label=_("New owner"), queryset=User.objects.none(), required=False,
                                   empty_label=_("Choose the new owner…"), widget=FastSelect)
    stage = forms.ModelChoiceField(label=_("Stage"), queryset=Stage.objects.none(), required=False,
                                   empty_label=_("Choose a stage…"))
    lost_reason = forms.CharField(label=_("Lost reason"), required=False, max_length=300,
                                  help_text=_("Needed when the deals are lost."))
    query = forms.CharField(required=False, max_length=4000, widget=forms.HiddenInput)
    confirmed = forms.BooleanField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args, user: User, **kwargs):
        kwargs.setdefault("auto_id", "bulk_%s")  # the filters beside it have their own "owner", "stage"
        super().__init__(*args, **kwargs)
        from contacts.selectors import assignable_owners

        self.fields["owner"].queryset = assignable_owners(user)
        self.fields["stage"].queryset = (Stage.objects.filter(archived_at__isnull=True, pipeline__archived_at__isnull=True)
                                         .select_related("pipeline").order_by("pipeline__position", "pipeline_id",
                                                                              "position"))
        self.fields["stage"].label_from_instance = lambda s: f"{s.pipeline.name} · {s.name}"

    def clean(self):
        data = super().clean()
        name, message = self.NEEDS.get(data.get("action"), (None, None))
        if name and name not in self.errors and not data.get(name):
            self.add_error(name, message)
        return data

    def action_label(self) -> str:
        return str(dict(self.ACTIONS).get(self.cleaned_data["action"], ""))


class ForecastFilterForm(forms.Form):
    """The forecast's filters (GET): pipeline, team, owner."""

    pipeline = forms.ModelChoiceField(label=_("Pipeline"), queryset=Pipeline.objects.none(), required=False,
                                      empty_label=_("Every pipeline"))
    team = forms.ModelChoiceField(label=_("Team"), queryset=Team.objects.none(), required=False,
                                  empty_label=_("Any team"))
    owner = forms.ModelChoiceField(label=_("Owner"), queryset=User.objects.none(), required=False,
                                   empty_label=_("Anyone"), widget=FastSelect)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["pipeline"].queryset = Pipeline.objects.filter(archived_at__isnull=True).order_by("position", "id")
        self.fields["team"].queryset = Team.objects.filter(kind=TeamKind.SALES).order_by("name", "id")
        self.fields["owner"].queryset = User.objects.filter(
            is_active=True, role__in=[Role.ADMIN, Role.MANAGER, Role.SALES_REP]).order_by("full_name", "id")

    def ids(self) -> dict:
        data = getattr(self, "cleaned_data", {})
        return {f"{name}_id": data[name].pk for name in ("pipeline", "team", "owner") if data.get(name)}


# --- Deal editing ---------------------------------------------------------------------------------


def contact_label(contact: Contact) -> str:
    """How a contact is written in the picker: their name and, when they have one, their email."""
    name = contact.full_name or contact.phone or f"#{contact.pk}"
    return f"{name} <{contact.email}>" if contact.email else name


_NAME_AND_EMAIL = re.compile(r"^(?P<name>.*?)\s*<(?P<email>[^<>\s]+)>$")


class ContactPickerField(forms.CharField):
    """A contact the user can see, typed by name or "Name <email>" (a datalist suggests them); blank: none."""

    def __init__(self, *args, user=None, current: Contact | None = None, **kwargs):
        self.user, self.current = user, current
        kwargs.setdefault("required", False)
        kwargs.setdefault("label", _("Contact"))
        kwargs.setdefault("help_text", _("Start typing a name or an email."))
        kwargs.setdefault("widget", forms.TextInput(attrs={"list": "contact-options", "autocomplete": "off"}))
        super().__init__(*args, **kwargs)

    def prepare_value(self, value):
        return contact_label(value) if isinstance(value, Contact) else value

    def clean(self, value):
        text = " ".join(str(value or "").split())
        if not text:
            if self.required:
                raise forms.ValidationError(_("Choose a contact."), code="required")
            return None
        if self.current is not None and text in (contact_label(self.current), self.current.full_name):
            return self.current
        visible = Contact.objects.visible_to(self.user)
        match = _NAME_AND_EMAIL.match(text)
        email = match["email"] if match else (text if "@" in text else "")
        if email:
            found = list(visible.filter(email__iexact=email).order_by("id")[:1])
            if found:
                return found[0]
        name = match["name"] if match else text
        found = list(visible.annotate(name=Concat("first_name", Value(" "), "last_name"))
                     .filter(name__iexact=name).order_by("id")[:2])
        if len(found) == 1:
            return found[0]
        if found:
            raise forms.ValidationError(_("Several contacts are called “%(name)s”: choose one from the suggestions."),
                                        code="ambiguous", params={"name": name})
        raise forms.ValidationError(_("No contact you can see is called “%(name)s”."), code="invalid",
                                    params={"name": text})


def contact_suggestions(user, limit: int = 200):
    return Contact.objects.visible_to(user).order_by("-updated_at", "-id").only(
        "first_name", "last_name", "email", "phone")[:limit]


class DealFieldsForm(forms.Form):
    """A deal's details (the inline "Details" panel and the new-deal form); the service checks the values."""

    title = forms.CharField(label=_("Title"), max_length=300)
    company = None  # set in __init__ (needs the user)
    primary_contact = None
    amount = forms.CharField(label=_("Amount"), required=False, max_length=30,
                             widget=forms.TextInput(attrs={"inputmode": "decimal"}))
    currency = forms.CharField(label=_("Currency"), required=False, max_length=10,
                               help_text=_("Empty: the organisation's currency."))
    expected_close = forms.DateField(label=_("Expected close"), required=False,
                                     widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"))
    probability = forms.CharField(label=_("Win probability (%)"), required=False, max_length=5,
                                  widget=forms.TextInput(attrs={"inputmode": "numeric"}),
                                  help_text=_("Leave empty to use the stage's probability."))

    def __init__(self, *args, user: User, deal: Deal | None = None, with_owner: bool = True, **kwargs):
        from contacts.forms import CompanyPickerField

        super().__init__(*args, **kwargs)
        self.user, self.deal = user, deal
        self.fields["company"] = CompanyPickerField(user=user, current=deal.company if deal else None)
        self.fields["primary_contact"] = ContactPickerField(user=user, label=_("Primary contact"),
                                                            current=deal.primary_contact if deal else None)
        order = ["title", "company", "primary_contact", "amount", "currency", "expected_close", "probability"]
        if with_owner:
            from contacts.selectors import assignable_owners

            owners = assignable_owners(user)
            if deal is not None:
                owners = owners | User.objects.filter(pk=deal.owner_id)
            self.fields["owner"] = forms.ModelChoiceField(label=_("Owner"), queryset=owners.distinct(),
                                                          required=False, empty_label=None, widget=FastSelect)
            order.append("owner")
        if "source_campaign" in DEAL_FIELDS:  # once campaigns can be a deal's source
            from sales.models import Campaign

            campaigns = Campaign.objects.visible_to(user)
            if deal is not None and deal.source_campaign_id:  # kept even when the editor cannot see it
                campaigns = campaigns | Campaign.objects.filter(pk=deal.source_campaign_id)
            self.fields["source_campaign"] = forms.ModelChoiceField(
                label=_("Source campaign"), required=False, empty_label=_("None"),
                queryset=campaigns.order_by("-id"))
            order.append("source_campaign")
        self.order_fields(order)
        if deal is not None and not self.is_bound:
            for name in self.fields:
                self.initial[name] = getattr(deal, name)
            self.initial["probability"] = "" if deal.probability is None else deal.probability

    def deal_values(self) -> dict:
        """What `create_deal`/`update_deal` take (not the owner: it goes through `transfer_deal`)."""
        return {name: value for name, value in self.cleaned_data.items() if name != "owner"}


class NewDealForm(DealFieldsForm):
    """"Add deal" from a contact or company page: a deal's details and its pipeline."""

    pipeline = forms.ModelChoiceField(label=_("Pipeline"), queryset=Pipeline.objects.none(), empty_label=None)

    def __init__(self, *args, **kwargs):
        kwargs["with_owner"] = False
        super().__init__(*args, **kwargs)
        pipelines = Pipeline.objects.filter(archived_at__isnull=True).order_by("position", "id")
        self.fields["pipeline"].queryset = pipelines
        self.fields["pipeline"].initial = next((p.pk for p in pipelines if p.is_default), None)
        self.order_fields(["title", "pipeline"])

    def deal_values(self) -> dict:
        values = dict(self.cleaned_data)
        if values.get("source_campaign") is None:
            values.pop("source_campaign", None)  # the service takes the primary contact's source campaign
        return values


class DealContactForm(forms.Form):
    """Put another person on the deal, with their role."""

    contact = None
    role = forms.CharField(label=_("Role"), required=False, max_length=100,
                           help_text=_("e.g. decision maker, budget holder, user."))

    def __init__(self, *args, user: User, **kwargs):
        kwargs.setdefault("auto_id", "dc_%s")
        super().__init__(*args, **kwargs)
        self.fields["contact"] = ContactPickerField(user=user, required=True)
        self.order_fields(["contact", "role"])


class DealLineForm(forms.Form):
    """One line of a deal (the service checks the numbers and the product's currency)."""

    product = forms.ModelChoiceField(label=_("Product"), queryset=Product.objects.none(), required=False,
                                     empty_label=_("No product"), widget=FastSelect)
    description = forms.CharField(label=_("Description"), required=False, max_length=300)
    quantity = forms.CharField(label=_("Quantity"), required=False, max_length=20, initial="1",
                               widget=forms.TextInput(attrs={"inputmode": "decimal", "size": 6}))
    unit_price = forms.CharField(label=_("Unit price"), required=False, max_length=30,
                                 widget=forms.TextInput(attrs={"inputmode": "decimal", "size": 10}),
                                 help_text=_("Empty: the product's price."))
    discount = forms.CharField(label=_("Discount (%)"), required=False, max_length=10,
                               widget=forms.TextInput(attrs={"inputmode": "decimal", "size": 5}))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["product"].queryset = Product.objects.filter(active=True).order_by("name", "id")

    @property
    def is_blank(self) -> bool:
        data = getattr(self, "cleaned_data", {})
        return not any(data.get(name) for name in ("product", "description", "unit_price"))

    def line(self) -> dict:
        data = self.cleaned_data
        return {"product": data["product"], "description": data["description"], "quantity": data["quantity"] or "1",
                "unit_price": data["unit_price"], "discount": data["discount"] or "0"}


DealLineFormSet = forms.formset_factory(DealLineForm, extra=2, can_delete=True, max_num=100, absolute_max=200)


# --- Pipeline admin -------------------------------------------------------------------------------


class PipelineForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=200)
    is_default = forms.BooleanField(label=_("Default pipeline"), required=False)


class NewPipelineForm(PipelineForm):
    stages = forms.CharField(label=_("Open stages"), widget=forms.Textarea(attrs={"rows": 5}),
                             help_text=_("One a line, in order; add a probability after a comma, e.g. “Proposal, 40”."))

    def clean_stages(self):
        out = []
        for line in self.cleaned_data["stages"].splitlines():
            if not line.strip():
                continue
            name, _sep, probability = line.rpartition(",") if "," in line else (line, "", "10")
            out.append((name.strip(), probability.strip()))
        return out


class StageForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=200)
    probability = forms.CharField(label=_("Win probability (%)"), required=False, max_length=5,
                                  widget=forms.TextInput(attrs={"inputmode": "numeric", "size": 4}))


class StageArchiveForm(forms.Form):
    move_to = forms.ModelChoiceField(label=_("Move its deals to"), queryset=Stage.objects.none(), required=False,
                                     empty_label=_("Choose a stage…"))

    def __init__(self, *args, stage: Stage, **kwargs):
        kwargs.setdefault("auto_id", f"archive{stage.pk}_%s")
        super().__init__(*args, **kwargs)
        self.fields["move_to"].queryset = Stage.objects.filter(
            pipeline_id=stage.pipeline_id, archived_at__isnull=True, is_won=False, is_lost=False,
        ).exclude(pk=stage.pk).order_by("position")

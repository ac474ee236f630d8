"""Forms and the list filter of the campaign pages (and API): they parse input; the rules live in `sales.campaigns`."""

from django import forms
from django.utils.translation import gettext_lazy as _
from django_filters import rest_framework as filters

from contacts.models import Contact, Tag
from contacts.normalise import search_key
from crm.filters import ListFilterSet, SortFilter, active_people
from crm.models import SavedView, Team
from crm.widgets import FastSelect
from sales.models import Campaign, CampaignChannel, CampaignMember, MemberStatus

#: sort key -> ORDER BY; what `sort` accepts on the page and in the API (the first is the default).
CAMPAIGN_SORTS = {
    "-starts": ("-starts_on", "-id"),
    "starts": ("starts_on", "id"),
    "-created": ("-created_at", "-id"),
    "created": ("created_at", "id"),
    "name": ("name", "id"),
}
CAMPAIGN_SORT_LABELS = {
    "-starts": _("Latest start first"), "starts": _("Earliest start first"),
    "-created": _("Newest first"), "created": _("Oldest first"), "name": _("Name"),
}

#: Help texts of the figures, shown on the pages (the definitions of `sales.campaigns.campaigns_with_metrics`).
METRIC_HELP = {
    "members": _("Contacts the campaign reached."),
    "leads": _("Leads created: members whose source (first touch) is this campaign."),
    "deals_won": _("Won deals whose source campaign is this one."),
    "revenue": _("Revenue attributed (first touch): the amounts of those won deals, plus paid, shipped or delivered "
                 "orders of contacts sourced by this campaign that are not a deal's order. Only amounts in the "
                 "campaign's currency count."),
    "conversion_rate": _("Conversion rate: converted members ÷ members."),
    "cost_per_lead": _("Cost per lead: actual cost ÷ leads created."),
    "roi": _("ROI = (revenue − actual cost) ÷ actual cost; “—” when the cost is 0."),
}


class CampaignFilter(ListFilterSet):
    """Filters and sort of the campaign list (page and API)."""

    q = filters.CharFilter(field_name="name", lookup_expr="icontains", label=_("Name contains"))
    channel = filters.ChoiceFilter(choices=CampaignChannel.choices, label=_("Channel"))
    owner = filters.ModelChoiceFilter(queryset=active_people, label=_("Owner"), widget=FastSelect)
    team = filters.ModelChoiceFilter(queryset=Team.objects.order_by("name"), label=_("Team"), widget=FastSelect)
    starts_after = filters.DateFilter(field_name="starts_on", lookup_expr="gte", label=_("Starting from"))
    starts_before = filters.DateFilter(field_name="starts_on", lookup_expr="lte", label=_("Starting until"))
    sort = SortFilter(sorts=CAMPAIGN_SORTS, labels=CAMPAIGN_SORT_LABELS)

    class Meta:
        model = Campaign
        fields = ["q", "channel", "owner", "team", "starts_after", "starts_before"]

    @property
    def qs(self):
        qs = super().qs
        if not self.form.cleaned_data.get("sort"):
            qs = qs.order_by(*CAMPAIGN_SORTS["-starts"])
        return qs


def _date_input():
    return forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class CampaignForm(forms.Form):
    """A campaign's details. Money is text so the service says what is wrong with it."""

    name = forms.CharField(label=_("Name"), max_length=200)
    channel = forms.ChoiceField(label=_("Channel"), choices=CampaignChannel.choices)
    description = forms.CharField(label=_("Description"), required=False, widget=forms.Textarea(attrs={"rows": 3}))
    currency = forms.CharField(label=_("Currency"), required=False, max_length=3,
                               help_text=_("Three letters; empty means the organisation's currency."))
    budget = forms.CharField(label=_("Budget"), required=False, max_length=30,
                             widget=forms.TextInput(attrs={"inputmode": "decimal"}))
    actual_cost = forms.CharField(label=_("Actual cost"), required=False, max_length=30,
                                  widget=forms.TextInput(attrs={"inputmode": "decimal"}))
    starts_on = forms.DateField(label=_("Starts"), widget=_date_input())
    ends_on = forms.DateField(label=_("Ends"), required=False, widget=_date_input())
    target_tag = forms.ModelChoiceField(label=_("Target tag"), queryset=Tag.objects.none(), required=False,
                                        help_text=_("Who the campaign is for: contacts with this tag…"))
    target_view = forms.ModelChoiceField(label=_("Target saved view"), queryset=SavedView.objects.none(),
                                         required=False, help_text=_("…or the contacts a saved view lists."))

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["target_tag"].queryset = Tag.objects.order_by("name")
        self.fields["target_view"].queryset = SavedView.objects.visible_to(user).filter(
            target=SavedView.Target.CONTACTS).order_by("name", "id")

    @staticmethod
    def initial_for(campaign: Campaign) -> dict:
        return {"name": campaign.name, "channel": campaign.channel, "description": campaign.description,
                "currency": campaign.currency, "budget": campaign.budget, "actual_cost": campaign.actual_cost,
                "starts_on": campaign.starts_on, "ends_on": campaign.ends_on, "target_tag": campaign.target_tag_id,
                "target_view": campaign.target_view_id}


class AddMembersForm(forms.Form):
    """Add contacts to a campaign: chosen contacts (from a search), everyone with a tag, or a saved view."""

    contacts = forms.ModelMultipleChoiceField(label=_("Contacts"), queryset=Contact.objects.none(), required=False,
                                              widget=forms.CheckboxSelectMultiple)
    tag = forms.ModelChoiceField(label=_("Everyone with the tag"), queryset=Tag.objects.none(), required=False)
    saved_view = forms.ModelChoiceField(label=_("Everyone in the saved view"), queryset=SavedView.objects.none(),
                                        required=False)

    def __init__(self, *args, user, candidates=None, **kwargs):
        super().__init__(*args, **kwargs)
        # Invisible ids are "not a valid choice": the service adds only contacts the user can see anyway.
        self.fields["contacts"].queryset = Contact.objects.visible_to(user)
        if candidates is not None:
            self.fields["contacts"].choices = [(c.pk, f"{c} {c.email}".strip()) for c in candidates]
        self.fields["tag"].queryset = Tag.objects.order_by("name")
        self.fields["saved_view"].queryset = SavedView.objects.visible_to(user).filter(
            target=SavedView.Target.CONTACTS).order_by("name", "id")

    def clean(self):
        data = super().clean()
        given = [name for name in ("contacts", "tag", "saved_view") if data.get(name)]
        if len(given) != 1:
            raise forms.ValidationError(_("Choose contacts, a tag or a saved view (one of them)."))
        return data

    def service_kwargs(self) -> dict:
        data = self.cleaned_data
        if data.get("contacts"):
            return {"contacts": list(data["contacts"])}
        if data.get("tag"):
            return {"tag": data["tag"]}
        return {"saved_view": data["saved_view"]}


class ContactSearchForm(forms.Form):
    q = forms.CharField(label=_("Find contacts"), required=False, max_length=100)


def search_contacts(user, q: str, *, limit: int = 20) -> list[Contact]:
    """Up to `limit` contacts `user` can see whose name or email contains `q` (for the add form)."""
    q = " ".join((q or "").split())
    if not q:
        return []
    return list(Contact.objects.visible_to(user).filter(search_text__contains=search_key(q))
                .order_by("first_name", "last_name", "id")[:limit])


class MemberStatusForm(forms.Form):
    status = forms.ChoiceField(label=_("Status"), choices=MemberStatus.choices)


class ContactSourceForm(forms.Form):
    """Pick which of the contact's campaigns is its source (or none)."""

    campaign = forms.ModelChoiceField(label=_("Source campaign"), queryset=Campaign.objects.none(), required=False,
                                      empty_label=_("No source campaign"))

    def __init__(self, *args, memberships: list[CampaignMember], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["campaign"].queryset = Campaign.objects.filter(pk__in=[m.campaign_id for m in memberships])
        self.fields["campaign"].choices = [("", _("No source campaign"))] + [
            (m.campaign_id, m.campaign.name) for m in memberships]

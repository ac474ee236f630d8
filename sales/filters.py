"""The filters and sorts of the deal list (API, and the list page when it comes): one FilterSet for both.

Every sort is backed by an index that keeps working under the visibility filter or is cheap on the
filtered set (team + updated_at, the owned indexes on created_at).
"""

from django.db.models import Exists, OuterRef, Q
from django.utils.translation import gettext_lazy as _
from django_filters import rest_framework as filters
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field

from contacts.models import Company, Contact
from crm.filters import ListFilterSet, SortFilter, active_people
from crm.models import Team
from crm.widgets import FastSelect
from sales.models import Deal, DealContact, Pipeline, Stage

#: sort key -> ORDER BY; what the API's `sort` parameter accepts (the first is the default).
DEAL_SORTS = {
    "-created": ("-created_at", "-id"),
    "created": ("created_at", "id"),
    "-updated": ("-updated_at", "-id"),
    "updated": ("updated_at", "id"),
    "-amount": ("-amount", "-id"),
    "amount": ("amount", "id"),
    "expected_close": ("expected_close", "id"),
    "-expected_close": ("-expected_close", "-id"),
}
DEAL_SORT_LABELS = {
    "-created": _("Newest first"), "created": _("Oldest first"),
    "-updated": _("Recently updated"), "updated": _("Least recently updated"),
    "-amount": _("Largest amount first"), "amount": _("Smallest amount first"),
    "expected_close": _("Closing soonest"), "-expected_close": _("Closing latest"),
}


class DealStatus:
    OPEN, WON, LOST = "open", "won", "lost"
    choices = [(OPEN, _("Open")), (WON, _("Won")), (LOST, _("Lost"))]
    conditions = {OPEN: Q(closed_at__isnull=True), WON: Q(won_at__isnull=False), LOST: Q(lost_at__isnull=False)}


@extend_schema_field(OpenApiTypes.INT)
class ContactFilter(filters.ModelChoiceFilter):
    """Deals where the contact is the primary contact or one of the other people on it."""

    def filter(self, qs, value):
        if not value:
            return qs
        linked = DealContact.objects.filter(deal=OuterRef("pk"), contact=value)
        return qs.filter(Q(primary_contact=value) | Exists(linked))


class DealFilter(ListFilterSet):
    pipeline = filters.ModelChoiceFilter(queryset=Pipeline.objects.all(), label=_("Pipeline"))
    stage = filters.ModelChoiceFilter(queryset=Stage.objects.all(), label=_("Stage"))
    owner = filters.ModelChoiceFilter(queryset=active_people, label=_("Owner"), widget=FastSelect)
    team = filters.ModelChoiceFilter(queryset=Team.objects.order_by("name"), label=_("Team"), widget=FastSelect)
    status = filters.ChoiceFilter(choices=DealStatus.choices, method="filter_status", label=_("Status"))
    expected_close_after = filters.DateFilter(field_name="expected_close", lookup_expr="gte", label=_("Closing from"))
    expected_close_before = filters.DateFilter(field_name="expected_close", lookup_expr="lte", label=_("Closing until"))
    company = filters.ModelChoiceFilter(queryset=Company.objects.none(), label=_("Company"))
    contact = ContactFilter(queryset=Contact.objects.none(), label=_("Contact"))
    sort = SortFilter(sorts=DEAL_SORTS, labels=DEAL_SORT_LABELS)

    class Meta:
        model = Deal
        fields = ["pipeline", "stage", "owner", "team", "status", "expected_close_after", "expected_close_before",
                  "company", "contact"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Only companies and contacts the user can see are valid choices: an invisible id is "not a valid choice".
        if self.user is not None and self.user.is_authenticated:
            self.filters["company"].queryset = Company.objects.visible_to(self.user)
            self.filters["contact"].queryset = Contact.objects.visible_to(self.user)

    def filter_status(self, qs, name, value):
        return qs.filter(DealStatus.conditions[value]) if value else qs

    @property
    def qs(self):
        qs = super().qs
        if not self.form.cleaned_data.get("sort"):
            qs = qs.order_by(*DEAL_SORTS["-created"])
        return qs

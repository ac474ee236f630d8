"""The filters and sorts a user can pick on contact and company lists: one FilterSet for page and API.

Every sort here is backed by an index that keeps working under the visibility filter
(`team_id = X` + the sort key): see the indexes of Contact and Company.
"""

from django.db.models import Exists, OuterRef
from django.utils.translation import gettext_lazy as _
from django_filters import rest_framework as filters
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field

from contacts.models import (
    Company,
    CompanyTag,
    Contact,
    ContactTag,
    LifecycleStage,
    ScoreBand,
    SizeBand,
    Source,
    Tag,
)
from crm.filters import ListFilterSet, SortFilter, active_people
from crm.models import Team
from crm.widgets import FastSelect

#: sort key -> ORDER BY; the key is what the page's and the API's `ordering`/`sort` parameter accepts.
CONTACT_SORTS = {
    "-created": ("-created_at", "-id"),
    "created": ("created_at", "id"),
    "name": ("first_name", "last_name", "id"),
    "-name": ("-first_name", "-last_name", "-id"),
    "-updated": ("-updated_at", "-id"),
    "updated": ("updated_at", "id"),
    "-score": ("-score", "-id"),
    "score": ("score", "id"),
}
COMPANY_SORTS = {
    "-created": ("-created_at", "-id"),
    "created": ("created_at", "id"),
    "name": ("name", "id"),
    "-name": ("-name", "-id"),
}
SORT_LABELS = {
    "-created": _("Newest first"), "created": _("Oldest first"), "name": _("Name A–Z"), "-name": _("Name Z–A"),
    "-updated": _("Recently updated"), "updated": _("Least recently updated"),
    "-score": _("Highest score first"), "score": _("Lowest score first"),
}


@extend_schema_field(OpenApiTypes.INT)
class TagFilter(filters.ModelMultipleChoiceFilter):
    """Records carrying any of the chosen tags (EXISTS, so a record shows once)."""

    def __init__(self, *args, link_model, link_field, **kwargs):
        self.link_model, self.link_field = link_model, link_field
        kwargs.setdefault("queryset", Tag.objects.all())
        kwargs.setdefault("label", _("Tag"))
        super().__init__(*args, **kwargs)

    def filter(self, qs, value):
        if not value:
            return qs
        links = self.link_model.objects.filter(**{self.link_field: OuterRef("pk")}, tag__in=value)
        return qs.filter(Exists(links))


class ContactFilter(ListFilterSet):
    owner = filters.ModelChoiceFilter(queryset=active_people, label=_("Owner"), widget=FastSelect)
    team = filters.ModelChoiceFilter(queryset=Team.objects.order_by("name"), label=_("Team"), widget=FastSelect)
    lifecycle_stage = filters.MultipleChoiceFilter(choices=LifecycleStage.choices, label=_("Lifecycle stage"))
    source = filters.ChoiceFilter(choices=Source.choices, label=_("Source"))
    tag = TagFilter(link_model=ContactTag, link_field="contact")
    city = filters.CharFilter(field_name="city", lookup_expr="iexact", label=_("City"))
    region = filters.CharFilter(field_name="region", lookup_expr="iexact", label=_("Region"))
    company = filters.ModelChoiceFilter(queryset=Company.objects.none(), label=_("Company"))
    created_after = filters.DateFilter(field_name="created_at", lookup_expr="date__gte", label=_("Created from"))
    created_before = filters.DateFilter(field_name="created_at", lookup_expr="date__lte", label=_("Created until"))
    do_not_contact = filters.BooleanFilter(label=_("Do not contact"))
    email = filters.CharFilter(field_name="emails__email", lookup_expr="iexact", label=_("Email"), distinct=True)
    score_band = filters.MultipleChoiceFilter(choices=ScoreBand.choices, label=_("Score band"))
    score_min = filters.NumberFilter(field_name="score", lookup_expr="gte", label=_("Score at least"), min_value=0,
                                     max_value=100)
    score_rose = filters.NumberFilter(field_name="score_change_7d", lookup_expr="gte", label=_("Score rose this week by"),
                                      min_value=1, max_value=100)
    sort = SortFilter(sorts=CONTACT_SORTS, labels=SORT_LABELS)

    class Meta:
        model = Contact
        fields = ["owner", "team", "lifecycle_stage", "source", "tag", "city", "region", "company",
                  "created_after", "created_before", "do_not_contact", "email", "score_band", "score_min", "score_rose"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Only companies the user can see are valid choices: an invisible id is "not a valid choice", not a hint.
        if self.user is not None and self.user.is_authenticated:
            self.filters["company"].queryset = Company.objects.visible_to(self.user)

    @property
    def qs(self):
        qs = super().qs
        if not self.form.cleaned_data.get("sort"):
            qs = qs.order_by(*CONTACT_SORTS["-created"])
        return qs


class CompanyFilter(ListFilterSet):
    owner = filters.ModelChoiceFilter(queryset=active_people, label=_("Owner"), widget=FastSelect)
    team = filters.ModelChoiceFilter(queryset=Team.objects.order_by("name"), label=_("Team"), widget=FastSelect)
    industry = filters.CharFilter(field_name="industry", lookup_expr="iexact", label=_("Industry"))
    size_band = filters.ChoiceFilter(choices=SizeBand.choices, label=_("Size"))
    tag = TagFilter(link_model=CompanyTag, link_field="company")
    city = filters.CharFilter(field_name="city", lookup_expr="iexact", label=_("City"))
    domain = filters.CharFilter(field_name="domain", lookup_expr="iexact", label=_("Domain"))
    created_after = filters.DateFilter(field_name="created_at", lookup_expr="date__gte", label=_("Created from"))
    created_before = filters.DateFilter(field_name="created_at", lookup_expr="date__lte", label=_("Created until"))
    sort = SortFilter(sorts=COMPANY_SORTS, labels=SORT_LABELS)

    class Meta:
        model = Company
        fields = ["owner", "team", "industry", "size_band", "tag", "city", "domain", "created_after", "created_before"]

    @property
    def qs(self):
        qs = super().qs
        if not self.form.cleaned_data.get("sort"):
            qs = qs.order_by(*COMPANY_SORTS["-created"])
        return qs

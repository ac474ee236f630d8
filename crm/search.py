"""Global search: a registry of providers, the search page, the top bar's dropdown and the API.

Each app registers a provider per kind of record in its `AppConfig.ready()`:

    from crm import search
    search.register("contacts", _("Contacts"), contact_results)

A provider is `function(user, query, limit) -> list[SearchResult]`: at most `limit` results, best first,
only records `user` may see (it starts from `Model.objects.visible_to(user)`). `query` is what the user
typed, trimmed (the app normalises it as its data is stored). A provider that cannot serve a query this
short raises `QueryTooShort`; when every provider does, the user is asked for more characters.

The registry knows no app (crm sits below them all), so deals and tickets join by registering.
"""

from collections.abc import Callable
from dataclasses import dataclass, field

from django import forms
from django.http import HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views import View
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers, viewsets
from rest_framework.response import Response

from crm.views import PageMixin

#: How many results per group: the top bar's dropdown, the search page, and the API's default and ceiling.
DROPDOWN_LIMIT = 8
PAGE_LIMIT = 25
API_MAX_LIMIT = 50
MAX_QUERY_LENGTH = 200


@dataclass(frozen=True)
class SearchResult:
    """One hit: what the result lists show and where it leads."""

    title: str
    subtitle: str
    url: str
    kind: str  # singular record type, e.g. "contact"
    id: int | None = None


class QueryTooShort(Exception):  # noqa: N818 (reads as the condition it signals)
    """Raised by a provider that needs at least `min_length` characters to search well."""

    def __init__(self, min_length: int):
        super().__init__(min_length)
        self.min_length = min_length


@dataclass(frozen=True)
class Provider:
    key: str  # plural type key, e.g. "contacts" (the API's group name and `?type=` value)
    label: str
    search: Callable[..., list[SearchResult]]


@dataclass
class Group:
    key: str
    label: str
    results: list[SearchResult] = field(default_factory=list)
    has_more: bool = False


@dataclass
class SearchOutcome:
    query: str
    groups: list[Group]
    #: The length every provider asked for when the query was too short for all of them (else None).
    min_length: int | None = None

    @property
    def has_results(self) -> bool:
        return any(group.results for group in self.groups)

    @property
    def has_more(self) -> bool:
        return any(group.has_more for group in self.groups)


_providers: dict[str, Provider] = {}


def register(key: str, label: str, search: Callable[..., list[SearchResult]]) -> None:
    """Add (or replace) the provider for a kind of record; groups show in registration order."""
    _providers[key] = Provider(key=key, label=label, search=search)


def unregister(key: str) -> None:
    _providers.pop(key, None)


def providers() -> list[Provider]:
    return list(_providers.values())


def run_search(user, query: str, *, limit: int, types: list[str] | None = None) -> SearchOutcome:
    """Ask each provider (or those of `types`) for its best `limit` matches; one group per provider."""
    query = " ".join(str(query).split())
    groups, too_short = [], []
    chosen = [p for p in providers() if not types or p.key in types]
    for provider in chosen:
        group = Group(key=provider.key, label=provider.label)
        try:
            results = provider.search(user, query, limit + 1)  # one more tells whether there are more
        except QueryTooShort as exc:
            too_short.append(exc.min_length)
            results = []
        group.results, group.has_more = list(results[:limit]), len(results) > limit
        groups.append(group)
    min_length = max(too_short) if chosen and len(too_short) == len(chosen) else None
    return SearchOutcome(query=query, groups=groups, min_length=min_length)


# --- The page and the top bar's dropdown ----------------------------------------------------------


def _type_choices():
    return [("", gettext_lazy("Everything")), *((p.key, p.label) for p in providers())]


class SearchForm(forms.Form):
    q = forms.CharField(label=gettext_lazy("Search for"), required=False, max_length=MAX_QUERY_LENGTH, strip=True,
                        widget=forms.TextInput(attrs={"type": "search", "autocomplete": "off"}))
    type = forms.ChoiceField(label=gettext_lazy("Show"), required=False, choices=_type_choices)


class SearchView(PageMixin, View):
    """GET /search/?q=: every group on a page; for htmx (the top bar as one types) the dropdown fragment."""

    def get(self, request):
        form = SearchForm(request.GET)
        dropdown = bool(request.htmx) and not request.htmx.boosted
        outcome = None
        if form.is_valid() and form.cleaned_data["q"]:
            kind = form.cleaned_data["type"]
            outcome = run_search(request.user, form.cleaned_data["q"], types=[kind] if kind else None,
                                 limit=DROPDOWN_LIMIT if dropdown else PAGE_LIMIT)
        context = {
            "form": form, "outcome": outcome, "dropdown": dropdown,
            "search_query": request.GET.get("q", ""),
        }
        if dropdown:  # htmx does not swap error statuses: a bad query shows its message in the dropdown
            if outcome is None and not form.errors:
                return HttpResponse("")  # an emptied box closes the dropdown
            return render(request, "partials/search_results.html", context)
        return render(request, "crm/search.html", context, status=400 if form.errors else 200)


# --- The API -----------------------------------------------------------------------------------------


class SearchResultSerializer(serializers.Serializer):
    id = serializers.IntegerField(allow_null=True)
    kind = serializers.CharField()
    title = serializers.CharField()
    subtitle = serializers.CharField()
    url = serializers.CharField()


class SearchInput(serializers.Serializer):
    q = serializers.CharField(max_length=MAX_QUERY_LENGTH, trim_whitespace=True,
                              error_messages={"blank": gettext_lazy("Enter something to search for."),
                                              "required": gettext_lazy("Enter something to search for.")})
    type = serializers.ListField(child=serializers.CharField(), required=False)
    limit = serializers.IntegerField(min_value=1, max_value=API_MAX_LIMIT, default=PAGE_LIMIT)

    def validate_type(self, value):
        keys = [key.strip() for item in value for key in item.split(",") if key.strip()]
        known = {p.key for p in providers()}
        unknown = [key for key in keys if key not in known]
        if unknown:
            raise serializers.ValidationError(
                _("Unknown type: %(types)s. Choose from %(known)s.") % {"types": ", ".join(unknown),
                                                                        "known": ", ".join(sorted(known))}
            )
        return keys


class _OneObjectSchema(AutoSchema):
    """The answer is one object of groups, although the route is the viewset's `list` (not an array)."""

    def _is_list_view(self, serializer=None) -> bool:
        return False


class SearchViewSet(viewsets.ViewSet):
    """Search contacts and companies (and, later, deals and tickets) the caller may see."""

    schema = _OneObjectSchema()

    @extend_schema(
        parameters=[
            OpenApiParameter("q", OpenApiTypes.STR, required=True, description="What to look for: a name (Bengali or "
                             "Latin script, typos tolerated), an email, a phone number in any format, a company."),
            OpenApiParameter("type", OpenApiTypes.STR, many=True, description="Only these groups (e.g. `contacts`); "
                             "repeat or separate with commas."),
            OpenApiParameter("limit", OpenApiTypes.INT, description=f"Results per group (1–{API_MAX_LIMIT}, "
                             f"default {PAGE_LIMIT})."),
        ],
        responses=inline_serializer("SearchResponse", {
            "results": serializers.DictField(child=SearchResultSerializer(many=True),
                                             help_text="Best matches first, per type: contacts, companies, …"),
        }),
    )
    def list(self, request):
        params = SearchInput(data={"q": request.query_params.get("q", ""),
                                   "type": request.query_params.getlist("type"),
                                   "limit": request.query_params.get("limit", PAGE_LIMIT)})
        params.is_valid(raise_exception=True)
        data = params.validated_data
        outcome = run_search(request.user, data["q"], limit=data["limit"], types=data.get("type"))
        if outcome.min_length:
            raise serializers.ValidationError(
                {"q": [_("Type at least %(count)d characters.") % {"count": outcome.min_length}]}
            )
        return Response({"results": {group.key: SearchResultSerializer(group.results, many=True).data
                                     for group in outcome.groups}})

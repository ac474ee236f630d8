"""Reads behind the contact and company lists, their exports, the trash, and a contact's or company's timeline.

A list is `visible_to(user)` narrowed by the FilterSet of `contacts.filters` and ordered by one of
its index-backed sorts. The page costs a fixed number of queries whatever its size (owner, team
and company joined; tags prefetched in one query; a company's people counted in one subquery),
and its total is counted with a cap (`crm.listing.CappedPaginator`). An export reads the same
rows as plain values, tags aggregated in SQL, so a chunk of rows is one fetch. A timeline is read
a page at a time by keyset, newest first.
"""

import math
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from django import forms
from django.db.models import FETCH_PEERS, Count, IntegerField, OuterRef, Prefetch, Q, QuerySet, StringAgg, Subquery, Value
from django.db.models.functions import Coalesce
from django.http import QueryDict
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from contacts import services
from contacts.filters import COMPANY_SORTS, CONTACT_SORTS, CompanyFilter, ContactFilter
from contacts.models import (
    TRASH_DAYS,
    Company,
    CompanyTag,
    Contact,
    ContactTag,
    Interaction,
    InteractionKind,
    LifecycleStage,
    SizeBand,
    Source,
    Tag,
)
from contacts.normalise import display_phone
from crm import policy
from crm.listing import CappedPaginator, capped_count
from crm.models import Role, SavedView, User

PER_PAGE_CHOICES = (25, 50, 100, 200)
DEFAULT_PER_PAGE = 50
#: Query parameters that shape a list without filtering it (kept in links, not in a saved view's query).
LIST_OPTION_PARAMS = ("cols", "per_page")


# --- Columns -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Column:
    """One column a user can show on a list and get in its export.

    `fields` are what the export reads with `values()`; `kind` says how a value is written
    (`text`, `name`, `phone`, `choice`, `datetime`, `number`); `sort` is the sort key a click
    on the header applies first (its opposite on a second click), when the column has one.
    """

    key: str
    label: str
    fields: tuple[str, ...]
    kind: str = "text"
    choices: tuple = ()
    sort: str = ""


def _columns(*columns: Column) -> dict[str, Column]:
    return {c.key: c for c in columns}


#: The name is always the first column; the others are the user's choice (`?cols=`).
CONTACT_NAME = Column("name", _("Name"), ("first_name", "last_name"), kind="name", sort="name")
CONTACT_COLUMNS = _columns(
    Column("email", _("Email"), ("email",)),
    Column("phone", _("Phone"), ("phone",), kind="phone"),
    Column("company", _("Company"), ("company__name",)),
    Column("job_title", _("Job title"), ("job_title",)),
    Column("lifecycle_stage", _("Lifecycle stage"), ("lifecycle_stage",), kind="choice",
           choices=tuple(LifecycleStage.choices)),
    Column("owner", _("Owner"), ("owner__full_name",)),
    Column("team", _("Team"), ("team__name",)),
    Column("city", _("City"), ("city",)),
    Column("source", _("Source"), ("source",), kind="choice", choices=tuple(Source.choices)),
    Column("tags", _("Tags"), ("tag_names",)),
    Column("score", _("Score"), ("score", "score_band"), kind="score", sort="-score"),
    Column("created", _("Created"), ("created_at",), kind="datetime", sort="-created"),
    Column("updated", _("Updated"), ("updated_at",), kind="datetime", sort="-updated"),
    Column("last_activity", _("Last activity"), ("last_interaction_at",), kind="datetime"),
)
DEFAULT_CONTACT_COLUMNS = ("score", "email", "phone", "company", "lifecycle_stage", "owner", "tags", "created")

COMPANY_NAME = Column("name", _("Name"), ("name",), sort="name")
COMPANY_COLUMNS = _columns(
    Column("domain", _("Domain"), ("domain",)),
    Column("industry", _("Industry"), ("industry",)),
    Column("size", _("Size"), ("size_band",), kind="choice", choices=tuple(SizeBand.choices)),
    Column("city", _("City"), ("city",)),
    Column("phone", _("Phone"), ("phone",), kind="phone"),
    Column("owner", _("Owner"), ("owner__full_name",)),
    Column("team", _("Team"), ("team__name",)),
    Column("tags", _("Tags"), ("tag_names",)),
    Column("people", _("People"), ("people",), kind="number"),
    Column("created", _("Created"), ("created_at",), kind="datetime", sort="-created"),
)
DEFAULT_COMPANY_COLUMNS = ("domain", "industry", "city", "owner", "people", "created")


@dataclass(frozen=True)
class ListKind:
    """What differs between the contact and the company list."""

    target: str
    filterset_class: type
    sorts: dict
    name_column: Column
    columns: dict
    default_columns: tuple
    #: Filters shown in the bar, then under "More filters"; the rest only travel in the query string.
    main_filters: tuple
    more_filters: tuple


CONTACTS = ListKind(
    target=SavedView.Target.CONTACTS, filterset_class=ContactFilter, sorts=CONTACT_SORTS,
    name_column=CONTACT_NAME, columns=CONTACT_COLUMNS, default_columns=DEFAULT_CONTACT_COLUMNS,
    main_filters=("owner", "team", "lifecycle_stage", "tag"),
    more_filters=("city", "region", "source", "created_after", "created_before", "do_not_contact"),
)
COMPANIES = ListKind(
    target=SavedView.Target.COMPANIES, filterset_class=CompanyFilter, sorts=COMPANY_SORTS,
    name_column=COMPANY_NAME, columns=COMPANY_COLUMNS, default_columns=DEFAULT_COMPANY_COLUMNS,
    main_filters=("owner", "team", "industry", "tag"),
    more_filters=("city", "size_band", "domain", "created_after", "created_before"),
)


class ListOptionsForm(forms.Form):
    """How a list is shown: its columns and page size (the FilterSet reads the filters and the sort)."""

    cols = forms.MultipleChoiceField(label=_("Columns"), required=False, widget=forms.CheckboxSelectMultiple)
    per_page = forms.TypedChoiceField(
        label=_("Rows per page"), required=False, coerce=int, empty_value=DEFAULT_PER_PAGE,
        choices=[(n, n) for n in PER_PAGE_CHOICES],
    )

    def __init__(self, *args, kind: ListKind, **kwargs):
        super().__init__(*args, **kwargs)
        self.kind = kind
        self.fields["cols"].choices = [(key, column.label) for key, column in kind.columns.items()]

    def clean_cols(self):
        chosen = set(self.cleaned_data["cols"])
        return [key for key in self.kind.columns if key in chosen] or list(self.kind.default_columns)


def list_params(params: QueryDict, kind: ListKind) -> QueryDict:
    """The list's own parameters from `params`, empty values dropped, `cols=a,b` split: its canonical URL."""
    wanted = set(kind.filterset_class.base_filters) | set(LIST_OPTION_PARAMS)
    out = QueryDict(mutable=True)
    for key in params:
        if key not in wanted:
            continue
        values = [v.strip() for v in params.getlist(key)]
        if key == "cols":
            values = [part.strip() for v in values for part in v.split(",")]
        values = [v for v in values if v]
        if values:
            out.setlist(key, values)
    return out


def filter_query(params: QueryDict) -> str:
    """The query string a saved view keeps: filters, sort and page size (its columns are kept apart)."""
    query = params.copy()
    query.pop("cols", None)
    return query.urlencode()


# --- Lists ---------------------------------------------------------------------------------------


@dataclass
class ListResult:
    kind: ListKind
    filterset: object
    options: ListOptionsForm
    params: QueryDict  # canonical: what links to this view carry (no page number)
    columns: list = field(default_factory=list)
    paginator: CappedPaginator | None = None
    page: object = None

    @property
    def is_valid(self) -> bool:
        return self.page is not None

    @property
    def column_keys(self) -> list[str]:
        return [c.key for c in self.columns]

    @property
    def sort(self) -> str:
        if self.filterset.is_valid() and self.filterset.form.cleaned_data.get("sort"):
            return self.filterset.form.cleaned_data["sort"]
        return "-created"

    @property
    def saved_query(self) -> str:
        return filter_query(self.params)

    @property
    def per_page(self):
        if self.options.is_valid():
            return self.options.cleaned_data["per_page"]
        return self.params.get("per_page", DEFAULT_PER_PAGE)

    @property
    def has_filters(self) -> bool:
        """Whether anything narrows the list (sort, columns and page size do not)."""
        return any(key not in (*LIST_OPTION_PARAMS, "sort") for key in self.params)


def _filtered(kind: ListKind, user: User, params: QueryDict, base: QuerySet):
    """(canonical params, filterset, options form, columns): the parsing shared by page and export."""
    canonical = list_params(params, kind)
    filterset = kind.filterset_class(canonical, queryset=base, user=user)
    options = ListOptionsForm(canonical, kind=kind)
    columns = [kind.name_column]
    if options.is_valid():
        columns += [kind.columns[key] for key in options.cleaned_data["cols"]]
    return canonical, filterset, options, columns


def _tags_prefetch() -> Prefetch:
    return Prefetch("tags", queryset=Tag.objects.only("id", "name", "colour").order_by("name"))


def _people_count(user: User) -> Coalesce:
    """The number of contacts of a company that `user` can see (one correlated subquery)."""
    people = (Contact.objects.visible_to(user).filter(company=OuterRef("pk")).order_by()
              .values("company").annotate(n=Count("pk")).values("n"))
    return Coalesce(Subquery(people, output_field=IntegerField()), Value(0))


def _paginate(result: ListResult, queryset, page_number) -> ListResult:
    result.paginator = CappedPaginator(queryset, result.options.cleaned_data["per_page"])
    result.page = result.paginator.get_page(page_number)
    result.page.object_list = list(result.page.object_list)
    return result


def contact_list(*, user: User, params: QueryDict, page_number=None) -> ListResult:
    """A page of the contacts `user` can see, filtered, sorted and with the chosen columns.

    The result has no page when a filter or an option is not valid (the form says why).
    """
    base = Contact.objects.visible_to(user)
    canonical, filterset, options, columns = _filtered(CONTACTS, user, params, base)
    result = ListResult(kind=CONTACTS, filterset=filterset, options=options, params=canonical, columns=columns)
    if not (filterset.is_valid() and options.is_valid()):
        return result
    queryset = filterset.qs.select_related("owner", "team", "company")
    if "tags" in result.column_keys:
        queryset = queryset.prefetch_related(_tags_prefetch())
    _paginate(result, queryset, page_number)
    for contact in result.page.object_list:
        contact.phone_display = display_phone(contact.phone)
    return result


def company_list(*, user: User, params: QueryDict, page_number=None) -> ListResult:
    """A page of the companies `user` can see, like `contact_list`; "people" counts the visible contacts."""
    base = Company.objects.visible_to(user)
    canonical, filterset, options, columns = _filtered(COMPANIES, user, params, base)
    result = ListResult(kind=COMPANIES, filterset=filterset, options=options, params=canonical, columns=columns)
    if not (filterset.is_valid() and options.is_valid()):
        return result
    queryset = filterset.qs.select_related("owner", "team")
    if "tags" in result.column_keys:
        queryset = queryset.prefetch_related(_tags_prefetch())
    if "people" in result.column_keys:
        queryset = queryset.annotate(people=_people_count(user))
    _paginate(result, queryset, page_number)
    for company in result.page.object_list:
        company.phone_display = display_phone(company.phone)
    return result


# --- Exports -------------------------------------------------------------------------------------


@dataclass
class ExportData:
    """The rows of a list's export as dicts of `values()` (read lazily, in chunks) and their columns."""

    kind: ListKind
    columns: list
    rows: object  # an iterator of dicts


class InvalidListParams(Exception):
    """The filters or options of an export are not valid; `result` carries the forms with their errors."""

    def __init__(self, result: ListResult):
        super().__init__("invalid list parameters")
        self.result = result


EXPORT_CHUNK = 2000


def _tag_names(link_model, link_field: str) -> Subquery:
    names = (link_model.objects.filter(**{link_field: OuterRef("pk")}).order_by().values(link_field)
             .annotate(names=StringAgg("tag__name", Value(", "), order_by="tag__name")).values("names"))
    return Subquery(names)


def _export(kind: ListKind, user: User, params: QueryDict, base: QuerySet, annotations: dict) -> ExportData:
    canonical, filterset, options, columns = _filtered(kind, user, params, base)
    if not (filterset.is_valid() and options.is_valid()):
        raise InvalidListParams(ListResult(kind=kind, filterset=filterset, options=options, params=canonical,
                                           columns=columns))
    needed = [name for column in columns for name in column.fields]
    queryset = filterset.qs.annotate(**{k: v for k, v in annotations.items() if k in needed})
    rows = queryset.values("pk", *dict.fromkeys(needed)).iterator(chunk_size=EXPORT_CHUNK)
    return ExportData(kind=kind, columns=columns, rows=rows)


def contact_export(*, user: User, params: QueryDict) -> ExportData:
    """Every contact of the current view (filters, sort, columns) that `user` can see, for a file.

    Raises InvalidListParams when the filters are not valid.
    """
    return _export(CONTACTS, user, params, Contact.objects.visible_to(user),
                   {"tag_names": _tag_names(ContactTag, "contact")})


def company_export(*, user: User, params: QueryDict) -> ExportData:
    """Every company of the current view that `user` can see, for a file (see `contact_export`)."""
    return _export(COMPANIES, user, params, Company.objects.visible_to(user),
                   {"tag_names": _tag_names(CompanyTag, "company"), "people": _people_count(user)})


# --- Saved views, bulk-action choices ---------------------------------------------------------------


def saved_views_for(*, user: User, kind: ListKind) -> list[SavedView]:
    """The user's own and their team's shared views of this list, by name."""
    return list(SavedView.objects.visible_to(user).filter(target=kind.target).select_related("owner")
                .order_by("name", "id"))


def saved_view_url_params(view: SavedView) -> QueryDict:
    """The list parameters that apply a saved view: its query, its columns, and its id (to name it)."""
    params = QueryDict(view.query, mutable=True)
    params.pop("page", None)
    if view.columns:
        params.setlist("cols", list(view.columns))
    params["view"] = str(view.pk)
    return params


def visible_company_name(*, user: User, pk) -> str | None:
    """The name of a company `user` can see (a list narrowed to one company says which), else None."""
    try:
        pk = int(pk)
    except (TypeError, ValueError):
        return None
    return Company.objects.visible_to(user).filter(pk=pk).values_list("name", flat=True).first()


def assignable_owners(user: User) -> QuerySet:
    """Active users `user` may give contacts to (the rule of `contacts.services.bulk_update_contacts`)."""
    people = User.objects.filter(is_active=True).order_by("full_name", "id")
    if user.role == Role.ADMIN:
        return people
    if user.role == Role.MANAGER:
        return people.filter(Q(team_id__in=sorted(user.managed_team_ids())) | Q(pk=user.pk))
    if user.role == Role.SALES_REP and user.team_id:
        return people.filter(team_id=user.team_id)
    return people.none()


# --- Trash ---------------------------------------------------------------------------------------


TRASH_KINDS = {"contacts": Contact, "companies": Company}


def trashed(*, user: User, model) -> QuerySet:
    """What of `model` is in the trash that `user` can see and may restore, most recently deleted first."""
    queryset = model.all_objects.visible_to(user).trashed()
    condition = policy.deletable_filter(user, model)
    if condition is not None:
        queryset = queryset.filter(condition)
    return queryset.order_by("-deleted_at", "-id")


@dataclass
class TrashResult:
    kind: str
    counts: dict
    paginator: CappedPaginator
    page: object


def trash_list(*, user: User, kind: str, page_number=None, per_page: int = DEFAULT_PER_PAGE) -> TrashResult:
    """One page of the user's trash (contacts or companies), the count of each, and days left before purge."""
    model = TRASH_KINDS[kind]
    paginator = CappedPaginator(trashed(user=user, model=model).select_related("owner", "deleted_by"), per_page)
    counts = {name: capped_count(trashed(user=user, model=other)) for name, other in TRASH_KINDS.items() if name != kind}
    counts[kind] = (paginator.count, paginator.count_is_exact)
    page = paginator.get_page(page_number)
    page.object_list = list(page.object_list)
    now = timezone.now()
    for record in page.object_list:
        record.purge_at = record.deleted_at + timedelta(days=TRASH_DAYS)
        record.days_left = max(0, math.ceil((record.purge_at - now).total_seconds() / 86400))
    return TrashResult(kind=kind, counts=counts, paginator=paginator, page=page)


def restorable_record(*, user: User, kind: str, pk: int):
    """A record in the trash that `user` can see (None otherwise); the service checks the right to restore."""
    model = {"contact": Contact, "company": Company}.get(kind)
    if model is None:
        return None
    return model.all_objects.visible_to(user).trashed().filter(pk=pk).first()


# --- Timelines -----------------------------------------------------------------------------------


TIMELINE_PAGE = 25
_CURSOR_FORMAT = "%Y%m%dT%H%M%S%f"


def _cursor(entry: Interaction) -> str:
    return f"{entry.occurred_at.astimezone(UTC).strftime(_CURSOR_FORMAT)}-{entry.pk}"


def _parse_cursor(text: str):
    try:
        stamp, pk = text.rsplit("-", 1)
        return datetime.strptime(stamp, _CURSOR_FORMAT).replace(tzinfo=UTC), int(pk)
    except ValueError:
        return None


def contact_timeline(*, user: User, contact: Contact, kind: str = "", before: str = "") -> dict:
    """One page of the contact's timeline, newest first, and which of its entries the user may remove.

    `kind` keeps one kind of entry (an unknown kind: all of them); `before` is the `next_cursor` of the
    page above. Removing someone else's entry takes the right to edit the contact.
    """
    return _timeline_page(contact.interactions.all(), user=user, kind=kind, before=before, editable_target=contact)


def company_timeline(*, user: User, company: Company, kind: str = "", before: str = "") -> dict:
    """One page of the company's timeline: its entries and those of its people the user can see, newest first.

    As `contact_timeline`; removing someone else's entry takes the right to edit its contact or company.
    """
    entries = Interaction.objects.visible_to(user).filter(company=company)
    return _timeline_page(entries, user=user, kind=kind, before=before)


def _timeline_page(entries, *, user: User, kind: str, before: str, editable_target=None) -> dict:
    """One page of `entries` (already narrowed to what the user sees) by keyset (occurred_at, id).

    `editable_target` is the record whose edit right lets one remove others' entries (None: each
    entry's own contact or company).
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

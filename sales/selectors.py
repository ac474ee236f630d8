"""Reads behind the sales pages and API: the board of a pipeline."""

from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Count, Q, Sum

from crm.models import User
from sales.models import Deal, Pipeline, Stage


@dataclass
class Column:
    """One stage of the board: its open deals' count and total, and the top cards (largest amount first)."""

    stage: Stage
    count: int = 0
    total: Decimal = Decimal("0.00")
    deals: list[Deal] = field(default_factory=list)

    @property
    def has_more(self) -> bool:
        return self.count > len(self.deals)


#: What a card shows besides the deal itself.
CARD_RELATED = ("owner", "company", "primary_contact")


def open_deals(*, user: User, pipeline_id: int, filters: Q | None = None):
    """The open deals of a pipeline that `user` sees, narrowed by the board's `filters` (owner, team, close month)."""
    deals = Deal.objects.visible_to(user).open().filter(pipeline_id=pipeline_id)
    return deals if filters is None else deals.filter(filters)


def column_totals(deals) -> dict[int, tuple[int, Decimal]]:
    """stage id -> (count, total amount) of `deals`, in one grouped query (amounts added as they are)."""
    return {row["stage"]: (row["count"], row["total"])
            for row in deals.values("stage").annotate(count=Count("id"), total=Sum("amount")).order_by()}


def board_columns(*, user: User, pipeline: Pipeline, per_column: int = 25, filters: Q | None = None) -> list[Column]:
    """The columns of a pipeline's board as `user` sees it: every active stage, in order, with its open deals.

    Four queries whatever the number of stages and cards: the stages, the counts and totals, the ids of
    each column's top cards (one index-served branch per stage, in one UNION ALL), the cards themselves.
    `filters` narrows the deals further (owner, team, close month); totals add amounts as they are,
    whatever their currency.
    """
    stages = list(Stage.objects.filter(pipeline=pipeline, archived_at__isnull=True).order_by("position"))
    deals = open_deals(user=user, pipeline_id=pipeline.pk, filters=filters)
    columns = {s.pk: Column(stage=s) for s in stages}
    for stage_id, (count, total) in column_totals(deals).items():
        if stage_id in columns:
            columns[stage_id].count, columns[stage_id].total = count, total
    ids = top_card_ids(deals, [s for s in stages if columns[s.pk].count], per_column=per_column)
    if ids is not None:
        cards = Deal.objects.filter(pk__in=list(ids)).select_related(*CARD_RELATED)
        for deal in cards.order_by("-amount", "-id"):
            columns[deal.stage_id].deals.append(deal)
    return [columns[s.pk] for s in stages]


def column_cards(*, user: User, stage: Stage, filters: Q | None, after: tuple[Decimal, int] | None, limit: int):
    """The next `limit` cards of one column after the card `after` (amount, id), in the board's order, and
    whether more follow. Keyset, not offset: cards dragged away meanwhile do not make the next page skip any.
    """
    deals = open_deals(user=user, pipeline_id=stage.pipeline_id, filters=filters).filter(stage=stage)
    if after is not None:
        deals = deals.filter(Q(amount__lt=after[0]) | Q(amount=after[0], pk__lt=after[1]))
    page = list(deals.select_related(*CARD_RELATED).order_by("-amount", "-id")[:limit + 1])
    return page[:limit], len(page) > limit


def top_card_ids(deals, stages: list[Stage], *, per_column: int):
    """Ids of the `per_column` largest deals of each stage among `deals`: one UNION ALL, a LIMITed index scan each."""
    branches = [deals.filter(stage=s).order_by("-amount", "-id").values_list("pk", flat=True)[:per_column] for s in stages]
    if not branches:
        return None
    return branches[0].union(*branches[1:], all=True) if len(branches) > 1 else branches[0]


# --- The deal list --------------------------------------------------------------------------------

DEAL_LIST_PER_PAGE = 50
#: What a row of the deal list shows besides the deal itself.
ROW_RELATED = ("owner", "team", "company", "primary_contact", "pipeline", "stage")


@dataclass
class DealList:
    filterset: object
    params: object  # the list's own query parameters (QueryDict, no page number): what its links carry
    paginator: object = None
    page: object = None

    @property
    def is_valid(self) -> bool:
        return self.page is not None

    @property
    def sort(self) -> str:
        data = getattr(self.filterset.form, "cleaned_data", {})
        return data.get("sort") or "-created"

    @property
    def has_filters(self) -> bool:
        return any(key != "sort" for key in self.params)


def deal_list(*, user: User, params, page_number=None, per_page: int = DEAL_LIST_PER_PAGE) -> DealList:
    """A page of the deals `user` sees, filtered and sorted by `sales.filters.DealFilter` (the API's filters).

    A fixed number of queries: the capped count and the page (rows with their related records joined).
    The result has no page when a filter is not valid (the form says why).
    """
    from django.http import QueryDict

    from crm.listing import CappedPaginator
    from sales.filters import DealFilter

    canonical = QueryDict(mutable=True)
    for key in DealFilter.base_filters:
        values = [v.strip() for v in params.getlist(key) if v.strip()]
        if values:
            canonical.setlist(key, values)
    filterset = DealFilter(canonical, queryset=Deal.objects.visible_to(user), user=user)
    result = DealList(filterset=filterset, params=canonical)
    if not filterset.is_valid():
        return result
    result.paginator = CappedPaginator(filterset.qs.select_related(*ROW_RELATED), per_page)
    result.page = result.paginator.get_page(page_number)
    result.page.object_list = list(result.page.object_list)
    return result


def record_deals(*, user: User, company_id: int | None = None, contact_id: int | None = None, limit: int = 10):
    """(open deals, open count, closed count) of a company or a contact (primary or on the deal) that `user` sees."""
    from django.db.models import Exists, OuterRef

    from sales.models import DealContact

    deals = Deal.objects.visible_to(user)
    if company_id is not None:
        deals = deals.filter(company_id=company_id)
    else:
        linked = DealContact.objects.filter(deal=OuterRef("pk"), contact_id=contact_id)
        deals = deals.filter(Q(primary_contact_id=contact_id) | Exists(linked))
    counts = deals.aggregate(open=Count("id", filter=Q(closed_at__isnull=True)),
                             closed=Count("id", filter=Q(closed_at__isnull=False)))
    rows = list(deals.open().select_related("stage", "owner").order_by("expected_close", "-amount", "-id")[:limit])
    return rows, counts["open"], counts["closed"]

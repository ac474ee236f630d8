"""Counting long lists honestly without paying more for the total than for the page.

An exact `COUNT(*)` over a million visible rows costs tens of milliseconds, more than the page
itself (research/peers.md). Lists count exactly up to `EXACT_COUNT_LIMIT` rows and above it show
the planner's estimate, marked as such ("about 1,20,000"), or "more than 10,000" while the table's
statistics still lag behind a large import.
"""

import json

from django.core.paginator import Paginator
from django.db import connections
from django.utils.functional import cached_property
from django.utils.translation import ngettext

EXACT_COUNT_LIMIT = 10_000


def planner_estimate(queryset) -> int:
    """PostgreSQL's estimate of how many rows `queryset` returns (EXPLAIN, no execution)."""
    sql, params = queryset.order_by().query.sql_with_params()
    with connections[queryset.db].cursor() as cursor:
        cursor.execute("EXPLAIN (FORMAT JSON) " + sql, params)
        plan = cursor.fetchone()[0]
    if isinstance(plan, str):
        plan = json.loads(plan)
    return int(plan[0]["Plan"]["Plan Rows"])


def capped_count(queryset, *, limit: int = EXACT_COUNT_LIMIT) -> tuple[int, bool]:
    """(count, exact): exact up to `limit` rows (one bounded query), the planner's estimate above it."""
    counted = queryset.order_by()[: limit + 1].count()
    if counted <= limit:
        return counted, True
    # Statistics lag behind a large import; an estimate below what was just counted says only "more than".
    return max(planner_estimate(queryset), limit), False


class CappedPaginator(Paginator):
    """A paginator whose total is exact up to the limit and estimated above it (`count_is_exact`)."""

    @cached_property
    def _capped(self) -> tuple[int, bool]:
        return capped_count(self.object_list)

    @cached_property
    def count(self) -> int:
        return self._capped[0]

    @property
    def count_is_exact(self) -> bool:
        return self._capped[1]

    @property
    def count_is_lower_bound(self) -> bool:
        """The list has more than `count` rows, and the planner's estimate says no more than that."""
        return not self._capped[1] and self._capped[0] == EXACT_COUNT_LIMIT


def bulk_summary(done: str, skipped: int) -> str:
    """The message after a bulk action: what was done, and how many chosen records the user may not change."""
    if skipped:
        done += ", " + ngettext("%(n)s skipped (you cannot change it)", "%(n)s skipped (you cannot change them)",
                                skipped) % {"n": skipped}
    return done + "."

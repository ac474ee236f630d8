"""The forecast: the weighted value of the open pipeline, by expected close month and by owner, beside what
has already been won this quarter (a deal dragged to won moves from "weighted" to "won" in its month)."""

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import Count, DecimalField, ExpressionWrapper, F, Sum
from django.db.models.functions import Coalesce, TruncMonth
from django.utils import timezone

from crm.models import User
from sales.models import CENT, Deal

ZERO = Decimal("0.00")


@dataclass
class Forecast:
    """Weighted amounts: `cells[(month, owner_id)]`, totals per month, per owner and overall.

    `month` is the first day of the expected close month, or None for deals without a close date
    (shown last, as "No close date"). Amounts are added as they are, whatever their currency (as the board does).
    """

    months: list = field(default_factory=list)
    owners: list = field(default_factory=list)  # (owner id, name), by name
    cells: dict = field(default_factory=dict)
    month_totals: dict = field(default_factory=dict)
    owner_totals: dict = field(default_factory=dict)
    amount_totals: dict = field(default_factory=dict)  # month -> unweighted amount
    deal_counts: dict = field(default_factory=dict)  # month -> number of deals
    won: dict = field(default_factory=dict)  # month -> amount won (deals won this quarter, by the month they were won)
    won_total: Decimal = ZERO
    total: Decimal = ZERO
    amount_total: Decimal = ZERO
    deal_count: int = 0

    def rows(self) -> list[dict]:
        """One row a month, with its cell per owner (in `owners` order), for the template."""
        return [{"month": m, "cells": [self.cells.get((m, pk), ZERO) for pk, _name in self.owners],
                 "total": self.month_totals.get(m, ZERO), "amount": self.amount_totals.get(m, ZERO),
                 "count": self.deal_counts.get(m, 0), "won": self.won.get(m, ZERO),
                 "expected": self.won.get(m, ZERO) + self.month_totals.get(m, ZERO)}
                for m in self.months]

    @property
    def expected_total(self) -> Decimal:
        return self.won_total + self.total

    def owner_row(self) -> list[Decimal]:
        return [self.owner_totals[pk] for pk, _name in self.owners]


def weighted_amount():
    """amount x (the deal's probability, or its stage's) / 100, as SQL."""
    return ExpressionWrapper(F("amount") * Coalesce("probability", "stage__probability") / Decimal(100),
                             output_field=DecimalField(max_digits=20, decimal_places=4))


def _cent(value) -> Decimal:
    return (value or ZERO).quantize(CENT, rounding=ROUND_HALF_UP)


def _quarter_start():
    """Midnight of the first day of this quarter, in the current time zone."""
    today = timezone.localdate()
    return timezone.make_aware(datetime(today.year, 3 * ((today.month - 1) // 3) + 1, 1))


def forecast(*, user: User, pipeline_id: int | None = None, team_id: int | None = None,
             owner_id: int | None = None) -> Forecast:
    """The forecast of the open deals `user` sees, narrowed to a pipeline, a team, an owner.

    One aggregate query for the open deals (GROUP BY close month, owner) and one for this quarter's won deals
    (GROUP BY the month they were won); each cell is rounded to the cent, and the totals are the sums of the
    cells, so the table adds up.
    """
    deals = Deal.objects.visible_to(user)
    if pipeline_id:
        deals = deals.filter(pipeline_id=pipeline_id)
    if team_id:
        deals = deals.filter(team_id=team_id)
    if owner_id:
        deals = deals.filter(owner_id=owner_id)
    won_rows = (deals.filter(won_at__gte=_quarter_start()).annotate(month=TruncMonth("won_at")).values("month")
                .annotate(amount=Sum("amount")).order_by())
    deals = deals.open()
    rows = (deals.annotate(month=TruncMonth("expected_close"))
            .values("month", "owner_id", "owner__full_name", "owner__email")
            .annotate(weighted=Sum(weighted_amount()), amount=Sum("amount"), count=Count("id"))
            .order_by())
    result = Forecast()
    names = {}
    for row in rows:
        month = row["month"].date() if hasattr(row["month"], "date") else row["month"]
        weighted = _cent(row["weighted"])
        result.cells[(month, row["owner_id"])] = weighted
        names[row["owner_id"]] = row["owner__full_name"] or row["owner__email"]
        result.month_totals[month] = result.month_totals.get(month, ZERO) + weighted
        result.owner_totals[row["owner_id"]] = result.owner_totals.get(row["owner_id"], ZERO) + weighted
        result.amount_totals[month] = result.amount_totals.get(month, ZERO) + (row["amount"] or ZERO)
        result.deal_counts[month] = result.deal_counts.get(month, 0) + row["count"]
    for row in won_rows:
        month = row["month"].date() if hasattr(row["month"], "date") else row["month"]
        result.won[month] = _cent(row["amount"])
    result.won_total = sum(result.won.values(), ZERO)
    result.months = sorted(set(result.month_totals) | set(result.won), key=lambda m: (m is None, m or date.min))
    result.owners = sorted(names.items(), key=lambda item: (str(item[1]).lower(), item[0]))
    result.total = sum(result.month_totals.values(), ZERO)
    result.amount_total = sum(result.amount_totals.values(), ZERO)
    result.deal_count = sum(result.deal_counts.values())
    return result

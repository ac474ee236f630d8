"""The forecast: weighted open pipeline by expected close month and owner (selector and page)."""

from datetime import date
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from sales import services
from sales.forecast import forecast
from sales.models import Deal
from tests.sales.helpers import new_deal, stage

FORECAST_PAGE_QUERIES = 8  # session, user, org; the filters' choices (3); the open and the won aggregates

MARCH, APRIL = date(2026, 3, 1), date(2026, 4, 1)


@pytest.fixture
def book(world, pipeline):
    """A hand-computed set (Lead 10 %, Proposal 40 %, Negotiation 70 %)."""
    new_deal(world, pipeline, amount="1000.00", expected_close=date(2026, 3, 5))                       # 100.00
    new_deal(world, pipeline, amount="500.00", expected_close=date(2026, 3, 28),
             stage=stage(pipeline, "Proposal"))                                                        # 200.00
    new_deal(world, pipeline, amount="333.33", expected_close=date(2026, 3, 10), probability=25)      # 83.3325
    new_deal(world, pipeline, amount="200.00", expected_close=date(2026, 4, 2), by=world.rep_b,
             stage=stage(pipeline, "Negotiation"))                                                     # 140.00
    new_deal(world, pipeline, amount="80.00", by=world.rep_b)                                          # 8.00, no date
    new_deal(world, pipeline, amount="9999.00", expected_close=date(2026, 3, 1),
             stage=stage(pipeline, "Won"))                                                             # closed: out
    new_deal(world, pipeline, amount="700.00", expected_close=date(2026, 3, 1), by=world.rep_c)       # other team


def test_forecast_weighs_each_deal_by_its_or_its_stages_probability(world, book):
    result = forecast(user=world.rep_a)
    a, b = world.rep_a.pk, world.rep_b.pk
    assert result.cells == {(MARCH, a): Decimal("383.33"), (APRIL, b): Decimal("140.00"), (None, b): Decimal("8.00")}
    assert result.month_totals == {MARCH: Decimal("383.33"), APRIL: Decimal("140.00"), None: Decimal("8.00")}
    assert result.owner_totals == {a: Decimal("383.33"), b: Decimal("148.00")}
    assert result.total == Decimal("531.33")
    assert result.amount_totals[MARCH] == Decimal("1833.33")
    assert result.deal_count == 5


def this_month() -> date:
    return timezone.localdate().replace(day=1)


def test_forecast_lists_months_in_order_with_no_close_date_last(world, book):
    assert forecast(user=world.rep_a).months == [MARCH, APRIL, this_month(), None]


def test_a_won_deal_shows_as_won_in_the_month_it_was_won(world, book, pipeline):
    result = forecast(user=world.rep_a)
    assert result.won == {this_month(): Decimal("9999.00")}
    assert result.expected_total == Decimal("9999.00") + Decimal("531.33")
    deal = new_deal(world, pipeline, amount="250.00", expected_close=date(2026, 3, 20))
    services.move_deal(deal=deal, stage=stage(pipeline, "Won"), by=world.rep_a)
    assert forecast(user=world.rep_a).won[this_month()] == Decimal("10249.00")


def test_forecast_counts_only_what_the_user_sees(world, book):
    result = forecast(user=world.rep_c)
    assert result.cells == {(MARCH, world.rep_c.pk): Decimal("70.00")}
    assert forecast(user=world.admin).total == Decimal("601.33")


def test_forecast_filters_by_owner_team_and_pipeline(world, book, pipeline):
    assert forecast(user=world.admin, owner_id=world.rep_b.pk).total == Decimal("148.00")
    assert forecast(user=world.admin, team_id=world.team2.pk).total == Decimal("70.00")
    other = services.create_pipeline(by=world.admin, name="Services", stages=[("Call", 50)])
    new_deal(world, other, amount="10.00")
    assert forecast(user=world.rep_a, pipeline_id=other.pk).total == Decimal("5.00")
    assert forecast(user=world.rep_a, pipeline_id=pipeline.pk).total == Decimal("531.33")


def test_forecast_reads_the_deals_in_one_grouped_query(world, book):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as ctx:
        forecast(user=world.manager1)  # the others: the visibility layer's lookups (managed teams, sharing)
    deal_queries = [q["sql"] for q in ctx.captured_queries if "sales_deal" in q["sql"]]
    assert len(deal_queries) == 2  # the open deals and this quarter's won deals
    assert all("GROUP BY" in sql for sql in deal_queries)


def test_forecast_page_shows_the_table(world, client_for, book):
    response = client_for(world.rep_a).get(reverse("sales:forecast"))
    assert response.status_code == 200
    body = response.content.decode()
    assert "No close date" in body
    assert response.context["forecast"].total == Decimal("531.33")


def test_forecast_page_rejects_an_unknown_filter_value(world, client_for, book):
    response = client_for(world.rep_a).get(reverse("sales:forecast"), {"owner": "999999"})
    assert response.status_code == 400
    assert "owner" in response.context["form"].errors


@pytest.mark.parametrize(("name", "status"), [
    ("rep_a", 200), ("rep_c", 200), ("manager1", 200), ("admin", 200), ("agent1", 403),
])
def test_forecast_page_is_for_sellers(world, client_for, pipeline, name, status):
    assert client_for(getattr(world, name)).get(reverse("sales:forecast")).status_code == status


def test_forecast_page_query_count_is_constant(world, client_for, pipeline, django_assert_num_queries):
    client = client_for(world.rep_a)
    url = reverse("sales:forecast")
    client.get(url)
    counts = []
    for size in (3, 8):
        Deal.objects.all().delete()
        for i in range(size):
            owner = world.rep_b if i % 2 else world.rep_a
            new_deal(world, pipeline, amount=Decimal(i), expected_close=date(2026, 1 + i, 1), by=owner)
        with django_assert_num_queries(FORECAST_PAGE_QUERIES) as ctx:
            assert client.get(url).status_code == 200
        counts.append(len(ctx.captured_queries))
    assert counts[0] == counts[1]

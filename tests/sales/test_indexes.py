"""EXPLAIN guard for the sales lists: every order a user can pick is served by an index under the
visibility filter (no Seq Scan, no Sort of the whole team), as for the contacts lists."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.utils import timezone

from sales import services
from sales.campaign_forms import CAMPAIGN_SORTS
from sales.filters import DEAL_SORTS
from sales.models import Campaign, Deal, Invoice, Order, Task
from sales.order_api import INVOICE_SORTS, ORDER_SORTS
from sales.task_api import TASK_SORTS
from tests.contacts.test_indexes import _assert_index_plan

N = 6000


@pytest.fixture
def many(world):
    pipeline = services.create_pipeline(by=world.admin, name="Bulk", stages=[("Lead", 10)])
    stage = pipeline.stages.get(name="Lead")
    owners = (world.rep_a, world.rep_c, world.rep_b)
    now, today = timezone.now(), date(2026, 1, 1)
    Deal.objects.bulk_create([
        Deal(owner=owners[i % 3], team_id=owners[i % 3].team_id, title=f"d{i}", pipeline=pipeline, stage=stage,
             amount=Decimal(i), currency="BDT", expected_close=today + timedelta(days=i % 300)) for i in range(N)],
        batch_size=3000)
    Order.objects.bulk_create([
        Order(owner=owners[i % 3], team_id=owners[i % 3].team_id, currency="BDT", total=Decimal(i),
              ordered_at=now - timedelta(minutes=i)) for i in range(N)], batch_size=3000)
    Invoice.objects.bulk_create([
        Invoice(owner=owners[i % 3], team_id=owners[i % 3].team_id, year=2026, sequence=i + 1, number=f"INV-2026-{i:05d}",
                currency="BDT", issued_on=today + timedelta(days=i % 300), due_on=today + timedelta(days=i % 300 + 14),
                total=Decimal(i)) for i in range(N)], batch_size=3000)
    Task.objects.bulk_create([
        Task(owner=owners[i % 3], team_id=owners[i % 3].team_id, title=f"t{i}", due_at=now + timedelta(minutes=i),
             priority=1 + i % 4) for i in range(N)], batch_size=3000)
    Campaign.objects.bulk_create([
        Campaign(owner=owners[i % 3], team_id=owners[i % 3].team_id, name=f"c{i:05d}", channel="email", currency="BDT",
                 starts_on=today + timedelta(days=i % 300)) for i in range(N)], batch_size=3000)
    with connection.cursor() as cursor:
        for table in ("sales_deal", "sales_order", "sales_invoice", "sales_task", "sales_campaign"):
            cursor.execute(f"ANALYZE {table}")
    return world


LISTS = [
    (Deal, "sales_deal", DEAL_SORTS),
    (Order, "sales_order", ORDER_SORTS),
    (Invoice, "sales_invoice", INVOICE_SORTS),
    (Task, "sales_task", TASK_SORTS),
    (Campaign, "sales_campaign", CAMPAIGN_SORTS),
]


@pytest.mark.parametrize(("model", "table", "sorts"), LISTS, ids=[t for _m, t, _s in LISTS])
def test_every_sales_list_order_is_an_index_scan_for_every_role(many, model, table, sorts):
    for who in ("rep_a", "manager1", "admin"):
        user = getattr(many, who)
        for sort, order in sorts.items():
            qs = model.objects.visible_to(user).select_related("owner", "team").order_by(*order)[:50]
            _assert_index_plan(qs, table, f"{who} {table} {sort}")

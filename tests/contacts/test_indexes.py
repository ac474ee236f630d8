"""EXPLAIN guard: every list order a user can pick is served by an index under the visibility filter.

ARCHITECTURE.md: an `owner OR team` filter or a sort over the whole team falls apart at a million
rows; the list query must be an index scan that stops after the page (no Seq Scan, no Sort).
"""

import pytest
from django.db import connection

from contacts.filters import COMPANY_SORTS, CONTACT_SORTS
from contacts.models import Company, Contact


@pytest.fixture
def many(world):
    now_rows = []
    for i in range(6000):
        owner = (world.rep_a, world.rep_c, world.rep_b)[i % 3]
        now_rows.append(Contact(owner=owner, team_id=owner.team_id, first_name=f"n{i:05d}", last_name="x",
                                lifecycle_stage=("lead", "customer", "mql")[i % 3]))
    Contact.objects.bulk_create(now_rows, batch_size=3000)
    Company.objects.bulk_create(
        [Company(owner=(world.rep_a, world.rep_c)[i % 2], team_id=(world.team1, world.team2)[i % 2].pk, name=f"c{i:05d}")
         for i in range(3000)], batch_size=3000)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE contacts_contact")
        cursor.execute("ANALYZE contacts_company")
    return world


def _assert_index_plan(qs, table, case):
    plan = qs.explain()
    assert f"Seq Scan on {table}" not in plan, (case, plan)
    assert "Sort" not in plan.replace("Sort Key", ""), (case, plan)  # the index gives the order: no sort of the set
    assert "Index" in plan, (case, plan)


def test_every_list_order_is_an_index_scan_for_every_role(many):
    """One data set, every (role, order) pair: contacts, contacts by stage, companies."""
    for who in ("rep_a", "manager1", "admin"):
        user = getattr(many, who)
        for sort, order in CONTACT_SORTS.items():
            qs = Contact.objects.visible_to(user).select_related("owner", "team", "company").order_by(*order)[:50]
            _assert_index_plan(qs, "contacts_contact", f"{who} contacts {sort}")
        qs = Contact.objects.visible_to(user).filter(lifecycle_stage="customer").order_by(*CONTACT_SORTS["-created"])
        _assert_index_plan(qs[:50], "contacts_contact", f"{who} contacts by stage")
        for sort, order in COMPANY_SORTS.items():
            qs = Company.objects.visible_to(user).select_related("owner", "team").order_by(*order)[:50]
            _assert_index_plan(qs, "contacts_company", f"{who} companies {sort}")

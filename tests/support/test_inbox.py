"""The agent inbox: views, filters, sorts, the SLA countdown, bulk actions, constant queries, index-backed order."""

from datetime import timedelta

import pytest
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from support import selectors, services
from support.models import SlaState, Ticket, TicketStatus
from tests.factories import make_contact, make_ticket

INBOX = reverse("support:index")


def subjects_in_order(html: str, subjects) -> list[str]:
    found = [(html.find(s), s) for s in subjects if s in html]
    return [s for _pos, s in sorted(found)]


@pytest.fixture
def tickets(desk):
    """agent1's urgent one, an unassigned normal one, agent1b's low one, and one in the other team's queue."""
    mine = make_ticket(desk.queue1, contact=desk.customer, subject="Mine urgent", priority="urgent",
                       assignee=desk.agent1)
    free = make_ticket(desk.queue1, contact=desk.customer, subject="Free normal")
    theirs = make_ticket(desk.queue1, contact=desk.customer, subject="Teammate low", priority="low",
                         assignee=desk.agent1b)
    billing = make_ticket(desk.queue2, contact=desk.customer, subject="Billing desk")
    return {"mine": mine, "free": free, "theirs": theirs, "billing": billing}


def test_my_tickets_is_the_agents_default_view(client_for, desk, tickets):
    html = client_for(desk.agent1).get(INBOX).content.decode()
    assert "Mine urgent" in html and "Free normal" not in html and "Teammate low" not in html


def test_my_queues_lists_the_teams_open_tickets_only(client_for, desk, tickets):
    services.change_status(ticket=tickets["theirs"], by=desk.agent1b, status=TicketStatus.SOLVED)
    html = client_for(desk.agent1).get(INBOX + "?view=queues").content.decode()
    assert "Mine urgent" in html and "Free normal" in html
    assert "Teammate low" not in html and "Billing desk" not in html


def test_unassigned_lists_only_tickets_nobody_has(client_for, desk, tickets):
    html = client_for(desk.agent1).get(INBOX + "?view=unassigned").content.decode()
    assert subjects_in_order(html, ["Mine urgent", "Free normal", "Teammate low"]) == ["Free normal"]


def test_at_risk_and_breached_views(client_for, desk, tickets):
    Ticket.objects.filter(pk=tickets["free"].pk).update(sla_state=SlaState.AT_RISK)
    Ticket.objects.filter(pk=tickets["theirs"].pk).update(sla_state=SlaState.BREACHED)
    client = client_for(desk.agent1)
    at_risk = client.get(INBOX + "?view=at_risk").content.decode()
    breached = client.get(INBOX + "?view=breached").content.decode()
    assert "Free normal" in at_risk and "Teammate low" not in at_risk
    assert "Teammate low" in breached and "Free normal" not in breached


def test_a_status_filter_reaches_beyond_open_tickets(client_for, desk, tickets):
    services.change_status(ticket=tickets["mine"], by=desk.agent1, status=TicketStatus.SOLVED)
    client = client_for(desk.agent1)
    assert "Mine urgent" not in client.get(INBOX + "?view=mine").content.decode()
    assert "Mine urgent" in client.get(INBOX + "?view=mine&status=solved").content.decode()


def test_the_default_order_is_sla_due_with_no_sla_last(client_for, desk, tickets):
    Ticket.objects.filter(pk=tickets["mine"].pk).update(sla_due_at=None)
    now = timezone.now()
    Ticket.objects.filter(pk=tickets["free"].pk).update(sla_due_at=now + timedelta(hours=5))
    Ticket.objects.filter(pk=tickets["theirs"].pk).update(sla_due_at=now + timedelta(hours=1))
    html = client_for(desk.agent1).get(INBOX + "?view=queues").content.decode()
    assert subjects_in_order(html, ["Mine urgent", "Free normal", "Teammate low"]) == [
        "Teammate low", "Free normal", "Mine urgent"]


def test_sorting_by_priority_and_newest(client_for, desk, tickets):
    client = client_for(desk.agent1)
    by_priority = client.get(INBOX + "?view=queues&sort=priority").content.decode()
    assert subjects_in_order(by_priority, ["Mine urgent", "Free normal", "Teammate low"]) == [
        "Mine urgent", "Free normal", "Teammate low"]
    newest = client.get(INBOX + "?view=queues&sort=-created_at").content.decode()
    assert subjects_in_order(newest, ["Mine urgent", "Free normal", "Teammate low"]) == [
        "Teammate low", "Free normal", "Mine urgent"]


def test_filters_by_number_subject_priority_and_assignee(client_for, desk, tickets):
    client = client_for(desk.agent1)
    by_number = client.get(INBOX, {"view": "queues", "q": f"#{tickets['free'].number}"}).content.decode()
    assert "Free normal" in by_number and "Mine urgent" not in by_number
    by_subject = client.get(INBOX, {"view": "queues", "q": "teammate"}).content.decode()
    assert "Teammate low" in by_subject and "Mine urgent" not in by_subject
    by_priority = client.get(INBOX, {"view": "queues", "priority": "urgent"}).content.decode()
    assert "Mine urgent" in by_priority and "Teammate low" not in by_priority
    nobody = client.get(INBOX, {"view": "queues", "assignee": "none"}).content.decode()
    assert "Free normal" in nobody and "Mine urgent" not in nobody


def test_a_bad_filter_is_a_400_with_the_error_beside_it(client_for, desk, tickets):
    response = client_for(desk.agent1).get(INBOX, {"priority": "whenever"})
    assert response.status_code == 400 and "field-error" in response.content.decode()


def test_htmx_filtering_answers_the_results_only(client_for, desk, tickets):
    response = client_for(desk.agent1).get(INBOX + "?view=queues", HTTP_HX_REQUEST="true",
                                           HTTP_HX_TARGET="inbox-results")
    html = response.content.decode()
    assert html.startswith('<div id="inbox-results"') and "<html" not in html


def test_each_row_shows_the_sla_countdown(client_for, desk, tickets):
    now = timezone.now()
    Ticket.objects.filter(pk=tickets["mine"].pk).update(sla_due_at=now + timedelta(hours=1, minutes=20, seconds=30))
    Ticket.objects.filter(pk=tickets["free"].pk).update(sla_due_at=now - timedelta(hours=2, minutes=5))
    services.change_status(ticket=tickets["theirs"], by=desk.agent1b, status=TicketStatus.PENDING_CUSTOMER)
    html = client_for(desk.agent1).get(INBOX + "?view=queues&status=").content.decode()
    assert "due in 1h 20m" in html and "overdue by 2h 5m" in html
    assert 'data-due="' in html
    html = client_for(desk.agent1).get(INBOX + "?view=queues&status=pending_customer").content.decode()
    assert "Paused" in html and "Teammate low" in html


def test_a_rep_sees_their_customers_tickets_without_bulk_controls(client_for, desk, tickets):
    html = client_for(desk.world.rep_a).get(INBOX).content.decode()
    assert "Billing desk" in html and "Mine urgent" in html
    assert 'id="bulk-form"' not in html


def _make_many(desk, n):
    contact = make_contact(desk.world.rep_a, first_name="Many", emails=[f"many{n}@example.com"])
    for i in range(n):
        make_ticket(desk.queue1, contact=contact, subject=f"Bulk {n} {i}", assignee=desk.agent1 if i % 2 else None)


#: session, user, org settings; the capped count, the page; queue, assignee (filter) and agent (bulk) choices
INBOX_QUERIES = 8


@pytest.mark.parametrize("view", ["mine", "queues", "all"])
def test_the_inbox_runs_the_same_queries_for_5_and_30_tickets(client_for, desk, django_assert_num_queries, view):
    client = client_for(desk.agent1)
    client.get(INBOX)  # the session and the user are loaded the same way every time after this
    _make_many(desk, 5)
    with django_assert_num_queries(INBOX_QUERIES):
        assert client.get(INBOX, {"view": view}).status_code == 200
    _make_many(desk, 25)
    with django_assert_num_queries(INBOX_QUERIES):
        assert client.get(INBOX, {"view": view}).status_code == 200


def test_bulk_assign_changes_only_what_the_user_may_change(client_for, desk, tickets):
    ids = [tickets["free"].pk, tickets["theirs"].pk, tickets["billing"].pk]
    response = client_for(desk.agent1).post(reverse("support:bulk"), {
        "ids": ids, "action": "assign", "assignee": desk.agent1.pk, "next": INBOX + "?view=queues"})
    assert response.status_code == 302 and response["Location"] == INBOX + "?view=queues"
    assignees = dict(Ticket.objects.filter(pk__in=ids).values_list("pk", "assignee_id"))
    assert assignees[tickets["free"].pk] == desk.agent1.pk and assignees[tickets["theirs"].pk] == desk.agent1.pk
    assert assignees[tickets["billing"].pk] is None


def test_bulk_close_counts_the_skipped(client_for, desk, tickets):
    client = client_for(desk.agent1)
    response = client.post(reverse("support:bulk"), {"ids": [tickets["mine"].pk, tickets["billing"].pk],
                                                     "action": "close"}, follow=True)
    assert "1 ticket closed, 1 skipped" in response.content.decode()
    assert Ticket.objects.get(pk=tickets["mine"].pk).status == TicketStatus.CLOSED
    assert Ticket.objects.get(pk=tickets["billing"].pk).status == TicketStatus.NEW


def test_bulk_assign_needs_an_agent(client_for, desk, tickets):
    response = client_for(desk.agent1).post(reverse("support:bulk"), {"ids": [tickets["free"].pk], "action": "assign"})
    assert response.status_code == 400 and "Choose the agent." in response.content.decode()
    assert Ticket.objects.get(pk=tickets["free"].pk).assignee is None


def test_a_rep_changes_nothing_in_bulk(client_for, desk, tickets):
    client_for(desk.world.rep_a).post(reverse("support:bulk"), {"ids": [tickets["free"].pk], "action": "close"})
    assert Ticket.objects.get(pk=tickets["free"].pk).status == TicketStatus.NEW


# --- The order comes from the indexes ------------------------------------------------------------------

N = 6000


@pytest.fixture
def many(desk):
    contact = make_contact(desk.world.rep_a, first_name="Load", emails=["load@example.com"])
    now = timezone.now()
    with connection.cursor() as cursor:
        cursor.execute("SELECT setval('support_ticket_number_seq', 100000)")
    Ticket.objects.bulk_create([
        Ticket(number=200000 + i, subject=f"t{i}", contact=contact, queue=desk.queue1 if i % 4 else desk.queue2,
               team_id=desk.queue1.team_id if i % 4 else desk.queue2.team_id,
               assignee={1: desk.agent1, 2: desk.support_manager}.get(i % 4), status="open" if i % 5 else "solved",
               public_token=f"tok{i}", sla_due_at=now + timedelta(minutes=i), sla_state="ok",
               created_at=now - timedelta(minutes=i), last_activity_at=now)
        for i in range(N)], batch_size=3000)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE support_ticket")
    return desk


def _assert_index_plan(qs, case):
    plan = qs.explain()
    assert "Seq Scan on support_ticket" not in plan, (case, plan)
    assert "Sort" not in plan.replace("Sort Key", ""), (case, plan)
    assert "Index" in plan, (case, plan)


def test_inbox_orders_are_index_scans(many):
    for who in ("agent1", "support_manager"):
        user = getattr(many, who)
        for view in ("mine", "queues"):
            for sort in ("sla_due_at", "-created_at"):
                qs = selectors.inbox_for(user=user, view=view, sort=sort)[:50]
                _assert_index_plan(qs, f"{who} {view} {sort}")
    for view in ("queues", "all"):
        _assert_index_plan(selectors.inbox_for(user=many.world.admin, view=view)[:50], f"admin {view}")


@pytest.fixture
def lazy_loads_raise(monkeypatch):
    """Inbox rows that raise on any lazy load (an N+1 in waiting), through the paginator the inbox uses."""
    from django.db.models import FETCH_RAISE

    from crm.listing import CappedPaginator
    from support import views

    class RaisingPaginator(CappedPaginator):
        def __init__(self, object_list, *args, **kwargs):
            super().__init__(object_list.fetch_mode(FETCH_RAISE), *args, **kwargs)

    monkeypatch.setattr(views, "CappedPaginator", RaisingPaginator)


@pytest.mark.parametrize("sort", list(selectors.INBOX_SORTS))
def test_inbox_rows_need_no_lazy_load(client_for, desk, tickets, lazy_loads_raise, sort):
    response = client_for(desk.agent1).get(INBOX, {"view": "queues", "sort": sort})
    assert response.status_code == 200 and response.content.decode().count('class="ticket-row"') == 3

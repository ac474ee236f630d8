"""Automatic assignment: round-robin and fewest open tickets among the team's active agents, manual queues left
alone, the beat reconciler, two workers at once on one queue, and a real worker assigning a new ticket."""

import threading
from datetime import timedelta

import pytest
from django.db import connections, transaction
from django.utils import timezone

from crm.models import Notification, Role
from support import services
from support.assignment import assign_waiting, auto_assign
from support.models import AssignmentMode, Queue, Ticket, TicketStatus
from tests.background import wait_for
from tests.factories import UserFactory, make_queue, make_ticket


def set_mode(queue: Queue, mode: str) -> Queue:
    Queue.objects.filter(pk=queue.pk).update(assignment_mode=mode)
    queue.refresh_from_db()
    return queue


def tickets(desk, count: int, queue=None, **fields) -> list[Ticket]:
    return [make_ticket(queue or desk.queue1, contact=desk.customer, **fields) for _ in range(count)]


def assignees(ticket_list) -> list[int]:
    return [auto_assign(ticket_id=t.pk).pk for t in ticket_list]


def test_round_robin_rotates_among_the_team_agents(desk):
    set_mode(desk.queue1, AssignmentMode.ROUND_ROBIN)
    assert assignees(tickets(desk, 3)) == [desk.agent1.pk, desk.agent1b.pk, desk.agent1.pk]
    desk.queue1.refresh_from_db()
    assert desk.queue1.last_assigned_id == desk.agent1.pk


def test_round_robin_skips_inactive_agents_managers_and_other_teams(desk):
    set_mode(desk.queue1, AssignmentMode.ROUND_ROBIN)
    UserFactory(role=Role.SUPPORT_AGENT, team=desk.world.support1, email="gone@example.com", is_active=False)
    UserFactory(role=Role.SUPPORT_AGENT, team=desk.support2, email="other@example.com")
    picked = assignees(tickets(desk, 4))
    assert picked == [desk.agent1.pk, desk.agent1b.pk, desk.agent1.pk, desk.agent1b.pk]
    assert desk.support_manager.pk not in picked


def test_round_robin_goes_on_after_an_agent_who_left_the_team(desk):
    queue = set_mode(desk.queue1, AssignmentMode.ROUND_ROBIN)
    queue.last_assigned = desk.agent1
    queue.save()
    desk.agent1.team = desk.support2
    desk.agent1.save()
    assert assignees(tickets(desk, 2)) == [desk.agent1b.pk, desk.agent1b.pk]


def test_least_open_picks_the_agent_with_fewest_open_tickets(desk):
    set_mode(desk.queue1, AssignmentMode.LEAST_OPEN)
    for ticket in tickets(desk, 2):
        services.assign_ticket(ticket=ticket, by=None, assignee=desk.agent1)
    busy_before = tickets(desk, 3)
    services.assign_ticket(ticket=busy_before[0], by=None, assignee=desk.agent1b)
    for ticket in busy_before[1:]:  # solved and closed tickets are not work any more
        services.assign_ticket(ticket=ticket, by=None, assignee=desk.agent1b)
        services.change_status(ticket=ticket, by=None, status=TicketStatus.SOLVED)
    new = make_ticket(desk.queue1, contact=desk.customer)
    assert auto_assign(ticket_id=new.pk) == desk.agent1b  # 1 open against agent1's 2


def test_least_open_breaks_ties_by_id(desk):
    set_mode(desk.queue1, AssignmentMode.LEAST_OPEN)
    assert assignees(tickets(desk, 3)) == [desk.agent1.pk, desk.agent1b.pk, desk.agent1.pk]


def test_a_manual_queue_leaves_the_ticket_unassigned(desk):
    ticket = make_ticket(desk.queue1, contact=desk.customer)
    assert auto_assign(ticket_id=ticket.pk) is None
    ticket.refresh_from_db()
    assert ticket.assignee_id is None and ticket.status == TicketStatus.NEW


def test_an_assigned_ticket_is_left_alone(desk):
    set_mode(desk.queue1, AssignmentMode.ROUND_ROBIN)
    ticket = make_ticket(desk.queue1, contact=desk.customer)
    services.assign_ticket(ticket=ticket, by=desk.agent1b, assignee=desk.agent1b)
    assert auto_assign(ticket_id=ticket.pk) is None
    assert Ticket.objects.get(pk=ticket.pk).assignee_id == desk.agent1b.pk


def test_a_solved_ticket_is_left_alone(desk):
    set_mode(desk.queue1, AssignmentMode.ROUND_ROBIN)
    ticket = make_ticket(desk.queue1, contact=desk.customer)
    services.change_status(ticket=ticket, by=None, status=TicketStatus.SOLVED)
    assert auto_assign(ticket_id=ticket.pk) is None


def test_a_team_without_active_agents_leaves_the_ticket_waiting(desk):
    queue = make_queue(desk.world.support1, name="Nobody", assignment_mode=AssignmentMode.ROUND_ROBIN)
    desk.agent1.is_active = desk.agent1b.is_active = False
    desk.agent1.save()
    desk.agent1b.save()
    ticket = make_ticket(queue, contact=desk.customer)
    assert auto_assign(ticket_id=ticket.pk) is None


def test_automatic_assignment_opens_the_ticket_and_tells_the_agent(desk):
    set_mode(desk.queue1, AssignmentMode.ROUND_ROBIN)
    ticket = make_ticket(desk.queue1, contact=desk.customer)
    auto_assign(ticket_id=ticket.pk)
    ticket.refresh_from_db()
    assert ticket.status == TicketStatus.OPEN
    assert Notification.objects.filter(recipient=desk.agent1, kind=services.NOTIFY_ASSIGNED).count() == 1


def test_the_reconciler_assigns_tickets_waiting_over_a_minute_in_automatic_queues(desk):
    now = timezone.now()
    set_mode(desk.queue1, AssignmentMode.ROUND_ROBIN)
    old, recent = (make_ticket(desk.queue1, contact=desk.customer, now=now - timedelta(minutes=m)) for m in (5, 0))
    manual = make_ticket(desk.queue2, contact=desk.customer, now=now - timedelta(minutes=5))
    assert assign_waiting(now=now) == 1
    assert Ticket.objects.get(pk=old.pk).assignee_id == desk.agent1.pk
    assert Ticket.objects.get(pk=recent.pk).assignee_id is None
    assert Ticket.objects.get(pk=manual.pk).assignee_id is None
    assert assign_waiting(now=now) == 0


# --- Concurrency and a real worker ------------------------------------------------------------------


def lock_waiters() -> int:
    with connections["default"].cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                       "AND wait_event_type = 'Lock' AND pid <> pg_backend_pid()")
        return cursor.fetchone()[0]


@pytest.mark.django_db(transaction=True)
def test_two_workers_assigning_in_one_queue_at_once_pick_different_agents(desk):
    # Created in a manual queue (nothing enqueued on commit), then the queue turns round-robin.
    first_ticket, second_ticket = tickets(desk, 2)
    set_mode(desk.queue1, AssignmentMode.ROUND_ROBIN)
    holding, release = threading.Event(), threading.Event()
    picked, errors = {}, []

    def first():
        try:
            with transaction.atomic():
                picked["first"] = auto_assign(ticket_id=first_ticket.pk).pk
                holding.set()
                release.wait(10)
        except Exception as exc:  # reported to the test's thread
            errors.append(exc)
        finally:
            connections.close_all()

    def second():
        try:
            holding.wait(10)
            picked["second"] = auto_assign(ticket_id=second_ticket.pk).pk
        except Exception as exc:
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for thread in threads:
        thread.start()
    # The first keeps its transaction open until the second is queued behind the queue's row lock.
    assert holding.wait(10)
    assert wait_for(lambda: lock_waiters() > 0, timeout=10)
    release.set()
    for thread in threads:
        thread.join(30)
    assert not errors
    assert picked == {"first": desk.agent1.pk, "second": desk.agent1b.pk}


def test_a_real_worker_assigns_a_new_ticket_of_a_round_robin_queue(worker, desk):
    set_mode(desk.queue1, AssignmentMode.ROUND_ROBIN)
    ticket = make_ticket(desk.queue1, contact=desk.customer)
    assert wait_for(lambda: Ticket.objects.get(pk=ticket.pk).assignee_id is not None, 60)
    ticket.refresh_from_db()
    assert ticket.assignee_id == desk.agent1.pk
    assert ticket.status == TicketStatus.OPEN

"""The SLA watcher (at risk at 80 %, breached at 100 %, once per event, business hours and pauses respected, the
assignee and the team's managers told) and the auto-close of solved tickets."""

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.db import connection
from django.db.models import Q

from contacts.models import Interaction
from crm.models import Notification
from support import services, watcher
from support.models import OPEN_STATUSES, SlaEvent, SlaState, SupportSettings, Ticket, TicketStatus
from tests.factories import make_ticket

DHAKA_TZ = ZoneInfo("Asia/Dhaka")
SLA_KINDS = Q(kind__in=[watcher.NOTIFY_AT_RISK, watcher.NOTIFY_BREACHED])


def dhaka(day: str, hour: int, minute: int = 0, second: int = 0) -> datetime:
    return datetime.combine(date.fromisoformat(day), time(hour, minute, second), DHAKA_TZ)


def high_ticket(desk, *, opened=None, assignee=True) -> Ticket:
    """A high-priority ticket (first response within 1 h, resolution within 8 h) opened on Sunday 10:00."""
    ticket = make_ticket(desk.queue1, contact=desk.customer, priority="high", now=opened or dhaka("2026-11-29", 10))
    if assignee:
        ticket = services.assign_ticket(ticket=ticket, by=None, assignee=desk.agent1, now=ticket.created_at)
    return ticket


def events(ticket) -> set[tuple[str, str]]:
    return set(SlaEvent.objects.filter(ticket=ticket).values_list("clock", "kind"))


def test_nothing_fires_before_eighty_percent(desk):
    ticket = high_ticket(desk)
    assert watcher.watch(now=dhaka("2026-11-29", 10, 47, 59))["at_risk"] == 0
    assert events(ticket) == set()


def test_a_ticket_is_at_risk_at_exactly_eighty_percent(desk):
    ticket = high_ticket(desk)
    result = watcher.watch(now=dhaka("2026-11-29", 10, 48))
    assert result["at_risk"] == 1 and result["breached"] == 0
    event = SlaEvent.objects.get(ticket=ticket)
    assert (event.clock, event.kind) == ("first_response", "at_risk")
    assert event.occurred_at == dhaka("2026-11-29", 10, 48)
    assert event.due_at == dhaka("2026-11-29", 11)
    assert Ticket.objects.get(pk=ticket.pk).sla_state == SlaState.AT_RISK


def test_a_ticket_is_breached_at_its_due_time(desk):
    ticket = high_ticket(desk)
    watcher.watch(now=dhaka("2026-11-29", 10, 48))
    result = watcher.watch(now=dhaka("2026-11-29", 11))
    assert result["breached"] == 1
    assert events(ticket) == {("first_response", "at_risk"), ("first_response", "breached")}
    breach = SlaEvent.objects.get(ticket=ticket, kind="breached")
    assert (breach.team_id, breach.assignee_id, breach.priority) == (desk.world.support1.pk, desk.agent1.pk, "high")
    assert Ticket.objects.get(pk=ticket.pk).sla_state == SlaState.BREACHED


def test_running_twice_records_and_notifies_once(desk):
    ticket = high_ticket(desk)
    first = watcher.watch(now=dhaka("2026-11-29", 10, 50))
    second = watcher.watch(now=dhaka("2026-11-29", 10, 55))
    assert first["notifications"] == 2 and second["notifications"] == 0
    assert SlaEvent.objects.filter(ticket=ticket).count() == 1
    per_recipient = Notification.objects.filter(SLA_KINDS).values_list("recipient_id", flat=True)
    assert sorted(per_recipient) == sorted([desk.agent1.pk, desk.support_manager.pk])


def test_the_assignee_and_the_team_managers_are_told_and_breaches_are_emailed(desk):
    ticket = high_ticket(desk)
    watcher.watch(now=dhaka("2026-11-29", 10, 48))
    watcher.watch(now=dhaka("2026-11-29", 11))
    told = Notification.objects.filter(SLA_KINDS)
    assert set(told.values_list("recipient_id", "kind", "email_wanted")) == {
        (desk.agent1.pk, watcher.NOTIFY_AT_RISK, False), (desk.support_manager.pk, watcher.NOTIFY_AT_RISK, False),
        (desk.agent1.pk, watcher.NOTIFY_BREACHED, True), (desk.support_manager.pk, watcher.NOTIFY_BREACHED, True),
    }
    breach = told.get(recipient=desk.agent1, kind=watcher.NOTIFY_BREACHED)
    assert f"#{ticket.number}" in breach.title and "first-response" in breach.title
    assert breach.url == services.ticket_url(ticket)
    assert not Notification.objects.filter(SLA_KINDS, recipient__in=[desk.agent1b, desk.agent2]).exists()


def test_an_unassigned_ticket_alarms_the_managers(desk):
    high_ticket(desk, assignee=False)
    watcher.watch(now=dhaka("2026-11-29", 10, 48))
    assert list(Notification.objects.filter(SLA_KINDS).values_list("recipient_id", flat=True)) == [
        desk.support_manager.pk]


def test_crossing_both_thresholds_in_one_run_alarms_for_the_breach_only(desk):
    ticket = high_ticket(desk)
    result = watcher.watch(now=dhaka("2026-11-29", 12))
    assert events(ticket) == {("first_response", "at_risk"), ("first_response", "breached")}
    assert result["notifications"] == 2
    assert set(Notification.objects.filter(SLA_KINDS).values_list("kind", flat=True)) == {watcher.NOTIFY_BREACHED}


def test_a_paused_ticket_does_not_fire(desk):
    ticket = high_ticket(desk)
    services.change_status(ticket=ticket, by=desk.agent1, status=TicketStatus.ON_HOLD, now=dhaka("2026-11-29", 10, 30))
    assert watcher.watch(now=dhaka("2026-11-30", 17)) == {
        "at_risk": 0, "breached": 0, "notifications": 0, "marked_breached": 0, "marked_at_risk": 0}
    assert Ticket.objects.get(pk=ticket.pk).sla_state == SlaState.PAUSED


def test_at_risk_on_thursday_evening_is_not_breached_over_the_weekend(desk):
    # Normal priority (first response within 4 h) opened Thursday 14:18: 80 % at 17:30, due Sunday 09:18.
    ticket = make_ticket(desk.queue1, contact=desk.customer, now=dhaka("2026-11-26", 14, 18))
    assert watcher.watch(now=dhaka("2026-11-26", 17, 30))["at_risk"] == 1
    for moment in (dhaka("2026-11-26", 23, 59), dhaka("2026-11-27", 12), dhaka("2026-11-28", 20),
                   dhaka("2026-11-29", 9, 17)):
        assert watcher.watch(now=moment)["breached"] == 0
    assert Ticket.objects.get(pk=ticket.pk).sla_state == SlaState.AT_RISK
    assert watcher.watch(now=dhaka("2026-11-29", 9, 18))["breached"] == 1


def test_a_first_response_stops_the_first_response_alarms(desk):
    ticket = high_ticket(desk)
    services.add_reply(ticket=ticket, by=desk.agent1, body="Looking into it.", now=dhaka("2026-11-29", 10, 30))
    watcher.watch(now=dhaka("2026-11-29", 12))
    assert events(ticket) == set()


def test_resolution_alarms_fire_only_while_the_clock_runs(desk):
    ticket = high_ticket(desk)
    services.add_reply(ticket=ticket, by=desk.agent1, body="Looking into it.", now=dhaka("2026-11-29", 10, 30))
    # Resolution within 8 h: at risk after 6 h 24 min of business time, i.e. Sunday 16:24.
    watcher.watch(now=dhaka("2026-11-29", 16, 24))
    assert events(ticket) == {("resolution", "at_risk")}
    services.change_status(ticket=ticket, by=desk.agent1, status=TicketStatus.PENDING_CUSTOMER,
                           now=dhaka("2026-11-29", 17))
    watcher.watch(now=dhaka("2026-12-03", 17))
    assert events(ticket) == {("resolution", "at_risk")}
    services.add_customer_message(ticket=ticket, body="Still broken.", now=dhaka("2026-12-06", 9))
    watcher.watch(now=dhaka("2026-12-06", 10))  # 7 h spent before the pause, 1 h since Sunday 09:00
    assert events(ticket) == {("resolution", "at_risk"), ("resolution", "breached")}


def test_a_solved_ticket_does_not_fire(desk):
    ticket = high_ticket(desk)
    services.add_reply(ticket=ticket, by=desk.agent1, body="Fixed.", status=TicketStatus.SOLVED,
                       now=dhaka("2026-11-29", 10, 30))
    watcher.watch(now=dhaka("2026-12-10", 12))
    assert events(ticket) == set()
    assert Ticket.objects.get(pk=ticket.pk).sla_state == SlaState.MET


# --- Auto-close -------------------------------------------------------------------------------------


def solved_ticket(desk, solved_at) -> Ticket:
    ticket = make_ticket(desk.queue1, contact=desk.customer, now=solved_at - timedelta(hours=1))
    return services.change_status(ticket=ticket, by=desk.agent1, status=TicketStatus.SOLVED, now=solved_at)


def test_a_solved_ticket_closes_after_the_configured_days(desk):
    now = dhaka("2026-12-10", 12)
    ticket = solved_ticket(desk, now - timedelta(days=7, minutes=1))
    assert watcher.auto_close(now=now) == 1
    ticket.refresh_from_db()
    assert ticket.status == TicketStatus.CLOSED and ticket.closed_at == now
    assert Interaction.objects.filter(link_type="ticket", link_id=ticket.pk, author__isnull=True,
                                      subject__contains="Closed").exists()


def test_a_recently_solved_ticket_stays_solved(desk):
    now = dhaka("2026-12-10", 12)
    settings = SupportSettings.load()
    settings.auto_close_days = 3
    settings.save()
    ticket = solved_ticket(desk, now - timedelta(days=2, hours=23))
    assert watcher.auto_close(now=now) == 0
    assert Ticket.objects.get(pk=ticket.pk).status == TicketStatus.SOLVED
    assert watcher.auto_close(now=now + timedelta(hours=2)) == 1


def test_a_ticket_the_customer_answered_after_solving_is_not_closed(desk):
    now = dhaka("2026-12-10", 12)
    ticket = solved_ticket(desk, now - timedelta(days=8))
    Ticket.objects.filter(pk=ticket.pk).update(last_customer_message_at=now - timedelta(days=7, hours=12))
    assert watcher.auto_close(now=now) == 0
    assert Ticket.objects.get(pk=ticket.pk).status == TicketStatus.SOLVED


def test_a_customer_reply_reopens_the_ticket_so_it_never_auto_closes(desk):
    now = dhaka("2026-12-10", 12)
    ticket = solved_ticket(desk, now - timedelta(days=9))
    services.add_customer_message(ticket=ticket, body="It broke again.", now=now - timedelta(days=8))
    assert watcher.auto_close(now=now) == 0
    assert Ticket.objects.get(pk=ticket.pk).status == TicketStatus.OPEN


# --- Breaches the watcher did not see, and its plan -------------------------------------------------------


def test_a_late_first_response_between_two_runs_still_records_its_breach(desk):
    ticket = high_ticket(desk)
    services.add_reply(ticket=ticket, by=desk.agent1, body="Sorry for the wait.", now=dhaka("2026-11-29", 11, 0, 30))
    breach = SlaEvent.objects.get(ticket=ticket)
    assert (breach.clock, breach.kind, breach.due_at) == ("first_response", "breached", dhaka("2026-11-29", 11))
    result = watcher.watch(now=dhaka("2026-11-29", 11, 1))
    assert result["breached"] == 0 and result["notifications"] == 0  # the moment to act has passed


def test_solving_past_the_resolution_target_records_its_breach_once(desk):
    ticket = high_ticket(desk)
    services.add_reply(ticket=ticket, by=desk.agent1, body="On it.", now=dhaka("2026-11-29", 10, 30))
    watcher.watch(now=dhaka("2026-11-30", 9, 30))  # resolution due Monday 09:00: the watcher sees it
    services.change_status(ticket=ticket, by=desk.agent1, status=TicketStatus.SOLVED, now=dhaka("2026-11-30", 10))
    assert SlaEvent.objects.filter(ticket=ticket, clock="resolution", kind="breached").count() == 1
    assert Ticket.objects.get(pk=ticket.pk).sla_state == SlaState.BREACHED


def test_the_watcher_reads_only_the_partial_indexes_of_running_clocks(desk):
    high_ticket(desk)
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("EXPLAIN " + watcher._INSERT_EVENTS, {"now": dhaka("2026-11-29", 12)})
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "support_ticket_fr_watch" in plan and "support_ticket_res_watch" in plan
    assert "Seq Scan on support_ticket" not in plan


def test_the_watcher_sql_names_the_open_statuses():
    assert watcher._INSERT_EVENTS.count("IN ('new', 'open', 'pending_customer', 'on_hold')") == 4
    assert OPEN_STATUSES == ("new", "open", "pending_customer", "on_hold")

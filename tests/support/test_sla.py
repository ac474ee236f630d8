"""SLA clocks: business-hours arithmetic (working days, hours, holidays, time zones with and without daylight saving),
a ticket's clock through pauses, re-targeting and its first response, and which policy applies."""

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from support import services, sla
from support.models import Holiday, SlaState, TicketStatus
from tests.factories import make_sla_policy, make_ticket

DHAKA_TZ = ZoneInfo("Asia/Dhaka")
LONDON_TZ = ZoneInfo("Europe/London")
SUN_TO_THU = frozenset({6, 0, 1, 2, 3})
VICTORY_DAY = date(2026, 12, 16)  # a Wednesday
DHAKA = sla.Calendar(tz=DHAKA_TZ, working_days=SUN_TO_THU, starts=time(9), ends=time(18),
                     holidays=frozenset({VICTORY_DAY}))
HOUR = 3600


def dhaka(day: str, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(date.fromisoformat(day), time(hour, minute), DHAKA_TZ)


def london(day: str, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(date.fromisoformat(day), time(hour, minute), LONDON_TZ)


# --- The calendar ---------------------------------------------------------------------------------


def test_adding_within_one_working_day():
    assert DHAKA.add(dhaka("2026-11-29", 10), 2 * HOUR) == dhaka("2026-11-29", 12)


def test_adding_up_to_the_end_of_the_day_ends_at_closing_time():
    assert DHAKA.add(dhaka("2026-11-29", 16), 2 * HOUR) == dhaka("2026-11-29", 18)


def test_adding_across_the_end_of_a_day_continues_next_morning():
    assert DHAKA.add(dhaka("2026-11-30", 17), 2 * HOUR) == dhaka("2026-12-01", 10)


def test_thursday_afternoon_plus_two_hours_is_sunday_morning():
    assert DHAKA.add(dhaka("2026-11-26", 17), 2 * HOUR) == dhaka("2026-11-29", 10)


def test_a_holiday_is_skipped():
    # Tuesday 17:00 + 2 h: Wednesday is Victory Day, so Thursday 10:00.
    assert DHAKA.add(dhaka("2026-12-15", 17), 2 * HOUR) == dhaka("2026-12-17", 10)


def test_starting_before_opening_counts_from_opening():
    assert DHAKA.add(dhaka("2026-11-29", 7, 30), HOUR) == dhaka("2026-11-29", 10)


def test_starting_after_closing_counts_from_next_opening():
    assert DHAKA.add(dhaka("2026-11-29", 19), HOUR) == dhaka("2026-11-30", 10)


def test_starting_on_friday_counts_from_sunday():
    assert DHAKA.add(dhaka("2026-11-27", 12), HOUR) == dhaka("2026-11-29", 10)


def test_adding_nothing_moves_the_instant_into_working_time_only():
    assert DHAKA.add(dhaka("2026-11-29", 10, 15), 0) == dhaka("2026-11-29", 10, 15)
    assert DHAKA.add(dhaka("2026-11-27", 12), 0) == dhaka("2026-11-29", 9)


def test_a_long_target_spans_weeks():
    # 100 business hours from Sunday 09:00: two full weeks are 90 h, Sunday 13 Dec adds 9, Monday's first hour 1.
    assert DHAKA.add(dhaka("2026-11-29", 9), 100 * HOUR) == dhaka("2026-12-14", 10)


def test_a_very_long_target_round_trips_through_between():
    start = dhaka("2026-11-26", 15, 20)
    end = DHAKA.add(start, 2000 * HOUR)
    assert end - start > timedelta(days=300)
    assert DHAKA.between(start, end) == 2000 * HOUR


def test_between_counts_only_working_time():
    assert DHAKA.between(dhaka("2026-11-26", 17), dhaka("2026-11-29", 10)) == 2 * HOUR
    assert DHAKA.between(dhaka("2026-12-15", 17), dhaka("2026-12-17", 10)) == 2 * HOUR  # over the holiday
    assert DHAKA.between(dhaka("2026-11-27", 8), dhaka("2026-11-28", 20)) == 0  # Friday to Saturday night


def test_between_an_end_before_the_start_is_zero():
    assert DHAKA.between(dhaka("2026-11-29", 12), dhaka("2026-11-29", 10)) == 0


def test_dhaka_has_no_daylight_saving():
    # The weekend Europe moves its clocks changes nothing in Dhaka: always UTC+6.
    due = DHAKA.add(dhaka("2026-03-26", 17), 2 * HOUR)
    assert due == datetime(2026, 3, 29, 4, 0, tzinfo=UTC)


def test_a_calendar_in_a_zone_with_daylight_saving_keeps_local_hours():
    mon_to_fri = sla.Calendar(tz=LONDON_TZ, working_days=frozenset(range(5)), starts=time(9), ends=time(17))
    # Friday 16:00 GMT + 2 h: one hour on Friday, then Monday 09:00 BST (= 08:00 UTC) + 1 h.
    due = mon_to_fri.add(london("2026-03-27", 16), 2 * HOUR)
    assert due == london("2026-03-30", 10)
    assert due == datetime(2026, 3, 30, 9, 0, tzinfo=UTC)


def test_working_hours_spanning_a_clock_change_count_real_time():
    mornings = sla.Calendar(tz=LONDON_TZ, working_days=frozenset(range(7)), starts=time(0), ends=time(12))
    assert mornings.between(london("2026-03-29", 0), london("2026-03-29", 12)) == 11 * HOUR  # clocks go forward
    assert mornings.between(london("2026-10-25", 0), london("2026-10-25", 12)) == 13 * HOUR  # clocks go back
    assert mornings.add(london("2026-03-29", 0), 11 * HOUR) == london("2026-03-29", 12)


def test_a_calendar_without_working_days_refuses_to_compute():
    never = sla.Calendar(tz=DHAKA_TZ, working_days=frozenset(), starts=time(9), ends=time(18))
    with pytest.raises(ValueError):
        never.add(dhaka("2026-11-29", 10), HOUR)


def test_the_calendar_loads_settings_and_holidays(db):
    Holiday.objects.create(date=VICTORY_DAY, name="Victory Day")
    calendar = sla.Calendar.load()
    assert calendar == DHAKA


# --- A ticket's clock (normal: first response 4 h, resolution 24 h; high: 1 h and 8 h) -------------


def test_a_new_ticket_gets_due_times_in_business_hours(desk):
    ticket = make_ticket(desk.queue1, contact=desk.customer, now=dhaka("2026-11-29", 10))
    assert ticket.sla_policy.priority == "normal"
    assert ticket.first_response_due == dhaka("2026-11-29", 14)
    assert ticket.first_response_risk_at == dhaka("2026-11-29", 13, 12)
    assert ticket.resolution_due == dhaka("2026-12-01", 16)  # 8 h Sunday, 9 h Monday, 7 h Tuesday
    assert ticket.sla_due_at == ticket.first_response_due
    assert ticket.sla_state == SlaState.OK


@pytest.mark.parametrize("status", [TicketStatus.PENDING_CUSTOMER, TicketStatus.ON_HOLD])
def test_a_paused_clock_excludes_the_time_spent_waiting(desk, status):
    ticket = make_ticket(desk.queue1, contact=desk.customer, now=dhaka("2026-11-29", 10))
    ticket = services.change_status(ticket=ticket, by=desk.agent1, status=status, now=dhaka("2026-11-29", 11))
    assert ticket.sla_state == SlaState.PAUSED
    assert ticket.sla_elapsed_seconds == HOUR
    assert ticket.sla_running_since is None and ticket.sla_due_at is None
    ticket = services.change_status(ticket=ticket, by=desk.agent1, status=TicketStatus.OPEN,
                                    now=dhaka("2026-11-30", 11))
    # 1 h spent before the pause, 3 h left from Monday 11:00.
    assert ticket.first_response_due == dhaka("2026-11-30", 14)
    assert ticket.sla_state == SlaState.OK


def test_the_customer_writing_resumes_a_clock_waiting_for_them(desk):
    ticket = make_ticket(desk.queue1, contact=desk.customer, now=dhaka("2026-11-29", 10))
    services.change_status(ticket=ticket, by=desk.agent1, status=TicketStatus.PENDING_CUSTOMER,
                           now=dhaka("2026-11-29", 12))
    services.add_customer_message(ticket=ticket, body="Here is the photo.", now=dhaka("2026-11-30", 9, 30))
    ticket.refresh_from_db()
    assert ticket.status == TicketStatus.OPEN
    assert sla.elapsed_at(ticket, dhaka("2026-11-30", 10), sla.Calendar.load()) == 2 * HOUR + 30 * 60
    assert ticket.first_response_due == dhaka("2026-11-30", 11, 30)


def test_a_new_priority_keeps_the_time_already_spent(desk):
    ticket = make_ticket(desk.queue1, contact=desk.customer, now=dhaka("2026-11-26", 17, 30))
    ticket = services.update_ticket(ticket=ticket, by=desk.agent1, priority="high", now=dhaka("2026-11-29", 9, 15))
    assert ticket.sla_policy.priority == "high"
    # 30 min on Thursday and 15 on Sunday are spent: the 1 h first-response target is due at 09:30.
    assert ticket.first_response_due == dhaka("2026-11-29", 9, 30)
    assert ticket.sla_state == SlaState.OK  # 45 of 60 minutes: under 80 %


def test_the_first_response_is_kept_in_business_seconds(desk):
    ticket = make_ticket(desk.queue1, contact=desk.customer, now=dhaka("2026-11-26", 17))
    services.add_reply(ticket=ticket, by=desk.agent1, body="We are on it.", now=dhaka("2026-11-29", 10))
    ticket.refresh_from_db()
    assert ticket.first_response_seconds == 2 * HOUR
    assert ticket.first_response_due is None
    assert ticket.sla_due_at == ticket.resolution_due
    assert ticket.sla_state == SlaState.OK


def test_a_late_first_response_leaves_the_ticket_breached(desk):
    ticket = make_ticket(desk.queue1, contact=desk.customer, priority="high", now=dhaka("2026-11-26", 17, 30))
    services.add_reply(ticket=ticket, by=desk.agent1, body="Sorry for the wait.", now=dhaka("2026-11-29", 10))
    ticket.refresh_from_db()
    assert ticket.first_response_seconds == 90 * 60
    assert ticket.sla_state == SlaState.BREACHED


def test_answering_at_the_very_due_instant_is_a_breach(desk):
    ticket = make_ticket(desk.queue1, contact=desk.customer, priority="high", now=dhaka("2026-11-29", 10))
    services.add_reply(ticket=ticket, by=desk.agent1, body="Just in time?", now=dhaka("2026-11-29", 11))
    ticket.refresh_from_db()
    assert ticket.first_response_seconds == HOUR
    assert ticket.sla_state == SlaState.BREACHED


def test_the_clock_is_at_risk_from_eighty_percent_of_the_target(desk):
    ticket = make_ticket(desk.queue1, contact=desk.customer, priority="high", now=dhaka("2026-11-29", 10))
    calendar = sla.Calendar.load()
    sla.refresh(ticket, now=dhaka("2026-11-29", 10, 47), calendar=calendar)
    assert ticket.sla_state == SlaState.OK
    sla.refresh(ticket, now=dhaka("2026-11-29", 10, 48), calendar=calendar)
    assert ticket.sla_state == SlaState.AT_RISK
    sla.refresh(ticket, now=dhaka("2026-11-29", 11), calendar=calendar)
    assert ticket.sla_state == SlaState.BREACHED


def test_solving_within_the_targets_meets_the_sla(desk):
    ticket = make_ticket(desk.queue1, contact=desk.customer, now=dhaka("2026-11-29", 10))
    services.add_reply(ticket=ticket, by=desk.agent1, body="Done.", status=TicketStatus.SOLVED,
                       now=dhaka("2026-11-29", 11))
    ticket.refresh_from_db()
    assert ticket.status == TicketStatus.SOLVED
    assert ticket.sla_state == SlaState.MET
    assert ticket.sla_running_since is None and ticket.sla_elapsed_seconds == HOUR


def test_a_clock_resumed_after_its_target_was_spent_is_due_at_once(desk):
    ticket = make_ticket(desk.queue1, contact=desk.customer, priority="high", now=dhaka("2026-11-29", 10))
    ticket = services.change_status(ticket=ticket, by=desk.agent1, status=TicketStatus.ON_HOLD,
                                    now=dhaka("2026-11-29", 11, 30))
    # Resumed on a Friday: what was due before the pause is due when the clock runs again, not on Sunday morning.
    ticket = services.change_status(ticket=ticket, by=desk.agent1, status=TicketStatus.OPEN,
                                    now=dhaka("2026-12-04", 12))
    assert ticket.first_response_due == dhaka("2026-12-04", 12)
    assert ticket.sla_state == SlaState.BREACHED


# --- Which policy --------------------------------------------------------------------------------


def test_the_most_specific_active_policy_wins(desk):
    # desk has a "low" policy for the priority alone.
    by_type = make_sla_policy("low", ticket_type="complaint", name="Low complaints")
    by_queue = make_sla_policy("low", queue=desk.queue1, name="Low in queue 1")
    by_both = make_sla_policy("low", queue=desk.queue1, ticket_type="complaint", name="Low complaints in queue 1")

    def chosen(queue=desk.queue1, ticket_type="complaint"):
        return sla.policy_for(priority="low", queue_id=queue.pk, ticket_type=ticket_type)

    assert chosen() == by_both
    by_both.is_active = False
    by_both.save()
    assert chosen() == by_queue
    assert chosen(queue=desk.queue2) == by_type
    assert chosen(queue=desk.queue2, ticket_type="inquiry").name == "Low priority"
    by_queue.is_active = False
    by_queue.save()
    assert chosen() == by_type


def test_a_ticket_without_a_policy_has_no_sla(desk):
    ticket = make_ticket(desk.queue1, contact=desk.customer, now=dhaka("2026-11-29", 10))
    ticket.sla_policy = None
    sla.refresh(ticket, now=dhaka("2026-11-29", 10))
    assert ticket.sla_state == SlaState.NONE and ticket.sla_due_at is None

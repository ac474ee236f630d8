"""An admin's change to SLA targets or to the calendar re-times open tickets' clocks (time already spent kept)."""

from datetime import date, datetime
from zoneinfo import ZoneInfo

from support import configuration, sla
from support.models import SlaPolicy
from tests.factories import make_ticket

DHAKA = ZoneInfo("Asia/Dhaka")


def test_a_shorter_target_moves_the_due_time_of_open_tickets_keeping_time_spent(desk, django_capture_on_commit_callbacks):
    ticket = make_ticket(desk.queue1, contact=desk.customer, now=datetime(2026, 11, 22, 10, 0, tzinfo=DHAKA))
    assert ticket.first_response_due == datetime(2026, 11, 22, 14, 0, tzinfo=DHAKA)  # normal: 240 minutes
    policy = SlaPolicy.objects.get(priority="normal")
    with django_capture_on_commit_callbacks() as callbacks:
        configuration.save_sla_policy(by=desk.world.admin, policy=policy, name=policy.name, priority="normal",
                                      first_response_minutes=120, resolution_minutes=1440)
    assert callbacks  # the worker is asked to re-time the clocks after commit
    assert sla.retime_open_tickets(now=datetime(2026, 11, 22, 11, 0, tzinfo=DHAKA)) == 1
    ticket.refresh_from_db()
    assert ticket.sla_elapsed_seconds == 3600  # one business hour already spent
    assert ticket.first_response_due == datetime(2026, 11, 22, 12, 0, tzinfo=DHAKA)


def test_a_new_holiday_pushes_the_resolution_past_it(desk):
    ticket = make_ticket(desk.queue1, contact=desk.customer, now=datetime(2026, 11, 25, 17, 0, tzinfo=DHAKA))
    # Wednesday 17:00 + 24 business hours: Wed 1 h, Thu 9 h, Sun 9 h, Mon 5 h -> Monday 14:00
    assert ticket.resolution_due == datetime(2026, 11, 30, 14, 0, tzinfo=DHAKA)
    configuration.add_holiday(by=desk.world.admin, date=date(2026, 11, 26), name="Test holiday")  # the Thursday
    sla.retime_open_tickets(now=datetime(2026, 11, 25, 17, 30, tzinfo=DHAKA))
    ticket.refresh_from_db()
    assert ticket.resolution_due == datetime(2026, 12, 1, 14, 0, tzinfo=DHAKA)  # Thursday off: one day later

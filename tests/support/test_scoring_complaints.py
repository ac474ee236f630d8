"""Lead scoring's `open_complaints` kind (registered by the support app) against hand-computed scores, and the
trigger that marks a contact when one of its tickets changes."""

from datetime import datetime
from unittest import mock
from zoneinfo import ZoneInfo

from django.core.cache import cache

from sales.models import ScoreDirty, ScoreExplanation, ScoringRule
from sales.scoring import engine, rules
from support import services
from support.models import TicketStatus
from tests.factories import make_ticket

NOW = datetime(2026, 6, 15, 12, 0, tzinfo=ZoneInfo("Asia/Dhaka"))


def score_of(contact):
    engine.rescore_contacts([contact.pk], now=NOW)
    contact.refresh_from_db()
    return contact.score


def test_each_open_complaint_costs_points_up_to_the_cap(desk):
    ScoringRule.objects.create(name="Base", kind="field_equals", points=50, params={"field": "email",
                                                                                     "value": "sakib@example.com"})
    ScoringRule.objects.create(name="Complaints", kind="open_complaints", points=-15,
                               params={"per_occurrence": True, "cap": 40})
    customer = desk.customer
    assert score_of(customer) == 50
    make_ticket(desk.queue1, contact=customer, type="complaint")
    make_ticket(desk.queue1, contact=customer, type="inquiry")  # not a complaint
    assert score_of(customer) == 35
    make_ticket(desk.queue1, contact=customer, type="complaint")
    make_ticket(desk.queue1, contact=customer, type="complaint")
    assert score_of(customer) == 10  # 3 x -15 = -45, capped at -40
    reason = ScoreExplanation.objects.get(contact=customer, rule__kind="open_complaints")
    assert (reason.points, reason.facts) == (-40, {"count": 3})
    assert rules.explain("open_complaints", reason.rule.params, reason.facts) == "3 open complaints"


def test_a_solved_complaint_no_longer_counts_and_its_change_marks_the_contact(desk):
    ScoringRule.objects.create(name="Base", kind="field_equals", points=50, params={"field": "email",
                                                                                     "value": "sakib@example.com"})
    ScoringRule.objects.create(name="Complaint", kind="open_complaints", points=-20, params={"min_count": 1})
    ticket = make_ticket(desk.queue1, contact=desk.customer, type="complaint")
    assert score_of(desk.customer) == 30
    ScoreDirty.objects.all().delete()
    services.change_status(ticket=ticket, by=desk.agent1, status=TicketStatus.SOLVED)
    assert ScoreDirty.objects.filter(contact_id=desk.customer.pk).exists()
    assert score_of(desk.customer) == 50


def test_a_ticket_becoming_a_complaint_wakes_a_rescore_but_a_new_priority_does_not(
        desk, django_capture_on_commit_callbacks):
    ticket = make_ticket(desk.queue1, contact=desk.customer, type="inquiry")
    with mock.patch("sales.tasks.rescore_dirty_contacts.apply_async") as apply_async:
        cache.delete("scoring:rescore-pending")
        with django_capture_on_commit_callbacks(execute=True):
            services.update_ticket(ticket=ticket, by=desk.agent1, priority="high")
        assert apply_async.call_count == 0  # no column the score reads
        with django_capture_on_commit_callbacks(execute=True):
            services.update_ticket(ticket=ticket, by=desk.agent1, type="complaint")
        assert apply_async.call_count == 1

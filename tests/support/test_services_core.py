"""The core ticket services: opening, replies, customer messages, status and the clock, visibility widening."""

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from contacts.models import Contact
from support import services
from support.models import MessageKind, SlaState, Ticket, TicketStatus
from tests.factories import make_ticket

DHAKA = ZoneInfo("Asia/Dhaka")
SUNDAY_10 = datetime(2026, 11, 22, 10, 0, tzinfo=DHAKA)  # a working Sunday in Dhaka


def test_opening_a_ticket_matches_the_customer_by_email_and_starts_the_clock(desk):
    ticket = make_ticket(desk.queue1, email="SAKIB@example.com", subject="Where is my parcel?", now=SUNDAY_10)
    assert ticket.contact_id == desk.customer.pk
    assert ticket.number >= 1001 and ticket.team_id == desk.queue1.team_id
    assert ticket.sla_policy.priority == "normal" and ticket.sla_state == SlaState.OK
    # 240 business minutes from Sunday 10:00 is Sunday 14:00
    assert ticket.first_response_due == datetime(2026, 11, 22, 14, 0, tzinfo=DHAKA)
    message = ticket.messages.get()
    assert message.kind == MessageKind.CUSTOMER and "My order has not arrived." in message.body_html
    assert desk.customer.interactions.filter(link_type="ticket", link_id=ticket.pk).exists()


def test_an_unknown_customer_becomes_a_contact_of_the_support_team(desk):
    ticket = make_ticket(desk.queue1, email="new.person@example.com", name="Rina Akter")
    contact = ticket.contact
    assert (contact.first_name, contact.last_name, contact.email) == ("Rina", "Akter", "new.person@example.com")
    assert contact.owner == desk.support_manager


def test_a_ticket_needs_a_subject_and_changes_nothing_without_one(desk):
    before = Ticket.objects.count()
    with pytest.raises(ValidationError) as exc:
        make_ticket(desk.queue1, contact=desk.customer, subject="  ")
    assert "subject" in exc.value.message_dict
    assert Ticket.objects.count() == before


def test_first_public_reply_stops_the_first_response_clock_and_a_note_does_not(desk):
    ticket = make_ticket(desk.queue1, contact=desk.customer, now=SUNDAY_10)
    services.add_reply(ticket=ticket, by=desk.agent1, body="Internal: check courier", internal=True,
                       now=datetime(2026, 11, 22, 10, 30, tzinfo=DHAKA))
    ticket.refresh_from_db()
    assert ticket.first_responded_at is None
    services.add_reply(ticket=ticket, by=desk.agent1, body="We are on it, **Sakib**.",
                       now=datetime(2026, 11, 22, 11, 0, tzinfo=DHAKA))
    ticket.refresh_from_db()
    assert ticket.first_response_seconds == 3600 and ticket.status == TicketStatus.OPEN
    assert ticket.assignee == desk.agent1  # answering an unassigned ticket takes it
    assert ticket.sla_due_at == ticket.resolution_due


def test_waiting_for_the_customer_pauses_the_clock_and_their_reply_resumes_it(desk):
    ticket = make_ticket(desk.queue1, contact=desk.customer, now=SUNDAY_10)
    services.change_status(ticket=ticket, by=desk.agent1, status=TicketStatus.PENDING_CUSTOMER,
                           now=datetime(2026, 11, 22, 11, 0, tzinfo=DHAKA))
    ticket.refresh_from_db()
    assert ticket.sla_state == SlaState.PAUSED and ticket.sla_due_at is None and ticket.sla_elapsed_seconds == 3600
    # The customer answers on Monday at 10:00: 3 of 4 hours remain, so the first response is due at 13:00.
    services.add_customer_message(ticket=ticket, body="Here is my order number",
                                  now=datetime(2026, 11, 23, 10, 0, tzinfo=DHAKA))
    ticket.refresh_from_db()
    assert ticket.status == TicketStatus.OPEN
    assert ticket.first_response_due == datetime(2026, 11, 23, 13, 0, tzinfo=DHAKA)


def test_sales_reps_read_but_cannot_change_their_customers_tickets(desk):
    ticket = make_ticket(desk.queue1, contact=desk.customer)
    world = desk.world
    assert Ticket.objects.visible_to(world.rep_a).filter(pk=ticket.pk).exists()
    assert not Ticket.objects.visible_to(world.rep_c).filter(pk=ticket.pk).exists()
    assert not Ticket.objects.visible_to(desk.agent2).filter(pk=ticket.pk).exists()
    with pytest.raises(PermissionDenied):
        services.add_reply(ticket=ticket, by=world.rep_a, body="hi")


def test_serving_a_ticket_lets_an_agent_read_the_customer(desk):
    assert not Contact.objects.visible_to(desk.agent1).filter(pk=desk.customer.pk).exists()
    make_ticket(desk.queue1, contact=desk.customer)
    assert Contact.objects.visible_to(desk.agent1).filter(pk=desk.customer.pk).exists()
    assert Contact.objects.visible_to(desk.support_manager).filter(pk=desk.customer.pk).exists()
    assert not Contact.objects.visible_to(desk.agent2).filter(pk=desk.customer.pk).exists()

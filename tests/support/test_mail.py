"""E-mail to customers: confirmation, agent replies and the CSAT request; each sent once, threaded and tagged."""

from pathlib import Path

import pytest
from django.core import mail as outbox
from django.urls import reverse

from support import inbound, mail
from support.models import TicketMessage, TicketStatus
from support.services import add_customer_message, add_reply, change_status, open_ticket

SAMPLES = Path(__file__).parent / "mail"


@pytest.fixture(autouse=True)
def _mail_settings(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    settings.SITE_URL = "https://desk.shop.example.com/"
    settings.SUPPORT_FROM_EMAIL = "Shop Support <help@shop.example.com>"


@pytest.fixture
def ticket(desk):
    desk.queue1.email = "support@shop.example.com"
    desk.queue1.save()
    return open_ticket(subject="Parcel not delivered", body="Where is my kurta?", contact=desk.customer,
                       queue=desk.queue1, email_message_id="<first@mail.example.com>")


def html_of(message) -> str:
    return next(content for content, kind in message.alternatives if kind == "text/html")


# --- Confirmation ---------------------------------------------------------------------------------


def test_confirmation_carries_tag_follow_link_and_our_message_id(ticket):
    assert mail.send_confirmation(ticket_id=ticket.pk) is True
    sent = outbox.outbox[0]
    follow = "https://desk.shop.example.com" + reverse("support:public_ticket", args=[ticket.public_token])
    assert sent.to == ["sakib@example.com"] and sent.subject.startswith(f"[#{ticket.number}] ")
    assert follow in sent.body and follow in html_of(sent)
    assert sent.extra_headers["Message-ID"].endswith("@shop.example.com>")
    assert sent.extra_headers["In-Reply-To"] == "<first@mail.example.com>"
    assert sent.reply_to == ["support@shop.example.com"] and "help@shop.example.com" in sent.from_email


def test_confirmation_is_sent_once_when_the_task_runs_twice(ticket):
    assert mail.send_confirmation(ticket_id=ticket.pk) is True
    assert mail.send_confirmation(ticket_id=ticket.pk) is False
    assert len(outbox.outbox) == 1


def test_confirmation_is_in_the_customers_language(ticket):
    ticket.contact.preferred_language = "bn"
    ticket.contact.save(update_fields=["preferred_language"])
    mail.send_confirmation(ticket_id=ticket.pk)
    assert '<html lang="bn">' in html_of(outbox.outbox[0])


def test_confirmation_falls_back_to_the_site_language(ticket, settings):
    mail.send_confirmation(ticket_id=ticket.pk)
    assert f'<html lang="{settings.LANGUAGE_CODE}">' in html_of(outbox.outbox[0])


def test_customer_without_email_gets_no_mail(desk):
    phoned = open_ticket(subject="Called in", body="Refund?", phone="01711999888", queue=desk.queue1)
    assert mail.send_confirmation(ticket_id=phoned.pk) is False and not outbox.outbox


def test_answer_to_the_confirmation_threads_into_the_ticket(ticket):
    mail.send_confirmation(ticket_id=ticket.pk)
    confirmation_id = outbox.outbox[0].extra_headers["Message-ID"]
    raw = (SAMPLES / "reply.eml").read_bytes().replace(b"<CAOrder123.plain@mail.example.com>",
                                                      confirmation_id.encode())
    stored = inbound.receive(raw)
    assert inbound.process(inbound_id=stored.pk) == ticket.pk


def test_forged_confirmation_message_id_does_not_thread(ticket):
    forged = f"<ticket-{ticket.pk}-confirmation.0123456789abcdef@shop.example.com>"
    assert mail.ticket_for_system_id(forged) is None
    assert mail.ticket_for_system_id(mail.system_message_id(ticket, "confirmation")) == ticket


# --- Agent replies --------------------------------------------------------------------------------


def test_agent_reply_mail_answers_the_customers_message(ticket, desk):
    add_customer_message(ticket=ticket, body="Any news?", email_message_id="<second@mail.example.com>")
    reply = add_reply(ticket=ticket, by=desk.agent1, body="It ships **today**.")
    assert mail.send_reply(message_id=reply.pk) is True
    sent = outbox.outbox[0]
    assert sent.subject == f"[#{ticket.number}] Re: Parcel not delivered"
    assert sent.extra_headers["In-Reply-To"] == "<second@mail.example.com>"
    assert "<first@mail.example.com>" in sent.extra_headers["References"]
    assert "<strong>today</strong>" in html_of(sent) and "It ships today." in sent.body
    reply.refresh_from_db()
    assert reply.email_message_id == sent.extra_headers["Message-ID"]


def test_agent_reply_is_sent_once_when_the_task_runs_twice(ticket, desk):
    reply = add_reply(ticket=ticket, by=desk.agent1, body="On its way.")
    assert mail.send_reply(message_id=reply.pk) is True
    assert mail.send_reply(message_id=reply.pk) is False
    assert len(outbox.outbox) == 1


def test_internal_note_is_never_mailed(ticket, desk):
    note = add_reply(ticket=ticket, by=desk.agent1, body="Courier is slow this week.", internal=True)
    assert mail.send_reply(message_id=note.pk) is False and not outbox.outbox


def test_reply_attachments_go_with_the_mail(ticket, desk):
    reply = add_reply(ticket=ticket, by=desk.agent1, body="The receipt.",
                      attachments=[("receipt.pdf", "application/pdf", b"%PDF-1.4 tiny")])
    mail.send_reply(message_id=reply.pk)
    assert outbox.outbox[0].attachments[0][:2] == ("receipt.pdf", b"%PDF-1.4 tiny")


def test_customer_answer_to_an_agent_mail_threads_back(ticket, desk):
    reply = add_reply(ticket=ticket, by=desk.agent1, body="Which size?")
    mail.send_reply(message_id=reply.pk)
    sent_id = TicketMessage.objects.get(pk=reply.pk).email_message_id
    raw = (SAMPLES / "reply.eml").read_bytes().replace(b"<CAOrder123.plain@mail.example.com>", sent_id.encode())
    assert inbound.process(inbound_id=inbound.receive(raw).pk) == ticket.pk


# --- CSAT request ---------------------------------------------------------------------------------


def test_solving_sends_the_csat_link_once_even_if_the_task_runs_twice(ticket, desk, monkeypatch,
                                                                        django_capture_on_commit_callbacks):
    requested = []
    monkeypatch.setattr("support.tasks.send_csat_request.delay", lambda **kw: requested.append(kw))
    with django_capture_on_commit_callbacks(execute=True):
        change_status(ticket=ticket, by=desk.agent1, status=TicketStatus.SOLVED)
    assert requested == [{"ticket_id": ticket.pk}]
    assert mail.send_csat_request(**requested[0]) is True
    assert mail.send_csat_request(**requested[0]) is False
    assert len(outbox.outbox) == 1
    sent = outbox.outbox[0]
    assert sent.subject.startswith(f"[#{ticket.number}] ") and "/support/rate/" in sent.body


def test_csat_link_in_the_mail_opens_the_rating_page(ticket, desk, client):
    change_status(ticket=ticket, by=desk.agent1, status=TicketStatus.SOLVED)
    mail.send_csat_request(ticket_id=ticket.pk)
    link = next(word for word in outbox.outbox[0].body.split() if "/support/rate/" in word)
    response = client.get(link.removeprefix("https://desk.shop.example.com"))
    assert response.status_code == 200 and f"#{ticket.number}" in response.content.decode()


def test_solved_again_after_reopening_sends_no_second_csat_mail(ticket, desk):
    change_status(ticket=ticket, by=desk.agent1, status=TicketStatus.SOLVED)
    mail.send_csat_request(ticket_id=ticket.pk)
    add_customer_message(ticket=ticket, body="Not fixed after all.")
    change_status(ticket=ticket, by=desk.agent1, status=TicketStatus.SOLVED)
    assert mail.send_csat_request(ticket_id=ticket.pk) is False and len(outbox.outbox) == 1


def test_no_csat_mail_for_a_ticket_that_is_not_solved(ticket):
    assert mail.send_csat_request(ticket_id=ticket.pk) is False and not outbox.outbox

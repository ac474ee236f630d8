"""Inbound e-mail: real RFC 822 samples (tests/support/mail/*.eml) become tickets or thread into them."""

import io
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.db import OperationalError
from django.urls import reverse
from django.utils import timezone

from contacts.models import Contact
from support import inbound
from support.models import InboundEmail, MessageKind, Ticket, TicketChannel, TicketMessage, TicketStatus
from support.services import add_reply, change_status, open_ticket

MAIL = Path(__file__).parent / "mail"
SECRET = "s3cret-inbound-token-for-tests"


def sample(name: str, **replace: str) -> bytes:
    raw = (MAIL / name).read_bytes()
    for old, new in replace.items():
        raw = raw.replace(old.encode(), new.encode())
    return raw


def deliver(raw: bytes) -> Ticket | None:
    """What the webhook and the worker do together: store, then process."""
    stored = inbound.receive(raw)
    ticket_id = inbound.process(inbound_id=stored.pk)
    return Ticket.objects.get(pk=ticket_id) if ticket_id else None


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture
def addressed(desk):
    """The desk's queues receive mail: support@ (the default queue) and billing@."""
    desk.queue1.email = "support@shop.example.com"
    desk.queue1.save()
    desk.queue2.email = "Billing@Shop.example.com"
    desk.queue2.save()
    return desk


# --- New tickets ----------------------------------------------------------------------------------


def test_new_mail_opens_a_ticket_for_the_known_customer(addressed):
    ticket = deliver(sample("plain.eml"))
    assert ticket.contact == addressed.customer  # Sakib@Example.com matched case-insensitively
    assert ticket.subject == "My order has not arrived"
    assert ticket.channel == TicketChannel.EMAIL and ticket.queue == addressed.queue1
    message = ticket.messages.get()
    assert message.kind == MessageKind.CUSTOMER and "order SO-1042" in message.body_text
    assert message.email_message_id == "<CAOrder123.plain@mail.example.com>"


def test_new_mail_from_an_unknown_sender_creates_the_contact(addressed):
    ticket = deliver(sample("forwarded.eml"))
    contact = ticket.contact
    assert contact.email == "rahim@example.com" and contact.first_name == "Rahim" and contact.last_name == "Uddin"
    assert Contact.objects.filter(emails__email="rahim@example.com").count() == 1


def test_processed_row_records_its_ticket(addressed):
    stored = inbound.receive(sample("plain.eml"))
    ticket_id = inbound.process(inbound_id=stored.pk)
    stored.refresh_from_db()
    assert stored.ticket_id == ticket_id and stored.processed_at is not None and stored.error == ""


def test_queue_is_chosen_by_recipient_address_case_insensitively(addressed):
    ticket = deliver(sample("attachment_pdf.eml"))  # To: billing@shop.example.com
    assert ticket.queue == addressed.queue2 and ticket.team == addressed.support2


def test_unknown_recipient_lands_in_the_default_queue(desk):
    ticket = deliver(sample("attachment_pdf.eml"))
    assert ticket.queue == desk.queue1


def test_forwarded_mail_keeps_the_forwarded_text(addressed):
    ticket = deliver(sample("forwarded.eml"))
    body = ticket.messages.get().body_text
    assert ticket.subject == "Fwd: Your refund request"
    assert "I never got the money" in body and "Your refund of BDT 2,450 was sent" in body


def test_new_ticket_from_mail_confirms_to_the_customer(addressed, django_capture_on_commit_callbacks, monkeypatch):
    sent = []
    monkeypatch.setattr("support.tasks.send_ticket_confirmation.delay", lambda **kw: sent.append(kw))
    monkeypatch.setattr("support.tasks.process_inbound_email.delay", lambda *a, **kw: None)
    with django_capture_on_commit_callbacks(execute=True):
        ticket = deliver(sample("plain.eml"))
    assert sent == [{"ticket_id": ticket.pk}]


# --- Bodies: charsets, RFC 2047, HTML ---------------------------------------------------------------


def test_windows_1252_body_and_encoded_subject_are_decoded(addressed):
    ticket = deliver(sample("windows1252.eml"))
    assert ticket.subject == "Facture erronée"
    assert "25 € au lieu de 20 €. “Merci” d’avance — Zoë" in ticket.messages.get().body_text
    assert ticket.contact.first_name == "Zoë"


def test_koi8_r_body_and_subject_are_decoded(addressed):
    ticket = deliver(sample("koi8r.eml"))
    assert ticket.subject == "Где мой заказ?"
    assert "мой заказ не пришёл" in ticket.messages.get().body_text


def test_bengali_rfc2047_subject_is_decoded(addressed):
    ticket = deliver(sample("bengali_subject.eml"))
    assert ticket.subject == "আমার অর্ডার এখনো পৌঁছায়নি"
    assert "১৫ নভেম্বর একটি শাড়ি" in ticket.messages.get().body_text
    assert ticket.contact.first_name == "রহিম"


def test_html_mail_is_sanitised_before_it_is_stored(addressed):
    ticket = deliver(sample("html_script.eml"))
    html = ticket.messages.get().body_html
    assert "<b>damaged</b>" in html  # HTML preferred over the plain part
    assert 'href="https://shop.example.com/orders/1042"' in html
    for bad in ("<script", "onerror", "alert(", "javascript:", "<style"):
        assert bad not in html


def test_script_in_a_mail_never_reaches_the_customer_page(addressed, client):
    ticket = deliver(sample("html_script.eml"))
    page = client.get(reverse("support:public_ticket", args=[ticket.public_token])).content.decode()
    assert "damaged" in page
    assert "onerror" not in page and "document.cookie" not in page and "evil.example" not in page


# --- Attachments ----------------------------------------------------------------------------------


def test_attachment_is_kept_byte_for_byte(addressed):
    ticket = deliver(sample("attachment_pdf.eml"))
    attachment = ticket.messages.get().attachments.get()
    assert attachment.filename == "invoice INV-2026-0042.pdf" and attachment.content_type == "application/pdf"
    with attachment.file.open("rb") as handle:
        data = handle.read()
    assert data.startswith(b"%PDF-1.4") and data.endswith(b"%%EOF\n") and attachment.size == len(data)


def test_refused_attachment_is_named_and_the_mail_kept(addressed):
    ticket = deliver(sample("refused_attachment.eml"))
    message = ticket.messages.get()
    assert "here is the installer I used" in message.body_text
    assert "setup.exe" in message.body_text and not message.attachments.exists()


# --- Threading ------------------------------------------------------------------------------------


def test_reply_threads_by_in_reply_to_and_drops_the_quoted_history(addressed):
    ticket = deliver(sample("plain.eml"))
    again = deliver(sample("reply.eml", **{"[#TICKET]": "[#999999]"}))
    assert again == ticket and Ticket.objects.count() == 1
    reply = ticket.messages.order_by("created_at", "id").last()
    assert reply.body_text == "It arrived this morning, thank you!"
    assert reply.email_message_id == "<CAReply456.reply@mail.example.com>"


def test_html_reply_drops_blockquoted_history(addressed):
    ticket = deliver(sample("plain.eml"))
    deliver(sample("html_reply.eml"))
    reply = ticket.messages.order_by("created_at", "id").last()
    assert "Still waiting" in reply.body_text
    assert "courier" not in reply.body_text and "wrote:" not in reply.body_text


def test_reply_to_an_agent_mail_threads_by_its_message_id(addressed):
    ticket = open_ticket(subject="Size exchange", body="Too small.", contact=addressed.customer,
                         queue=addressed.queue1)
    answer = add_reply(ticket=ticket, by=addressed.agent1, body="Send it back, please.")
    TicketMessage.objects.filter(pk=answer.pk).update(email_message_id="<agent-1@shop.example.com>")
    raw = sample("reply.eml").replace(b"<CAOrder123.plain@mail.example.com>", b"<agent-1@shop.example.com>")
    assert deliver(raw) == ticket


def test_reply_threads_by_subject_tag_from_the_customers_address(addressed):
    ticket = open_ticket(subject="Parcel", body="Late.", contact=addressed.customer, queue=addressed.queue1)
    raw = sample("reply.eml", **{"[#TICKET]": f"[#{ticket.number}]"}).replace(b"In-Reply-To", b"X-Old-Reply-To")
    raw = raw.replace(b"References", b"X-Old-References")
    assert deliver(raw) == ticket
    assert ticket.messages.filter(body_text="It arrived this morning, thank you!").exists()


def test_stranger_using_a_ticket_tag_gets_a_new_ticket(addressed):
    ticket = open_ticket(subject="Parcel", body="Late.", contact=addressed.customer, queue=addressed.queue1)
    raw = sample("reply.eml", **{"[#TICKET]": f"[#{ticket.number}]", "sakib@example.com": "mallory@evil.example"})
    raw = raw.replace(b"In-Reply-To", b"X-Old-Reply-To").replace(b"References", b"X-Old-References")
    other = deliver(raw)
    assert other != ticket and other.contact.email == "mallory@evil.example"
    assert ticket.messages.count() == 1


def test_reply_to_a_closed_ticket_opens_a_new_one_naming_it(addressed):
    ticket = deliver(sample("plain.eml"))
    change_status(ticket=ticket, by=addressed.agent1, status=TicketStatus.CLOSED)
    follow_up = deliver(sample("reply.eml", **{"[#TICKET]": f"[#{ticket.number}]"}))
    assert follow_up != ticket and follow_up.contact == ticket.contact
    assert f"closed ticket #{ticket.number}" in follow_up.messages.get().body_text


def test_reply_reopens_a_solved_ticket(addressed):
    ticket = deliver(sample("plain.eml"))
    change_status(ticket=ticket, by=addressed.agent1, status=TicketStatus.SOLVED)
    deliver(sample("reply.eml"))
    ticket.refresh_from_db()
    assert ticket.status == TicketStatus.OPEN and ticket.reopened_count == 1


def test_quoted_lines_and_wrote_header_are_stripped():
    text = "Yes, the blue one.\n\nOn Mon, 23 Nov 2026, Shop wrote:\n> Which colour?\n"
    assert inbound.strip_text_quotes(text) == "Yes, the blue one."
    assert inbound.strip_text_quotes("> only a quote") == "> only a quote"  # nothing left: keep it all


# --- Not customers' mail --------------------------------------------------------------------------


def test_auto_reply_is_not_turned_into_a_ticket(addressed):
    stored = inbound.receive(sample("auto_reply.eml"))
    assert inbound.process(inbound_id=stored.pk) is None
    stored.refresh_from_db()
    assert stored.processed_at is not None and "Auto-Submitted" in stored.error
    assert not Ticket.objects.exists()


def test_mail_from_our_own_address_is_ignored(addressed, settings):
    settings.SUPPORT_FROM_EMAIL = "Shop Support <help@shop.example.com>"
    raw = sample("plain.eml").replace(b"Sakib Hasan <Sakib@Example.com>", b"Shop <help@shop.example.com>")
    stored = inbound.receive(raw)
    assert inbound.process(inbound_id=stored.pk) is None and not Ticket.objects.exists()


# --- Storage, idempotency, errors -----------------------------------------------------------------


def test_duplicate_message_id_is_stored_once(addressed):
    first = inbound.receive(sample("plain.eml"))
    second = inbound.receive(sample("plain.eml"))
    assert first.pk == second.pk and InboundEmail.objects.count() == 1


def test_processing_twice_makes_one_ticket(addressed):
    stored = inbound.receive(sample("plain.eml"))
    assert inbound.process(inbound_id=stored.pk) == inbound.process(inbound_id=stored.pk)
    assert Ticket.objects.count() == 1 and TicketMessage.objects.count() == 1


def test_mail_without_message_id_still_dedupes(db):
    raw = b"From: a@example.com\r\nSubject: hi\r\n\r\nhello\r\n"
    assert inbound.receive(raw).pk == inbound.receive(raw).pk


def test_failure_is_recorded_and_the_mail_kept(db):
    stored = inbound.receive(sample("plain.eml"))  # no queue exists: cannot be filed
    assert inbound.process(inbound_id=stored.pk) is None
    stored.refresh_from_db()
    assert stored.processed_at is None and "queue" in stored.error and bytes(stored.raw) == sample("plain.eml")


def test_transient_database_error_is_raised_for_a_retry(addressed, monkeypatch):
    stored = inbound.receive(sample("plain.eml"))

    def broken(raw):
        raise OperationalError("server closed the connection")

    monkeypatch.setattr(inbound, "_handle", broken)
    with pytest.raises(OperationalError):
        inbound.process(inbound_id=stored.pk)


def test_pending_mail_older_than_a_minute_is_processed(addressed):
    now = timezone.now()
    old = inbound.receive(sample("plain.eml"))
    fresh = inbound.receive(sample("forwarded.eml"))
    InboundEmail.objects.filter(pk=old.pk).update(received_at=now - timedelta(minutes=5))
    assert inbound.process_pending(now=now) == 1
    old.refresh_from_db()
    fresh.refresh_from_db()
    assert old.ticket_id is not None and fresh.processed_at is None


# --- The webhook and the command ------------------------------------------------------------------


def post_mail(client, raw: bytes, secret: str | None = SECRET):
    headers = {"Authorization": f"Bearer {secret}"} if secret is not None else {}
    return client.post(reverse("support:inbound_email"), raw, content_type="message/rfc822", headers=headers)


def test_webhook_without_secret_is_refused(client, desk, settings):
    settings.SUPPORT_INBOUND_SECRET = SECRET
    assert post_mail(client, sample("plain.eml"), secret=None).status_code == 403
    assert not InboundEmail.objects.exists()


def test_webhook_with_a_wrong_secret_is_refused(client, desk, settings):
    settings.SUPPORT_INBOUND_SECRET = SECRET
    assert post_mail(client, sample("plain.eml"), secret="guess").status_code == 403
    assert not InboundEmail.objects.exists()


def test_webhook_with_the_secret_stores_the_mail(client, desk, settings):
    settings.SUPPORT_INBOUND_SECRET = SECRET
    response = post_mail(client, sample("plain.eml"))
    assert response.status_code == 202
    stored = InboundEmail.objects.get()
    assert response.json() == {"id": stored.pk} and bytes(stored.raw) == sample("plain.eml")


def test_webhook_retry_answers_the_same_id(client, desk, settings):
    settings.SUPPORT_INBOUND_SECRET = SECRET
    first, second = post_mail(client, sample("plain.eml")), post_mail(client, sample("plain.eml"))
    assert first.json() == second.json() and InboundEmail.objects.count() == 1


def test_webhook_is_absent_until_a_secret_is_configured(client, desk, settings):
    settings.SUPPORT_INBOUND_SECRET = ""
    assert post_mail(client, sample("plain.eml"), secret="").status_code == 404


def test_webhook_refuses_an_oversized_message(client, desk, settings, monkeypatch):
    settings.SUPPORT_INBOUND_SECRET = SECRET
    monkeypatch.setattr("support.public_views.MAX_INBOUND_BYTES", 1000)
    assert post_mail(client, sample("attachment_pdf.eml") + b"x" * 1000).status_code == 413
    assert not InboundEmail.objects.exists()


def run_command(monkeypatch, raw: bytes) -> str:
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(raw)))
    out = io.StringIO()
    call_command("receive_email", stdout=out)
    return out.getvalue()


def test_command_reads_a_new_mail_from_stdin(addressed, monkeypatch):
    output = run_command(monkeypatch, sample("plain.eml"))
    ticket = Ticket.objects.get()
    assert output.strip() == f"#{ticket.number} new ticket"


def test_command_reports_a_reply(addressed, monkeypatch):
    run_command(monkeypatch, sample("plain.eml"))
    output = run_command(monkeypatch, sample("reply.eml"))
    assert output.strip() == f"#{Ticket.objects.get().number} reply"


def test_command_refuses_empty_input(db, monkeypatch):
    with pytest.raises(CommandError):
        run_command(monkeypatch, b"")

"""E-mail to customers: the confirmation of a new ticket, an agent's reply, the CSAT request.

Every mail is text + HTML in the customer's language (their contact's preferred language, else the site's), has
the ticket tag "[#1234]" in its subject (inbound mail threads on it), a Message-ID under our own domain, answers
the customer's last message (In-Reply-To/References) and asks for replies at the queue's address when it has one.

Each sender runs once per thing sent, however often its task runs:

- a reply records the Message-ID it went out with on its `TicketMessage` (empty until sent);
- the confirmation and the CSAT request have a Message-ID fixed by the ticket (`system_message_id`) and leave an
  entry on the customer's timeline that names it; that entry, in PostgreSQL like the ticket, is the "sent"
  marker. A transaction-scoped advisory lock keeps two workers from sending the same one at once.

The send happens inside the transaction that writes the marker: a crash after sending and before committing may
send a mail twice (at least once), never zero times.
"""

import logging
import re
from email.utils import make_msgid, parseaddr
from urllib.parse import urlsplit

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import connection, transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _

from contacts.models import Interaction, InteractionKind
from contacts.services import record_interaction
from crm.models import OrgSettings
from support.csat import make_csat_token, token_digest
from support.models import MessageKind, Ticket, TicketMessage, TicketStatus

log = logging.getLogger(__name__)

#: The ticket tag in subjects, outbound and inbound: "[#1234]".
TAG_PATTERN = re.compile(r"\[#(\d{1,10})\]")
#: Message-IDs of the confirmation and CSAT mails (see `system_message_id`).
SYSTEM_ID_PATTERN = re.compile(r"^<ticket-(\d{1,18})-(confirmation|csat)\.([0-9a-f]{16})@")
#: Attachments of an agent's reply go with the mail up to this total; the rest are named in the text.
MAX_ATTACHED_BYTES = 15 * 1024 * 1024
_LOCK_CLASS = {"confirmation": 7301, "csat": 7302}


# --- Addresses and links ------------------------------------------------------------------------


def from_email() -> str:
    return getattr(settings, "SUPPORT_FROM_EMAIL", "") or settings.DEFAULT_FROM_EMAIL


def own_addresses() -> set[str]:
    """Addresses that are ours (mail from them is never a customer's)."""
    return {parseaddr(a)[1].lower() for a in (from_email(), settings.DEFAULT_FROM_EMAIL)} - {""}


def mail_domain() -> str:
    """The domain our Message-IDs live under: the sender address's, else the site's host."""
    domain = parseaddr(from_email())[1].rpartition("@")[2]
    return domain or urlsplit(getattr(settings, "SITE_URL", "")).hostname or "localhost"


def absolute_url(path: str) -> str:
    return getattr(settings, "SITE_URL", "http://127.0.0.1:8000").rstrip("/") + path


def follow_url(ticket: Ticket) -> str:
    """The customer's link to their ticket (no login: the ticket's secret public token)."""
    return absolute_url(reverse("support:public_ticket", args=[ticket.public_token]))


def csat_url(ticket: Ticket) -> str:
    return absolute_url(reverse("support:csat", args=[make_csat_token(ticket)]))


def ticket_tag(ticket: Ticket) -> str:
    return f"[#{ticket.number}]"


def system_message_id(ticket: Ticket, kind: str) -> str:
    """The Message-ID of the ticket's confirmation or CSAT mail: fixed per ticket, so a customer's answer to it
    threads (`ticket_for_system_id`) and a second send is recognised; the digest of the secret public token
    makes it unguessable."""
    return f"<ticket-{ticket.pk}-{kind}.{token_digest(ticket)}@{mail_domain()}>"


def ticket_for_system_id(message_id: str) -> Ticket | None:
    """The ticket one of our confirmation/CSAT Message-IDs belongs to (None for any other id)."""
    match = SYSTEM_ID_PATTERN.match(message_id.strip())
    if not match:
        return None
    ticket = Ticket.objects.filter(pk=int(match.group(1))).first()
    if ticket is None or token_digest(ticket) != match.group(3):
        return None
    return ticket


def customer_language(ticket: Ticket) -> str:
    language = ticket.contact.preferred_language
    return language if language in dict(settings.LANGUAGES) else settings.LANGUAGE_CODE


# --- Sending ------------------------------------------------------------------------------------


def _thread_headers(ticket: Ticket, *, before: TicketMessage | None = None) -> dict[str, str]:
    """In-Reply-To the customer's last message, References to the latest messages of the thread."""
    messages = TicketMessage.objects.filter(ticket=ticket).exclude(email_message_id="").exclude(kind=MessageKind.NOTE)
    if before is not None:
        messages = messages.filter(created_at__lte=before.created_at).exclude(pk=before.pk)
    recent = list(messages.order_by("-created_at", "-id").values_list("kind", "email_message_id")[:10])
    headers = {}
    last_customer = next((mid for kind, mid in recent if kind == MessageKind.CUSTOMER), None)
    if last_customer:
        headers["In-Reply-To"] = last_customer
    if recent:
        headers["References"] = " ".join(mid for _kind, mid in reversed(recent))
    return headers


def _send(ticket: Ticket, *, template: str, subject: str, message_id: str, context: dict,
          thread: dict[str, str], attachments=()) -> None:
    context = {"ticket": ticket, "contact": ticket.contact, "org": OrgSettings.load(),
               "follow_url": follow_url(ticket), **context}
    text = render_to_string(f"support/email/{template}.txt", context)
    html = render_to_string(f"support/email/{template}.html", context)
    headers = {"Message-ID": message_id, **thread}
    if "References" not in headers and "In-Reply-To" in headers:
        headers["References"] = headers["In-Reply-To"]
    message = EmailMultiAlternatives(
        subject=f"{ticket_tag(ticket)} {subject}".replace("\n", " ").strip(), body=text, from_email=from_email(),
        to=[ticket.contact.email], headers=headers,
        reply_to=[ticket.queue.email] if ticket.queue.email else None)
    message.attach_alternative(html, "text/html")
    for name, data, content_type in attachments:
        message.attach(name, data, content_type)
    message.send()


def _already_sent(ticket: Ticket, message_id: str) -> bool:
    return Interaction.objects.filter(link_type="ticket", link_id=ticket.pk, kind=InteractionKind.TICKET_EVENT,
                                      body=_marker(message_id)).exists()


def _marker(message_id: str) -> str:
    return f"Message-ID: {message_id}"


def _send_once(*, ticket_id: int, kind: str, template: str, subject, timeline_subject, wanted=None) -> bool:
    """Send the ticket's confirmation or CSAT mail unless it went out already; whether it was sent now."""
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [_LOCK_CLASS[kind], ticket_id % 2_147_483_647])
        ticket = Ticket.objects.select_related("contact", "queue").filter(pk=ticket_id).first()
        if ticket is None or not ticket.contact.email or (wanted is not None and not wanted(ticket)):
            return False
        message_id = system_message_id(ticket, kind)
        if _already_sent(ticket, message_id):
            return False
        with translation.override(customer_language(ticket)):
            context = {"csat_url": csat_url(ticket)} if kind == "csat" else {}
            _send(ticket, template=template, subject=subject(ticket), message_id=message_id, context=context,
                  thread=_thread_headers(ticket))
        record_interaction(kind=InteractionKind.TICKET_EVENT, contact=ticket.contact, by=None, direction="out",
                           subject=timeline_subject % {"number": ticket.number}, body=_marker(message_id),
                           link_type="ticket", link_id=ticket.pk, link_label=str(ticket))
        return True


def send_confirmation(*, ticket_id: int) -> bool:
    """Tell the customer their ticket was received, with the link to follow it (once per ticket)."""
    return _send_once(
        ticket_id=ticket_id, kind="confirmation", template="confirmation",
        subject=lambda t: _("We received your request: %(subject)s") % {"subject": t.subject},
        timeline_subject=_("Confirmation of ticket #%(number)s e-mailed to the customer"))


def send_csat_request(*, ticket_id: int) -> bool:
    """Ask the customer of a solved ticket to rate it (once per ticket, however often it is solved)."""
    return _send_once(
        ticket_id=ticket_id, kind="csat", template="csat",
        subject=lambda t: _("How did we do? %(subject)s") % {"subject": t.subject},
        timeline_subject=_("Rating request for ticket #%(number)s e-mailed to the customer"),
        wanted=lambda t: t.status in (TicketStatus.SOLVED, TicketStatus.CLOSED) and not _has_csat(t))


def _has_csat(ticket: Ticket) -> bool:
    from support.models import CsatResponse

    return CsatResponse.objects.filter(ticket=ticket).exists()


def _attachments_of(message: TicketMessage) -> tuple[list[tuple[str, bytes, str]], list[str]]:
    """(files to attach, names of those left out for size)."""
    attached, left_out, total = [], [], 0
    for attachment in message.attachments.all():
        if total + attachment.size > MAX_ATTACHED_BYTES:
            left_out.append(attachment.filename)
            continue
        with attachment.file.open("rb") as handle:
            attached.append((attachment.filename, handle.read(), attachment.content_type))
        total += attachment.size
    return attached, left_out


def send_reply(*, message_id: int) -> bool:
    """E-mail an agent's public reply to the customer, threaded under their last message; its Message-ID is kept
    on the message (so it is sent once, and the customer's answer threads back)."""
    with transaction.atomic():
        message = (TicketMessage.objects.select_for_update(of=("self",))
                   .select_related("ticket__contact", "ticket__queue", "author")
                   .filter(pk=message_id, kind=MessageKind.REPLY).first())
        if message is None or message.email_message_id:
            return False
        ticket = message.ticket
        if not ticket.contact.email:
            return False
        outgoing_id = make_msgid(domain=mail_domain())
        attached, left_out = _attachments_of(message)
        with translation.override(customer_language(ticket)):
            _send(ticket, template="reply", subject=_("Re: %(subject)s") % {"subject": ticket.subject},
                  message_id=outgoing_id, context={"message": message, "left_out": left_out},
                  thread=_thread_headers(ticket, before=message), attachments=attached)
        TicketMessage.objects.filter(pk=message.pk).update(email_message_id=outgoing_id)
        return True

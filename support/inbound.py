"""Inbound e-mail: a raw RFC 822 message becomes a new ticket or a message on the ticket it answers.

`receive` stores the raw bytes first (PostgreSQL, deduplicated by Message-ID, so a provider's retried webhook is a
no-op) and enqueues `process` after commit; the beat's `process_pending` picks up what a lost message left.

Threading, in order: In-Reply-To/References naming one of our messages (a stored message's Message-ID, or the
fixed id of a confirmation/CSAT mail); else a "[#1234]" tag in the subject, but only when the sender is an
address of that ticket's customer (a stranger quoting a number gets a ticket of their own). A merged ticket
threads into the one it went into; an answer to a closed ticket opens a new one that names the old number.
"""

import hashlib
import logging
import re
from datetime import timedelta
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from email.utils import getaddresses, parseaddr

from django.core.exceptions import ValidationError
from django.db import InterfaceError, OperationalError, transaction
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext as _

from contacts.models import ContactEmail
from support import attachments as checked_files
from support import content, mail
from support.models import InboundEmail, Queue, Ticket, TicketChannel, TicketMessage, TicketStatus
from support.services import add_customer_message, default_queue, open_ticket

log = logging.getLogger(__name__)

#: Charsets mail clients label wrongly: Latin-1 and ASCII mail is in practice Windows-1252 (as browsers assume).
_CHARSET_ALIASES = {"iso-8859-1": "cp1252", "latin-1": "cp1252", "latin1": "cp1252", "us-ascii": "cp1252",
                    "ascii": "cp1252", "x-user-defined": "cp1252"}
_MSGID = re.compile(r"<[^<>\s]{1,290}>")
_QUOTE_HEADER = re.compile(r"^\s*(On\s.{1,200}\swrote:|-{2,}\s*Original Message\s*-{2,})\s*$", re.I)
_HTML_QUOTE_LEAD = re.compile(r"On\s[^<>]{1,300}?\swrote:\s*(<br>\s*)*", re.I)
_BLOCKQUOTE = re.compile(r"<blockquote\b[^>]*>|</blockquote>", re.I)
_EMPTY_TAGS = re.compile(r"<(div|p|span)>\s*(<br>\s*)*</\1>", re.I)
_AUTO_PRECEDENCE = {"bulk", "auto_reply", "junk"}


# --- Receiving ----------------------------------------------------------------------------------


def _message_id_of(raw: bytes) -> str:
    headers = BytesParser(policy=policy.default).parsebytes(raw, headersonly=True)
    found = _MSGID.search(_header(headers, "Message-ID"))
    if found:
        return found.group(0)
    return "<sha256." + hashlib.sha256(raw).hexdigest() + "@no-message-id>"  # a retry of the same bytes still dedupes


def receive(raw: bytes, *, enqueue: bool = True) -> InboundEmail:
    """Keep a raw e-mail (once per Message-ID) and have it processed after commit; the stored row."""
    message_id = _message_id_of(raw)
    inbound, created = InboundEmail.objects.get_or_create(message_id=message_id, defaults={"raw": raw})
    if created and enqueue:
        from support.tasks import process_inbound_email

        # robust: a broker outage must not fail the webhook; the beat's process_pending picks the row up.
        transaction.on_commit(lambda: process_inbound_email.delay(inbound.pk), robust=True)
    return inbound


# --- Parsing ------------------------------------------------------------------------------------


def _header(message, name: str) -> str:
    try:
        value = message.get(name)
    except (TypeError, ValueError, IndexError):  # a header too broken for the policy to parse
        return ""
    return str(value or "").strip()


def _addresses(message, *names: str) -> list[str]:
    values = [_header(message, name) for name in names]
    return [addr.lower() for _name, addr in getaddresses([v for v in values if v]) if "@" in addr]


def _decode(part) -> str:
    """A text part's content whatever its declared charset (unknown or wrong ones fall back to lenient decoding)."""
    payload = part.get_payload(decode=True) or b""
    charset = (part.get_content_charset() or "utf-8").lower()
    charset = _CHARSET_ALIASES.get(charset, charset)
    try:
        return payload.decode(charset)
    except (LookupError, UnicodeDecodeError):
        try:
            return payload.decode("utf-8")
        except UnicodeDecodeError:
            return payload.decode("cp1252", errors="replace")


def strip_text_quotes(text: str) -> str:
    """A reply's own words: cut at "On … wrote:" or "--- Original Message ---", drop lines quoted with ">"."""
    kept = []
    for line in text.splitlines():
        if _QUOTE_HEADER.match(line):
            break
        if line.lstrip().startswith(">"):
            continue
        kept.append(line)
    stripped = "\n".join(kept).strip()
    return stripped or text.strip()


def strip_html_quotes(html: str) -> str:
    """A sanitised HTML reply without its quoted history: top-level blockquotes and the "On … wrote:" line."""
    pieces, depth, start = [], 0, 0
    for tag in _BLOCKQUOTE.finditer(html):
        if tag.group(0).startswith("</"):
            depth = max(depth - 1, 0)
            if depth == 0:
                start = tag.end()
        else:
            if depth == 0:
                pieces.append(html[start:tag.start()])
            depth += 1
    if depth == 0:
        pieces.append(html[start:])
    stripped = "".join(pieces)
    if stripped != html:
        stripped = _HTML_QUOTE_LEAD.sub("", stripped)
    stripped = content.clean_html(_EMPTY_TAGS.sub("", stripped))
    return stripped if content.html_to_text(stripped) else html


def _body(message: EmailMessage, *, is_reply: bool) -> tuple[str, str | None]:
    """(plain text, sanitised HTML or None) of the mail: HTML preferred, else text."""
    html_part = message.get_body(preferencelist=("html",))
    if html_part is not None:
        html = content.clean_html(_decode(html_part))
        return "", strip_html_quotes(html) if is_reply else html
    text_part = message.get_body(preferencelist=("plain",))
    text = _decode(text_part) if text_part is not None else ""
    return (strip_text_quotes(text) if is_reply else text.strip()), None


def _files(message: EmailMessage) -> tuple[list[tuple[str, str, bytes]], list[str]]:
    """(accepted (name, type, bytes) triples, names refused for type or size or count)."""
    accepted, refused = [], []
    for part in _parts(message):
        name = part.get_filename()
        if not name or part.get_content_disposition() == "inline" and part.get_content_maintype() == "image":
            continue  # body parts, and inline images (signatures, logos)
        data = part.get_payload(decode=True) or b""
        try:
            checked_files.check_file(name, data)
        except ValidationError:
            refused.append(name)
            continue
        if len(accepted) >= checked_files.MAX_FILES:
            refused.append(name)
            continue
        accepted.append((name, part.get_content_type(), data))
    return accepted, refused


def _parts(message: EmailMessage):
    """Leaf parts, not descending into attached e-mails (an attached .eml is a file of its own)."""
    if message.is_multipart():
        for sub in message.iter_parts():
            yield from _parts(sub)
    else:
        yield message


def _automatic_reason(message: EmailMessage, sender: str) -> str:
    """Why this mail is not a customer's (an empty string when it is)."""
    auto = _header(message, "Auto-Submitted").lower()
    if auto and auto != "no":
        return f"Ignored: automatic mail (Auto-Submitted: {auto})."
    precedence = _header(message, "Precedence").lower()
    if precedence in _AUTO_PRECEDENCE:
        return f"Ignored: automatic mail (Precedence: {precedence})."
    if _header(message, "X-Autoreply") or _header(message, "X-Autorespond"):
        return "Ignored: automatic reply."
    if message.get_content_type() == "multipart/report" or sender.split("@")[0] in ("mailer-daemon", "postmaster"):
        return "Ignored: delivery report."
    own = mail.own_addresses() | {e.lower() for e in Queue.objects.exclude(email="").values_list("email", flat=True)}
    if sender in own:
        return "Ignored: sent from our own address."
    return ""


# --- Threading ----------------------------------------------------------------------------------


def _answered_ticket(message: EmailMessage, sender: str) -> Ticket | None:
    ids = _MSGID.findall(_header(message, "In-Reply-To") + " " + _header(message, "References"))
    if ids:
        known = (TicketMessage.objects.filter(email_message_id__in=ids).select_related("ticket")
                 .order_by("-created_at", "-id").first())
        if known is not None:
            return known.ticket
        for message_id in reversed(ids):
            ticket = mail.ticket_for_system_id(message_id)
            if ticket is not None:
                return ticket
    tag = mail.TAG_PATTERN.search(_header(message, "Subject"))
    if tag:
        ticket = Ticket.objects.filter(number=int(tag.group(1))).first()
        if ticket is not None and ContactEmail.objects.filter(contact_id=ticket.contact_id, email=sender).exists():
            return ticket
    return None


def _queue_for(message: EmailMessage) -> Queue | None:
    """The active queue whose address the mail was sent to (envelope headers first), else None."""
    addresses = _addresses(message, "Delivered-To", "X-Original-To", "To", "Cc")
    if not addresses:
        return None
    queues = {q.address: q for q in Queue.objects.annotate(address=Lower("email"))
              .filter(is_active=True, address__in=addresses)}
    return next((queues[a] for a in addresses if a in queues), None)


# --- Processing ---------------------------------------------------------------------------------


def process(*, inbound_id: int) -> int | None:
    """Turn a stored e-mail into a ticket or a message on one; the ticket's id (None when ignored or failed).

    Idempotent: a processed row is left alone. A failure is kept in `error` (the row stays unprocessed for a
    person to look at); transient database errors are raised so the task retries.
    """
    with transaction.atomic():
        inbound = InboundEmail.objects.select_for_update().filter(pk=inbound_id).first()
        if inbound is None:
            return None
        if inbound.processed_at is not None:
            return inbound.ticket_id
        try:
            with transaction.atomic():
                ticket, note = _handle(bytes(inbound.raw))
        except (OperationalError, InterfaceError):
            raise
        except Exception as exc:
            log.exception("inbound e-mail %s could not be processed", inbound.pk)
            inbound.error = _describe(exc)[:2000]
            inbound.save(update_fields=["error"])
            return None
        inbound.processed_at = timezone.now()
        inbound.ticket = ticket
        inbound.error = note
        inbound.save(update_fields=["processed_at", "ticket", "error"])
        return ticket.pk if ticket else None


def _describe(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        return "; ".join(f"{k}: {' '.join(v)}" for k, v in exc.message_dict.items()) if hasattr(
            exc, "error_dict") else " ".join(exc.messages)
    return f"{type(exc).__name__}: {exc}"


def _handle(raw: bytes) -> tuple[Ticket | None, str]:
    """(the ticket, "") for a customer's mail; (None, reason) for one that is not."""
    message = BytesParser(policy=policy.default).parsebytes(raw)
    from_header = _header(message, "From")
    name, sender = parseaddr(from_header)
    sender = sender.lower()
    if "@" not in sender:
        raise ValidationError({"email": "The mail has no sender address."})
    reason = _automatic_reason(message, sender)
    if reason:
        return None, reason
    message_id = (_MSGID.findall(_header(message, "Message-ID")) or [""])[0]
    subject = re.sub(r"\s+", " ", _header(message, "Subject")).strip()
    answered = _answered_ticket(message, sender)
    while answered is not None and answered.merged_into_id:
        answered = answered.merged_into
    files, refused = _files(message)
    is_reply = answered is not None and answered.status != TicketStatus.CLOSED
    text, html = _body(message, is_reply=is_reply)
    lines = []
    if answered is not None and not is_reply:
        lines.append(_("This is a follow-up to the closed ticket #%(number)s.") % {"number": answered.number})
    if refused:
        lines.append(_("Attachments not kept (this kind or size of file is not accepted): %(names)s") % {
            "names": ", ".join(refused)})
    if lines:
        text, html = _with_notes(text, html, lines)
    if not text and not html and not files:
        text = _("(The e-mail had no text.)")
    if is_reply:
        add_customer_message(ticket=answered, body=text, body_html=html, channel=TicketChannel.EMAIL,
                             attachments=files, email_message_id=message_id)
        return answered, ""
    queue = _queue_for(message)
    if queue is None and answered is not None and answered.queue.is_active:
        queue = answered.queue
    ticket = open_ticket(
        subject=subject or _("(no subject)"), body=text, body_html=html, channel=TicketChannel.EMAIL,
        queue=queue or default_queue(), email=sender, name=name,
        attachments=files, email_message_id=message_id, notify_customer=True)
    return ticket, ""


def _with_notes(text: str, html: str | None, lines: list[str]) -> tuple[str, str | None]:
    """The body with our notes (follow-up of a closed ticket, refused files) after it."""
    notes = "\n\n".join(lines)
    if html is not None:
        return text, html + content.text_to_html(notes)
    return (text + "\n\n" + notes).strip(), None


def process_pending(*, now=None, limit: int = 100) -> int:
    """Beat: process stored e-mails still waiting after a minute (their task was lost); how many were handled.
    Rows that failed (`error` set) wait for a person."""
    now = now or timezone.now()
    ids = list(InboundEmail.objects.filter(processed_at__isnull=True, error="", received_at__lt=now - timedelta(minutes=1))
               .order_by("received_at", "id").values_list("pk", flat=True)[:limit])
    for inbound_id in ids:
        process(inbound_id=inbound_id)
    return len(ids)

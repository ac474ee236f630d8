"""Writes on tickets: open, reply, note, customer messages, status, assignment, fields, merge, CSAT.

Every function is one transaction; validation errors are keyed by field; the timeline entry, the SLA clock and
the background work (assignment, customer e-mail, CSAT request) follow from the same call.
"""

import re

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, connection, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from contacts.models import Contact, InteractionKind, Source, Tag
from contacts.services import clean_emails, clean_phones, create_contact, find_duplicates, record_interaction
from crm import notifications
from crm.models import Role, Team, TeamKind, User
from support import content, sla
from support.models import (
    AssignmentMode,
    CannedReply,
    CsatResponse,
    MessageKind,
    Queue,
    Ticket,
    TicketChannel,
    TicketMessage,
    TicketPriority,
    TicketStatus,
    TicketTag,
    TicketType,
)

NOTIFY_ASSIGNED = "ticket_assigned"


# --- Rights -------------------------------------------------------------------------------------


def can_work(user: User, ticket: Ticket) -> bool:
    """Change a ticket (reply, note, status, fields): admins, the assignee, the team's agents and managers.
    Sales reps read the tickets of their customers but never change them."""
    if user is None or not user.is_authenticated or not user.is_active:
        return False
    if user.role == Role.ADMIN or ticket.assignee_id == user.pk:
        return True
    if user.role == Role.SUPPORT_AGENT:
        return user.team_id == ticket.team_id
    return user.role == Role.MANAGER and ticket.team_id in user.managed_team_ids()


def _require_work(user: User | None, ticket: Ticket) -> None:
    if user is not None and not can_work(user, ticket):
        raise PermissionDenied(_("You can read this ticket but not change it."))


def workable_filter(user: User):
    """`can_work` as a queryset filter over tickets (None: no restriction, admins)."""
    from django.db.models import Q

    if user.role == Role.ADMIN:
        return None
    condition = Q(assignee_id=user.pk)
    if user.role == Role.SUPPORT_AGENT and user.team_id:
        condition |= Q(team_id=user.team_id)
    if user.role == Role.MANAGER and user.managed_team_ids():
        condition |= Q(team_id__in=sorted(user.managed_team_ids()))
    return condition


def assignable_agents(team: Team):
    """Who can take a ticket of `team`: its active members who work tickets (agents and managers)."""
    return User.objects.filter(team=team, is_active=True, role__in=[Role.SUPPORT_AGENT, Role.MANAGER]).order_by("id")


# --- Helpers ------------------------------------------------------------------------------------


def next_number() -> int:
    """The next ticket number from a PostgreSQL sequence: sequential, unique, never handed out twice."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT nextval('support_ticket_number_seq')")
        return cursor.fetchone()[0]


def default_queue() -> Queue | None:
    return Queue.objects.filter(is_active=True, is_default=True).first() or Queue.objects.filter(
        is_active=True).order_by("id").first()


def _customer_owner(queue: Queue) -> User:
    """Who owns a contact created from an inbound ticket: a manager of the queue's team, else an admin."""
    owner = queue.team.managers.filter(is_active=True).order_by("id").first()
    owner = owner or User.objects.filter(role=Role.ADMIN, is_active=True).order_by("id").first()
    if owner is None:
        raise ValidationError({"queue": _("The queue's team has no manager and there is no admin to own "
                                          "new customers.")})
    return owner


def find_or_create_customer(*, queue: Queue, email: str = "", phone: str = "", name: str = "",
                            source: str = Source.MANUAL) -> Contact:
    """The contact with this email or phone (anywhere in the CRM), or a new one owned for the queue's team."""
    errors = {}
    try:
        emails = clean_emails([email]) if email else []
    except ValidationError as exc:
        errors["email"] = exc.message_dict["emails"]
        emails = []
    try:
        phones = clean_phones([phone]) if phone else []
    except ValidationError as exc:
        errors["phone"] = exc.message_dict["phones"]
        phones = []
    if errors:
        raise ValidationError(errors)
    if not emails and not phones:
        raise ValidationError({"email": _("Give the customer's email address or phone number.")})
    if emails:
        match = find_duplicates(emails=emails).order_by("id").first()
        if match is not None:
            return match
    match = find_duplicates(phones=[n for n, _k in phones]).order_by("id").first()
    if match is not None:
        return match
    first, _sep, last = (name or "").strip().partition(" ")
    owner = _customer_owner(queue)
    return create_contact(by=owner, owner=owner, emails=emails, phones=phones, first_name=first[:100],
                          last_name=last[:100], source=source, lifecycle_stage="customer",
                          allow_duplicate=True)


def _timeline(ticket: Ticket, *, by: User | None, subject: str, body: str, direction: str = "") -> None:
    record_interaction(kind=InteractionKind.TICKET_EVENT, contact=ticket.contact, by=by, direction=direction,
                       subject=subject[:200], body=body, link_type="ticket", link_id=ticket.pk,
                       link_label=str(ticket))


def _message_html(*, body: str = "", body_html: str | None = None, markdown: bool = False) -> tuple[str, str]:
    if body_html is not None:
        html = content.clean_html(body_html)
    elif markdown:
        html = content.markdown_to_html(body)
    else:
        html = content.text_to_html(body)
    return html, content.html_to_text(html)


def _add_message(*, ticket: Ticket, kind: str, author: User | None = None, author_contact: Contact | None = None,
                 channel: str, html: str, text: str, attachments=(), email_message_id: str = "",
                 now=None) -> TicketMessage:
    from support.attachments import save_attachments

    message = TicketMessage.objects.create(
        ticket=ticket, kind=kind, author=author, author_contact=author_contact, channel=channel, body_html=html,
        body_text=text, email_message_id=email_message_id[:300], created_at=now or timezone.now())
    save_attachments(message=message, files=attachments)
    return message


def _enqueue(task_name: str, **kwargs) -> None:
    """Send a support task after commit (imported late: tasks import this module)."""
    from support import tasks

    task = getattr(tasks, task_name)
    transaction.on_commit(lambda: task.delay(**kwargs))


def _set_tags(ticket: Ticket, tags) -> None:
    wanted = {t.pk if isinstance(t, Tag) else int(t) for t in tags}
    TicketTag.objects.filter(ticket=ticket).exclude(tag_id__in=wanted).delete()
    existing = set(TicketTag.objects.filter(ticket=ticket).values_list("tag_id", flat=True))
    TicketTag.objects.bulk_create([TicketTag(ticket=ticket, tag_id=pk) for pk in wanted - existing])


def _check_links(*, contact: Contact, order=None, deal=None) -> dict:
    errors = {}
    if order is not None and order.contact_id != contact.pk:
        errors["order"] = _("The order belongs to another customer.")
    if deal is not None and deal.primary_contact_id != contact.pk and not deal.contact_links.filter(
            contact_id=contact.pk).exists():
        errors["deal"] = _("The deal belongs to another customer.")
    return errors


# --- Opening ------------------------------------------------------------------------------------


@transaction.atomic
def open_ticket(
    *, subject: str, body: str = "", body_html: str | None = None, channel: str = TicketChannel.EMAIL,
    type: str = TicketType.INQUIRY, priority: str = TicketPriority.NORMAL, queue: Queue | None = None,
    contact: Contact | None = None, email: str = "", phone: str = "", name: str = "", by: User | None = None,
    order=None, deal=None, tags=(), attachments=(), email_message_id: str = "", notify_customer: bool = False,
    assignee: User | None = None, now=None,
) -> Ticket:
    """Open a ticket for a customer (matched or created by email/phone when no contact is given).

    `by` is the agent who typed it in (phone, chat), None when the customer wrote (web form, e-mail). The
    customer's words are the first message; the SLA clock starts; a queue that assigns automatically gets a
    worker to pick the agent after commit.
    """
    now = now or timezone.now()
    subject = (subject or "").strip()
    errors = {}
    if not subject:
        errors["subject"] = _("Give the ticket a subject.")
    for field, value, choices in (("type", type, TicketType), ("priority", priority, TicketPriority),
                                  ("channel", channel, TicketChannel)):
        if value not in choices.values:
            errors[field] = _("Choose one of the offered values.")
    queue = queue or default_queue()
    if queue is None:
        errors["queue"] = _("There is no support queue yet: an admin must create one.")
    elif not queue.is_active:
        errors["queue"] = _("This queue is closed.")
    if by is not None and contact is not None and not Contact.objects.visible_to(by).filter(pk=contact.pk).exists():
        errors["contact"] = _("Choose a contact you can see.")
    if errors:
        raise ValidationError(errors)
    if contact is None:
        source = Source.WEB_FORM if channel == TicketChannel.WEB_FORM else Source.MANUAL
        contact = find_or_create_customer(queue=queue, email=email, phone=phone, name=name, source=source)
    errors = _check_links(contact=contact, order=order, deal=deal)
    if assignee is not None and assignee.pk not in set(assignable_agents(queue.team).values_list("pk", flat=True)):
        errors["assignee"] = _("Choose an active agent of the queue's team.")
    if errors:
        raise ValidationError(errors)
    html, text = _message_html(body=body, body_html=body_html)
    ticket = Ticket(
        number=next_number(), subject=subject[:250], type=type, priority=priority, channel=channel, contact=contact,
        company=contact.company, order=order, deal=deal, queue=queue, team=queue.team, assignee=assignee,
        created_by=by, status=TicketStatus.OPEN if assignee else TicketStatus.NEW,
        public_token=Ticket.new_public_token(), created_at=now, last_activity_at=now,
        last_customer_message_at=None if by else now,
    )
    sla.start(ticket, now=now)
    ticket.save()
    if tags:
        _set_tags(ticket, tags)
    if html or attachments:
        _add_message(ticket=ticket, kind=MessageKind.CUSTOMER, author=by, author_contact=contact, channel=channel,
                     html=html, text=text, attachments=attachments, email_message_id=email_message_id, now=now)
    _timeline(ticket, by=by, direction="in", subject=_("Ticket #%(number)s opened: %(subject)s") % {
        "number": ticket.number, "subject": ticket.subject}, body=text)
    if assignee is not None and by is not None and assignee.pk != by.pk:
        _notify_assignee(ticket, by=by)
    elif assignee is None and queue.assignment_mode != AssignmentMode.MANUAL:
        _enqueue("auto_assign_ticket", ticket_id=ticket.pk)
    if notify_customer:
        _enqueue("send_ticket_confirmation", ticket_id=ticket.pk)
    return ticket


# --- Conversation -------------------------------------------------------------------------------


@transaction.atomic
def add_reply(*, ticket: Ticket, by: User, body: str, internal: bool = False, attachments=(),
              status: str | None = None, notify_customer: bool = True, now=None) -> TicketMessage:
    """An agent's public reply (e-mailed to the customer; the first one stops the first-response clock) or
    internal note (never leaves the desk). `status` changes the ticket in the same step ("reply and set
    waiting for the customer"). `notify_customer=False` records a reply without e-mailing it (demo data, a reply
    already given by phone)."""
    _require_work(by, ticket)
    now = now or timezone.now()
    if not (body or "").strip() and not attachments:
        raise ValidationError({"body": _("Write a message.")})
    if status is not None and status not in TicketStatus.values:
        raise ValidationError({"status": _("Choose one of the offered values.")})
    ticket = Ticket.objects.select_for_update().get(pk=ticket.pk)
    if ticket.status == TicketStatus.CLOSED:
        raise ValidationError({"body": _("This ticket is closed; open a new ticket for the customer instead.")})
    html, text = _message_html(body=body, markdown=True)
    kind = MessageKind.NOTE if internal else MessageKind.REPLY
    message = _add_message(ticket=ticket, kind=kind, author=by, channel=TicketChannel.EMAIL, html=html, text=text,
                           attachments=attachments, now=now)
    fields = ["last_activity_at", "updated_at"]
    ticket.last_activity_at = now
    if not internal:
        if ticket.first_responded_at is None:
            sla.record_first_response(ticket, now=now)
            fields += sla.CLOCK_FIELDS
        if ticket.status == TicketStatus.NEW:
            ticket.status = TicketStatus.OPEN
            fields.append("status")
        if ticket.assignee_id is None and by.role != Role.ADMIN and by.team_id == ticket.team_id:
            ticket.assignee = by  # whoever answers an unassigned ticket takes it
            fields.append("assignee")
    ticket.save(update_fields=sorted(set(fields)))
    label = _("Internal note on ticket #%(number)s") if internal else _("Reply on ticket #%(number)s")
    _timeline(ticket, by=by, direction="" if internal else "out", subject=label % {"number": ticket.number}, body=text)
    if not internal and notify_customer:
        _enqueue("send_ticket_reply", message_id=message.pk)
    if status is not None and status != ticket.status:
        change_status(ticket=ticket, by=by, status=status, notify_customer=notify_customer, now=now)
    return message


@transaction.atomic
def add_customer_message(*, ticket: Ticket, body: str = "", body_html: str | None = None,
                         channel: str = TicketChannel.EMAIL, attachments=(), email_message_id: str = "",
                         now=None) -> TicketMessage:
    """The customer wrote again (a mail reply, the follow page, chat): a ticket waiting for them, or solved,
    opens again and its clock runs. A closed ticket takes no more messages (the caller opens a new one)."""
    now = now or timezone.now()
    ticket = Ticket.objects.select_for_update().get(pk=ticket.pk)
    if ticket.status == TicketStatus.CLOSED:
        raise ValidationError({"body": _("This ticket is closed.")})
    html, text = _message_html(body=body, body_html=body_html)
    if not html and not attachments:
        raise ValidationError({"body": _("Write a message.")})
    message = _add_message(ticket=ticket, kind=MessageKind.CUSTOMER, author_contact=ticket.contact, channel=channel,
                           html=html, text=text, attachments=attachments, email_message_id=email_message_id, now=now)
    fields = ["last_activity_at", "last_customer_message_at", "updated_at"]
    ticket.last_activity_at = ticket.last_customer_message_at = now
    if ticket.status in (TicketStatus.PENDING_CUSTOMER, TicketStatus.SOLVED):
        if ticket.status == TicketStatus.SOLVED:
            ticket.reopened_count += 1
            ticket.solved_at = None
            fields += ["reopened_count", "solved_at"]
        ticket.status = TicketStatus.OPEN
        sla.sync_with_status(ticket, now=now)
        fields += ["status", *sla.CLOCK_FIELDS]
    ticket.save(update_fields=sorted(set(fields)))
    _timeline(ticket, by=None, direction="in", body=text,
              subject=_("Customer wrote on ticket #%(number)s") % {"number": ticket.number})
    if ticket.assignee_id:
        notifications.notify(
            recipient=ticket.assignee, kind="ticket_reply", url=ticket_url(ticket),
            title=_("%(customer)s replied on #%(number)s") % {"customer": ticket.contact, "number": ticket.number})
    return message


# --- Status, assignment, fields -----------------------------------------------------------------


@transaction.atomic
def change_status(*, ticket: Ticket, by: User | None, status: str, notify_customer: bool = True, now=None) -> Ticket:
    """Move a ticket to `status`: the SLA clock pauses while waiting for the customer or on hold and stops when
    solved; solving sends the customer the CSAT link; a solved ticket may open again; closed is final."""
    _require_work(by, ticket)
    if status not in TicketStatus.values:
        raise ValidationError({"status": _("Choose one of the offered values.")})
    now = now or timezone.now()
    ticket = Ticket.objects.select_for_update().get(pk=ticket.pk)
    previous = ticket.status
    if previous == status:
        return ticket
    if previous == TicketStatus.CLOSED:
        raise ValidationError({"status": _("A closed ticket cannot change; open a new ticket instead.")})
    if status == TicketStatus.NEW:
        raise ValidationError({"status": _("A ticket cannot go back to new.")})
    fields = ["status", "last_activity_at", "updated_at", *sla.CLOCK_FIELDS]
    ticket.status, ticket.last_activity_at = status, now
    if previous == TicketStatus.SOLVED and status != TicketStatus.CLOSED:
        ticket.reopened_count += 1
        ticket.solved_at = None
        fields += ["reopened_count", "solved_at"]
    if status == TicketStatus.SOLVED:
        ticket.solved_at = now
        fields.append("solved_at")
    if status == TicketStatus.CLOSED:
        ticket.closed_at = now
        ticket.solved_at = ticket.solved_at or now
        fields += ["closed_at", "solved_at"]
    sla.sync_with_status(ticket, now=now)
    ticket.save(update_fields=sorted(set(fields)))
    _timeline(ticket, by=by, body="", subject=_("Ticket #%(number)s: %(from)s → %(to)s") % {
        "number": ticket.number, "from": TicketStatus(previous).label, "to": TicketStatus(status).label})
    if status == TicketStatus.SOLVED and notify_customer and not CsatResponse.objects.filter(ticket=ticket).exists():
        _enqueue("send_csat_request", ticket_id=ticket.pk)
    return ticket


def ticket_url(ticket: Ticket) -> str:
    from django.urls import NoReverseMatch, reverse

    try:
        return reverse("support:ticket", args=[ticket.pk])
    except NoReverseMatch:
        return ""


def _notify_assignee(ticket: Ticket, *, by: User | None) -> None:
    assignee = ticket.assignee
    if assignee is None or (by is not None and by.pk == assignee.pk):
        return
    with translation.override(notifications.language_of(assignee)):
        title = _("Ticket #%(number)s was assigned to you: %(subject)s") % {
            "number": ticket.number, "subject": ticket.subject}
    notifications.notify(recipient=assignee, kind=NOTIFY_ASSIGNED, title=title, url=ticket_url(ticket))


@transaction.atomic
def assign_ticket(*, ticket: Ticket, by: User | None, assignee: User | None, now=None) -> Ticket:
    """Give a ticket to an active agent (or manager) of its team, or take it back (None). `by=None` is the
    automatic assignment."""
    _require_work(by, ticket)
    ticket = Ticket.objects.select_for_update().get(pk=ticket.pk)
    if assignee is not None and not assignable_agents(ticket.team).filter(pk=assignee.pk).exists():
        raise ValidationError({"assignee": _("Choose an active agent of the ticket's team.")})
    if ticket.assignee_id == (assignee.pk if assignee else None):
        return ticket
    ticket.assignee = assignee
    ticket.last_activity_at = now or timezone.now()
    fields = ["assignee", "last_activity_at", "updated_at"]
    if assignee is not None and ticket.status == TicketStatus.NEW:
        ticket.status = TicketStatus.OPEN
        fields.append("status")
    ticket.save(update_fields=fields)
    if assignee is not None:
        _notify_assignee(ticket, by=by)
    return ticket


#: Fields `update_ticket` changes, besides tags.
EDITABLE_FIELDS = ("subject", "type", "priority", "queue", "order", "deal")


@transaction.atomic
def update_ticket(*, ticket: Ticket, by: User, tags=None, now=None, **fields) -> Ticket:
    """Change a ticket's subject, type, priority, queue (and so team), linked order or deal, or tags.

    A new priority, type or queue picks the SLA policy again, keeping the time already spent; moving to another
    team's queue drops an assignee who is not in that team.
    """
    _require_work(by, ticket)
    unknown = set(fields) - set(EDITABLE_FIELDS)
    if unknown:
        raise TypeError(f"unknown ticket fields: {sorted(unknown)}")
    now = now or timezone.now()
    ticket = Ticket.objects.select_for_update().get(pk=ticket.pk)
    errors = {}
    if "subject" in fields and not (fields["subject"] or "").strip():
        errors["subject"] = _("Give the ticket a subject.")
    for field, choices in (("type", TicketType), ("priority", TicketPriority)):
        if field in fields and fields[field] not in choices.values:
            errors[field] = _("Choose one of the offered values.")
    queue = fields.get("queue")
    if queue is not None and not queue.is_active:
        errors["queue"] = _("This queue is closed.")
    errors.update(_check_links(contact=ticket.contact, order=fields.get("order"), deal=fields.get("deal")))
    if errors:
        raise ValidationError(errors)
    changed = []
    for field, value in fields.items():
        value = value.strip()[:250] if field == "subject" else value
        current = getattr(ticket, f"{field}_id") if field in ("queue", "order", "deal") else getattr(ticket, field)
        new = value.pk if field in ("queue", "order", "deal") and value is not None else value
        if current != new:
            setattr(ticket, field, value)
            changed.append(field)
    if "queue" in changed:
        ticket.team = ticket.queue.team
        changed.append("team")
        if ticket.assignee_id and not assignable_agents(ticket.team).filter(pk=ticket.assignee_id).exists():
            ticket.assignee = None
            changed.append("assignee")
    if {"priority", "type", "queue"} & set(changed):
        sla.reapply_policy(ticket, now=now)
        changed += sla.CLOCK_FIELDS
    if changed:
        ticket.last_activity_at = now
        ticket.save(update_fields=sorted({*changed, "last_activity_at", "updated_at"}))
    if tags is not None:
        _set_tags(ticket, tags)
    return ticket


@transaction.atomic
def merge_tickets(*, by: User, source: Ticket, target: Ticket, now=None) -> Ticket:
    """Fold a duplicate ticket into another of the same customer: its messages move over, it closes and points
    at the ticket it went into."""
    _require_work(by, source)
    _require_work(by, target)
    now = now or timezone.now()
    if source.pk == target.pk:
        raise ValidationError({"target": _("A ticket cannot be merged into itself.")})
    locked = {t.pk: t for t in Ticket.objects.select_for_update().filter(pk__in=[source.pk, target.pk]).order_by("pk")}
    source, target = locked[source.pk], locked[target.pk]
    if source.contact_id != target.contact_id:
        raise ValidationError({"target": _("Only tickets of the same customer can be merged.")})
    if source.status == TicketStatus.CLOSED or target.status == TicketStatus.CLOSED:
        raise ValidationError({"target": _("A closed ticket cannot be merged.")})
    moved = TicketMessage.objects.filter(ticket=source).update(ticket=target)
    html, text = _message_html(body=_("Ticket #%(number)s (%(subject)s) was merged into this one; %(count)s "
                                      "message(s) moved here.") % {
        "number": source.number, "subject": source.subject, "count": moved})
    _add_message(ticket=target, kind=MessageKind.NOTE, author=by, channel=TicketChannel.EMAIL, html=html, text=text,
                  now=now)
    if source.first_responded_at and not target.first_responded_at:
        sla.record_first_response(target, now=source.first_responded_at)
    target.last_activity_at = now
    target.save(update_fields=sorted({"last_activity_at", "updated_at", *sla.CLOCK_FIELDS}))
    source.merged_into = target
    source.save(update_fields=["merged_into", "updated_at"])
    change_status(ticket=source, by=by, status=TicketStatus.CLOSED, now=now)
    _timeline(target, by=by, body="", subject=_("Ticket #%(source)s merged into #%(target)s") % {
        "source": source.number, "target": target.number})
    return target


# --- CSAT ---------------------------------------------------------------------------------------


@transaction.atomic
def record_csat(*, ticket: Ticket, rating, comment: str = "", now=None) -> CsatResponse:
    """The customer's one rating of a solved (or closed) ticket; a second answer is refused."""
    try:
        rating = int(rating)
    except (TypeError, ValueError):
        rating = 0
    if not 1 <= rating <= 5:
        raise ValidationError({"rating": _("Choose a rating from 1 to 5.")})
    if ticket.status not in (TicketStatus.SOLVED, TicketStatus.CLOSED):
        raise ValidationError({"rating": _("This ticket is not solved yet.")})
    answer = CsatResponse(ticket=ticket, rating=rating, comment=(comment or "").strip()[:2000], team=ticket.team,
                          assignee=ticket.assignee, created_at=now or timezone.now())
    try:
        with transaction.atomic():
            answer.save()
    except IntegrityError:
        raise ValidationError({"rating": _("This ticket has already been rated. Thank you!")}) from None
    _timeline(ticket, by=None, direction="in", body=answer.comment,
              subject=_("Rated ticket #%(number)s: %(rating)s/5") % {"number": ticket.number, "rating": rating})
    return answer


# --- Canned replies -----------------------------------------------------------------------------

_PLACEHOLDER = re.compile(r"{{\s*(contact|ticket|agent)\.(\w+)\s*}}")


def render_canned_reply(reply: CannedReply, *, ticket: Ticket, agent: User) -> str:
    """The reply's text with `{{ contact.first_name }}`, `{{ ticket.number }}`, `{{ agent.full_name }}` … filled
    in (a fixed set of placeholders, not a template language; unknown ones are left as written)."""
    contact = ticket.contact
    values = {
        ("contact", "first_name"): contact.first_name or str(contact),
        ("contact", "last_name"): contact.last_name,
        ("contact", "full_name"): contact.full_name or str(contact),
        ("contact", "email"): contact.email,
        ("ticket", "number"): str(ticket.number),
        ("ticket", "subject"): ticket.subject,
        ("agent", "first_name"): agent.get_short_name(),
        ("agent", "full_name"): agent.full_name or agent.email,
    }
    return _PLACEHOLDER.sub(lambda m: values.get((m.group(1), m.group(2)), m.group(0)), reply.body)


@transaction.atomic
def save_canned_reply(*, by: User, title: str, body: str, shared: bool = False,
                      reply: CannedReply | None = None) -> CannedReply:
    """Create or change a canned reply: one's own, or (managers and admins) shared with one's team."""
    if reply is not None and reply.owner_id != by.pk and by.role != Role.ADMIN and not (
            by.role == Role.MANAGER and reply.team_id in by.managed_team_ids()):
        raise PermissionDenied(_("Only its owner, the team's manager or an admin can change this reply."))
    errors = {}
    if not (title or "").strip():
        errors["title"] = _("Give the reply a title.")
    if not (body or "").strip():
        errors["body"] = _("Write the reply's text.")
    if shared and by.team_id is None and (reply is None or reply.team_id is None):
        errors["shared"] = _("You are in no team to share it with.")
    if errors:
        raise ValidationError(errors)
    reply = reply or CannedReply(owner=by)
    reply.title, reply.body, reply.shared = title.strip()[:100], body.strip(), bool(shared)
    reply.team = (reply.team or by.team) if shared else None
    reply.save()
    return reply


def delete_canned_reply(*, by: User, reply: CannedReply) -> None:
    if reply.owner_id != by.pk and by.role != Role.ADMIN and not (
            by.role == Role.MANAGER and reply.team_id in by.managed_team_ids()):
        raise PermissionDenied(_("Only its owner, the team's manager or an admin can delete this reply."))
    reply.delete()


def support_teams():
    return Team.objects.filter(kind=TeamKind.SUPPORT)

"""The support desk: queues, tickets and their messages, SLA policies and the business calendar, canned replies,
CSAT answers and SLA events.

Writes go through `support.services` (and `support.sla`, `support.inbound`); reads start from `visible_to`.

A ticket is not an owned record in the sales sense: it belongs to its queue's team (`team`, copied from the queue
so visibility is one indexed column) and may have an `assignee`. Inbound items therefore never lack an owner
(reliability.md, "No orphans"): they land in a queue, and the queue belongs to a support team.
"""

import secrets
from datetime import time

import pghistory
from django.conf import settings
from django.contrib.postgres.indexes import GinIndex, OpClass
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower, Upper
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from contacts.models import Company, Contact, Tag
from crm.models import Role, Team

#: Statuses in which a ticket is still being worked.
OPEN_STATUSES = ("new", "open", "pending_customer", "on_hold")
#: Statuses in which the SLA clocks stand still.
PAUSED_STATUSES = ("pending_customer", "on_hold")
_OPEN = Q(status__in=OPEN_STATUSES)


class AssignmentMode(models.TextChoices):
    MANUAL = "manual", _("Manual")
    ROUND_ROBIN = "round_robin", _("Round-robin")
    LEAST_OPEN = "least_open", _("Fewest open tickets")


class TicketType(models.TextChoices):
    INQUIRY = "inquiry", _("Inquiry")
    COMPLAINT = "complaint", _("Complaint")
    FEEDBACK = "feedback", _("Feedback")
    REQUEST = "request", _("Request")
    INCIDENT = "incident", _("Incident")


class TicketPriority(models.TextChoices):
    LOW = "low", _("Low")
    NORMAL = "normal", _("Normal")
    HIGH = "high", _("High")
    URGENT = "urgent", _("Urgent")


class TicketStatus(models.TextChoices):
    NEW = "new", _("New")
    OPEN = "open", _("Open")
    PENDING_CUSTOMER = "pending_customer", _("Waiting for the customer")
    ON_HOLD = "on_hold", _("On hold")
    SOLVED = "solved", _("Solved")
    CLOSED = "closed", _("Closed")


class TicketChannel(models.TextChoices):
    EMAIL = "email", _("Email")
    WEB_FORM = "web_form", _("Web form")
    PHONE = "phone", _("Phone")
    SOCIAL = "social", _("Social")
    CHAT = "chat", _("Chat")
    API = "api", _("API")


class SlaState(models.TextChoices):
    """Where a ticket's SLA stands, kept on the row so the inbox can filter and count without arithmetic."""

    NONE = "none", _("No SLA")
    OK = "ok", _("On track")
    PAUSED = "paused", _("Paused")
    AT_RISK = "at_risk", _("At risk")
    BREACHED = "breached", _("Breached")
    MET = "met", _("Met")


class SlaClock(models.TextChoices):
    FIRST_RESPONSE = "first_response", _("First response")
    RESOLUTION = "resolution", _("Resolution")


class SlaEventKind(models.TextChoices):
    AT_RISK = "at_risk", _("At risk")
    BREACHED = "breached", _("Breached")


# --- Business calendar and SLA policies ---------------------------------------------------------


def _default_working_days() -> list[int]:
    return [6, 0, 1, 2, 3]  # Python weekdays: Sunday to Thursday (Friday and Saturday off in Bangladesh)


@pghistory.track(pghistory.InsertEvent(), pghistory.UpdateEvent(condition=pghistory.AnyChange(exclude_auto=True)))
class SupportSettings(models.Model):
    """The desk's settings, one row (id=1): the working week SLA clocks count in, and when solved tickets close."""

    time_zone = models.CharField(_("time zone"), max_length=64, default="Asia/Dhaka")
    #: Python weekday numbers (Monday = 0 … Sunday = 6) on which the desk works.
    working_days = models.JSONField(_("working days"), default=_default_working_days)
    day_starts = models.TimeField(_("day starts"), default=time(9, 0))
    day_ends = models.TimeField(_("day ends"), default=time(18, 0))
    auto_close_days = models.PositiveSmallIntegerField(
        _("close solved tickets after (days)"), default=7, validators=[MinValueValidator(1), MaxValueValidator(90)],
        help_text=_("A solved ticket the customer does not answer within this many days is closed."))
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("support settings")
        verbose_name_plural = _("support settings")
        constraints = [
            models.CheckConstraint(condition=Q(id=1), name="support_settings_singleton"),
            models.CheckConstraint(condition=Q(day_ends__gt=models.F("day_starts")), name="support_settings_day_order"),
        ]

    def __str__(self):
        return str(_("Support settings"))

    @classmethod
    def load(cls) -> "SupportSettings":
        obj = cls.objects.filter(pk=1).first()
        if obj is None:
            obj, _created = cls.objects.get_or_create(pk=1)
        return obj


@pghistory.track()
class Holiday(models.Model):
    """A day the desk does not work (Eid, Pohela Boishakh, Victory Day…): SLA clocks skip it."""

    date = models.DateField(_("date"), unique=True)
    name = models.CharField(_("name"), max_length=100)

    class Meta:
        verbose_name = _("holiday")
        verbose_name_plural = _("holidays")
        ordering = ["date"]

    def __str__(self):
        return f"{self.date:%Y-%m-%d} {self.name}"


@pghistory.track(pghistory.InsertEvent(), pghistory.UpdateEvent(condition=pghistory.AnyChange(exclude_auto=True)),
                 pghistory.DeleteEvent())
class SlaPolicy(models.Model):
    """Targets in business minutes for tickets of one priority, optionally only in one queue and/or of one type.

    The most specific active policy wins: queue and type, then queue, then type, then priority alone.
    """

    name = models.CharField(_("name"), max_length=100)
    priority = models.CharField(_("priority"), max_length=10, choices=TicketPriority.choices)
    queue = models.ForeignKey("Queue", verbose_name=_("queue"), null=True, blank=True, on_delete=models.CASCADE,
                              related_name="sla_policies")
    ticket_type = models.CharField(_("ticket type"), max_length=10, choices=TicketType.choices, blank=True, default="")
    first_response_minutes = models.PositiveIntegerField(
        _("first response within (business minutes)"), validators=[MinValueValidator(1)])
    resolution_minutes = models.PositiveIntegerField(
        _("resolution within (business minutes)"), validators=[MinValueValidator(1)])
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("SLA policy")
        verbose_name_plural = _("SLA policies")
        ordering = ["priority", "name"]
        constraints = [
            models.UniqueConstraint(
                "priority", models.F("queue"), "ticket_type", name="support_slapolicy_unique_scope",
                condition=Q(is_active=True), nulls_distinct=False,
                violation_error_message=_("An active policy already covers this priority, queue and type."),
            ),
            models.CheckConstraint(condition=Q(resolution_minutes__gte=models.F("first_response_minutes")),
                                   name="support_slapolicy_resolution_after_response",
                                   violation_error_message=_("Resolution cannot come before the first response.")),
        ]

    def __str__(self):
        return self.name


# --- Queues -------------------------------------------------------------------------------------


def team_ids_of(user, *, own: str = "any") -> list[int]:
    """The teams a (non-admin) user works in: those they manage, and their own team — for any role
    (`own="any"`: queues and shared canned replies they use) or only as a support agent (`own="agent"`: the
    queues whose tickets they serve)."""
    teams = set(user.managed_team_ids()) if user.role == Role.MANAGER else set()
    if user.team_id and (own == "any" or user.role == Role.SUPPORT_AGENT):
        teams.add(user.team_id)
    return sorted(teams)


class QueueQuerySet(models.QuerySet):
    def visible_to(self, user):
        """Queues of the user's own team and of the teams they manage (admins: all)."""
        if user is None or not user.is_authenticated or not user.is_active:
            return self.none()
        if user.role == Role.ADMIN:
            return self.all()
        return self.filter(team_id__in=team_ids_of(user))


@pghistory.track(pghistory.InsertEvent(), pghistory.UpdateEvent(condition=pghistory.AnyChange(
    exclude=["last_assigned", "updated_at"])), pghistory.DeleteEvent())
class Queue(models.Model):
    """Where tickets wait: belongs to a support team, with a way of assigning new tickets to its agents."""

    name = models.CharField(_("name"), max_length=100)
    team = models.ForeignKey(Team, verbose_name=_("team"), on_delete=models.PROTECT, related_name="queues")
    assignment_mode = models.CharField(_("assignment"), max_length=12, choices=AssignmentMode.choices,
                                       default=AssignmentMode.MANUAL)
    #: The inbound address customers write to (e.g. billing@shop.com.bd); mail to it lands in this queue.
    email = models.EmailField(_("inbound e-mail address"), blank=True, default="")
    is_default = models.BooleanField(_("default queue"), default=False,
                                     help_text=_("Web form and e-mail that name no queue land here."))
    is_active = models.BooleanField(_("active"), default=True)
    #: Round-robin's pointer: the agent who got the last ticket.
    last_assigned = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                      related_name="+", editable=False)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    objects = QueueQuerySet.as_manager()

    class Meta:
        verbose_name = _("queue")
        verbose_name_plural = _("queues")
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(Lower("name"), name="support_queue_name_ci_unique",
                                    violation_error_message=_("A queue with this name already exists.")),
            models.UniqueConstraint(Lower("email"), name="support_queue_email_unique", condition=~Q(email=""),
                                    violation_error_message=_("Another queue already receives this address.")),
            models.UniqueConstraint(fields=["is_default"], name="support_queue_one_default", condition=Q(is_default=True)),
        ]

    def __str__(self):
        return self.name


# --- Tickets ------------------------------------------------------------------------------------


class TicketQuerySet(models.QuerySet):
    def open(self):
        return self.filter(_OPEN)

    def served_by(self, user):
        """Tickets `user` works as support: their team's queues, the teams they manage, and those assigned to them.

        This is also what widens an agent's view of contacts, companies, orders and deals ("linked" records).
        """
        if user is None or not user.is_authenticated or not user.is_active:
            return self.none()
        if user.role == Role.ADMIN:
            return self.all()
        teams = team_ids_of(user, own="agent")
        condition = Q(assignee_id=user.pk)
        if teams:
            condition |= Q(team_id=teams[0]) if len(teams) == 1 else Q(team_id__in=teams)
        return self.filter(condition)

    def visible_to(self, user):
        """What `user` may read: tickets they serve, and (sales reps and managers, read-only) tickets of the
        contacts they can see."""
        if user is None or not user.is_authenticated or not user.is_active:
            return self.none()
        if user.role in (Role.ADMIN, Role.SUPPORT_AGENT):
            return self.served_by(user)
        served = self.served_by(user) if user.role == Role.MANAGER else self.none()
        customers = Contact.objects.visible_to(user).values("pk")
        if user.role == Role.MANAGER:
            return self.filter(Q(pk__in=served.values("pk")) | Q(contact_id__in=customers))
        return self.filter(contact_id__in=customers)


@pghistory.track(
    pghistory.InsertEvent(),
    pghistory.UpdateEvent(condition=pghistory.AnyChange(exclude=[
        "updated_at", "last_activity_at", "sla_state", "first_response_risk_at", "resolution_risk_at",
        "sla_due_at"])),
    pghistory.DeleteEvent(),
)
class Ticket(models.Model):
    """A customer's inquiry, complaint, feedback, request or incident, worked in a queue against an SLA."""

    number = models.PositiveIntegerField(_("number"), unique=True, editable=False)
    subject = models.CharField(_("subject"), max_length=250)
    type = models.CharField(_("type"), max_length=10, choices=TicketType.choices, default=TicketType.INQUIRY)
    priority = models.CharField(_("priority"), max_length=10, choices=TicketPriority.choices,
                                default=TicketPriority.NORMAL)
    status = models.CharField(_("status"), max_length=20, choices=TicketStatus.choices, default=TicketStatus.NEW)
    channel = models.CharField(_("channel"), max_length=10, choices=TicketChannel.choices, default=TicketChannel.EMAIL)
    contact = models.ForeignKey(Contact, verbose_name=_("contact"), on_delete=models.CASCADE, related_name="tickets")
    company = models.ForeignKey(Company, verbose_name=_("company"), null=True, blank=True, on_delete=models.SET_NULL,
                                related_name="tickets")
    order = models.ForeignKey("sales.Order", verbose_name=_("order"), null=True, blank=True,
                              on_delete=models.SET_NULL, related_name="tickets")
    deal = models.ForeignKey("sales.Deal", verbose_name=_("deal"), null=True, blank=True, on_delete=models.SET_NULL,
                             related_name="tickets")
    queue = models.ForeignKey(Queue, verbose_name=_("queue"), on_delete=models.PROTECT, related_name="tickets")
    #: The queue's team, copied so visibility is one indexed column.
    team = models.ForeignKey(Team, verbose_name=_("team"), on_delete=models.PROTECT, related_name="+")
    assignee = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("assignee"), null=True, blank=True,
                                 on_delete=models.SET_NULL, related_name="assigned_tickets")
    tags = models.ManyToManyField(Tag, through="TicketTag", related_name="tickets", blank=True, verbose_name=_("tags"))
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+", editable=False)

    # SLA: the policy, the clock (business seconds spent while running) and the due times it gives.
    sla_policy = models.ForeignKey(SlaPolicy, verbose_name=_("SLA policy"), null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="tickets")
    #: Business seconds the clock ran before `sla_running_since` (pauses stop it; resuming restarts it).
    sla_elapsed_seconds = models.PositiveIntegerField(default=0, editable=False)
    sla_running_since = models.DateTimeField(null=True, blank=True, editable=False)
    first_response_due = models.DateTimeField(_("first response due"), null=True, blank=True, editable=False)
    first_response_risk_at = models.DateTimeField(null=True, blank=True, editable=False)
    resolution_due = models.DateTimeField(_("resolution due"), null=True, blank=True, editable=False)
    resolution_risk_at = models.DateTimeField(null=True, blank=True, editable=False)
    #: The next due time of a running clock (first response until answered, then resolution); the inbox sorts on it.
    sla_due_at = models.DateTimeField(_("SLA due"), null=True, blank=True, editable=False)
    sla_state = models.CharField(_("SLA"), max_length=10, choices=SlaState.choices, default=SlaState.NONE,
                                 editable=False)

    first_responded_at = models.DateTimeField(_("first response"), null=True, blank=True, editable=False)
    #: Business seconds from creation to the first public reply (pauses excluded): analytics' response time.
    first_response_seconds = models.PositiveIntegerField(null=True, blank=True, editable=False)
    solved_at = models.DateTimeField(_("solved"), null=True, blank=True, editable=False)
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True, editable=False)
    reopened_count = models.PositiveSmallIntegerField(_("reopened"), default=0, editable=False)
    merged_into = models.ForeignKey("self", verbose_name=_("merged into"), null=True, blank=True,
                                    on_delete=models.SET_NULL, related_name="merged_tickets", editable=False)
    #: When the customer last wrote (auto-close counts days since the ticket was solved without a customer reply).
    last_customer_message_at = models.DateTimeField(null=True, blank=True, editable=False)
    last_activity_at = models.DateTimeField(_("last activity"), default=timezone.now, editable=False)
    #: The customer's link to follow the ticket without signing in (/support/t/<token>/).
    public_token = models.CharField(max_length=43, unique=True, editable=False)
    created_at = models.DateTimeField(_("created"), default=timezone.now, editable=False)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    objects = TicketQuerySet.as_manager()

    class Meta:
        verbose_name = _("ticket")
        verbose_name_plural = _("tickets")
        indexes = [
            # The inbox: a team's or an assignee's open tickets by SLA due (nulls last), and newest first.
            models.Index(fields=["team", "sla_due_at", "id"], name="support_ticket_team_due", condition=_OPEN),
            models.Index(fields=["assignee", "sla_due_at", "id"], name="support_ticket_assignee_due",
                         condition=_OPEN),
            models.Index(fields=["sla_due_at", "id"], name="support_ticket_due", condition=_OPEN),
            models.Index(fields=["team", "-created_at", "-id"], name="support_ticket_team_recent"),
            models.Index(fields=["assignee", "-created_at", "-id"], name="support_ticket_assignee_recent"),
            models.Index(fields=["-created_at", "-id"], name="support_ticket_recent"),
            models.Index(fields=["team", "sla_state"], name="support_ticket_team_sla", condition=_OPEN),
            models.Index(fields=["contact", "-created_at"], name="support_ticket_contact"),
            models.Index(fields=["company"], name="support_ticket_company", condition=Q(company__isnull=False)),
            models.Index(fields=["order"], name="support_ticket_order", condition=Q(order__isnull=False)),
            models.Index(fields=["deal"], name="support_ticket_deal", condition=Q(deal__isnull=False)),
            # The SLA watcher's and auto-close's scans: only rows that can still change.
            models.Index(fields=["first_response_risk_at"], name="support_ticket_fr_watch",
                         condition=_OPEN & Q(first_responded_at__isnull=True, sla_running_since__isnull=False)),
            models.Index(fields=["resolution_risk_at"], name="support_ticket_res_watch",
                         condition=_OPEN & Q(sla_running_since__isnull=False)),
            models.Index(fields=["solved_at"], name="support_ticket_solved", condition=Q(status="solved")),
            # Subject search: `subject__icontains` is `UPPER(subject) LIKE UPPER(…)` on PostgreSQL.
            GinIndex(OpClass(Upper("subject"), name="gin_trgm_ops"), name="support_ticket_subject_trgm"),
        ]
        constraints = [
            models.CheckConstraint(condition=~Q(merged_into=models.F("id")), name="support_ticket_not_merged_into_self"),
        ]

    def __str__(self):
        return f"#{self.number} {self.subject}"

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    @property
    def is_paused(self) -> bool:
        return self.status in PAUSED_STATUSES

    @staticmethod
    def new_public_token() -> str:
        return secrets.token_urlsafe(32)


@pghistory.track(pghistory.InsertEvent(), pghistory.DeleteEvent())
class TicketTag(models.Model):
    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="tag_links")
    tag = models.ForeignKey(Tag, on_delete=models.CASCADE, related_name="ticket_links")
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["ticket", "tag"], name="support_tickettag_unique")]
        indexes = [models.Index(fields=["tag", "ticket"], name="support_tickettag_by_tag")]

    def __str__(self):
        return f"{self.ticket_id}:{self.tag_id}"


class TicketChildQuerySet(models.QuerySet):
    """Rows of a ticket: visible exactly when their ticket is."""

    def visible_to(self, user):
        return self.filter(ticket__in=Ticket.objects.visible_to(user))


class MessageKind(models.TextChoices):
    CUSTOMER = "customer", _("From the customer")
    REPLY = "reply", _("Reply")
    NOTE = "note", _("Internal note")


@pghistory.track(pghistory.InsertEvent(), pghistory.DeleteEvent())
class TicketMessage(models.Model):
    """One message of a ticket's conversation: the customer's, an agent's public reply, or an internal note.

    `body_html` is always sanitised (nh3) before it is stored; `body_text` is its plain form for search, the
    timeline and e-mail.
    """

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="messages")
    kind = models.CharField(_("kind"), max_length=10, choices=MessageKind.choices)
    author = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("agent"), null=True, blank=True,
                               on_delete=models.SET_NULL, related_name="+")
    author_contact = models.ForeignKey(Contact, verbose_name=_("customer"), null=True, blank=True,
                                       on_delete=models.SET_NULL, related_name="+")
    channel = models.CharField(_("channel"), max_length=10, choices=TicketChannel.choices, default=TicketChannel.EMAIL)
    body_html = models.TextField(_("message"), blank=True, default="")
    body_text = models.TextField(blank=True, default="")
    #: RFC 5322 Message-ID of the e-mail this message came in as, or went out as (threads replies).
    email_message_id = models.CharField(max_length=300, blank=True, default="")
    created_at = models.DateTimeField(_("sent"), default=timezone.now, editable=False)

    objects = TicketChildQuerySet.as_manager()

    class Meta:
        verbose_name = _("ticket message")
        verbose_name_plural = _("ticket messages")
        ordering = ["created_at", "id"]
        indexes = [
            models.Index(fields=["ticket", "created_at", "id"], name="support_message_thread"),
            models.Index(fields=["email_message_id"], name="support_message_msgid", condition=~Q(email_message_id="")),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(kind="customer") | Q(author__isnull=False) | Q(body_html=""),
                                   name="support_message_agent_has_author"),
        ]

    def __str__(self):
        return f"{self.ticket_id}/{self.pk} {self.kind}"

    @property
    def is_internal(self) -> bool:
        return self.kind == MessageKind.NOTE


def attachment_path(instance, filename: str) -> str:
    """Generated storage names (never the uploader's): support/<yyyy>/<mm>/<random>.<ext>."""
    ext = filename.rsplit(".", 1)[-1].lower()[:10] if "." in filename else "bin"
    now = timezone.now()
    return f"support/{now:%Y/%m}/{secrets.token_hex(16)}.{ext}"


class Attachment(models.Model):
    """A file sent with a message (size- and type-limited by `support.attachments`), kept via Django's storage."""

    message = models.ForeignKey(TicketMessage, on_delete=models.CASCADE, related_name="attachments")
    file = models.FileField(upload_to=attachment_path, max_length=200)
    filename = models.CharField(_("file name"), max_length=255)
    content_type = models.CharField(max_length=100)
    size = models.PositiveIntegerField()
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        verbose_name = _("attachment")
        verbose_name_plural = _("attachments")
        ordering = ["id"]

    def __str__(self):
        return self.filename


# --- Canned replies, CSAT, SLA events -----------------------------------------------------------


class CannedReplyQuerySet(models.QuerySet):
    def visible_to(self, user):
        """One's own replies and those shared with one's team (and the teams one manages); admins see all."""
        if user is None or not user.is_authenticated or not user.is_active:
            return self.none()
        if user.role == Role.ADMIN:
            return self.all()
        return self.filter(Q(owner_id=user.pk) | Q(shared=True, team_id__in=team_ids_of(user)))


@pghistory.track(pghistory.InsertEvent(), pghistory.UpdateEvent(condition=pghistory.AnyChange(exclude_auto=True)),
                 pghistory.DeleteEvent())
class CannedReply(models.Model):
    """A reply an agent inserts with one click; `{{ contact.first_name }}` and `{{ ticket.number }}` are filled in."""

    title = models.CharField(_("title"), max_length=100)
    body = models.TextField(_("text"))
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("owner"), on_delete=models.CASCADE,
                              related_name="canned_replies")
    team = models.ForeignKey(Team, verbose_name=_("team"), null=True, blank=True, on_delete=models.CASCADE,
                             related_name="+")
    shared = models.BooleanField(_("shared with the team"), default=False)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    objects = CannedReplyQuerySet.as_manager()

    class Meta:
        verbose_name = _("canned reply")
        verbose_name_plural = _("canned replies")
        ordering = ["title", "id"]
        indexes = [
            models.Index(fields=["owner", "title"], name="support_canned_owner"),
            models.Index(fields=["team", "title"], name="support_canned_team", condition=Q(shared=True)),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(shared=False) | Q(team__isnull=False), name="support_canned_shared_team"),
        ]

    def __str__(self):
        return self.title


class CsatQuerySet(models.QuerySet):
    def visible_to(self, user):
        return self.filter(ticket__in=Ticket.objects.visible_to(user))


class CsatResponse(models.Model):
    """The customer's rating of a solved ticket (1–5) with a comment; one per ticket."""

    ticket = models.OneToOneField(Ticket, on_delete=models.CASCADE, related_name="csat")
    rating = models.PositiveSmallIntegerField(_("rating"), validators=[MinValueValidator(1), MaxValueValidator(5)])
    comment = models.TextField(_("comment"), blank=True, default="")
    #: Copied from the ticket when answered, so analytics group by them without a join.
    team = models.ForeignKey(Team, on_delete=models.PROTECT, related_name="+")
    assignee = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                 related_name="+")
    created_at = models.DateTimeField(_("answered"), default=timezone.now, editable=False)

    objects = CsatQuerySet.as_manager()

    class Meta:
        verbose_name = _("CSAT answer")
        verbose_name_plural = _("CSAT answers")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["team", "-created_at"], name="support_csat_team")]
        constraints = [
            models.CheckConstraint(condition=Q(rating__gte=1, rating__lte=5), name="support_csat_rating_range"),
        ]

    def __str__(self):
        return f"#{self.ticket_id}: {self.rating}"


class SlaEventQuerySet(models.QuerySet):
    def visible_to(self, user):
        return self.filter(ticket__in=Ticket.objects.visible_to(user))


class SlaEvent(models.Model):
    """A ticket's clock reaching 80 % of its target (at risk) or passing it (breached): once per ticket, clock and
    kind (a constraint, so the watcher's alarms fire once); breaches are what SLA analytics count."""

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="sla_events")
    clock = models.CharField(max_length=15, choices=SlaClock.choices)
    kind = models.CharField(max_length=10, choices=SlaEventKind.choices)
    due_at = models.DateTimeField()
    occurred_at = models.DateTimeField(default=timezone.now)
    team = models.ForeignKey(Team, on_delete=models.PROTECT, related_name="+")
    assignee = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                 related_name="+")
    priority = models.CharField(max_length=10, choices=TicketPriority.choices)

    objects = SlaEventQuerySet.as_manager()

    class Meta:
        verbose_name = _("SLA event")
        verbose_name_plural = _("SLA events")
        constraints = [
            models.UniqueConstraint(fields=["ticket", "clock", "kind"], name="support_slaevent_once"),
        ]
        indexes = [models.Index(fields=["team", "kind", "-occurred_at"], name="support_slaevent_team")]

    def __str__(self):
        return f"#{self.ticket_id} {self.clock} {self.kind}"


class InboundEmail(models.Model):
    """A raw inbound e-mail as received, kept until processed (so a crash never loses a customer's mail).

    `message_id` makes a provider's retry of the same webhook a no-op.
    """

    message_id = models.CharField(max_length=300, blank=True, default="")
    raw = models.BinaryField()
    received_at = models.DateTimeField(default=timezone.now)
    processed_at = models.DateTimeField(null=True, blank=True)
    ticket = models.ForeignKey(Ticket, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    error = models.TextField(blank=True, default="")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["message_id"], name="support_inbound_msgid_unique", condition=~Q(message_id="")),
        ]
        indexes = [models.Index(fields=["received_at"], name="support_inbound_pending",
                                condition=Q(processed_at__isnull=True))]

    def __str__(self):
        return self.message_id or f"#{self.pk}"

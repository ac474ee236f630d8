"""Writes on the desk's set-up (admins only): queues, SLA policies, the working week and holidays; and who may
change a canned reply.

Every function is one transaction with errors keyed by field, so the API and the admin pages say the same thing.
A change to targets or to the calendar re-times the open tickets' clocks in a worker after commit
(`sla.retime_open_tickets`), keeping the business time each has already spent.
"""

from datetime import date, time
from zoneinfo import available_timezones

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models.functions import Lower
from django.utils.translation import gettext as _

from crm.models import Role, Team, TeamKind, User
from support.models import (
    AssignmentMode,
    CannedReply,
    Holiday,
    Queue,
    SlaPolicy,
    SupportSettings,
    Ticket,
    TicketPriority,
    TicketType,
)


def _require_admin(by: User) -> None:
    if by.role != Role.ADMIN:
        raise PermissionDenied(_("Only an admin can change the desk's set-up."))


def _raise(errors: dict) -> None:
    if errors:
        raise ValidationError(errors)


def _retime_clocks() -> None:
    """After commit, a worker re-times every open ticket's SLA clock under the new targets or calendar."""
    from support import tasks

    transaction.on_commit(lambda: tasks.retime_sla_clocks.delay())


def can_change_canned_reply(user: User, reply: CannedReply) -> bool:
    """What `save_canned_reply` and `delete_canned_reply` allow: its owner, a manager of its team, an admin."""
    return reply.owner_id == user.pk or user.role == Role.ADMIN or (
        user.role == Role.MANAGER and reply.team_id is not None and reply.team_id in user.managed_team_ids())


@transaction.atomic
def save_queue(*, by: User, queue: Queue | None = None, name: str, team: Team, assignment_mode: str = AssignmentMode.MANUAL,
               email: str = "", is_default: bool = False, is_active: bool = True) -> Queue:
    """Create or change a queue of a support team.

    Making a queue the default takes the mark from the previous one; the default queue must stay open (web form
    and mail that name no queue land there). A queue with tickets keeps its team: tickets carry their queue's
    team, so moving them is a new queue's job.
    """
    _require_admin(by)
    name, email = (name or "").strip(), (email or "").strip().lower()
    errors = {}
    if not name:
        errors["name"] = _("Give the queue a name.")
    elif Queue.objects.exclude(pk=getattr(queue, "pk", None)).annotate(n=Lower("name")).filter(n=name.lower()).exists():
        errors["name"] = _("A queue with this name already exists.")
    if team.kind != TeamKind.SUPPORT:
        errors["team"] = _("Choose a support team.")
    elif queue is not None and queue.team_id != team.pk and Ticket.objects.filter(queue=queue).exists():
        errors["team"] = _("This queue has tickets, so it stays with its team; create a new queue instead.")
    if assignment_mode not in AssignmentMode.values:
        errors["assignment_mode"] = _("Choose one of the offered values.")
    if email and Queue.objects.exclude(pk=getattr(queue, "pk", None)).annotate(e=Lower("email")).filter(e=email).exists():
        errors["email"] = _("Another queue already receives this address.")
    if is_default and not is_active:
        errors["is_active"] = _("The default queue must stay active.")
    if errors:
        raise ValidationError(errors)
    queue = queue or Queue()
    if is_default:
        Queue.objects.select_for_update().filter(is_default=True).exclude(pk=queue.pk).update(is_default=False)
    queue.name, queue.team, queue.assignment_mode = name[:100], team, assignment_mode
    queue.email, queue.is_default, queue.is_active = email, bool(is_default), bool(is_active)
    try:
        with transaction.atomic():
            queue.save()
    except IntegrityError:  # a concurrent save took the name or the address between the check and here
        raise ValidationError({"name": _("A queue with this name or address already exists.")}) from None
    return queue


@transaction.atomic
def save_sla_policy(*, by: User, policy: SlaPolicy | None = None, name: str, priority: str,
                    first_response_minutes: int, resolution_minutes: int, queue: Queue | None = None,
                    ticket_type: str = "", is_active: bool = True) -> SlaPolicy:
    """Create or change an SLA policy. One active policy per (priority, queue, type); resolution comes no sooner
    than the first response. Tickets take a policy when opened or when their priority, type or queue change."""
    _require_admin(by)
    name = (name or "").strip()
    errors = {}
    if not name:
        errors["name"] = _("Give the policy a name.")
    if priority not in TicketPriority.values:
        errors["priority"] = _("Choose one of the offered values.")
    if ticket_type and ticket_type not in TicketType.values:
        errors["ticket_type"] = _("Choose one of the offered values.")
    for field, value in (("first_response_minutes", first_response_minutes), ("resolution_minutes", resolution_minutes)):
        if value is None or value < 1:
            errors[field] = _("Give at least one minute.")
    if "first_response_minutes" not in errors and "resolution_minutes" not in errors and (
            resolution_minutes < first_response_minutes):
        errors["resolution_minutes"] = _("Resolution cannot come before the first response.")
    if is_active and not errors and SlaPolicy.objects.filter(
            is_active=True, priority=priority, queue=queue, ticket_type=ticket_type or "").exclude(
            pk=getattr(policy, "pk", None)).exists():
        errors["priority"] = _("An active policy already covers this priority, queue and type.")
    if errors:
        raise ValidationError(errors)
    policy = policy or SlaPolicy()
    policy.name, policy.priority, policy.queue, policy.ticket_type = name[:100], priority, queue, ticket_type or ""
    policy.first_response_minutes, policy.resolution_minutes = first_response_minutes, resolution_minutes
    policy.is_active = bool(is_active)
    try:
        with transaction.atomic():
            policy.save()
    except IntegrityError:  # a concurrent save took the scope between the check and here
        raise ValidationError({"priority": _("An active policy already covers this priority, queue and type.")}) from None
    _retime_clocks()
    return policy


# --- Settings and holidays -----------------------------------------------------------------------

MAX_AUTO_CLOSE_DAYS = 90


def _raise(errors: dict) -> None:
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def update_support_settings(*, by: User, time_zone: str, working_days, day_starts: time, day_ends: time,
                            auto_close_days: int) -> SupportSettings:
    """The desk's working week (the calendar SLA clocks count in) and when solved tickets close."""
    _require_admin(by)
    errors = {}
    if time_zone not in available_timezones():
        errors["time_zone"] = _("Choose a time zone from the list.")
    try:
        days = sorted({int(day) for day in working_days})
    except (TypeError, ValueError):
        days = [-1]
    if not days:
        errors["working_days"] = _("Choose at least one working day.")
    elif not all(0 <= day <= 6 for day in days):
        errors["working_days"] = _("Choose days from the list.")
    if day_starts is not None and day_ends is not None and day_ends <= day_starts:
        errors["day_ends"] = _("The day must end after it starts.")
    if not 1 <= int(auto_close_days) <= MAX_AUTO_CLOSE_DAYS:
        errors["auto_close_days"] = _("Choose between 1 and %(max)s days.") % {"max": MAX_AUTO_CLOSE_DAYS}
    _raise(errors)
    settings = SupportSettings.load()
    settings = SupportSettings.objects.select_for_update().get(pk=settings.pk)
    settings.time_zone, settings.working_days = time_zone, days
    settings.day_starts, settings.day_ends, settings.auto_close_days = day_starts, day_ends, int(auto_close_days)
    settings.save()
    _retime_clocks()
    return settings


@transaction.atomic
def add_holiday(*, by: User, date: date, name: str) -> Holiday:
    """A day off for the desk: SLA clocks skip it."""
    _require_admin(by)
    name = (name or "").strip()
    errors = {}
    if date is None:
        errors["date"] = _("Give the holiday's date.")
    elif Holiday.objects.filter(date=date).exists():
        errors["date"] = _("This day is already a holiday.")
    if not name:
        errors["name"] = _("Give the holiday a name.")
    _raise(errors)
    holiday = Holiday.objects.create(date=date, name=name[:100])
    _retime_clocks()
    return holiday


@transaction.atomic
def delete_holiday(*, by: User, holiday: Holiday) -> None:
    _require_admin(by)
    holiday.delete()
    _retime_clocks()


# --- SLA policies ----------------------------------------------------------------------------------


@transaction.atomic
def deactivate_sla_policy(*, by: User, policy: SlaPolicy) -> SlaPolicy:
    """Stop using a policy: open tickets under it move to the next policy that fits them (or none)."""
    _require_admin(by)
    policy = SlaPolicy.objects.select_for_update().get(pk=policy.pk)
    if policy.is_active:
        policy.is_active = False
        policy.save(update_fields=["is_active", "updated_at"])
        _retime_clocks()
    return policy

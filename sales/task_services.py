"""Tasks: writes with rules (create, change, complete, reopen, delete), their reminders, and the reads behind
the task pages.

A task's owner is its assignee; who may assign to whom follows `crm.services.new_owner` (new tasks) and
`transfer_target` (changing the assignee). Linked records must be ones the user can see. `remind_at` is the
due time unless set, and moving the due time moves the reminder with it. Reminders are rows: the beat task
calls `fire_due_reminders`, which turns each due reminder into one notification, once.
"""

import zoneinfo
from datetime import UTC, datetime, time, timedelta

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from contacts.models import Company, Contact
from crm import notifications, policy
from crm.models import Notification, User
from crm.services import assign_owner, new_owner, transfer_target
from crm.templatetags.crm import localdt
from sales.models import Deal, Task, TaskKind, TaskPriority

TASK_FIELDS = ("title", "kind", "priority", "due_at", "remind_at", "note", "contact", "company", "deal", "ticket_id")
LINKS = (("contact", Contact), ("company", Company), ("deal", Deal))
REMINDER_BATCH = 500


def _require_edit(by: User, task: Task) -> None:
    if not policy.can_edit(by, task):
        raise PermissionDenied(_("You cannot change this task."))


def _check_links(by: User, values: dict) -> None:
    """Every linked contact, company and deal must be one `by` can see (as if it did not exist otherwise)."""
    errors = {}
    for field, model in LINKS:
        record = values.get(field)
        if record is not None and not model.objects.visible_to(by).filter(pk=record.pk).exists():
            errors[field] = _("Choose a record you can see.")
    if errors:
        raise ValidationError(errors)


def _clean(values: dict) -> dict:
    errors = {}
    if "title" in values:
        values["title"] = (values["title"] or "").strip()
        if not values["title"]:
            errors["title"] = _("Say what is to be done.")
    if "due_at" in values and values["due_at"] is None:
        errors["due_at"] = _("Say when it is due.")
    for name in ("due_at", "remind_at"):
        value = values.get(name)
        if value is not None and (not isinstance(value, datetime) or timezone.is_naive(value)):
            errors[name] = _("Give a date and time with its time zone.")
    if "kind" in values and values["kind"] not in TaskKind.values:
        errors["kind"] = _("Choose a kind of task.")
    if "priority" in values and values["priority"] not in TaskPriority.values:
        errors["priority"] = _("Choose a priority.")
    if "note" in values:
        values["note"] = (values["note"] or "").strip()
    if errors:
        raise ValidationError(errors)
    return values


@transaction.atomic
def create_task(
    *, by: User, title: str, due_at: datetime, kind: str = TaskKind.TODO, priority: int = TaskPriority.NORMAL,
    owner: User | None = None, remind_at: datetime | None = None, note: str = "", contact: Contact | None = None,
    company: Company | None = None, deal: Deal | None = None, ticket_id: int | None = None,
) -> Task:
    """Create a task for `by` or (managers, admins) someone they may assign to; reminded at `remind_at` or when due."""
    values = _clean({"title": title, "due_at": due_at, "kind": kind, "priority": priority, "note": note,
                     "remind_at": remind_at})
    _check_links(by, {"contact": contact, "company": company, "deal": deal})
    task = Task(contact=contact, company=company, deal=deal, ticket_id=ticket_id, **values)
    task.remind_at = task.remind_at or task.due_at
    assign_owner(task, new_owner(by=by, owner=owner))
    task.created_by = by
    task.full_clean(exclude=["owner", "team", "contact", "company", "deal"])
    task.save()
    notifications.notify_assigned(task, by)
    return task


@transaction.atomic
def update_task(*, by: User, task: Task, owner: User | None = None, **fields) -> Task:
    """Change a task's details and (with `owner`) its assignee.

    A new due time moves the reminder to it unless `remind_at` is given too; a new reminder time fires again.
    """
    _require_edit(by, task)
    unknown = set(fields) - set(TASK_FIELDS)
    if unknown:
        raise TypeError(f"unknown task fields: {sorted(unknown)}")
    values = _clean(dict(fields))
    _check_links(by, {name: values[name] for name, _model in LINKS if name in values})
    old_due, old_remind = task.due_at, task.remind_at
    for name, value in values.items():
        setattr(task, name, value)
    if "remind_at" not in values and task.due_at != old_due:
        task.remind_at = task.due_at
    task.remind_at = task.remind_at or task.due_at
    if task.remind_at != old_remind:
        task.reminded_at = None
    reassigned = owner is not None and owner.pk != task.owner_id
    if reassigned:
        if not policy.can_transfer(by, task):
            raise PermissionDenied(_("You cannot give this task to someone else."))
        assign_owner(task, transfer_target(by=by, owner=owner))
    task.full_clean(exclude=["owner", "team", "contact", "company", "deal"])
    task.save()
    if reassigned:
        notifications.notify_assigned(task, by)
    return task


@transaction.atomic
def complete_task(*, by: User, task: Task) -> Task:
    """Mark a task done (doing it twice changes nothing)."""
    _require_edit(by, task)
    if task.done_at is None:
        task.done_at = timezone.now()
        task.save(update_fields=["done_at", "updated_at"])
    return task


@transaction.atomic
def reopen_task(*, by: User, task: Task) -> Task:
    """Mark a done task open again; a reminder already sent is not sent again."""
    _require_edit(by, task)
    if task.done_at is not None:
        task.done_at = None
        task.save(update_fields=["done_at", "updated_at"])
    return task


@transaction.atomic
def delete_task(*, by: User, task: Task) -> None:
    """Delete a task for good (its assignee, a manager of its team, an admin)."""
    if not policy.can_delete(by, task):
        raise PermissionDenied(_("You cannot delete this task."))
    task.delete()


# --- Reminders -----------------------------------------------------------------------------------------


def reminder_key(task_id: int, remind_at: datetime) -> str:
    return f"task-reminder:{task_id}:{remind_at.astimezone(UTC).isoformat()}"


def _zone(row: dict):
    try:
        return zoneinfo.ZoneInfo(row["owner__time_zone"]) if row["owner__time_zone"] else None
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return None


def _reminder(row: dict, now: datetime) -> Notification:
    """The notification of one due reminder, written in its assignee's language and time zone."""
    with translation.override(row["owner__language"] or settings.LANGUAGE_CODE), timezone.override(_zone(row)):
        title = _("Reminder: %(title)s") % {"title": row["title"]}
        body = _("Due %(when)s") % {"when": localdt(row["due_at"])}
    return Notification(
        recipient_id=row["owner_id"], kind=notifications.Kind.TASK_REMINDER, title=title[:300], body=body,
        url=reverse("sales:task", args=[row["id"]]), created_at=now, email_wanted=True,
        dedupe_key=reminder_key(row["id"], row["remind_at"]),
    )


def fire_due_reminders(*, now: datetime | None = None, batch_size: int = REMINDER_BATCH) -> int:
    """Turn every reminder due by `now` into a notification (with an e-mail); how many fired.

    Open tasks whose `remind_at` has passed and that were not reminded are claimed in batches with
    SELECT ... FOR UPDATE SKIP LOCKED, so beat runs that overlap never fire one twice; each batch is one
    INSERT of notifications (a duplicate dedupe key is ignored) and one UPDATE of `reminded_at`, in one
    transaction. Running it again fires nothing new.
    """
    now = now or timezone.now()
    fired = 0
    while True:
        with transaction.atomic():
            rows = list(
                Task.objects.open()
                .filter(reminded_at__isnull=True, remind_at__lte=now)
                .select_for_update(skip_locked=True, of=("self",))
                .order_by("remind_at", "id")
                .values("id", "title", "due_at", "remind_at", "owner_id", "owner__language", "owner__time_zone",
                        "owner__is_active")
                [:batch_size]
            )
            if not rows:
                return fired
            active = {r["owner_id"] for r in rows if r["owner__is_active"]}
            Notification.objects.bulk_create([_reminder(r, now) for r in rows if r["owner_id"] in active],
                                             ignore_conflicts=True)
            Task.objects.filter(pk__in=[r["id"] for r in rows]).update(reminded_at=now)
            notifications.forget_unread_counts(active)
            if active:
                notifications.send_emails_after_commit()
        fired += len(rows)
        if len(rows) < batch_size:
            return fired


# --- Reads behind the pages ----------------------------------------------------------------------------

PANEL_LIMIT = 20
SECTION_LIMIT = 50


def _with_links(qs):
    return qs.select_related("owner", "contact", "company", "deal")


def day_bounds(now: datetime | None = None) -> tuple[datetime, datetime]:
    """The start and end of today in the active time zone (the user's, on a page)."""
    local = timezone.localtime(now or timezone.now())
    start = timezone.make_aware(datetime.combine(local.date(), time.min), local.tzinfo)
    return start, timezone.make_aware(datetime.combine(local.date() + timedelta(days=1), time.min), local.tzinfo)


def task_sections(*, user: User, assignee: User, now: datetime | None = None, limit: int = SECTION_LIMIT) -> dict:
    """The open tasks of `assignee` that `user` can see: overdue, due later today, upcoming (each up to `limit`).

    "Today" is today in the active time zone, which pages set to the user's.
    """
    now = now or timezone.now()
    _start, tomorrow = day_bounds(now)
    base = _with_links(Task.objects.visible_to(user).open().filter(owner=assignee)).order_by("due_at", "id")
    return {
        "overdue": list(base.filter(due_at__lt=now)[:limit]),
        "today": list(base.filter(due_at__gte=now, due_at__lt=tomorrow)[:limit]),
        "upcoming": list(base.filter(due_at__gte=tomorrow)[:limit]),
    }


def tasks_of(*, user: User, field: str, record, limit: int = PANEL_LIMIT) -> list[Task]:
    """The open tasks linked to a contact, company or deal that `user` can see, soonest first."""
    qs = _with_links(Task.objects.visible_to(user).open().filter(**{field: record}))
    return list(qs.order_by("due_at", "id")[:limit])

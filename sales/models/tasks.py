"""Tasks: calls to make, e-mails to send, meetings, to-dos, each due at a time, with a reminder.

A task is an owned record whose owner is its assignee, so a rep sees their own tasks (and their team's when
the org shares records) and a manager their teams'. Reminders are rows, not queue messages: `remind_at` and
`reminded_at` say what is due, and the beat task fires each once (ARCHITECTURE.md "Background work").
"""

import pghistory
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from contacts.models import Company, Contact
from crm.models import OwnedModel, OwnedQuerySet, owned_indexes, sort_indexes
from sales.models.deals import Deal

_OPEN = Q(done_at__isnull=True)


class TaskKind(models.TextChoices):
    CALL = "call", _("Call")
    EMAIL = "email", _("Email")
    MEETING = "meeting", _("Meeting")
    TODO = "todo", _("To-do")


class TaskPriority(models.IntegerChoices):
    LOW = 1, _("Low")
    NORMAL = 2, _("Normal")
    HIGH = 3, _("High")
    URGENT = 4, _("Urgent")


class TaskQuerySet(OwnedQuerySet):
    def open(self):
        return self.filter(_OPEN)


@pghistory.track(
    pghistory.InsertEvent(),
    pghistory.UpdateEvent(condition=pghistory.AnyChange(exclude=["updated_at"])),
    pghistory.DeleteEvent(),
)
class Task(OwnedModel):
    """Something to do by a time; `owner` is the assignee."""

    title = models.CharField(_("title"), max_length=200)
    kind = models.CharField(_("kind"), max_length=10, choices=TaskKind.choices, default=TaskKind.TODO)
    priority = models.PositiveSmallIntegerField(_("priority"), choices=TaskPriority.choices, default=TaskPriority.NORMAL)
    due_at = models.DateTimeField(_("due"))
    remind_at = models.DateTimeField(_("remind at"), null=True, blank=True,
                                     help_text=_("Leave empty to be reminded at the due time."))
    reminded_at = models.DateTimeField(null=True, blank=True, editable=False)
    done_at = models.DateTimeField(_("done"), null=True, blank=True, editable=False)
    note = models.TextField(_("note"), blank=True, default="")
    contact = models.ForeignKey(Contact, verbose_name=_("contact"), null=True, blank=True, on_delete=models.CASCADE,
                                related_name="tasks")
    company = models.ForeignKey(Company, verbose_name=_("company"), null=True, blank=True, on_delete=models.CASCADE,
                                related_name="tasks")
    deal = models.ForeignKey(Deal, verbose_name=_("deal"), null=True, blank=True, on_delete=models.CASCADE,
                             related_name="tasks")
    # The support app sits above sales (ARCHITECTURE.md), so a ticket is named by id; its services check it.
    ticket_id = models.BigIntegerField(_("ticket"), null=True, blank=True)

    objects = TaskQuerySet.as_manager()

    class Meta:
        verbose_name = _("task")
        verbose_name_plural = _("tasks")
        ordering = ["due_at", "id"]
        indexes = [
            *owned_indexes("sales_task"),
            models.Index(fields=["owner", "due_at", "id"], name="sales_task_owner_open", condition=_OPEN),
            models.Index(fields=["team", "due_at", "id"], name="sales_task_team_open", condition=_OPEN),
            models.Index(fields=["remind_at"], name="sales_task_reminder_due",
                         condition=_OPEN & Q(reminded_at__isnull=True)),
            models.Index(fields=["contact", "due_at"], name="sales_task_contact", condition=Q(contact__isnull=False)),
            models.Index(fields=["company", "due_at"], name="sales_task_company", condition=Q(company__isnull=False)),
            models.Index(fields=["deal", "due_at"], name="sales_task_deal", condition=Q(deal__isnull=False)),
            models.Index(fields=["ticket_id", "due_at"], name="sales_task_ticket", condition=Q(ticket_id__isnull=False)),
            # The task list's orders, done tasks included.
            *sort_indexes("sales_task", "due", "due_at", "id"),
            *sort_indexes("sales_task", "priority", "-priority", "due_at", "id"),
            *sort_indexes("sales_task", "created", "-created_at", "-id", team=False),
        ]

    def __str__(self):
        return self.title

    @property
    def is_done(self) -> bool:
        return self.done_at is not None

    @property
    def is_overdue(self) -> bool:
        return self.done_at is None and self.due_at < timezone.now()

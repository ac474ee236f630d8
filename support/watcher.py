"""The SLA watcher (beat, every minute) and the auto-close of solved tickets (beat, hourly).

The watcher needs no business-hours arithmetic: a running clock's risk and due instants are already on the ticket
(`support.sla` recomputes them whenever the clock starts, pauses, resumes or changes target), so "at risk" and
"breached" are comparisons with now over partial indexes. Each event is recorded once per ticket, clock and kind
(the constraint `support_slaevent_once`); only a run that actually inserted an event sends its notifications, so
running twice, or two watchers at once, alarms nobody twice.
"""

from datetime import datetime, timedelta

from django.db import connection, transaction
from django.db.models import F, Q
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from crm import notifications
from crm.models import TeamManager
from support import services
from support.models import OPEN_STATUSES, SlaClock, SlaEventKind, SlaState, SupportSettings, Ticket, TicketStatus

NOTIFY_AT_RISK = "sla_at_risk"
NOTIFY_BREACHED = "sla_breached"
#: Auto-close handles at most this many tickets per run (the next hourly run takes the rest).
AUTO_CLOSE_BATCH = 500

# One statement: every event whose instant has passed and that is not recorded yet. Each branch repeats the
# predicate of a partial index (support_ticket_fr_watch, support_ticket_res_watch), so it is an index range scan
# over the few rows that can still fire, whatever the number of tickets. `occurred_at` is the instant the threshold
# was crossed (not when the watcher noticed); `due_at` is the clock's deadline.
_INSERT_EVENTS = """
WITH due AS (
  SELECT t.id AS ticket_id, 'first_response' AS clock, 'at_risk' AS kind, t.first_response_due AS due_at,
         t.first_response_risk_at AS occurred_at, t.team_id, t.assignee_id, t.priority
  FROM support_ticket t
  WHERE t.status IN ('new', 'open', 'pending_customer', 'on_hold')
    AND t.first_responded_at IS NULL AND t.sla_running_since IS NOT NULL
    AND t.first_response_risk_at <= %(now)s
  UNION ALL
  SELECT t.id, 'first_response', 'breached', t.first_response_due, t.first_response_due, t.team_id, t.assignee_id,
         t.priority
  FROM support_ticket t
  WHERE t.status IN ('new', 'open', 'pending_customer', 'on_hold')
    AND t.first_responded_at IS NULL AND t.sla_running_since IS NOT NULL
    AND t.first_response_due <= %(now)s
  UNION ALL
  SELECT t.id, 'resolution', 'at_risk', t.resolution_due, t.resolution_risk_at, t.team_id, t.assignee_id, t.priority
  FROM support_ticket t
  WHERE t.status IN ('new', 'open', 'pending_customer', 'on_hold')
    AND t.sla_running_since IS NOT NULL
    AND t.resolution_risk_at <= %(now)s
  UNION ALL
  SELECT t.id, 'resolution', 'breached', t.resolution_due, t.resolution_due, t.team_id, t.assignee_id, t.priority
  FROM support_ticket t
  WHERE t.status IN ('new', 'open', 'pending_customer', 'on_hold')
    AND t.sla_running_since IS NOT NULL
    AND t.resolution_due <= %(now)s
)
INSERT INTO support_slaevent (ticket_id, clock, kind, due_at, occurred_at, team_id, assignee_id, priority)
SELECT due.ticket_id, due.clock, due.kind, due.due_at, due.occurred_at, due.team_id, due.assignee_id, due.priority
FROM due
WHERE NOT EXISTS (SELECT 1 FROM support_slaevent e
                  WHERE e.ticket_id = due.ticket_id AND e.clock = due.clock AND e.kind = due.kind)
ON CONFLICT ON CONSTRAINT support_slaevent_once DO NOTHING
RETURNING ticket_id, clock, kind
"""


def _title(clock: str, kind: str, ticket: Ticket) -> str:
    values = {"number": ticket.number, "subject": ticket.subject}
    if clock == SlaClock.FIRST_RESPONSE and kind == SlaEventKind.AT_RISK:
        return _("Ticket #%(number)s needs its first response soon: %(subject)s") % values
    if clock == SlaClock.FIRST_RESPONSE:
        return _("Ticket #%(number)s missed its first-response target: %(subject)s") % values
    if kind == SlaEventKind.AT_RISK:
        return _("Ticket #%(number)s is at risk of missing its resolution target: %(subject)s") % values
    return _("Ticket #%(number)s missed its resolution target: %(subject)s") % values


def _notify(events: list[tuple[int, str, str]]) -> int:
    """Tell each event's assignee and the managers of the ticket's team (in their language); e-mail for breaches.

    A clock that went from unnoticed to breached in one run (the watcher was down) alarms only for the breach.
    """
    if not events:
        return 0
    tickets = Ticket.objects.select_related("assignee").in_bulk({ticket_id for ticket_id, _c, _k in events})
    managers: dict[int, list] = {}
    for link in TeamManager.objects.filter(team_id__in={t.team_id for t in tickets.values()},
                                           user__is_active=True).select_related("user").order_by("user_id"):
        managers.setdefault(link.team_id, []).append(link.user)
    breached = {(ticket_id, clock) for ticket_id, clock, kind in events if kind == SlaEventKind.BREACHED}
    sent = 0
    for ticket_id, clock, kind in sorted(events):
        if kind == SlaEventKind.AT_RISK and (ticket_id, clock) in breached:
            continue
        ticket = tickets[ticket_id]
        recipients = {user.pk: user for user in managers.get(ticket.team_id, [])}
        if ticket.assignee is not None and ticket.assignee.is_active:
            recipients[ticket.assignee.pk] = ticket.assignee
        for user in recipients.values():
            with translation.override(notifications.language_of(user)):
                title = _title(clock, kind, ticket)
            created = notifications.notify(
                recipient=user, kind=NOTIFY_BREACHED if kind == SlaEventKind.BREACHED else NOTIFY_AT_RISK,
                title=title, url=services.ticket_url(ticket), email=kind == SlaEventKind.BREACHED,
                dedupe_key=f"sla:{ticket_id}:{clock}:{kind}:{user.pk}")
            sent += created is not None
    return sent


@transaction.atomic
def watch(*, now: datetime | None = None) -> dict:
    """Record the SLA events whose time has come, alert for the new ones and set the tickets' `sla_state`.

    Resolution events count only while the clock runs (a paused or stopped clock has no risk or due instant);
    first-response events only until the first response. Returns how many events of each kind were recorded,
    how many notifications were written and how many tickets changed state.
    """
    now = now or timezone.now()
    with connection.cursor() as cursor:
        cursor.execute(_INSERT_EVENTS, {"now": now})
        events = cursor.fetchall()
    running = Ticket.objects.filter(status__in=OPEN_STATUSES, sla_running_since__isnull=False)
    breached = (running.filter(Q(first_responded_at__isnull=True, first_response_due__lte=now)
                               | Q(resolution_due__lte=now))
                .exclude(sla_state=SlaState.BREACHED).update(sla_state=SlaState.BREACHED))
    at_risk = (running.filter(Q(first_responded_at__isnull=True, first_response_risk_at__lte=now)
                              | Q(resolution_risk_at__lte=now))
               .filter(sla_state=SlaState.OK).update(sla_state=SlaState.AT_RISK))
    return {
        "at_risk": sum(1 for _t, _c, kind in events if kind == SlaEventKind.AT_RISK),
        "breached": sum(1 for _t, _c, kind in events if kind == SlaEventKind.BREACHED),
        "notifications": _notify(events),
        "marked_breached": breached,
        "marked_at_risk": at_risk,
    }


def auto_close(*, now: datetime | None = None) -> int:
    """Close solved tickets whose customer has not written since, `auto_close_days` after solving; how many.

    Each goes through `services.change_status` (by=None) in its own transaction: the closing then writes
    `closed_at`, the clock and the customer's timeline exactly as a person closing it would, and the few tickets an
    hour do not justify a second, set-based path. Each row is locked and checked again first (SKIP LOCKED: a ticket
    being worked is left to the next run), so a customer's reply arriving meanwhile keeps it open.
    """
    now = now or timezone.now()
    cutoff = now - timedelta(days=SupportSettings.load().auto_close_days)
    quiet = Q(last_customer_message_at__isnull=True) | Q(last_customer_message_at__lte=F("solved_at"))
    due = Ticket.objects.filter(quiet, status=TicketStatus.SOLVED, solved_at__lte=cutoff)
    closed = 0
    for pk in list(due.order_by("solved_at", "id").values_list("pk", flat=True)[:AUTO_CLOSE_BATCH]):
        with transaction.atomic():
            ticket = due.select_for_update(skip_locked=True).filter(pk=pk).first()
            if ticket is not None:
                services.change_status(ticket=ticket, by=None, status=TicketStatus.CLOSED, now=now)
                closed += 1
    return closed


"""SLA clocks in business hours: the calendar arithmetic, which policy applies, and a ticket's clock.

A ticket's clock counts *business* seconds (working days, between the day's start and end, in the desk's time
zone, skipping holidays) while the ticket is neither waiting for the customer nor on hold. The row keeps
`sla_elapsed_seconds` (time spent before the current run) and `sla_running_since` (None while paused), so a due
time is always "the business instant at which the remaining target is used up", recomputed only when the
clock starts, pauses, resumes or changes target; the watcher then needs no arithmetic, just `due <= now`.
Reaching 100 % of a target is a breach; 80 % puts the ticket at risk. A clock stopped past its due time records
its breach itself (`SlaEvent`), in case the watcher, which looks once a minute, has not seen it yet.
"""

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.db.models import Case, IntegerField, Q, Value, When
from django.utils import timezone

from support.models import (
    Holiday,
    SlaClock,
    SlaEvent,
    SlaEventKind,
    SlaPolicy,
    SlaState,
    SupportSettings,
    Ticket,
    TicketStatus,
)

#: The share of a target after which a ticket is "at risk".
RISK_SHARE = 0.8
#: Refuse to look further than this for working time (a calendar with no working day would loop forever).
_HORIZON_DAYS = 3 * 366


@dataclass(frozen=True)
class Calendar:
    """Working days (Python weekdays), the day's hours and the holidays, in one time zone."""

    tz: ZoneInfo
    working_days: frozenset[int]
    starts: time
    ends: time
    holidays: frozenset[date] = frozenset()

    @classmethod
    def load(cls) -> "Calendar":
        settings = SupportSettings.load()
        return cls(
            tz=ZoneInfo(settings.time_zone), working_days=frozenset(int(d) for d in settings.working_days),
            starts=settings.day_starts, ends=settings.day_ends,
            holidays=frozenset(Holiday.objects.values_list("date", flat=True)),
        )

    def is_working_day(self, day: date) -> bool:
        return day.weekday() in self.working_days and day not in self.holidays

    def windows(self, start: datetime) -> Iterator[tuple[datetime, datetime]]:
        """Working intervals from `start` on, the first one clipped to begin at `start`.

        The day's hours are wall-clock times in the calendar's zone, but the intervals are returned in UTC:
        arithmetic on two datetimes sharing one ZoneInfo is wall-clock arithmetic in Python, which is wrong by an
        hour on a day whose working hours span a daylight-saving change.
        """
        if not self.working_days:
            return
        start = start.astimezone(UTC)
        day = start.astimezone(self.tz).date()
        for _i in range(_HORIZON_DAYS):
            if self.is_working_day(day):
                opens = datetime.combine(day, self.starts, self.tz).astimezone(UTC)
                closes = datetime.combine(day, self.ends, self.tz).astimezone(UTC)
                if closes > start:
                    yield max(opens, start), closes
            day += timedelta(days=1)

    def add(self, start: datetime, seconds: float) -> datetime:
        """The instant `seconds` of business time after `start` (`start` itself, moved into working time, for 0)."""
        remaining = max(0.0, float(seconds))
        for opens, closes in self.windows(start):
            span = (closes - opens).total_seconds()
            if remaining <= span:
                if remaining == 0:
                    return opens
                return opens + timedelta(seconds=remaining)
            remaining -= span
        raise ValueError("the calendar has no working time within three years")

    def between(self, start: datetime, end: datetime) -> int:
        """Business seconds from `start` to `end` (0 if `end` is not after `start`)."""
        if end <= start:
            return 0
        total = 0.0
        for opens, closes in self.windows(start):
            if opens >= end:
                break
            total += (min(closes, end) - opens).total_seconds()
        return int(total)


# --- Policies -----------------------------------------------------------------------------------


def policy_for(*, priority: str, queue_id: int | None, ticket_type: str) -> SlaPolicy | None:
    """The most specific active policy: queue and type, then queue, then type, then the priority alone."""
    specificity = Case(
        When(Q(queue_id=queue_id) & Q(ticket_type=ticket_type), then=Value(3)),
        When(Q(queue_id=queue_id) & Q(ticket_type=""), then=Value(2)),
        When(Q(queue__isnull=True) & Q(ticket_type=ticket_type), then=Value(1)),
        default=Value(0), output_field=IntegerField(),
    )
    return (
        SlaPolicy.objects.filter(is_active=True, priority=priority)
        .filter(Q(queue_id=queue_id) | Q(queue__isnull=True))
        .filter(Q(ticket_type=ticket_type) | Q(ticket_type=""))
        .annotate(specificity=specificity).order_by("-specificity", "id").first()
    )


# --- A ticket's clock ---------------------------------------------------------------------------

#: The columns `refresh` and the transitions below write.
CLOCK_FIELDS = ["first_responded_at", "first_response_seconds", "sla_policy", "sla_elapsed_seconds",
                "sla_running_since", "first_response_due",
                "first_response_risk_at", "resolution_due", "resolution_risk_at", "sla_due_at", "sla_state"]


def elapsed_at(ticket: Ticket, now: datetime, calendar: Calendar) -> int:
    """Business seconds the ticket's clock has run up to `now`."""
    running = calendar.between(ticket.sla_running_since, now) if ticket.sla_running_since else 0
    return ticket.sla_elapsed_seconds + running


def refresh(ticket: Ticket, *, now: datetime | None = None, calendar: Calendar | None = None) -> None:
    """Recompute due times, risk times and the state from the policy and the clock (no save)."""
    now = now or timezone.now()
    policy = ticket.sla_policy
    ticket.first_response_due = ticket.first_response_risk_at = None
    ticket.resolution_due = ticket.resolution_risk_at = ticket.sla_due_at = None
    if policy is None:
        ticket.sla_state = SlaState.NONE
        return
    calendar = calendar or Calendar.load()
    fr_target, res_target = policy.first_response_minutes * 60, policy.resolution_minutes * 60
    elapsed = elapsed_at(ticket, now, calendar)
    responded = ticket.first_responded_at is not None
    if ticket.sla_running_since is not None:
        since, spent = ticket.sla_running_since, ticket.sla_elapsed_seconds

        def due(target: float) -> datetime:
            # A share already used up before this run was due when the run began (not at the next opening hour).
            return since if spent >= target else calendar.add(since, target - spent)

        if not responded:
            ticket.first_response_due = due(fr_target)
            ticket.first_response_risk_at = due(RISK_SHARE * fr_target)
        ticket.resolution_due = due(res_target)
        ticket.resolution_risk_at = due(RISK_SHARE * res_target)
        ticket.sla_due_at = ticket.resolution_due if responded else ticket.first_response_due
    # Reaching 100 % of a target is a breach (the watcher fires at `due <= now`), answered or not.
    first_breached = breached_first_response(ticket, calendar) if responded else elapsed >= fr_target
    breached = elapsed >= res_target or first_breached
    if breached:
        ticket.sla_state = SlaState.BREACHED
    elif ticket.status in (TicketStatus.SOLVED, TicketStatus.CLOSED):
        ticket.sla_state = SlaState.MET
    elif ticket.sla_running_since is None:
        ticket.sla_state = SlaState.PAUSED
    elif elapsed >= RISK_SHARE * (res_target if responded else fr_target):
        ticket.sla_state = SlaState.AT_RISK
    else:
        ticket.sla_state = SlaState.OK


def breached_first_response(ticket: Ticket, calendar: Calendar) -> bool:
    """Whether the first response came after its target (business time from creation, pauses excluded)."""
    policy = ticket.sla_policy
    if policy is None or ticket.first_responded_at is None:
        return False
    return (ticket.first_response_seconds or 0) >= policy.first_response_minutes * 60


def start(ticket: Ticket, *, now: datetime | None = None, calendar: Calendar | None = None) -> None:
    """Pick the policy for a new ticket and start its clock (paused from the start if the status says so)."""
    now = now or timezone.now()
    ticket.sla_policy = policy_for(priority=ticket.priority, queue_id=ticket.queue_id, ticket_type=ticket.type)
    ticket.sla_elapsed_seconds = 0
    ticket.sla_running_since = None if ticket.is_paused or not ticket.is_open else now
    refresh(ticket, now=now, calendar=calendar)


def _record_unseen_breaches(ticket: Ticket, now: datetime, *, clocks: tuple[str, ...]) -> None:
    """Record the breach of a clock stopping past its due time that the watcher has not seen yet (it looks once a
    minute, and may have been down), so SLA analytics count it. No alarm: the moment to act has passed.

    Called before the stop clears the due times; a breach already recorded is left as it is (the constraint).
    """
    if ticket.pk is None or ticket.sla_running_since is None or ticket.sla_policy_id is None:
        return
    dues = {SlaClock.FIRST_RESPONSE: ticket.first_response_due if ticket.first_responded_at is None else None,
            SlaClock.RESOLUTION: ticket.resolution_due}
    missed = [
        SlaEvent(ticket_id=ticket.pk, clock=clock, kind=SlaEventKind.BREACHED, due_at=dues[clock],
                 occurred_at=dues[clock], team_id=ticket.team_id, assignee_id=ticket.assignee_id,
                 priority=ticket.priority)
        for clock in clocks if dues[clock] is not None and dues[clock] <= now
    ]
    if missed:
        SlaEvent.objects.bulk_create(missed, ignore_conflicts=True)


def pause(ticket: Ticket, *, now: datetime | None = None, calendar: Calendar | None = None) -> None:
    """Stop the clock (waiting for the customer, on hold, solved), keeping the time spent."""
    now = now or timezone.now()
    calendar = calendar or Calendar.load()
    _record_unseen_breaches(ticket, now, clocks=(SlaClock.FIRST_RESPONSE, SlaClock.RESOLUTION))
    if ticket.sla_running_since is not None:
        ticket.sla_elapsed_seconds = elapsed_at(ticket, now, calendar)
        ticket.sla_running_since = None
    refresh(ticket, now=now, calendar=calendar)


def resume(ticket: Ticket, *, now: datetime | None = None, calendar: Calendar | None = None) -> None:
    """Start the clock again from where it stood."""
    now = now or timezone.now()
    if ticket.sla_running_since is None:
        ticket.sla_running_since = now
    refresh(ticket, now=now, calendar=calendar)


def sync_with_status(ticket: Ticket, *, now: datetime | None = None, calendar: Calendar | None = None) -> None:
    """Run or stop the clock as the ticket's (new) status says: running while new or open, stopped otherwise."""
    if ticket.is_open and not ticket.is_paused:
        resume(ticket, now=now, calendar=calendar)
    else:
        pause(ticket, now=now, calendar=calendar)


def record_first_response(ticket: Ticket, *, now: datetime | None = None, calendar: Calendar | None = None) -> None:
    """The first public reply: stop the first-response clock, keeping how long it took in business time."""
    now = now or timezone.now()
    calendar = calendar or Calendar.load()
    if ticket.first_responded_at is None:
        _record_unseen_breaches(ticket, now, clocks=(SlaClock.FIRST_RESPONSE,))
        ticket.first_responded_at = now
        ticket.first_response_seconds = elapsed_at(ticket, now, calendar)
    refresh(ticket, now=now, calendar=calendar)


def reapply_policy(ticket: Ticket, *, now: datetime | None = None, calendar: Calendar | None = None) -> None:
    """After a priority, queue or type change: the new policy's targets, the time already spent kept."""
    ticket.sla_policy = policy_for(priority=ticket.priority, queue_id=ticket.queue_id, ticket_type=ticket.type)
    refresh(ticket, now=now, calendar=calendar)


def retime_open_tickets(*, now: datetime | None = None, chunk: int = 500) -> int:
    """Re-time every open ticket under the current policies and calendar (after an admin changed them), keeping
    the business time each clock has already spent. Chunks of rows locked with SKIP LOCKED, so a ticket being
    worked at that moment is left for its own next clock change; returns how many were re-timed."""
    from django.db import transaction

    now = now or timezone.now()
    calendar = Calendar.load()
    done, last_id = 0, 0
    while True:
        with transaction.atomic():
            tickets = list(Ticket.objects.open().select_for_update(skip_locked=True, of=("self",))
                           .filter(pk__gt=last_id).select_related("sla_policy").order_by("pk")[:chunk])
            if not tickets:
                return done
            for ticket in tickets:
                if ticket.sla_running_since is not None:  # bank the time spent so far in the old calendar
                    ticket.sla_elapsed_seconds = elapsed_at(ticket, now, calendar)
                    ticket.sla_running_since = now
                reapply_policy(ticket, now=now, calendar=calendar)
            Ticket.objects.bulk_update(tickets, CLOCK_FIELDS)
            done += len(tickets)
            last_id = tickets[-1].pk

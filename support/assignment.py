"""Automatic assignment of new tickets to a queue's agents: round-robin, or the agent with the fewest open tickets.

Candidates are the active support agents of the queue's team (managers take tickets by hand, never by rotation).
The queue row is locked while an agent is picked, so two workers assigning tickets of one queue at once take turns
and see each other's choice (the round-robin pointer `Queue.last_assigned`, and the open-ticket counts).
"""

from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import Count, Q
from django.utils import timezone

from crm.models import Role, User
from support import services
from support.models import OPEN_STATUSES, AssignmentMode, Queue, Ticket

#: The beat reconciler leaves a ticket this long to the worker its creation enqueued.
WAITING_GRACE = timedelta(minutes=1)
#: At most this many tickets per reconciler run (the next run takes the rest).
WAITING_BATCH = 200


def candidates(queue: Queue):
    """The agents a queue's tickets rotate among: active support agents of its team, by id."""
    return User.objects.filter(team_id=queue.team_id, role=Role.SUPPORT_AGENT, is_active=True).order_by("id")


def pick_agent(queue: Queue) -> User | None:
    """Who gets the queue's next ticket by its mode (None for manual queues or a team without agents).

    Round-robin: the first candidate after `last_assigned` by id, wrapping around (the pointer may name someone who
    left the team or was deactivated: the rotation goes on from their place). Fewest open tickets: open tickets
    assigned to the agent in any queue, ties to the lowest id.
    """
    agents = candidates(queue)
    if queue.assignment_mode == AssignmentMode.ROUND_ROBIN:
        after = agents.filter(pk__gt=queue.last_assigned_id).first() if queue.last_assigned_id else None
        return after or agents.first()
    if queue.assignment_mode == AssignmentMode.LEAST_OPEN:
        return (agents.annotate(open_tickets=Count("assigned_tickets",
                                                   filter=Q(assigned_tickets__status__in=OPEN_STATUSES)))
                .order_by("open_tickets", "id").first())
    return None


@transaction.atomic
def auto_assign(*, ticket_id: int, now: datetime | None = None) -> User | None:
    """Assign an open, unassigned ticket to the next agent of its queue; the agent, or None when nothing was done.

    Safe to run twice or concurrently: the queue row is locked (FOR UPDATE) before the ticket is read again, so a
    second run finds the ticket assigned and does nothing.
    """
    queue_id = Ticket.objects.filter(pk=ticket_id).values_list("queue_id", flat=True).first()
    if queue_id is None:
        return None
    queue = Queue.objects.select_for_update().get(pk=queue_id)
    # Locked too: an agent assigning it by hand meanwhile must not be overwritten (always queue, then ticket).
    ticket = Ticket.objects.select_for_update().filter(pk=ticket_id).first()
    if (ticket is None or ticket.queue_id != queue.pk or ticket.assignee_id is not None
            or ticket.status not in OPEN_STATUSES or queue.assignment_mode == AssignmentMode.MANUAL):
        return None
    agent = pick_agent(queue)
    if agent is None:
        return None
    services.assign_ticket(ticket=ticket, by=None, assignee=agent, now=now)
    queue.last_assigned = agent
    queue.save(update_fields=["last_assigned", "updated_at"])
    return agent


def assign_waiting(*, now: datetime | None = None) -> int:
    """Beat reconciler: open, unassigned tickets of automatic queues older than a minute get their agent (the
    message their creation enqueued was lost, or no agent was free then); how many were assigned.

    Each ticket is its own transaction, so one queue's lock is never held while another queue's tickets wait.
    """
    now = now or timezone.now()
    waiting = list(
        Ticket.objects.filter(status__in=OPEN_STATUSES, assignee__isnull=True, created_at__lte=now - WAITING_GRACE,
                              queue__is_active=True)
        .exclude(queue__assignment_mode=AssignmentMode.MANUAL)
        .order_by("created_at", "id").values_list("pk", flat=True)[:WAITING_BATCH]
    )
    return sum(1 for pk in waiting if auto_assign(ticket_id=pk, now=now) is not None)

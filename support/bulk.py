"""Bulk actions of the inbox: assign or close many tickets; only those the user may change are touched."""

from collections.abc import Iterable

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from crm.models import User
from support import services
from support.models import Ticket, TicketStatus

BULK_ACTIONS = ("assign", "close")
MAX_BULK = 200  # a few inbox pages: each change records a timeline entry and may notify the assignee


@transaction.atomic
def bulk_update_tickets(*, by: User, ids: Iterable[int], action: str, assignee: User | None = None,
                        now=None) -> dict[str, int]:
    """Assign (to `assignee`) or close the chosen tickets, through the single-ticket services.

    Tickets the user cannot see or may not change (`services.workable_filter`), tickets of a team the assignee is
    not in, and tickets already closed (for "assign") are skipped and counted.
    """
    ids = list(dict.fromkeys(int(i) for i in ids))
    if not ids:
        raise ValidationError({"ids": _("Choose at least one ticket.")})
    if len(ids) > MAX_BULK:
        raise ValidationError({"ids": _("Choose at most %(n)s tickets at a time.") % {"n": MAX_BULK}})
    if action not in BULK_ACTIONS:
        raise ValidationError({"action": _("Choose an action.")})
    if action == "assign" and assignee is None:
        raise ValidationError({"assignee": _("Choose the agent.")})
    now = now or timezone.now()
    tickets = Ticket.objects.visible_to(by).filter(pk__in=ids)
    condition = services.workable_filter(by)
    if condition is not None:
        tickets = tickets.filter(condition)
    done, takes = 0, {}  # team id -> whether the assignee may take its tickets
    for ticket in tickets.select_related("team").order_by("pk"):  # bounded by MAX_BULK
        if action == "close":
            if ticket.status != TicketStatus.CLOSED:
                services.change_status(ticket=ticket, by=by, status=TicketStatus.CLOSED, now=now)
            done += 1
            continue
        if ticket.team_id not in takes:
            takes[ticket.team_id] = services.assignable_agents(ticket.team).filter(pk=assignee.pk).exists()
        if ticket.status != TicketStatus.CLOSED and takes[ticket.team_id]:
            services.assign_ticket(ticket=ticket, by=by, assignee=assignee, now=now)
            done += 1
    return {"done": done, "skipped": len(ids) - done}

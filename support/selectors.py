"""Reads behind the agent pages: the inbox, a ticket's thread, the customer 360 panel, the queues overview.

Every read starts from `visible_to(user)`; each returns in a fixed number of queries whatever the data's size.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db.models import Avg, Case, Count, IntegerField, Prefetch, Q, Value, When
from django.utils import timezone

from contacts.models import Contact
from crm.models import Role, User
from support.models import (
    OPEN_STATUSES,
    Attachment,
    CsatResponse,
    Queue,
    SlaState,
    Ticket,
    TicketMessage,
    TicketPriority,
    TicketStatus,
    team_ids_of,
)

# --- The inbox -------------------------------------------------------------------------------------------

#: The inbox's views, in tab order: whose tickets it lists.
INBOX_VIEWS = ("mine", "queues", "unassigned", "at_risk", "breached", "all")

_PRIORITY_RANK = Case(
    When(priority=TicketPriority.URGENT, then=Value(0)), When(priority=TicketPriority.HIGH, then=Value(1)),
    When(priority=TicketPriority.NORMAL, then=Value(2)), default=Value(3), output_field=IntegerField(),
)

#: sort key -> ORDER BY. "sla_due_at" (the default) is served by the partial (team|assignee, sla_due_at, id) indexes.
INBOX_SORTS = {
    "sla_due_at": ("sla_due_at", "id"),  # ascending sorts NULLs last in PostgreSQL, as the indexes store them
    "-created_at": ("-created_at", "-id"),
    "-last_activity_at": ("-last_activity_at", "-id"),
    "priority": (_PRIORITY_RANK, "sla_due_at", "id"),
}

#: What an inbox row shows besides the ticket's own columns.
ROW_RELATED = ("contact", "queue", "assignee")


def served_team_ids(user: User) -> list[int] | None:
    """The teams whose queues `user` works: an agent's own team, a manager's managed teams (admins: None = all)."""
    return None if user.role == Role.ADMIN else team_ids_of(user, own="agent")


def _in_teams(queryset, teams: list[int] | None):
    if teams is None:
        return queryset
    if len(teams) == 1:
        return queryset.filter(team_id=teams[0])
    return queryset.filter(team_id__in=teams)


def filter_tickets(queryset, *, status: str = "", priority: str = "", type: str = "", queue=None, channel: str = "",
                   assignee=None, q: str = "", **_ignored):
    """Narrow tickets by the inbox's (and the API's) filters; empty values do not filter.

    `assignee` is a user, a user id, or "none" (unassigned); `queue` a queue or its id; `q` a ticket number
    ("123" or "#123") or words of the subject.
    """
    if status:
        queryset = queryset.filter(status=status)
    if priority:
        queryset = queryset.filter(priority=priority)
    if type:
        queryset = queryset.filter(type=type)
    if channel:
        queryset = queryset.filter(channel=channel)
    if queue:
        queryset = queryset.filter(queue_id=getattr(queue, "pk", queue))
    if assignee == "none":
        queryset = queryset.filter(assignee__isnull=True)
    elif assignee:
        queryset = queryset.filter(assignee_id=getattr(assignee, "pk", assignee))
    q = " ".join(str(q or "").split())
    if q:
        number = q.removeprefix("#")
        queryset = queryset.filter(number=int(number)) if number.isdigit() else queryset.filter(subject__icontains=q)
    return queryset


def inbox_for(*, user: User, view: str = "mine", filters: dict | None = None, sort: str = "sla_due_at"):
    """The tickets of one inbox view, filtered and sorted, with what a row shows loaded (one query per page).

    Views: `mine` (assigned to the user), `queues` (the queues of their teams), `unassigned` (in those queues,
    nobody's yet), `at_risk` and `breached` (of everything visible), `all` (everything visible). Every view lists
    open tickets unless the status filter asks for another status (the due-time indexes hold open tickets only).
    """
    if view not in INBOX_VIEWS:
        raise ValueError(f"unknown inbox view {view!r}")
    filters = dict(filters or {})
    teams = served_team_ids(user)
    if view in ("mine", "queues", "unassigned"):
        # The tickets one works are a subset of those one sees; `served_by` is the form the (team|assignee,
        # sla_due_at, id) indexes serve, where a manager's `visible_to` adds their customers' tickets by a subquery.
        tickets = Ticket.objects.served_by(user)
        if view == "mine":
            tickets = tickets.filter(assignee_id=user.pk)
        else:
            tickets = _in_teams(tickets, teams) if teams != [] else tickets.none()
            if view == "unassigned":
                tickets = tickets.filter(assignee__isnull=True)
    else:
        tickets = Ticket.objects.visible_to(user)
        if view in ("at_risk", "breached"):
            tickets = tickets.filter(sla_state=view)
    if not filters.get("status"):
        tickets = tickets.open()
    tickets = filter_tickets(tickets, **filters)
    return tickets.select_related(*ROW_RELATED).order_by(*INBOX_SORTS.get(sort) or INBOX_SORTS["sla_due_at"])


def default_view(user: User) -> str:
    """Agents start on their own tickets; managers and admins on their queues; sales reps on what they see."""
    if user.role == Role.SALES_REP:
        return "all"
    return "queues" if user.role in (Role.MANAGER, Role.ADMIN) else "mine"


# --- A ticket ----------------------------------------------------------------------------------------------


def ticket_for(*, user: User, pk: int) -> Ticket:
    """A visible ticket with what its page shows (raises Ticket.DoesNotExist: the view answers 404)."""
    return (Ticket.objects.visible_to(user)
            .select_related("contact", "company", "queue", "team", "assignee", "order", "deal", "sla_policy",
                            "merged_into", "csat")
            .prefetch_related("tags")
            .get(pk=pk))


def ticket_thread(ticket: Ticket, user: User) -> list[TicketMessage]:
    """The ticket's conversation, oldest first, with authors and attachments (two queries).

    Internal notes are shown to everyone who may read the ticket: they are the staff's, never the customer's.
    `user` is accepted so a later rule (e.g. hiding notes from some role) lives here, not in templates.
    """
    return list(
        TicketMessage.objects.filter(ticket=ticket)
        .select_related("author", "author_contact")
        .prefetch_related(Prefetch("attachments", queryset=Attachment.objects.order_by("id")))
        .order_by("created_at", "id")
    )


def merge_candidates(*, ticket: Ticket, user: User, limit: int = 20) -> list[Ticket]:
    """Other unclosed tickets of the same customer that `user` may see, newest first: merge targets."""
    return list(
        Ticket.objects.visible_to(user).filter(contact_id=ticket.contact_id)
        .exclude(pk=ticket.pk).exclude(status=TicketStatus.CLOSED)
        .order_by("-created_at", "-id")[:limit]
    )


# --- The customer 360 panel -----------------------------------------------------------------------------

#: Suggestion providers: callables `(contact, user) -> list` that other apps append to (analytics' cross-sell).
SUGGESTION_PROVIDERS: list[Callable[[Contact, User], list]] = []


def suggestions_for(contact: Contact, user: User) -> list:
    """Cross-sell suggestions for the customer from every registered provider (none registered: [])."""
    suggestions = []
    for provider in SUGGESTION_PROVIDERS:
        suggestions.extend(provider(contact, user) or [])
    return suggestions


@dataclass
class Customer360:
    contact: Contact
    interests: list
    reasons: list
    orders: list
    deals: list
    past_tickets: list
    suggestions: list = field(default_factory=list)


def customer_360(*, contact: Contact, user: User, exclude_ticket: Ticket | None = None,
                 limit: int = 5) -> Customer360 | None:
    """What a support agent needs about the customer, all through `visible_to`: details, preferences and consent,
    lead score with its top reasons, recent orders, open deals, past tickets, interests (tags), suggestions.

    None when the user cannot see the contact (the panel then says so instead of leaking anything).
    """
    from sales.models import Deal, DealContact, Order, ScoreExplanation
    from sales.scoring.rules import explain

    contact = (Contact.objects.visible_to(user).select_related("company").prefetch_related("tags")
               .filter(pk=contact.pk).first())
    if contact is None:
        return None
    explanations = (ScoreExplanation.objects.filter(contact=contact).select_related("rule")
                    .only("points", "facts", "rule__name", "rule__kind", "rule__params"))
    reasons = sorted(
        ({"name": r.rule.name, "points": float(r.points), "text": explain(r.rule.kind, r.rule.params, r.facts)}
         for r in explanations),
        key=lambda reason: (-abs(reason["points"]), reason["name"]),
    )[:3]
    orders = list(Order.objects.visible_to(user).filter(contact=contact).order_by("-ordered_at", "-id")[:limit])
    on_deal = DealContact.objects.filter(contact_id=contact.pk).values("deal_id")
    deals = list(Deal.objects.visible_to(user).open()
                 .filter(Q(primary_contact_id=contact.pk) | Q(pk__in=on_deal))
                 .select_related("stage").order_by("expected_close", "-amount", "-id")[:limit])
    past = Ticket.objects.visible_to(user).filter(contact_id=contact.pk)
    if exclude_ticket is not None:
        past = past.exclude(pk=exclude_ticket.pk)
    past_tickets = list(past.order_by("-created_at", "-id")[:limit])
    return Customer360(contact=contact, interests=list(contact.tags.all()), reasons=reasons, orders=orders,
                       deals=deals, past_tickets=past_tickets, suggestions=suggestions_for(contact, user))


def contact_tickets(*, contact: Contact, user: User, limit: int = 10) -> list[Ticket]:
    """The contact's tickets `user` may see, newest first (one more than `limit`: the panel says "more")."""
    return list(Ticket.objects.visible_to(user).filter(contact_id=contact.pk)
                .select_related("queue", "assignee").order_by("-created_at", "-id")[:limit + 1])


# --- The queues overview ----------------------------------------------------------------------------------


@dataclass
class AgentLoad:
    agent: User
    open: int = 0
    at_risk: int = 0
    breached: int = 0
    solved_this_week: int = 0
    csat_average: float | None = None  # the customers' mean rating over CSAT_DAYS
    csat_count: int = 0


#: How far back the managers' view averages the customers' ratings.
CSAT_DAYS = 30


def week_start(now: datetime) -> datetime:
    """Midnight of the current week's first day (Monday) in the active time zone."""
    local = timezone.localtime(now)
    return (local - timedelta(days=local.weekday())).replace(hour=0, minute=0, second=0, microsecond=0)


def queue_overview(*, user: User, now: datetime | None = None) -> dict:
    """For each queue of the user's teams: open, unassigned, at-risk and breached counts; for each agent of those
    teams (and anyone holding their tickets): open, at risk, breached and solved this week. One GROUP BY each.
    """
    now = now or timezone.now()
    teams = served_team_ids(user)
    queues = Queue.objects.select_related("team").order_by("team__name", "name")
    if teams is not None:
        queues = queues.filter(team_id__in=teams)
    queues = list(queues)
    team_ids = sorted({q.team_id for q in queues} | set(teams or []))
    tickets = Ticket.objects.all() if teams is None else Ticket.objects.filter(team_id__in=team_ids)
    per_queue = {
        row["queue_id"]: row for row in tickets.open().values("queue_id").annotate(
            open=Count("id"), unassigned=Count("id", filter=Q(assignee__isnull=True)),
            at_risk=Count("id", filter=Q(sla_state=SlaState.AT_RISK)),
            breached=Count("id", filter=Q(sla_state=SlaState.BREACHED)),
        ).order_by()
    }
    for queue in queues:
        row = per_queue.get(queue.pk, {})
        for key in ("open", "unassigned", "at_risk", "breached"):
            setattr(queue, key, row.get(key, 0))
    since = week_start(now)
    is_open = Q(status__in=OPEN_STATUSES)
    per_agent = {
        row["assignee_id"]: row for row in tickets.filter(assignee__isnull=False)
        .filter(is_open | Q(solved_at__gte=since)).values("assignee_id").annotate(
            open=Count("id", filter=is_open), at_risk=Count("id", filter=is_open & Q(sla_state=SlaState.AT_RISK)),
            breached=Count("id", filter=is_open & Q(sla_state=SlaState.BREACHED)),
            solved=Count("id", filter=Q(solved_at__gte=since)),
        ).order_by()
    }
    answers = CsatResponse.objects.filter(created_at__gte=now - timedelta(days=CSAT_DAYS), assignee__isnull=False)
    if teams is not None:
        answers = answers.filter(team_id__in=team_ids)
    per_agent_csat = {row["assignee_id"]: row for row in answers.values("assignee_id").annotate(
        average=Avg("rating"), count=Count("id")).order_by()}
    # The teams' active agents and managers (admins: every active agent), and anyone else holding their tickets.
    members = Q(is_active=True, role=Role.SUPPORT_AGENT) if teams is None else Q(
        team_id__in=team_ids, is_active=True, role__in=[Role.SUPPORT_AGENT, Role.MANAGER])
    people = User.objects.filter(members | Q(pk__in=list(per_agent))).select_related("team").order_by("full_name", "id")
    loads = []
    for person in people:
        row, csat = per_agent.get(person.pk, {}), per_agent_csat.get(person.pk, {})
        loads.append(AgentLoad(agent=person, open=row.get("open", 0), at_risk=row.get("at_risk", 0),
                               breached=row.get("breached", 0), solved_this_week=row.get("solved", 0),
                               csat_average=csat.get("average"), csat_count=csat.get("count", 0)))
    return {"queues": queues, "agents": loads, "week_start": since, "csat_days": CSAT_DAYS}


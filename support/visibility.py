"""What serving a ticket lets a user read: the customer's contact, company, orders and deals ("linked" records,
reliability.md §1.3), read-only for support agents (`read_only_for_agents` on those models).

Registered with `crm.visibility.widen`, so every `visible_to` (lists, pages, API, search, exports, 360 panels)
includes them without knowing about tickets.
"""

from django.db.models import Q

from crm.models import Role
from crm.visibility import widen


def _serves_tickets(user) -> bool:
    """Support agents, and managers of a support team (a sales manager's lists keep their plain team filter)."""
    if user.role == Role.SUPPORT_AGENT:
        return True
    return user.role == Role.MANAGER and bool(user.managed_support_team_ids())


def _served(user):
    from support.models import Ticket

    return Ticket.objects.served_by(user)


def linked_contacts(user) -> Q | None:
    return Q(pk__in=_served(user).values("contact_id")) if _serves_tickets(user) else None


def linked_companies(user) -> Q | None:
    if not _serves_tickets(user):
        return None
    served = _served(user)
    return Q(pk__in=served.filter(company__isnull=False).values("company_id")) | Q(
        pk__in=served.filter(contact__company__isnull=False).values("contact__company_id"))


def linked_orders(user) -> Q | None:
    return Q(contact_id__in=_served(user).values("contact_id")) if _serves_tickets(user) else None


def linked_deals(user) -> Q | None:
    if not _serves_tickets(user):
        return None
    from sales.models import DealContact

    served = _served(user)
    customers = served.values("contact_id")
    return (Q(primary_contact_id__in=customers)
            | Q(pk__in=DealContact.objects.filter(contact_id__in=customers).values("deal_id"))
            | Q(pk__in=served.filter(deal__isnull=False).values("deal_id")))


def register() -> None:
    widen("contacts.Contact", linked_contacts)
    widen("contacts.Company", linked_companies)
    widen("sales.Order", linked_orders)
    widen("sales.Deal", linked_deals)

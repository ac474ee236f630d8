"""seed_demo: the demo organisation with customers, created once."""

import re

import pytest

from contacts.models import Company, Contact, Interaction
from crm.management.commands.seed_demo import seed
from crm.models import User

pytestmark = pytest.mark.django_db


def test_seed_creates_customers_with_timelines_once():
    first = seed(companies=4, contacts=12, deals=10, tickets=0)
    assert first["created"]["contacts"] == 12
    assert Contact.objects.count() == 12 and Company.objects.count() == 4
    assert not Contact.objects.filter(interactions__isnull=True).exists()  # every contact has a timeline
    second = seed(companies=4, contacts=12, deals=10, tickets=0)
    assert second["already_seeded"] and Contact.objects.count() == 12 and Interaction.objects.count() > 12


def test_seeded_contacts_mix_scripts_and_follow_their_owners_team():
    seed(companies=4, contacts=12, deals=10, tickets=12)
    names = list(Contact.objects.values_list("first_name", flat=True))
    assert any(re.search(r"[\u0980-\u09ff]", n) for n in names) and any(re.search(r"[A-Za-z]", n) for n in names)
    assert all(c.team_id == c.owner.team_id for c in Contact.objects.select_related("owner"))
    assert all(p.startswith("+8801") for p in Contact.objects.values_list("phone", flat=True))
    rep = User.objects.get(email="rep@demo.sampark.local")
    assert Contact.objects.visible_to(rep).exists()
    agent = User.objects.get(email="agent@demo.sampark.local")  # reads only the customers of tickets it serves
    from support.models import Ticket

    served = set(Ticket.objects.visible_to(agent).values_list("contact_id", flat=True))
    assert served and set(Contact.objects.visible_to(agent).values_list("pk", flat=True)) == served


def test_seed_creates_pipelines_products_and_deals_once():
    from sales.models import Deal, Pipeline, Product, StageChange

    first = seed(companies=4, contacts=12, deals=20, tickets=12)
    assert first["created"]["pipelines"] == 2 and Product.objects.count() == 8
    assert Deal.objects.count() == 20 and StageChange.objects.count() >= 20  # every deal has entered a stage
    assert all(d.team_id == d.owner.team_id for d in Deal.objects.select_related("owner"))
    assert Deal.objects.filter(stage__is_lost=True).exclude(lost_reason="").count() == \
        Deal.objects.filter(stage__is_lost=True).count()
    seed(companies=4, contacts=12, deals=20, tickets=12)
    assert Pipeline.objects.count() == 2 and Deal.objects.count() == 20


def test_seed_fills_a_year_of_orders_campaigns_invoices_tasks_and_scores():
    from datetime import timedelta

    from django.utils import timezone

    from sales.models import Campaign, CampaignMember, Invoice, Order, ScoreRun, ScoringRule, Task

    first = seed(companies=4, contacts=12, deals=40, tickets=12)
    assert first["created"]["orders"] == Order.objects.count() > 300
    oldest = Order.objects.order_by("ordered_at").first().ordered_at
    assert timezone.now() - oldest > timedelta(days=300)  # about a year of purchases
    assert {"delivered", "cancelled", "pending"} <= set(Order.objects.values_list("status", flat=True))
    assert Order.objects.filter(deal__isnull=False).exists()  # won deals' orders
    assert Campaign.objects.count() == 4 and CampaignMember.objects.filter(is_source=True).exists()
    assert len(set(Invoice.objects.values_list("status", flat=True))) >= 3
    now = timezone.now()
    assert Task.objects.filter(due_at__lt=now, done_at__isnull=True).exists()
    assert Task.objects.filter(due_at__gt=now).exists()
    assert ScoringRule.objects.exists()
    assert ScoreRun.objects.filter(status="done").exists()  # the demo opens with scores in place
    assert Contact.objects.filter(score__gt=0).exists()
    again = seed(companies=4, contacts=12, deals=40, tickets=12)
    assert again["already_seeded"] and Order.objects.count() == first["created"]["orders"]


def test_seed_opens_a_support_desk_with_tickets_in_every_state_once():
    from support.models import CsatResponse, Queue, SlaPolicy, Ticket

    first = seed(companies=4, contacts=12, deals=10, tickets=60)
    assert first["created"]["tickets"] == Ticket.objects.count() == 60
    assert Queue.objects.count() == 3 and SlaPolicy.objects.count() == 5
    assert {"new", "open", "solved", "closed"} <= set(Ticket.objects.values_list("status", flat=True))
    assert CsatResponse.objects.exists()
    assert Ticket.objects.filter(first_responded_at__isnull=False).exists()
    again = seed(companies=4, contacts=12, deals=10, tickets=60)
    assert again["already_seeded"] and Ticket.objects.count() == 60

"""`manage.py seed_demo`: the demo organisation, created idempotently.

The work is done by `seed()` (tests call it directly); the command only prints. `seed()`
runs one function per kind of data, each creating what is missing and never changing or
deleting what is there, so a second run writes nothing. Demo users are recognised by email.
Later kinds of data (contacts, deals, ...) get their own `seed_*` function, called from `seed()`.

Everything happens in one transaction under `pghistory.context(command="seed_demo")`, so the
audit log shows the command as the author of every row.
"""

from dataclasses import dataclass

import pghistory
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, OutputWrapper
from django.db import transaction

from crm import services
from crm.models import OrgSettings, Role, SavedView, Sharing, Team, TeamKind, TeamManager, User

# --- The demo data --------------------------------------------------------------------------------

ORG_NAME = "Sampark Demo Traders"
ORG_CURRENCY = "BDT"
ORG_SHARING = Sharing.TEAM

DHAKA_SALES = "Dhaka Sales"
CHATTOGRAM_SALES = "Chattogram Sales"
CUSTOMER_CARE = "Customer Care"

#: (name, kind), in creation order.
TEAMS = [
    (DHAKA_SALES, TeamKind.SALES),
    (CHATTOGRAM_SALES, TeamKind.SALES),
    (CUSTOMER_CARE, TeamKind.SUPPORT),
]


@dataclass(frozen=True)
class DemoUser:
    key: str  # how other seed functions refer to this user
    email: str
    full_name: str
    role: str
    team: str | None
    password: str  # a published demo password: >= 12 characters, not on the common-password list
    manages: tuple[str, ...] = ()


USERS = [
    DemoUser("admin", "admin@demo.sampark.local", "Nusrat Jahan", Role.ADMIN, None, "demo-admin-2026"),
    DemoUser(
        "manager",
        "manager@demo.sampark.local",
        "রহিম উদ্দিন",
        Role.MANAGER,
        DHAKA_SALES,
        "demo-manager-2026",
        manages=(DHAKA_SALES, CHATTOGRAM_SALES, CUSTOMER_CARE),
    ),
    DemoUser("rep", "rep@demo.sampark.local", "তানভীর আহমেদ", Role.SALES_REP, DHAKA_SALES, "demo-rep-dhaka-2026"),
    DemoUser("rep2", "rep2@demo.sampark.local", "Farhana Akter", Role.SALES_REP, CHATTOGRAM_SALES, "demo-rep-ctg-2026"),
    DemoUser("agent", "agent@demo.sampark.local", "সুমাইয়া ইসলাম", Role.SUPPORT_AGENT, CUSTOMER_CARE, "demo-agent-2026"),
    DemoUser("agent2", "agent2@demo.sampark.local", "Arif Hossain", Role.SUPPORT_AGENT, CUSTOMER_CARE,
             "demo-agent2-2026"),
]
DEMO_EMAILS = [u.email for u in USERS]


@dataclass(frozen=True)
class DemoView:
    owner: str  # DemoUser.key
    name: str
    target: str
    query: str
    columns: tuple[str, ...]
    shared: bool


SAVED_VIEWS = [
    DemoView("rep", "My new leads", SavedView.Target.CONTACTS, "stage=lead", ("name", "company", "phone"), False),
    DemoView(
        "rep",
        "Dhaka deals closing soon",
        SavedView.Target.DEALS,
        "status=open&ordering=expected_close",
        ("name", "company", "amount", "expected_close"),
        True,
    ),
    DemoView(
        "manager",
        "Pipeline by value",
        SavedView.Target.DEALS,
        "status=open&ordering=-amount",
        ("name", "owner", "stage", "amount"),
        True,
    ),
]


# --- Seeding --------------------------------------------------------------------------------------


class _Log:
    """Counts what was created and, given a stream, says so line by line."""

    def __init__(self, stdout=None):
        if stdout is not None and not isinstance(stdout, OutputWrapper):
            stdout = OutputWrapper(stdout)  # a plain stream (a test's StringIO) gets one line per message
        self.stdout = stdout
        self.created: dict[str, int] = {}

    def count(self, kind: str, n: int = 1) -> None:
        self.created[kind] = self.created.get(kind, 0) + n

    def say(self, message: str) -> None:
        if self.stdout is not None:
            self.stdout.write(message)


def seed(*, stdout=None, companies: int | None = None, contacts: int | None = None, deals: int | None = None,
         tickets: int | None = None) -> dict:
    """Create whatever part of the demo organisation is missing; return what was done.

    Returns {"created": {kind: count}, "already_seeded": bool, "org": name,
    "accounts": [{"email", "full_name", "role", "team", "manages", "password", "password_works"}]}.
    """
    log = _Log(stdout)
    with transaction.atomic(), pghistory.context(command="seed_demo"):
        org = seed_org(log)
        teams = seed_teams(log)
        users = seed_users(log, teams)
        seed_saved_views(log, users)
        seed_customers(log, users, companies=N_COMPANIES if companies is None else companies,
                       contacts=N_CONTACTS if contacts is None else contacts)
        seed_campaigns(log, users)
        seed_sales(log, users, deals=N_DEALS if deals is None else deals)
        seed_commerce(log, users)
        seed_tasks(log, users)
        seed_scoring(log, users)
        seed_support(log, users, tickets=N_TICKETS if tickets is None else tickets)
        accounts = _accounts(users)
    return {
        "created": log.created,
        "already_seeded": not log.created,
        "org": org.name,
        "accounts": accounts,
    }


def seed_org(log: _Log) -> OrgSettings:
    """Name the organisation; currency and sharing get the demo values too."""
    org = OrgSettings.load()
    wanted = {"name": ORG_NAME, "default_currency": ORG_CURRENCY, "sharing_default": ORG_SHARING}
    changed = [field for field, value in wanted.items() if getattr(org, field) != value]
    if changed:
        for field in changed:
            setattr(org, field, wanted[field])
        org.full_clean()
        org.save(update_fields=[*changed, "updated_at"])
        log.count("org_settings")
        log.say(f"Organisation settings: {', '.join(changed)} set for {ORG_NAME}")
    return org


def seed_teams(log: _Log) -> dict[str, Team]:
    """The demo teams by name (matched case-insensitively, as the unique constraint does)."""
    teams = {}
    for name, kind in TEAMS:
        team = Team.objects.filter(name__iexact=name).first()
        if team is None:
            team = Team(name=name, kind=kind)
            team.full_clean(validate_constraints=False)
            team.save()
            log.count("teams")
            log.say(f"Team: {name} ({kind})")
        elif team.kind != kind:
            raise CommandError(f"Team {team.name!r} exists but is a {team.kind} team; the demo needs a {kind} team.")
        teams[name] = team
    return teams


def seed_users(log: _Log, teams: dict[str, Team]) -> dict[str, User]:
    """One user per role, by email; managers also get their managed teams."""
    users = {}
    for spec in USERS:
        user = User.objects.filter(email__iexact=spec.email).first()
        if user is None:
            user = User(
                email=spec.email, full_name=spec.full_name, role=spec.role, team=teams[spec.team] if spec.team else None
            )
            validate_password(spec.password, user)
            user.set_password(spec.password)
            user.full_clean(exclude=["password"])
            user.save()
            log.count("users")
            log.say(f"User: {spec.email} ({spec.role})")
        if spec.manages and user.role == Role.MANAGER:
            _ensure_managed_teams(log, user, [teams[name] for name in spec.manages])
        users[spec.key] = user
    return users


def _ensure_managed_teams(log: _Log, user: User, teams: list[Team]) -> None:
    existing = set(TeamManager.objects.filter(user=user).values_list("team_id", flat=True))
    missing = [team for team in teams if team.pk not in existing]
    if missing:
        TeamManager.objects.bulk_create([TeamManager(user=user, team=team) for team in missing])
        user.__dict__.pop("_managed_team_ids", None)
        log.count("team_managers", len(missing))
        log.say(f"Manager: {user.email} manages {', '.join(t.name for t in missing)}")


def seed_saved_views(log: _Log, users: dict[str, User]) -> None:
    """Saved views, matched by owner and name, created through the service like a user would."""
    for spec in SAVED_VIEWS:
        owner = users[spec.owner]
        if SavedView.objects.filter(owner=owner, name=spec.name).exists():
            continue
        services.create_saved_view(
            by=owner, name=spec.name, target=spec.target, query=spec.query, columns=spec.columns, shared=spec.shared
        )
        log.count("saved_views")
        log.say(f"Saved view: {spec.name!r} for {owner.email}{' (shared)' if spec.shared else ''}")


DEMO_TAGS = [("VIP", "#b45309"), ("Wholesale", "#0f766e"), ("Eid campaign", "#be185d"), ("Newsletter", "#4338ca"),
             ("Fashion", "#9333ea"), ("Electronics", "#0369a1"), ("Corporate gifts", "#15803d"), ("Repeat buyer", "#c2410c")]
INDUSTRIES = ["Retail", "Garments", "Software", "Logistics", "Food and beverage", "Electronics", "Education", "Healthcare"]
CITIES = [("Dhaka", "Dhaka"), ("Chattogram", "Chattogram"), ("Sylhet", "Sylhet"), ("Khulna", "Khulna"),
          ("Rajshahi", "Rajshahi"), ("Gazipur", "Dhaka"), ("Narayanganj", "Dhaka"), ("Cumilla", "Chattogram")]
CALL_SUBJECTS = ["Introduction call", "Price enquiry", "Follow-up on quotation", "Delivery schedule", "Eid order",
                 "Bulk discount question", "Payment reminder", "Product demo"]
N_COMPANIES, N_CONTACTS = 60, 300


def seed_customers(log: _Log, users: dict[str, User], *, companies: int, contacts: int) -> None:
    """Companies and contacts (Bengali and English names) with tags, social profiles and timelines.

    Seeded once: skipped when the demo reps already own contacts. Built through the services, as a
    user would, with a fixed random seed so every demo looks the same.
    """
    import random
    from datetime import timedelta

    from django.utils import timezone
    from faker import Faker

    from contacts import services
    from contacts.models import Contact, InteractionKind, LifecycleStage, Source, Tag

    owners = [users["rep"], users["rep2"], users["manager"]]
    if Contact.all_objects.filter(owner__in=owners).exists():
        return
    rng = random.Random(2026)
    fakers = {"bn": Faker("bn_BD"), "en": Faker("en_US")}
    for f in fakers.values():
        f.seed_instance(2026)
    for name, colour in DEMO_TAGS:
        if not Tag.objects.filter(name__iexact=name).exists():
            services.save_tag(by=users["admin"], name=name, colour=colour)
    now = timezone.now()

    n_companies, n_contacts, companies = companies, contacts, []
    for i in range(n_companies):
        owner = owners[i % 2]
        base = fakers["en"].company().replace(",", "")
        city, region = rng.choice(CITIES)
        companies.append(services.create_company(
            by=owner, name=base, industry=rng.choice(INDUSTRIES), size_band=rng.choice(["1_10", "11_50", "51_200"]),
            website=f"https://{''.join(ch for ch in base.lower() if ch.isalnum())[:20]}{i}.com.bd",
            phone=f"+8802{rng.randint(55000000, 58999999)}", city=city, region=region, country="BD",
            tags=[rng.choice(DEMO_TAGS)[0]],
        ))
    log.count("companies", len(companies))

    stages = [s for s, _label in LifecycleStage.choices]
    weights = [6, 30, 15, 12, 10, 20, 4, 3]
    interactions = 0
    for i in range(n_contacts):
        owner = owners[0] if i % 5 < 3 else owners[1] if i % 5 == 3 else owners[2]
        script = "bn" if i % 2 == 0 else "en"
        fake = fakers[script]
        first, last = fake.first_name(), fake.last_name()
        latin = fakers["en"].first_name().lower() if script == "bn" else first.lower()
        city, region = rng.choice(CITIES)
        choices = [c for c in companies if c.team_id == owner.team_id]
        company = rng.choice(choices) if choices and rng.random() < 0.6 else None
        contact = services.create_contact(
            by=owner, first_name=first, last_name=last,
            emails=[f"{latin}.{i}@{rng.choice(['gmail.com', 'yahoo.com', 'outlook.com'])}"],
            phones=[(f"01{rng.choice('3456789')}{rng.randint(10000000, 99999999)}", "mobile")],
            company=company, job_title=rng.choice(["", "Owner", "Purchase manager", "CEO", "Marketing lead"]),
            lifecycle_stage=rng.choices(stages, weights)[0],
            source=rng.choice([Source.WEB_FORM, Source.REFERRAL, Source.SOCIAL, Source.CAMPAIGN, Source.MANUAL]),
            city=city, region=region, country="BD", gender=rng.choice(["female", "male", "", "prefer_not_to_say"]),
            preferred_channel=rng.choice(["phone", "whatsapp", "email", "sms", ""]),
            preferred_language=script, tags=rng.sample([t for t, _c in DEMO_TAGS], rng.randint(0, 2)),
            consent={"email": (rng.random() < 0.6, "web form"), "sms": (rng.random() < 0.4, "web form")},
            allow_duplicate=True,
        )
        if rng.random() < 0.3:
            services.add_social_profile(by=owner, contact=contact, platform=rng.choice(["facebook", "instagram", "linkedin"]),
                                        handle=f"{latin}{i}", followers=rng.randint(50, 20000),
                                        interests=rng.sample(["Fashion", "Electronics", "Travel", "Cricket"], 1))
        for _n in range(rng.randint(1, 6)):
            when = now - timedelta(days=rng.randint(0, 180), minutes=rng.randint(0, 1440))
            kind = rng.choice([InteractionKind.CALL, InteractionKind.CALL, InteractionKind.EMAIL, InteractionKind.NOTE,
                               InteractionKind.MEETING, InteractionKind.WEB_VISIT, InteractionKind.PURCHASE])
            if kind in (InteractionKind.WEB_VISIT, InteractionKind.PURCHASE):
                services.record_interaction(kind=kind, contact=contact, occurred_at=when, direction="in",
                                            subject=rng.choice(["Visited pricing page", "Viewed Eid collection",
                                                                f"Order #{rng.randint(1000, 9999)}"]))
            else:
                services.log_activity(by=owner, contact=contact, kind=kind, occurred_at=when,
                                      direction="" if kind == InteractionKind.NOTE else rng.choice(["in", "out"]),
                                      subject=rng.choice(CALL_SUBJECTS),
                                      body=fakers["en"].sentence(nb_words=12) if kind == InteractionKind.NOTE else "",
                                      outcome=rng.choice(["", "Interested", "Call back next week", "Sent quotation"]))
            interactions += 1
    log.count("contacts", n_contacts)
    log.count("interactions", interactions)
    log.say(f"Customers: {len(companies)} companies, {n_contacts} contacts, {interactions} timeline entries")


PIPELINES = [
    ("E-commerce B2B", [("New lead", 10), ("Qualified", 25), ("Proposal sent", 50), ("Negotiation", 75)]),
    ("Services", [("Discovery", 10), ("Scoping", 30), ("Quote sent", 60), ("Contract review", 80)]),
]
PRODUCTS = [
    ("SAR-001", "Jamdani saree", "Fashion", "8500"), ("PAN-002", "Cotton panjabi", "Fashion", "2200"),
    ("LAP-003", "Business laptop", "Electronics", "78000"), ("MOB-004", "Smartphone", "Electronics", "24000"),
    ("TEA-005", "Sylhet tea, 1 kg", "Food", "950"), ("GFT-006", "Corporate gift box", "Corporate gifts", "3500"),
    ("WEB-007", "Web shop setup", "Services", "120000"), ("SEO-008", "SEO retainer (month)", "Services", "35000"),
]
DEAL_KINDS = ["Eid order", "Annual supply", "Website", "Bulk purchase", "Retainer"]
LOST_REASONS = ["Price too high", "Chose a competitor", "No budget this year", "No response"]
N_DEALS = 240


def seed_sales(log: _Log, users: dict[str, User], *, deals: int) -> None:
    """Two pipelines, a product catalogue and deals in every stage (some won, some lost), through the services.

    Seeded once: skipped when a pipeline exists.
    """
    import random
    from datetime import timedelta
    from decimal import Decimal

    from django.utils import timezone

    from contacts.models import Contact
    from sales import services
    from sales.models import Pipeline

    if Pipeline.objects.exists():
        return
    rng = random.Random(2027)
    admin = users["admin"]
    pipelines = [services.create_pipeline(by=admin, name=name, stages=stages, won_name="Won", lost_name="Lost")
                 for name, stages in PIPELINES]
    for sku, name, category, price in PRODUCTS:
        services.save_product(by=admin, sku=sku, name=name, category=category, unit_price=Decimal(price), currency="BDT",
                              active=True)
    owners = [users["rep"], users["rep2"], users["manager"]]
    people = {o.pk: list(Contact.objects.visible_to(o).filter(owner=o).select_related("company")[:200]) for o in owners}
    today = timezone.localdate()
    made = moved = 0
    for i in range(deals):
        owner = owners[0] if i % 5 < 3 else owners[1] if i % 5 == 3 else owners[2]
        if not people[owner.pk]:
            continue
        pipeline = pipelines[i % 2]
        contact = rng.choice(people[owner.pk])
        stages = list(pipeline.stages.filter(archived_at__isnull=True).order_by("position"))
        who = contact.company.name if contact.company else str(contact)
        deal = services.create_deal(
            by=owner, title=f"{who} — {rng.choice(DEAL_KINDS)}",
            pipeline=pipeline, amount=Decimal(rng.randrange(15_000, 900_000, 500)),
            expected_close=today + timedelta(days=rng.randint(-20, 180)), company=contact.company,
            primary_contact=contact,
        )
        made += 1
        target = rng.choices(stages, weights=[30, 20, 15, 10, 12, 8][: len(stages)])[0]
        if target.pk != deal.stage_id:
            services.move_deal(deal=deal, stage=target, by=owner,
                               lost_reason=rng.choice(LOST_REASONS) if target.is_lost else "")
            moved += 1
    log.count("pipelines", len(pipelines))
    log.count("products", len(PRODUCTS))
    log.count("deals", made)
    log.say(f"Sales: {len(pipelines)} pipelines, {len(PRODUCTS)} products, {made} deals ({moved} moved on)")


CAMPAIGNS = [
    # name, channel, budget, actual cost, starts (days ago), length (days), target tag, members, responded, converted
    ("Eid ul-Fitr email offers", "email", 25_000, 21_500, 300, 30, "Eid campaign", 60, 22, 9),
    ("Facebook winter collection", "social", 60_000, 64_000, 200, 45, None, 70, 25, 8),
    ("Dhaka trade fair stall", "event", 150_000, 142_000, 120, 10, "Wholesale", 40, 18, 7),
    ("Google search: bulk saree", "search_ads", 40_000, 18_000, 30, 60, None, 35, 10, 2),
]


def seed_campaigns(log: _Log, users: dict[str, User]) -> None:
    """A few campaigns a year back, with members, responses and conversions (each member's first campaign is
    its source, so the deals seeded next default to it). Seeded once: skipped when a campaign exists."""
    import random
    from datetime import timedelta

    from django.utils import timezone

    from contacts.models import Contact, Tag
    from sales import campaigns
    from sales.models import Campaign, CampaignMember

    if Campaign.objects.exists():
        return
    rng = random.Random(2028)
    today = timezone.localdate()
    owners = [users["manager"], users["rep"], users["rep2"], users["manager"]]
    made = 0
    for (name, channel, budget, cost, ago, days, tag_name, n, responded, converted), owner in zip(CAMPAIGNS, owners,
                                                                                                 strict=True):
        start = today - timedelta(days=ago)
        campaign = campaigns.create_campaign(by=owner, name=name, channel=channel, starts_on=start,
                                             ends_on=start + timedelta(days=days), budget=budget, actual_cost=cost,
                                             target_tag=Tag.objects.filter(name=tag_name).first() if tag_name else None)
        people = list(Contact.objects.visible_to(owner).order_by("id").values_list("id", flat=True))
        chosen = rng.sample(people, min(n, len(people)))
        campaigns.add_members(by=owner, campaign=campaign, contacts=Contact.objects.filter(pk__in=chosen))
        members = list(CampaignMember.objects.filter(campaign=campaign).order_by("id"))
        rng.shuffle(members)
        for i, member in enumerate(members[:responded]):
            campaigns.set_member_status(by=owner, member=member, status="converted" if i < converted else "responded")
        made += 1
    log.count("campaigns", made)
    log.say(f"Campaigns: {made}")


def seed_commerce(log: _Log, users: dict[str, User]) -> None:
    """A year of shop orders (most delivered, some cancelled or refunded), the orders of some won deals, and
    invoices in every state. Seeded once: skipped when an order exists."""
    import random
    from datetime import timedelta
    from decimal import Decimal

    from django.utils import timezone

    from contacts.models import Contact
    from sales import invoices, orders
    from sales.models import Deal, Order, Product

    if Order.objects.exists():
        return
    rng = random.Random(2029)
    products = list(Product.objects.filter(active=True).order_by("id"))
    if not products:
        return
    now = timezone.now()
    today = timezone.localdate()
    sellers = [users["rep"], users["rep2"], users["manager"]]
    made = 0
    for seller in sellers:
        buyers = list(Contact.objects.visible_to(seller).filter(owner=seller).order_by("id")[:120])
        for _ in range(170 if seller is not users["manager"] else 60):
            contact = rng.choice(buyers)
            age = timedelta(days=rng.randint(0, 364), minutes=rng.randint(0, 60 * 12))
            status = ("pending" if age.days < 3 else "paid" if age.days < 6 else "shipped" if age.days < 10
                      else rng.choices(["delivered", "cancelled", "refunded"], weights=[90, 6, 4])[0])
            lines = [{"product": p, "quantity": rng.randint(1, 4), "unit_price": p.unit_price,
                      "discount": rng.choice([0, 0, 0, 5, 10])} for p in rng.sample(products, rng.randint(1, 3))]
            orders.create_order(by=seller, contact=contact, company=contact.company, lines=lines, status=status,
                                channel=rng.choices(["web", "store", "phone", "marketplace"], weights=[55, 15, 15, 15])[0],
                                shipping=rng.choice([0, 60, 120]), ordered_at=now - age)
            made += 1
    won = list(Deal.objects.filter(won_at__isnull=False).select_related("owner").order_by("id")[:30])
    from_deals = billed = 0
    for i, deal in enumerate(won):
        if i % 2 == 0:
            orders.order_from_deal(by=deal.owner, deal=deal)
            from_deals += 1
        issued = today - timedelta(days=rng.randint(5, 80))
        invoice = invoices.create_invoice(by=deal.owner, deal=deal, issued_on=issued, due_on=issued + timedelta(days=14))
        billed += 1
        state = i % 5
        if state == 4:
            invoices.void_invoice(by=deal.owner, invoice=invoice)
        elif state > 0:
            invoices.send_invoice(by=deal.owner, invoice=invoice)
            if state == 1:
                invoices.record_payment(by=deal.owner, invoice=invoice, amount=invoice.total,
                                        paid_on=min(issued + timedelta(days=10), today), method="bank")
            elif state == 2:
                invoices.record_payment(by=deal.owner, invoice=invoice, amount=(invoice.total / 2).quantize(Decimal("0.01")),
                                        paid_on=min(issued + timedelta(days=7), today), method="mobile")
    invoices.mark_overdue_invoices(today=today)
    log.count("orders", made + from_deals)
    log.count("invoices", billed)
    log.say(f"Commerce: {made} shop orders over a year, {from_deals} orders of won deals, {billed} invoices")


def seed_tasks(log: _Log, users: dict[str, User]) -> None:
    """Calls, e-mails, meetings and to-dos for the reps and the manager: some overdue, some today, some ahead.
    Seeded once: skipped when a task exists."""
    import random
    from datetime import timedelta

    from django.utils import timezone

    from contacts.models import Contact
    from sales import task_services
    from sales.models import Deal, Task

    if Task.objects.exists():
        return
    rng = random.Random(2030)
    now = timezone.now().replace(minute=0, second=0, microsecond=0)
    titles = {"call": ["Call about the quotation", "Follow up on the Eid order", "Confirm delivery date"],
              "email": ["Send the price list", "E-mail the revised proposal"],
              "meeting": ["Visit the showroom", "Meeting at their office"],
              "todo": ["Prepare the invoice", "Check stock for the bulk order"]}
    made = 0
    for owner in (users["rep"], users["rep2"], users["manager"]):
        contacts = list(Contact.objects.visible_to(owner).filter(owner=owner).order_by("id")[:40])
        deals = list(Deal.objects.visible_to(owner).filter(owner=owner, closed_at__isnull=True).order_by("id")[:20])
        for i in range(14):
            kind = rng.choice(list(titles))
            due = now + timedelta(hours=rng.choice([-72, -30, -5, 1, 3, 6, 26, 50, 100, 170]))
            deal = deals[i % len(deals)] if deals and i % 3 == 0 else None
            task = task_services.create_task(
                by=owner, title=rng.choice(titles[kind]), kind=kind, priority=rng.choice([1, 2, 2, 3, 4]), due_at=due,
                contact=None if deal else rng.choice(contacts), deal=deal)
            if due < now - timedelta(hours=24) and i % 2:
                task_services.complete_task(by=owner, task=task)
            made += 1
    log.count("tasks", made)
    log.say(f"Tasks: {made}")


SCORING_RULES = [
    ("Decision makers", "field_in", {"field": "job_title", "values": ["CEO", "Purchase manager"]}, 20),
    ("Owners and founders", "field_contains", {"field": "job_title", "value": "owner"}, 15),
    ("In Dhaka", "field_equals", {"field": "city", "value": "Dhaka"}, 5),
    ("Said yes to e-mail", "field_is_set", {"field": "email_opt_in"}, 5),
    ("VIP", "tag_present", None, 15),
    ("Calls and meetings lately", "interaction_count", {"kind": "", "days": 30, "per_occurrence": True, "cap": 25}, 5),
    ("Bought in the last 90 days", "orders_count", {"days": 90, "min_count": 1}, 25),
    ("Spent over ৳50,000", "total_spend", {"min_total": "50000"}, 15),
    ("Gone quiet for 90 days", "days_since_interaction", {"days": 90}, -15),
    ("Open complaint", "open_complaints", {"min_count": 1}, -15),
]


def seed_scoring(log: _Log, users: dict[str, User]) -> None:
    """Scoring rules, then every contact's score computed once (the worker keeps them fresh from then on).
    Seeded once: skipped when a rule exists."""
    from contacts.models import Tag
    from sales.models import ScoringRule
    from sales.scoring import engine, services

    if ScoringRule.objects.exists():
        return
    vip = Tag.objects.filter(name="VIP").first()
    for name, kind, params, points in SCORING_RULES:
        if kind == "tag_present":
            if vip is None:
                continue
            params = {"tag": vip.pk}
        services.save_rule(by=users["admin"], name=name, kind=kind, params=params, points=points)
    run = engine.recompute_all()  # here, not queued: the demo opens with scores in place
    log.count("scoring rules", ScoringRule.objects.count())
    log.say(f"Lead scoring: {ScoringRule.objects.count()} rules, {run.total} contacts scored")


N_TICKETS = 300
#: (name, assignment mode, inbound address, default)
QUEUES = [("Orders & delivery", "round_robin", "orders@demo.sampark.local", True),
          ("Billing & refunds", "least_open", "billing@demo.sampark.local", False),
          ("Technical help", "manual", "", False)]
#: (priority, first response, resolution) in business minutes; plus complaints about orders answered faster.
SLA_TARGETS = [("low", 8 * 60, 5 * 540), ("normal", 4 * 60, 3 * 540), ("high", 60, 540), ("urgent", 30, 240)]
HOLIDAYS_2026 = [("2026-02-21", "Shaheed Day"), ("2026-03-20", "Eid ul-Fitr"), ("2026-03-21", "Eid ul-Fitr"),
                 ("2026-03-22", "Eid ul-Fitr"), ("2026-03-26", "Independence Day"), ("2026-04-14", "Pohela Boishakh"),
                 ("2026-05-01", "May Day"), ("2026-05-27", "Eid ul-Adha"), ("2026-05-28", "Eid ul-Adha"),
                 ("2026-05-29", "Eid ul-Adha"), ("2026-12-16", "Victory Day")]
CANNED_REPLIES = [
    ("Delivery delayed: apology", "Dear {{ contact.first_name }},\n\nSorry that your parcel is late. The courier "
     "has it and it should reach you within 2 working days. Your ticket number is #{{ ticket.number }}.\n\n"
     "{{ agent.full_name }}"),
    ("Refund process", "Dear {{ contact.first_name }},\n\nWe have started your refund. It reaches your bKash or "
     "card within 5-7 working days.\n\n{{ agent.full_name }}"),
    ("Ask for the order number", "Dear {{ contact.first_name }},\n\nCould you send us your order number (it starts "
     "with the shop's name) so we can check it?\n\n{{ agent.full_name }}"),
]
#: (type, subject, customer's words)
TICKET_TEXTS = [
    ("complaint", "Parcel not delivered", "I ordered a saree ten days ago and it has not arrived yet."),
    ("complaint", "Wrong size sent", "I received an XL shirt but I ordered M. Please exchange it."),
    ("inquiry", "Cash on delivery outside Dhaka?", "Do you deliver to Sylhet with cash on delivery?"),
    ("request", "Change delivery address", "Please deliver my order to my office in Gulshan instead."),
    ("inquiry", "বিকাশে পেমেন্ট", "আমি কি বিকাশে পেমেন্ট করতে পারি? অর্ডার নম্বর দিচ্ছি।"),
    ("complaint", "Refund not received", "I returned the item two weeks ago but the refund has not come."),
    ("incident", "Website checkout error", "The checkout page shows an error after I enter my card."),
    ("feedback", "Great service!", "The delivery man was very polite. Thank you."),
    ("request", "Invoice for my company", "Please send a VAT invoice for my last order to our accounts team."),
    ("inquiry", "ঈদের অফার কবে শেষ?", "ঈদের ডিসকাউন্ট কতদিন থাকবে জানাবেন?"),
]
REPLIES = ["Thank you for writing to us. We are checking this with the courier and will update you today.",
           "Sorry for the trouble. Could you share a photo of the item you received?",
           "We have arranged the exchange; the courier will collect the parcel tomorrow.",
           "ধন্যবাদ। আপনার অর্ডারটি আমরা দেখছি, আজকের মধ্যেই জানাচ্ছি।"]
CSAT_COMMENTS = ["Quick and helpful.", "Solved on the first reply, thanks!", "Took too long.", "",
                 "খুব ভালো সার্ভিস।", "The agent was polite but the courier was late."]


def seed_support(log: _Log, users: dict[str, User], *, tickets: int) -> None:
    """Support settings and holidays, three queues, SLA policies, canned replies and `tickets` tickets over the last
    six weeks in every state (with replies, notes, CSAT answers and SLA breaches). Seeded once: skipped when a
    queue exists. Customers are e-mailed nothing (`notify_customer=False`)."""
    import random
    from datetime import date, timedelta

    from django.utils import timezone

    from contacts.models import Contact
    from crm.models import Notification
    from support import services, watcher
    from support.models import Holiday, Queue, SlaPolicy, SupportSettings, Ticket

    if Queue.objects.exists():
        return
    rng = random.Random(2040)
    SupportSettings.load()
    Holiday.objects.bulk_create([Holiday(date=date.fromisoformat(d), name=n) for d, n in HOLIDAYS_2026])
    team = Team.objects.get(name__iexact=CUSTOMER_CARE)
    queues = [Queue.objects.create(name=name, team=team, assignment_mode=mode, email=email, is_default=default)
              for name, mode, email, default in QUEUES]
    SlaPolicy.objects.bulk_create([
        SlaPolicy(name=f"{p.title()} priority", priority=p, first_response_minutes=fr, resolution_minutes=res)
        for p, fr, res in SLA_TARGETS] + [
        SlaPolicy(name="Urgent order complaints", priority="urgent", queue=queues[0], ticket_type="complaint",
                  first_response_minutes=15, resolution_minutes=180)])
    agents = [users["agent"], users["agent2"]]
    for i, (title, body) in enumerate(CANNED_REPLIES):
        services.save_canned_reply(by=agents[0] if i < 2 else users["manager"], title=title, body=body, shared=i < 2)
    services.save_canned_reply(by=agents[1], title="My signature", body="Regards,\n{{ agent.full_name }}")
    customers = list(Contact.objects.exclude(email="").order_by("id")[:150])
    now = timezone.now().replace(second=0, microsecond=0)
    made = 0
    for i in range(tickets):
        age = timedelta(minutes=rng.randint(5, 42 * 24 * 60))
        opened = now - age
        ticket_type, subject, words = rng.choice(TICKET_TEXTS)
        queue = queues[0] if ticket_type in ("complaint", "request") else rng.choice(queues)
        assignee = None if queue.assignment_mode == "manual" and i % 3 == 0 else rng.choice(agents)
        kwargs = {"contact": rng.choice(customers)} if customers and i % 10 else {
            "email": f"customer{i}@example.com", "phone": f"0171{5000000 + i:07d}",
            "name": rng.choice(["Rina Akter", "Kamal Hossain", "মিতু রায়"])}
        ticket = services.open_ticket(
            subject=subject, body=words, type=ticket_type, queue=queue, assignee=assignee, now=opened,
            priority=rng.choice(["low", "normal", "normal", "normal", "high", "urgent"]),
            channel=rng.choice(["email", "email", "web_form", "phone", "chat", "social"]), **kwargs)
        made += 1
        if assignee is None or age < timedelta(hours=2) and i % 2:
            continue
        replied = opened + timedelta(minutes=rng.choice([10, 25, 50, 90, 200, 600, 1500]))
        if replied >= now:
            continue
        if i % 4 == 0:
            services.add_reply(ticket=ticket, by=assignee, body="Checked the courier's tracking: parcel at hub.",
                               internal=True, now=replied - timedelta(minutes=5), notify_customer=False)
        services.add_reply(ticket=ticket, by=assignee, body=rng.choice(REPLIES), now=replied, notify_customer=False)
        later = replied + timedelta(hours=rng.choice([1, 4, 20, 50, 120]))
        if later >= now:
            if i % 5 == 0:
                services.change_status(ticket=ticket, by=assignee, status="pending_customer", now=replied,
                                       notify_customer=False)
            elif i % 7 == 0:
                services.change_status(ticket=ticket, by=assignee, status="on_hold", now=replied,
                                       notify_customer=False)
            continue
        ticket = services.change_status(ticket=ticket, by=assignee, status="solved", now=later, notify_customer=False)
        if i % 3:
            services.record_csat(ticket=ticket, rating=rng.choice([5, 5, 4, 4, 4, 3, 2, 1]),
                                 comment=rng.choice(CSAT_COMMENTS), now=later + timedelta(hours=3))
        if later + timedelta(days=7) < now:
            services.change_status(ticket=ticket, by=None, status="closed", now=later + timedelta(days=7),
                                   notify_customer=False)
    watcher.watch(now=now)
    # The demo's past breaches show in the bell; they are not e-mailed to the demo staff on the first start.
    Notification.objects.filter(kind__in=[watcher.NOTIFY_AT_RISK, watcher.NOTIFY_BREACHED],
                                emailed_at__isnull=True).update(email_wanted=False)
    log.count("tickets", made)
    log.say(f"Support: {len(queues)} queues, {SlaPolicy.objects.count()} SLA policies, {made} tickets "
            f"({Ticket.objects.open().count()} open)")


def _accounts(users: dict[str, User]) -> list[dict]:
    """The sign-in table, from the database (a user may have been changed since the first run)."""
    specs = {spec.key: spec for spec in USERS}
    rows = []
    for key, user in users.items():
        spec = specs[key]
        manages = list(user.managed_teams.order_by("name").values_list("name", flat=True))
        rows.append(
            {
                "email": user.email,
                "full_name": user.full_name,
                "role": user.role,
                "team": user.team.name if user.team_id else "",
                "manages": manages,
                "password": spec.password,
                "password_works": user.check_password(spec.password),
            }
        )
    return rows


def other_users_exist() -> bool:
    """True when the database holds users besides the demo ones: a real organisation."""
    return User.objects.exclude(email__in=DEMO_EMAILS).exists()


# --- The command ----------------------------------------------------------------------------------


class Command(BaseCommand):
    help = "Create the demo organisation: teams, users, saved views, customers, pipelines and deals. Safe to run again."

    def add_arguments(self, parser):
        parser.add_argument("--quiet", action="store_true", help="Print one summary line, not the sign-in table.")
        parser.add_argument(
            "--force",
            action="store_true",
            help="Seed even though the database has non-demo users (adds demo accounts with published passwords).",
        )

    def handle(self, *args, quiet=False, force=False, **options):
        if not force and other_users_exist():
            raise CommandError(
                "This database already has users other than the demo ones; seeding would add accounts with "
                "published passwords (one an admin) to a real organisation. Use --force if that is intended."
            )
        try:
            result = seed(stdout=None if quiet else self.stdout)
        except ValidationError as exc:
            raise CommandError(f"Demo data did not validate: {exc}") from exc

        if result["already_seeded"]:
            self.stdout.write(self.style.SUCCESS(f"{result['org']}: already seeded, nothing changed."))
        else:
            made = ", ".join(f"{kind.replace('_', ' ')}: {n}" for kind, n in result["created"].items())
            self.stdout.write(self.style.SUCCESS(f"{result['org']}: seeded ({made})."))
        if quiet:
            return
        self._table(result["accounts"])
        self.stdout.write(self.style.WARNING("Admins must set up two-factor sign-in at first login."))

    def _table(self, accounts: list[dict]) -> None:
        header = ("Email", "Role", "Team", "Password")
        rows = []
        for a in accounts:
            team = a["team"] or "-"
            if a["manages"]:
                team += f" (manages {', '.join(a['manages'])})"
            password = a["password"] if a["password_works"] else "(changed since seeding)"
            rows.append((a["email"], a["role"], team, password))
        widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]

        def line(cells):
            return "  ".join(cell.ljust(width) for cell, width in zip(cells, widths, strict=True)).rstrip()

        self.stdout.write("")
        self.stdout.write(self.style.MIGRATE_HEADING(line(header)))
        self.stdout.write(line(["-" * w for w in widths]))
        for row in rows:
            self.stdout.write(line(row))
        self.stdout.write("")

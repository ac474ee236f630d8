"""The leak matrix: every route that names a record by id answers 404 to a user of another team.

Walks the whole URL configuration (pages and API), so a route added later without `visible_to`
fails here even if its own tests forget. Each route is requested by GET and by POST as `rep_c`
(team 2) for records of `rep_a` (team 1); 405 is accepted (a method a route does not have says
nothing about the record), anything else is a leak. Admin-only pages are excluded: they answer 403
to every non-admin, whatever the id.
"""

from datetime import date, timedelta

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone

from contacts import imports, services
from crm import notifications
from crm import services as crm_services
from sales import campaigns, invoices, orders, task_services
from sales import services as sales_services
from sales.models import CampaignMember
from support import services as support_services
from tests.factories import make_company, make_contact, make_queue, make_ticket

#: Route names that take an id but are not about an owned record (colleagues, teams, org-wide tags).
NOT_OWNED = {"user-detail", "team-detail", "tag-detail", "pipeline-detail", "pipeline-archive", "stage-detail", "stage-archive",
             "product-detail", "scoringrule-detail", "scorerun-detail", "slapolicy-detail"}


def _routes(resolver=None, namespace=""):
    for entry in (resolver or get_resolver()).url_patterns:
        if isinstance(entry, URLResolver):
            inner = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
            yield from _routes(entry, inner)
        elif isinstance(entry, URLPattern) and entry.name and "pk" in entry.pattern.regex.groupindex:
            yield namespace + entry.name, set(entry.pattern.regex.groupindex)  # (route name, its parameters)


@pytest.fixture
def records(world):
    contact = make_contact(world.rep_a, first_name="Leak", emails=["leak@example.com"])
    company = make_company(world.rep_a, name="Leak Ltd")
    profile = services.add_social_profile(by=world.rep_a, contact=contact, platform="facebook", handle="leak")
    entry = services.log_activity(by=world.rep_a, contact=contact, kind="note", body="secret")
    upload = imports.create_import(by=world.rep_a, filename="a.csv", data=b"email\nx@example.com\n")
    view = crm_services.create_saved_view(by=world.rep_a, name="Mine", target="contacts", shared=True)
    trashed = make_contact(world.rep_a, first_name="Gone")
    services.delete_contact(by=world.rep_a, contact=trashed)
    token, _key = crm_services.create_api_token(user=world.rep_a, name="laptop")
    pipeline = sales_services.create_pipeline(by=world.admin, name="Leaks", stages=["Lead"])
    deal = sales_services.create_deal(by=world.rep_a, title="Leak deal", pipeline=pipeline, amount="100")
    order = orders.create_order(by=world.rep_a, contact=contact, lines=[{"description": "Saree", "quantity": 1,
                                                                         "unit_price": "100"}])
    invoice = invoices.create_invoice(by=world.rep_a, order=order, issued_on=date(2026, 1, 5), due_on=date(2026, 1, 20))
    task = task_services.create_task(by=world.rep_a, title="Call back", due_at=timezone.now() + timedelta(days=1),
                                     contact=contact)
    campaign = campaigns.create_campaign(by=world.rep_a, name="Eid", channel="email", starts_on=date(2026, 3, 1))
    campaigns.add_members(by=world.rep_a, campaign=campaign, contacts=[contact])
    member = CampaignMember.objects.get(campaign=campaign, contact=contact)
    note = notifications.notify(recipient=world.rep_a, kind="test", title="For rep A only")
    queue = make_queue(world.support1, name="Leaks desk")
    ticket = make_ticket(queue, contact=contact, subject="Leaky parcel")
    reply = support_services.add_reply(ticket=ticket, by=world.agent1, body="See the label",
                                       attachments=[("label.txt", "text/plain", b"AWB 1234")])
    ticket = support_services.change_status(ticket=ticket, by=world.agent1, status="solved")
    csat = support_services.record_csat(ticket=ticket, rating=4)
    canned = support_services.save_canned_reply(by=world.agent1, title="Hello", body="Hi", shared=True)
    return {"queue": queue, "ticket": ticket, "attachment": reply.attachments.get(), "csat": csat, "canned": canned,
            "token": token, "contact": contact, "company": company, "social": profile, "interaction": entry, "import": upload,
            "savedview": view, "trashed": trashed, "deal": deal, "order": order, "invoice": invoice, "task": task,
            "campaign": campaign, "member": member, "notification": note}


def _record_for(name: str, records):
    base = name.split(":")[-1]
    if base == "restore":
        return records["trashed"], {"kind": "contact"}
    if base == "ticket-attachment":  # /tickets/<pk>/attachments/<attachment_pk>/
        return records["ticket"], {"attachment_pk": records["attachment"].pk}
    if base == "campaign-member":  # /campaigns/<pk>/members/<member_pk>/
        return records["campaign"], {"member_pk": records["member"].pk}
    for prefix, key in (("api_token", "token"), ("contact_vcard", "contact"), ("contact", "contact"), ("company", "company"),
                        ("deal", "deal"), ("social", "social"), ("socialprofile", "social"), ("interaction", "interaction"),
                        ("import", "import"), ("saved_view", "savedview"), ("savedview", "savedview"),
                        ("order", "order"), ("invoice", "invoice"), ("task", "task"), ("campaign_member", "member"),
                        ("campaign", "campaign"), ("notification", "notification"), ("ticket", "ticket"),
                        ("queue", "queue"), ("csat", "csat"), ("canned", "canned"),
                        ("cannedreply", "canned")):
        if base.startswith(prefix):
            return records[key], {}
    return None, {}


def test_every_route_with_an_id_hides_other_teams_records(world, client_for, records):
    client = client_for(world.rep_c)
    checked, leaks = [], []
    for name in sorted({n for n, _params in _routes()}):
        if name in NOT_OWNED or name.split(":")[-1].startswith("admin_"):
            continue
        record, extra = _record_for(name, records)
        assert record is not None, f"the leak matrix does not know what record {name!r} names: add it"
        kwargs = {"pk": record.pk, **extra}
        url = reverse(name, kwargs=kwargs)
        for method in ("get", "post"):
            status = getattr(client, method)(url).status_code
            if status not in (404, 405):
                leaks.append(f"{method.upper()} {url} ({name}): {status}")
        checked.append(name)
    assert not leaks, "\n".join(leaks)
    assert len(checked) >= 30, checked  # the walk really went through the app's routes

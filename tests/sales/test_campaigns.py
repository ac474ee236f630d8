"""Campaign services and figures: first-touch attribution, members and their status, ROI on a hand-computed set."""

from datetime import date
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection

from contacts.services import add_tags
from sales import campaigns, services
from sales.models import Campaign, CampaignMember, Deal, Order
from tests.factories import SavedViewFactory, make_contact
from tests.sales.helpers import new_deal, stage


def new_campaign(world, **fields):
    fields.setdefault("name", "Eid email blast")
    fields.setdefault("channel", "email")
    fields.setdefault("starts_on", date(2026, 3, 1))
    fields.setdefault("currency", "BDT")
    return campaigns.create_campaign(by=fields.pop("by", world.rep_a), **fields)


def order(world, contact, total, status="paid", currency="BDT", deal=None):
    return Order.objects.create(owner=world.rep_a, team=world.team1, contact=contact, deal=deal, currency=currency,
                                total=Decimal(total), status=status)


def source_of(contact):
    return CampaignMember.objects.filter(contact=contact, is_source=True).values_list("campaign_id", flat=True).first()


def figures(world, campaign):
    return campaigns.campaign_metrics(user=world.admin, campaign=campaign)


# --- The figures, on a data set computed by hand ------------------------------------------------


@pytest.fixture
def attributed(world, pipeline):
    """Campaign A (BDT, cost 1,000) and B (BDT, cost 0), with members, deals and orders that do and do not count.

    A: members c1 c2 c3 c4; sources c1 c2 c3 (c4 came from B first) -> 3 leads; converted c1 c2 -> 2 / 4.
       won deals from A: 2,000 BDT (counts), 500 USD (other currency); an open 9,999 deal (not won).
       orders of c1..c3 without a deal: 300 paid + 200 delivered (count); 1,000 pending, 50 USD shipped,
       400 paid but the order of the won deal (do not count).  Revenue = 2,000 + 300 + 200 = 2,500.
       ROI = (2,500 - 1,000) / 1,000 = 1.5; cost per lead = 1,000 / 3 = 333.33.
    B: member c4 (its source); won deal 700; c4's paid order 800 -> revenue 1,500; cost 0 -> ROI undefined.
    """
    a = new_campaign(world, name="A", actual_cost="1000.00", budget="1500")
    b = new_campaign(world, name="B", actual_cost="0")
    c1, c2, c3, c4 = (make_contact(world.rep_a, first_name=n) for n in ("Rahim", "Karim", "Salma", "Nadia"))
    campaigns.add_members(by=world.rep_a, campaign=b, contacts=[c4])
    campaigns.add_members(by=world.rep_a, campaign=a, contacts=[c1, c2, c3, c4])
    for contact, status in ((c1, "converted"), (c2, "converted"), (c3, "responded")):
        member = CampaignMember.objects.get(campaign=a, contact=contact)
        campaigns.set_member_status(by=world.rep_a, member=member, status=status)
    won = stage(pipeline, "Won")
    deal_a = new_deal(world, pipeline, amount="2000.00", currency="BDT", stage=won, source_campaign=a)
    new_deal(world, pipeline, amount="500.00", currency="USD", stage=won, source_campaign=a)
    new_deal(world, pipeline, amount="9999.00", currency="BDT", source_campaign=a)
    new_deal(world, pipeline, amount="700.00", currency="BDT", stage=won, source_campaign=b)
    order(world, c1, "300.00")
    order(world, c2, "200.00", status="delivered")
    order(world, c1, "1000.00", status="pending")
    order(world, c3, "50.00", status="shipped", currency="USD")
    order(world, c1, "400.00", deal=deal_a)
    order(world, c4, "800.00", status="shipped")
    order(world, None, "123.00")
    return a, b


def test_figures_of_a_campaign_match_the_hand_computed_set(world, attributed):
    a = figures(world, attributed[0])
    assert (a.members_count, a.leads, a.converted_count, a.deals_won) == (4, 3, 2, 1)
    assert a.won_amount == Decimal("2000.00")
    assert a.order_revenue == Decimal("500.00")
    assert a.revenue == Decimal("2500.00")
    assert a.conversion_rate == pytest.approx(0.5)
    assert a.cost_per_lead.quantize(Decimal("0.01")) == Decimal("333.33")
    assert a.roi == pytest.approx(1.5)
    assert a.roi_percent == pytest.approx(150.0)


def test_roi_is_undefined_when_the_cost_is_zero(world, attributed):
    b = figures(world, attributed[1])
    assert (b.members_count, b.leads, b.deals_won, b.revenue) == (1, 1, 1, Decimal("1500.00"))
    assert b.roi is None
    assert b.cost_per_lead == Decimal("0")


def test_a_campaign_without_members_has_no_rates(world):
    empty = figures(world, new_campaign(world, actual_cost="100"))
    assert (empty.members_count, empty.revenue, empty.conversion_rate, empty.cost_per_lead) == (0, 0, None, None)
    assert empty.roi == pytest.approx(-1.0)


def test_figures_of_many_campaigns_take_one_query(world, attributed, django_assert_num_queries):
    for i in range(5):
        new_campaign(world, name=f"More {i}")
    with django_assert_num_queries(1):
        rows = list(campaigns.campaigns_with_metrics(user=world.rep_a))
    assert len(rows) == 7
    assert {r.name: r.revenue for r in rows}["A"] == Decimal("2500.00")


def test_figures_list_only_campaigns_the_user_sees(world, attributed):
    new_campaign(world, name="Team 2", by=world.rep_c)
    assert {c.name for c in campaigns.campaigns_with_metrics(user=world.rep_b)} == {"A", "B"}
    assert {c.name for c in campaigns.campaigns_with_metrics(user=world.rep_c)} == {"Team 2"}


# --- Campaigns ----------------------------------------------------------------------------------


def test_create_campaign_sets_owner_team_and_default_currency(world):
    campaign = new_campaign(world, currency="")
    assert (campaign.owner, campaign.team, campaign.currency) == (world.rep_a, world.team1, "BDT")


def test_campaign_cannot_end_before_it_starts(world):
    with pytest.raises(ValidationError) as exc:
        new_campaign(world, starts_on=date(2026, 3, 1), ends_on=date(2026, 2, 1))
    assert "ends_on" in exc.value.message_dict
    assert not Campaign.objects.exists()


def test_bad_money_and_channel_are_field_errors(world):
    with pytest.raises(ValidationError) as exc:
        new_campaign(world, channel="fax", budget="-5", actual_cost="1.234")
    assert set(exc.value.message_dict) == {"channel", "budget", "actual_cost"}


def test_support_agents_cannot_create_campaigns(world):
    with pytest.raises(PermissionDenied):
        new_campaign(world, by=world.agent1)


def test_target_view_must_be_a_visible_contacts_view(world):
    private = SavedViewFactory(owner=world.rep_c, shared=False)
    with pytest.raises(ValidationError) as exc:
        new_campaign(world, target_view=private)
    assert "target_view" in exc.value.message_dict


def test_teammate_edits_and_other_team_cannot(world):
    campaign = new_campaign(world)
    campaigns.update_campaign(by=world.rep_b, campaign=campaign, name="Renamed", actual_cost="10")
    campaign.refresh_from_db()
    assert (campaign.name, campaign.actual_cost) == ("Renamed", Decimal("10.00"))
    with pytest.raises(PermissionDenied):
        campaigns.update_campaign(by=world.rep_c, campaign=campaign, name="Stolen")


def test_deleting_a_campaign_keeps_its_deals_without_source(world, pipeline):
    campaign = new_campaign(world)
    deal = new_deal(world, pipeline, source_campaign=campaign)
    with pytest.raises(PermissionDenied):
        campaigns.delete_campaign(by=world.rep_b, campaign=campaign)
    campaigns.delete_campaign(by=world.rep_a, campaign=campaign)
    deal.refresh_from_db()
    assert deal.source_campaign_id is None


# --- Members ------------------------------------------------------------------------------------


def test_first_campaign_to_reach_a_contact_is_its_source(world):
    first, second = new_campaign(world, name="First"), new_campaign(world, name="Second")
    contact = make_contact(world.rep_a, first_name="Rahim")
    assert campaigns.add_members(by=world.rep_a, campaign=first, contacts=[contact]) == 1
    assert campaigns.add_members(by=world.rep_a, campaign=second, contacts=[contact]) == 1
    assert source_of(contact) == first.pk
    assert CampaignMember.objects.filter(contact=contact).count() == 2


def test_adding_a_member_twice_keeps_the_first_row(world):
    campaign = new_campaign(world)
    contact = make_contact(world.rep_a)
    campaigns.add_members(by=world.rep_a, campaign=campaign, contacts=[contact])
    member = CampaignMember.objects.get()
    campaigns.set_member_status(by=world.rep_a, member=member, status="converted")
    assert campaigns.add_members(by=world.rep_a, campaign=campaign, contacts=[contact]) == 0
    assert CampaignMember.objects.get().status == "converted"


def test_adding_by_tag_adds_only_contacts_the_user_sees(world):
    campaign = new_campaign(world)
    mine, theirs = make_contact(world.rep_a, first_name="Mine"), make_contact(world.rep_c, first_name="Theirs")
    add_tags(by=world.rep_a, obj=mine, tags=["eid"])
    add_tags(by=world.rep_c, obj=theirs, tags=["eid"])
    from contacts.models import Tag

    assert campaigns.add_members(by=world.rep_a, campaign=campaign, tag=Tag.objects.get(name="eid")) == 1
    assert list(CampaignMember.objects.values_list("contact_id", flat=True)) == [mine.pk]


def test_adding_by_saved_view_applies_its_filters(world):
    campaign = new_campaign(world)
    dhaka = make_contact(world.rep_a, first_name="Dhaka", city="Dhaka")
    make_contact(world.rep_a, first_name="Sylhet", city="Sylhet")
    view = SavedViewFactory(owner=world.rep_a, query="city=dhaka&sort=-created&page=3")
    assert campaigns.add_members(by=world.rep_a, campaign=campaign, saved_view=view) == 1
    assert CampaignMember.objects.get().contact_id == dhaka.pk


def test_adding_an_invisible_contact_is_a_field_error_and_adds_nothing(world):
    campaign = new_campaign(world)
    mine, theirs = make_contact(world.rep_a), make_contact(world.rep_c)
    with pytest.raises(ValidationError) as exc:
        campaigns.add_members(by=world.rep_a, campaign=campaign, contacts=[mine, theirs])
    assert "contacts" in exc.value.message_dict
    assert not CampaignMember.objects.exists()


def test_only_editors_add_members(world):
    campaign = new_campaign(world)
    with pytest.raises(PermissionDenied):
        campaigns.add_members(by=world.rep_c, campaign=campaign, contacts=[make_contact(world.rep_c)])


def test_member_status_stamps_its_times_and_going_back_clears_them(world):
    campaign = new_campaign(world)
    campaigns.add_members(by=world.rep_a, campaign=campaign, contacts=[make_contact(world.rep_a)])
    member = CampaignMember.objects.get()
    campaigns.set_member_status(by=world.rep_a, member=member, status="converted")
    assert member.responded_at is not None and member.converted_at is not None
    campaigns.set_member_status(by=world.rep_a, member=member, status="sent")
    member.refresh_from_db()
    assert (member.status, member.responded_at, member.converted_at) == ("sent", None, None)
    with pytest.raises(ValidationError) as exc:
        campaigns.set_member_status(by=world.rep_a, member=member, status="bought")
    assert "status" in exc.value.message_dict


def test_removing_the_source_member_leaves_the_contact_without_source(world):
    campaign = new_campaign(world)
    contact = make_contact(world.rep_a)
    campaigns.add_members(by=world.rep_a, campaign=campaign, contacts=[contact])
    campaigns.remove_member(by=world.rep_a, member=CampaignMember.objects.get())
    assert source_of(contact) is None


def test_a_user_changes_the_contacts_source(world):
    first, second = new_campaign(world, name="First"), new_campaign(world, name="Second")
    other = new_campaign(world, name="Other")
    contact = make_contact(world.rep_a)
    for campaign in (first, second):
        campaigns.add_members(by=world.rep_a, campaign=campaign, contacts=[contact])
    campaigns.set_contact_source(by=world.rep_b, contact=contact, campaign=second)
    assert source_of(contact) == second.pk
    with pytest.raises(ValidationError) as exc:
        campaigns.set_contact_source(by=world.rep_a, contact=contact, campaign=other)
    assert "campaign" in exc.value.message_dict
    assert source_of(contact) == second.pk
    campaigns.set_contact_source(by=world.rep_a, contact=contact, campaign=None)
    assert source_of(contact) is None


def test_other_team_cannot_change_a_contacts_source(world):
    contact = make_contact(world.rep_a)
    with pytest.raises(PermissionDenied):
        campaigns.set_contact_source(by=world.rep_c, contact=contact, campaign=None)


# --- Deals carry their source campaign ----------------------------------------------------------


def test_new_deal_comes_from_its_primary_contacts_source(world, pipeline):
    campaign = new_campaign(world)
    contact = make_contact(world.rep_a)
    campaigns.add_members(by=world.rep_a, campaign=campaign, contacts=[contact])
    deal = new_deal(world, pipeline, primary_contact=contact)
    assert deal.source_campaign_id == campaign.pk
    assert new_deal(world, pipeline, primary_contact=contact, source_campaign=None).source_campaign_id is None


def test_deal_source_campaign_must_be_one_the_user_sees(world, pipeline):
    theirs = new_campaign(world, by=world.rep_c)
    with pytest.raises(ValidationError) as exc:
        new_deal(world, pipeline, source_campaign=theirs)
    assert "source_campaign" in exc.value.message_dict
    assert not Deal.objects.exists()


def test_updating_a_deal_keeps_a_source_the_user_cannot_see(world, pipeline):
    theirs = new_campaign(world, by=world.rep_c)
    deal = new_deal(world, pipeline)
    Deal.objects.filter(pk=deal.pk).update(source_campaign=theirs)  # set by first touch, say
    deal.refresh_from_db()
    services.update_deal(by=world.rep_a, deal=deal, title="Renamed", source_campaign=theirs)
    deal.refresh_from_db()
    assert (deal.title, deal.source_campaign_id) == ("Renamed", theirs.pk)


# --- EXPLAIN: a campaign's order revenue is found through its members, not by scanning the orders ----


def test_order_revenue_is_read_through_the_members_not_a_scan_of_all_orders(world):
    campaign = new_campaign(world, actual_cost="10")
    contacts = [make_contact(world.rep_a, first_name=f"Buyer {i}") for i in range(3)]
    campaigns.add_members(by=world.rep_a, campaign=campaign, contacts=contacts[:2])
    with connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO sales_order (owner_id, team_id, created_at, updated_at, external_ref, contact_id, status,
                                     channel, currency, subtotal, shipping, tax, total, ordered_at, note)
            SELECT %s, %s, now(), now(), '', CASE WHEN g %% 1000 = 0 THEN %s END, 'paid', 'web', 'BDT', 10, 0, 0, 10,
                   now() - (g || ' minutes')::interval, ''
            FROM generate_series(1, 20000) AS g
            """,
            [world.rep_a.pk, world.team1.pk, contacts[2].pk],
        )
        cursor.execute("ANALYZE sales_order")
        cursor.execute("ANALYZE sales_campaignmember")
    order(world, contacts[0], "25.00")
    plan = campaigns.campaigns_with_metrics(user=world.rep_a).explain()
    assert "on sales_order" in plan and "Seq Scan on sales_order" not in plan, plan
    assert figures(world, campaign).order_revenue == Decimal("25.00")

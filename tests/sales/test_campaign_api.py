"""The campaign API: visibility, figures in the list, filters and sort, writes through the services, the nested
members routes, query counts; and the deal's `source_campaign`."""

from datetime import date
from decimal import Decimal

import pytest
from django.urls import reverse

from sales import campaigns
from sales.models import Campaign, CampaignMember, Deal, Order
from tests.factories import make_contact
from tests.sales.helpers import new_deal, stage
from tests.visibility import assert_visibility


def new_campaign(world, **fields):
    fields.setdefault("name", "Eid email blast")
    fields.setdefault("channel", "email")
    fields.setdefault("starts_on", date(2026, 3, 1))
    return campaigns.create_campaign(by=fields.pop("by", world.rep_a), **fields)


def send(client, method, url, data=None):
    return getattr(client, method)(url, data, content_type="application/json")


def result_ids(response) -> list[int]:
    assert response.status_code == 200, response.content
    return [row["id"] for row in response.json()["results"]]


def members_url(campaign):
    return reverse("campaign-members", args=[campaign.pk])


def member_url(campaign, member):
    return reverse("campaign-member", args=[campaign.pk, member.pk])


def with_members(world, campaign, count):
    contacts = [make_contact(world.rep_a, first_name=f"Member {i}") for i in range(count)]
    campaigns.add_members(by=world.rep_a, campaign=campaign, contacts=contacts)
    return contacts


# --- Visibility ---------------------------------------------------------------------------------


def test_campaign_detail_visibility_for_every_role(world, client_for):
    assert_visibility(world, client_for, reverse("campaign-detail", args=[new_campaign(world).pk]), api=True)


def test_campaign_members_visibility_for_every_role(world, client_for):
    assert_visibility(world, client_for, members_url(new_campaign(world)), api=True)


def test_campaign_member_update_visibility_for_every_role(world, client_for):
    campaign = new_campaign(world)
    with_members(world, campaign, 1)
    assert_visibility(world, client_for, member_url(campaign, CampaignMember.objects.get()), method="patch",
                      data={"status": "responded"}, api=True)


def test_list_shows_only_visible_campaigns(world, client_for):
    mine = new_campaign(world, name="Team 1")
    new_campaign(world, name="Team 2", by=world.rep_c)
    assert result_ids(client_for(world.rep_b).get(reverse("campaign-list"))) == [mine.pk]
    assert result_ids(client_for(world.agent1).get(reverse("campaign-list"))) == []


def test_invisible_campaign_cannot_be_changed_deleted_or_joined(world, client_for):
    campaign = new_campaign(world, name="Before")
    client = client_for(world.rep_c)
    url = reverse("campaign-detail", args=[campaign.pk])
    assert send(client, "patch", url, {"name": "After"}).status_code == 404
    assert client.delete(url).status_code == 404
    assert send(client, "post", members_url(campaign), {"contacts": [make_contact(world.rep_c).pk]}).status_code == 404
    campaign.refresh_from_db()
    assert campaign.name == "Before" and not CampaignMember.objects.exists()


# --- Figures, filters, sort ---------------------------------------------------------------------


def test_list_carries_the_figures(world, client_for, pipeline):
    campaign = new_campaign(world, actual_cost="1000.00", currency="BDT")
    contacts = with_members(world, campaign, 2)
    new_deal(world, pipeline, amount="1500.00", currency="BDT", stage=stage(pipeline, "Won"), source_campaign=campaign)
    Order.objects.create(owner=world.rep_a, team=world.team1, contact=contacts[0], currency="BDT",
                         total=Decimal("500.00"), status="paid")
    row = client_for(world.rep_a).get(reverse("campaign-list")).json()["results"][0]
    assert (row["members_count"], row["leads"], row["deals_won"]) == (2, 2, 1)
    assert (row["revenue"], row["cost_per_lead"], row["actual_cost"]) == ("2000.00", "500.00", "1000.00")
    assert row["roi"] == pytest.approx(1.0)
    assert row["conversion_rate"] == 0


def test_roi_is_null_when_the_cost_is_zero(world, client_for):
    campaign = new_campaign(world)
    assert client_for(world.rep_a).get(reverse("campaign-detail", args=[campaign.pk])).json()["roi"] is None


def test_filter_by_channel_and_sort(world, client_for):
    mail = new_campaign(world, name="Mail", channel="email", starts_on=date(2026, 1, 1))
    text = new_campaign(world, name="Text", channel="sms", starts_on=date(2026, 2, 1))
    client = client_for(world.rep_a)
    assert result_ids(client.get(reverse("campaign-list"), {"channel": "sms"})) == [text.pk]
    assert result_ids(client.get(reverse("campaign-list"))) == [text.pk, mail.pk]
    assert result_ids(client.get(reverse("campaign-list"), {"sort": "starts"})) == [mail.pk, text.pk]
    response = client.get(reverse("campaign-list"), {"sort": "roi"})
    assert response.status_code == 400 and "sort" in response.json()["errors"]


# session, user, org settings, count (ids only), the page of campaigns with their figures (one query)
LIST_QUERIES = 5


def test_list_query_count_is_constant_whatever_the_number_of_campaigns(world, client_for, django_assert_num_queries):
    client = client_for(world.rep_a)
    url = reverse("campaign-list")
    client.get(url)
    counts = []
    for size in (3, 8):
        Campaign.objects.all().delete()
        for i in range(size):
            with_members(world, new_campaign(world, name=f"C{i}"), 2)
        client.get(url)  # warm caches (notifications' unread count) the data changes may have cleared
        with django_assert_num_queries(LIST_QUERIES) as ctx:
            assert len(result_ids(client.get(url))) == size
        counts.append(len(ctx.captured_queries))
    assert counts[0] == counts[1]


# session, user, org settings, the campaign, count, the page of members with their contacts
MEMBERS_QUERIES = 6


def test_members_query_count_is_constant_whatever_the_number_of_members(world, client_for, django_assert_num_queries):
    campaign = new_campaign(world)
    client = client_for(world.rep_a)
    url = members_url(campaign)
    client.get(url)
    counts = []
    for size in (3, 8):
        CampaignMember.objects.all().delete()
        with_members(world, campaign, size)
        client.get(url)  # warm caches (notifications' unread count) the data changes may have cleared
        with django_assert_num_queries(MEMBERS_QUERIES) as ctx:
            assert len(result_ids(client.get(url))) == size
        counts.append(len(ctx.captured_queries))
    assert counts[0] == counts[1]


# --- Writes -------------------------------------------------------------------------------------


def test_create_sets_owner_and_default_currency_and_answers_the_figures(world, client_for):
    response = send(client_for(world.rep_a), "post", reverse("campaign-list"), {
        "name": "Boishakh", "channel": "social", "starts_on": "2026-04-01", "actual_cost": "250.00"})
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["owner"], body["currency"], body["members_count"], body["roi"]) == (world.rep_a.pk, "BDT", 0,
                                                                                   pytest.approx(-1.0))


def test_create_with_bad_dates_is_a_field_error_and_creates_nothing(world, client_for):
    response = send(client_for(world.rep_a), "post", reverse("campaign-list"), {
        "name": "Bad", "channel": "social", "starts_on": "2026-04-01", "ends_on": "2026-03-01"})
    assert response.status_code == 400
    assert "ends_on" in response.json()["errors"]
    assert not Campaign.objects.exists()


def test_support_agent_cannot_create_campaigns(world, client_for):
    response = send(client_for(world.agent1), "post", reverse("campaign-list"), {
        "name": "No", "channel": "sms", "starts_on": "2026-04-01"})
    assert response.status_code == 403
    assert not Campaign.objects.exists()


def test_teammate_updates_but_cannot_delete(world, client_for):
    campaign = new_campaign(world)
    client = client_for(world.rep_b)
    url = reverse("campaign-detail", args=[campaign.pk])
    assert send(client, "patch", url, {"actual_cost": "12.50"}).json()["actual_cost"] == "12.50"
    assert client.delete(url).status_code == 403
    assert client_for(world.rep_a).delete(url).status_code == 204


# --- Members ------------------------------------------------------------------------------------


def test_add_members_by_ids_marks_the_source(world, client_for):
    campaign = new_campaign(world)
    contact = make_contact(world.rep_a)
    response = send(client_for(world.rep_a), "post", members_url(campaign), {"contacts": [contact.pk]})
    assert response.status_code == 201 and response.json() == {"added": 1}
    member = client_for(world.rep_a).get(members_url(campaign)).json()["results"][0]
    assert (member["contact"], member["status"], member["is_source"]) == (contact.pk, "sent", True)


def test_add_an_invisible_contact_is_a_field_error(world, client_for):
    campaign = new_campaign(world)
    response = send(client_for(world.rep_a), "post", members_url(campaign), {"contacts": [make_contact(world.rep_c).pk]})
    assert response.status_code == 400
    assert "contacts" in response.json()["errors"]
    assert not CampaignMember.objects.exists()


def test_add_needs_exactly_one_way(world, client_for):
    campaign = new_campaign(world)
    response = send(client_for(world.rep_a), "post", members_url(campaign), {})
    assert response.status_code == 400


def test_patch_member_status_and_remove(world, client_for):
    campaign = new_campaign(world)
    with_members(world, campaign, 1)
    member = CampaignMember.objects.get()
    client = client_for(world.rep_a)
    body = send(client, "patch", member_url(campaign, member), {"status": "converted"}).json()
    assert body["status"] == "converted" and body["converted_at"]
    assert send(client, "patch", member_url(campaign, member), {"status": "bought"}).status_code == 400
    assert client.delete(member_url(campaign, member)).status_code == 204
    assert not CampaignMember.objects.exists()


def test_member_of_another_campaign_is_404(world, client_for):
    campaign, other = new_campaign(world), new_campaign(world, name="Other")
    with_members(world, other, 1)
    response = send(client_for(world.rep_a), "patch", member_url(campaign, CampaignMember.objects.get()),
                    {"status": "converted"})
    assert response.status_code == 404


def test_members_filter_by_status(world, client_for):
    campaign = new_campaign(world)
    with_members(world, campaign, 2)
    first = CampaignMember.objects.order_by("id").first()
    campaigns.set_member_status(by=world.rep_a, member=first, status="responded")
    response = client_for(world.rep_a).get(members_url(campaign), {"status": "responded"})
    assert result_ids(response) == [first.pk]


# --- The deal's source campaign -----------------------------------------------------------------


def test_deal_api_sets_and_shows_the_source_campaign(world, client_for, pipeline):
    campaign = new_campaign(world)
    response = send(client_for(world.rep_a), "post", reverse("deal-list"), {
        "title": "From the campaign", "pipeline": pipeline.pk, "source_campaign": campaign.pk})
    assert response.status_code == 201, response.content
    assert response.json()["source_campaign"] == campaign.pk


def test_deal_api_refuses_an_invisible_campaign(world, client_for, pipeline):
    theirs = new_campaign(world, by=world.rep_c)
    response = send(client_for(world.rep_a), "post", reverse("deal-list"), {
        "title": "No", "pipeline": pipeline.pk, "source_campaign": theirs.pk})
    assert response.status_code == 400
    assert "source_campaign" in response.json()["errors"]
    assert not Deal.objects.exists()


def test_deal_api_defaults_the_source_to_the_primary_contacts(world, client_for, pipeline):
    campaign = new_campaign(world)
    contact = with_members(world, campaign, 1)[0]
    response = send(client_for(world.rep_a), "post", reverse("deal-list"), {
        "title": "Lead", "pipeline": pipeline.pk, "primary_contact": contact.pk})
    assert response.json()["source_campaign"] == campaign.pk
    deal_url = reverse("deal-detail", args=[response.json()["id"]])
    assert send(client_for(world.rep_a), "patch", deal_url, {"source_campaign": None}).json()["source_campaign"] is None

"""The campaign pages: list with figures, the campaign page (members, status, adding), forms, the contact panel."""

from datetime import date
from decimal import Decimal

import pytest
from django.urls import reverse

from contacts.models import Tag
from contacts.services import add_tags
from sales import campaigns
from sales.models import Campaign, CampaignMember
from tests.factories import make_contact
from tests.visibility import assert_visibility


def new_campaign(world, **fields):
    fields.setdefault("name", "Eid email blast")
    fields.setdefault("channel", "email")
    fields.setdefault("starts_on", date(2026, 3, 1))
    return campaigns.create_campaign(by=fields.pop("by", world.rep_a), **fields)


def with_members(world, campaign, count):
    contacts = [make_contact(world.rep_a, first_name=f"Member {i}") for i in range(count)]
    campaigns.add_members(by=world.rep_a, campaign=campaign, contacts=contacts)
    return contacts


# --- Visibility ---------------------------------------------------------------------------------


def test_campaign_page_visibility_for_every_role(world, client_for):
    assert_visibility(world, client_for, reverse("sales:campaign", args=[new_campaign(world).pk]))


def test_campaign_edit_page_visibility_for_every_role(world, client_for):
    assert_visibility(world, client_for, reverse("sales:campaign_edit", args=[new_campaign(world).pk]))


def test_member_status_visibility_for_every_role(world, client_for):
    campaign = new_campaign(world)
    with_members(world, campaign, 1)
    member = CampaignMember.objects.get()
    assert_visibility(world, client_for, reverse("sales:campaign_member_status", args=[member.pk]), method="post",
                      data={"status": "responded"}, allowed=302)


def test_add_members_visibility_for_every_role(world, client_for):
    campaign = new_campaign(world)
    url = reverse("sales:campaign_add_members", args=[campaign.pk])
    # Nothing chosen: those who see the campaign get the form back with its error (400), the others 404.
    assert_visibility(world, client_for, url, method="post", data={}, allowed=400)


def test_member_remove_visibility_for_every_role(world, client_for):
    campaign = new_campaign(world)
    contact = make_contact(world.rep_a)
    url = None
    seen = {}
    for name, user in world.principals().items():
        campaigns.add_members(by=world.rep_a, campaign=campaign, contacts=[contact])
        url = reverse("sales:campaign_member_remove", args=[CampaignMember.objects.get().pk])
        client = client_for(user)
        seen[name] = client.post(url).status_code
    assert seen == {"anonymous": 302, "rep_a": 302, "rep_b": 302, "rep_c": 404, "manager1": 302, "manager2": 404,
                    "agent1": 404, "admin": 302}


def test_campaign_delete_visibility(world, client_for):
    campaign = new_campaign(world)
    url = reverse("sales:campaign_delete", args=[campaign.pk])
    for name in ("rep_c", "manager2", "agent1"):
        assert client_for(getattr(world, name)).post(url).status_code == 404
    assert client_for(world.rep_b).post(url).status_code == 403  # sees it, but only owner/manager/admin delete
    assert client_for(world.rep_a).post(url).status_code == 302
    assert not Campaign.objects.exists()


def test_contact_campaigns_panel_visibility_for_every_role(world, client_for):
    contact = make_contact(world.rep_a)
    assert_visibility(world, client_for, reverse("sales:contact_campaigns", args=[contact.pk]))


@pytest.mark.parametrize(("name", "sees"), [
    ("rep_a", True), ("rep_b", True), ("manager1", True), ("admin", True), ("rep_c", False), ("manager2", False),
])
def test_list_shows_only_visible_campaigns(world, client_for, name, sees):
    new_campaign(world, name="Team one's blast")
    response = client_for(getattr(world, name)).get(reverse("sales:campaigns"))
    assert response.status_code == 200
    assert ("Team one&#x27;s blast" in response.content.decode()) is sees


def test_list_and_create_are_not_for_support_agents(world, client_for):
    client = client_for(world.agent1)
    assert client.get(reverse("sales:campaigns")).status_code == 403
    assert client.get(reverse("sales:campaign_create")).status_code == 403


def test_nav_links_to_campaigns_for_sales_roles_only(world, client_for):
    url = reverse("sales:campaigns")
    assert f'href="{url}"' in client_for(world.rep_a).get(reverse("home")).content.decode()
    assert f'href="{url}"' not in client_for(world.agent1).get(reverse("home")).content.decode()


# --- List ---------------------------------------------------------------------------------------


# session, user, org settings, count, the page of campaigns with their figures (one query), 2 filter choices
LIST_QUERIES = 7


def test_list_query_count_is_constant_whatever_the_number_of_campaigns(world, client_for, django_assert_num_queries):
    client = client_for(world.rep_a)
    url = reverse("sales:campaigns")
    client.get(url)
    counts = []
    for size in (3, 8):
        Campaign.objects.all().delete()
        for i in range(size):
            campaign = new_campaign(world, name=f"C{i}", actual_cost="10")
            with_members(world, campaign, 2)
        client.get(url)  # warm caches (notifications' unread count) the data changes may have cleared
        with django_assert_num_queries(LIST_QUERIES) as ctx:
            response = client.get(url)
        assert response.status_code == 200
        assert len(response.context["page"].object_list) == size
        counts.append(len(ctx.captured_queries))
    assert counts[0] == counts[1]


def test_list_shows_figures_and_their_definitions(world, client_for):
    campaign = new_campaign(world, actual_cost="0")
    with_members(world, campaign, 2)
    response = client_for(world.rep_a).get(reverse("sales:campaigns"))
    row = response.context["page"].object_list[0]
    assert (row.members_count, row.leads, row.roi) == (2, 2, None)
    assert "Only amounts in the campaign" in response.content.decode()


def test_list_filters_by_channel_and_sorts(world, client_for):
    new_campaign(world, name="Mail", channel="email", starts_on=date(2026, 1, 1))
    new_campaign(world, name="Text", channel="sms", starts_on=date(2026, 2, 1))
    client = client_for(world.rep_a)
    page = client.get(reverse("sales:campaigns"), {"channel": "sms"}).context["page"]
    assert [c.name for c in page.object_list] == ["Text"]
    page = client.get(reverse("sales:campaigns"), {"sort": "starts"}).context["page"]
    assert [c.name for c in page.object_list] == ["Mail", "Text"]
    assert client.get(reverse("sales:campaigns"), {"sort": "roi"}).status_code == 400


# --- Create, edit -------------------------------------------------------------------------------


def test_create_page_creates_a_campaign(world, client_for):
    response = client_for(world.rep_a).post(reverse("sales:campaign_create"), {
        "name": "Boishakh SMS", "channel": "sms", "currency": "", "budget": "5000", "actual_cost": "1200.50",
        "starts_on": "2026-04-01", "ends_on": "2026-04-20"})
    campaign = Campaign.objects.get()
    assert response.status_code == 302 and response.url == reverse("sales:campaign", args=[campaign.pk])
    assert (campaign.currency, campaign.actual_cost, campaign.owner) == ("BDT", Decimal("1200.50"), world.rep_a)


def test_create_page_with_bad_input_shows_field_errors_and_creates_nothing(world, client_for):
    response = client_for(world.rep_a).post(reverse("sales:campaign_create"), {
        "name": "Bad", "channel": "sms", "actual_cost": "-3", "starts_on": "2026-04-01", "ends_on": "2026-03-01"})
    assert response.status_code == 400
    assert set(response.context["form"].errors) == {"actual_cost"}  # the period is checked once the fields are valid
    assert not Campaign.objects.exists()
    response = client_for(world.rep_a).post(reverse("sales:campaign_create"), {
        "name": "Bad", "channel": "sms", "starts_on": "2026-04-01", "ends_on": "2026-03-01"})
    assert set(response.context["form"].errors) == {"ends_on"}


def test_edit_page_changes_the_campaign_and_other_teams_get_404(world, client_for):
    campaign = new_campaign(world)
    data = {"name": "Renamed", "channel": "email", "currency": "BDT", "budget": "0", "actual_cost": "99",
            "starts_on": "2026-03-01"}
    assert client_for(world.rep_c).post(reverse("sales:campaign_edit", args=[campaign.pk]), data).status_code == 404
    assert client_for(world.rep_b).post(reverse("sales:campaign_edit", args=[campaign.pk]), data).status_code == 302
    campaign.refresh_from_db()
    assert (campaign.name, campaign.actual_cost) == ("Renamed", Decimal("99.00"))


# --- The campaign page --------------------------------------------------------------------------


def test_campaign_page_shows_figures_with_help_and_a_dash_for_undefined_roi(world, client_for):
    campaign = new_campaign(world, actual_cost="0")
    with_members(world, campaign, 1)
    body = client_for(world.rep_a).get(reverse("sales:campaign", args=[campaign.pk])).content.decode()
    assert "Leads created: members whose source (first touch) is this campaign." in body
    assert 'id="metric-roi">—' in body


# session, user, org settings, the campaign with its figures, members count, tag and saved view choices, members
DETAIL_QUERIES = 8


def test_members_query_count_is_constant_whatever_the_number_of_members(world, client_for, django_assert_num_queries):
    campaign = new_campaign(world)
    client = client_for(world.rep_b)  # a teammate who may edit: every row has its status form
    url = reverse("sales:campaign", args=[campaign.pk])
    client.get(url)
    counts = []
    for size in (3, 8):
        CampaignMember.objects.all().delete()
        with_members(world, campaign, size)
        client.get(url)  # warm caches (notifications' unread count) the data changes may have cleared
        with django_assert_num_queries(DETAIL_QUERIES) as ctx:
            response = client.get(url)
        assert len(response.context["members"].object_list) == size
        counts.append(len(ctx.captured_queries))
    assert counts[0] == counts[1]


def test_members_list_hides_members_whose_contact_the_user_cannot_see(world, client_for):
    campaign = new_campaign(world)
    other = make_contact(world.rep_c, first_name="Hidden")
    CampaignMember.objects.create(campaign=campaign, contact=other)
    with_members(world, campaign, 1)
    response = client_for(world.rep_a).get(reverse("sales:campaign", args=[campaign.pk]))
    assert len(response.context["members"].object_list) == 1
    assert "Hidden" not in response.content.decode()


def test_add_members_by_tag_from_the_page(world, client_for):
    campaign = new_campaign(world)
    contact = make_contact(world.rep_a)
    add_tags(by=world.rep_a, obj=contact, tags=["eid"])
    response = client_for(world.rep_a).post(reverse("sales:campaign_add_members", args=[campaign.pk]),
                                            {"tag": Tag.objects.get(name="eid").pk})
    assert response.status_code == 302
    assert CampaignMember.objects.get().contact_id == contact.pk


def test_search_lists_candidates_and_adding_them_works(world, client_for):
    campaign = new_campaign(world)
    found = make_contact(world.rep_a, first_name="Shapla", last_name="Begum")
    make_contact(world.rep_c, first_name="Shapla", last_name="Other team")
    client = client_for(world.rep_a)
    response = client.get(reverse("sales:campaign", args=[campaign.pk]), {"q": "shapla"})
    assert [c.pk for c in response.context["candidates"]] == [found.pk]
    response = client.post(reverse("sales:campaign_add_members", args=[campaign.pk]), {"contacts": [found.pk]})
    assert response.status_code == 302
    assert CampaignMember.objects.get().contact_id == found.pk


def test_adding_an_invisible_contact_from_the_page_is_a_field_error(world, client_for):
    campaign = new_campaign(world)
    theirs = make_contact(world.rep_c)
    response = client_for(world.rep_a).post(reverse("sales:campaign_add_members", args=[campaign.pk]),
                                            {"contacts": [theirs.pk]})
    assert response.status_code == 400
    assert "contacts" in response.context["add_form"].errors
    assert not CampaignMember.objects.exists()


def test_status_change_over_htmx_returns_the_row(world, client_for):
    campaign = new_campaign(world)
    with_members(world, campaign, 1)
    member = CampaignMember.objects.get()
    response = client_for(world.rep_a).post(reverse("sales:campaign_member_status", args=[member.pk]),
                                            {"status": "converted"}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert response.content.decode().startswith(f'<tr id="member-{member.pk}">')
    member.refresh_from_db()
    assert member.status == "converted" and member.converted_at is not None


def test_bad_status_over_htmx_is_400_and_changes_nothing(world, client_for):
    campaign = new_campaign(world)
    with_members(world, campaign, 1)
    member = CampaignMember.objects.get()
    response = client_for(world.rep_a).post(reverse("sales:campaign_member_status", args=[member.pk]),
                                            {"status": "bought"}, HTTP_HX_REQUEST="true")
    assert response.status_code == 400
    member.refresh_from_db()
    assert member.status == "sent"


# --- The contact panel --------------------------------------------------------------------------


def test_contact_panel_over_htmx_is_the_section_it_replaces(world, client_for):
    campaign = new_campaign(world, name="Eid")
    contact = with_members(world, campaign, 1)[0]
    response = client_for(world.rep_a).get(reverse("sales:contact_campaigns", args=[contact.pk]),
                                           HTTP_HX_REQUEST="true")
    body = response.content.decode()
    assert body.startswith('<section class="card related-panel" id="campaigns-panel"')
    assert "Eid" in body and "Source" in body
    assert "<html" not in body


def test_contact_panel_without_js_is_a_full_page(world, client_for):
    contact = make_contact(world.rep_a)
    body = client_for(world.rep_a).get(reverse("sales:contact_campaigns", args=[contact.pk])).content.decode()
    assert "<html" in body and 'id="campaigns-panel"' in body


def test_contact_panel_changes_the_source(world, client_for):
    first, second = new_campaign(world, name="First"), new_campaign(world, name="Second")
    contact = with_members(world, first, 1)[0]
    campaigns.add_members(by=world.rep_a, campaign=second, contacts=[contact])
    url = reverse("sales:contact_campaigns", args=[contact.pk])
    response = client_for(world.rep_b).post(url, {"campaign": second.pk}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert CampaignMember.objects.get(contact=contact, is_source=True).campaign_id == second.pk
    assert client_for(world.rep_c).post(url, {"campaign": first.pk}).status_code == 404
    response = client_for(world.rep_a).post(url, {"campaign": 999999})
    assert response.status_code == 400
    assert CampaignMember.objects.get(contact=contact, is_source=True).campaign_id == second.pk

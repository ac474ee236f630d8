"""The deal page's edit panels (details, contacts, lines), the new-deal form and the contact/company deals panels."""

from datetime import date
from decimal import Decimal

import pytest
from django.urls import reverse

from contacts.models import Contact
from sales import services
from sales.models import Deal, DealContact, DealLine
from tests.factories import make_company, make_contact
from tests.sales.helpers import new_deal

# Owned by rep_a (team 1): the owner, the team (sharing "team"), its manager and the admin may edit;
# a support agent is refused deals altogether, the other team never sees it.
EDIT_OUTCOMES = {"rep_a": {200, 302}, "manager1": {200, 302}, "admin": {200, 302}, "rep_b": {200, 302},
                 "rep_c": {404}, "manager2": {404}, "agent1": {404}, "anonymous": {302}}


def assert_edit_rights(world, client_for, url, *, method="get", data=None, outcomes=EDIT_OUTCOMES):
    wrong = []
    for name, user in world.principals().items():
        client = client_for(user)
        response = client.post(url, data or {}) if method == "post" else client.get(url)
        if response.status_code not in outcomes[name]:
            wrong.append(f"{name}: {response.status_code}")
    assert not wrong, f"{method} {url}: " + ", ".join(wrong)


@pytest.fixture
def deal(world, pipeline):
    return new_deal(world, pipeline, title="Eid order", amount="1000.00")


# --- Visibility -----------------------------------------------------------------------------------


def test_details_form_follows_edit_rights(world, client_for, deal):
    assert_edit_rights(world, client_for, reverse("sales:deal_edit", args=[deal.pk]))


def test_lines_form_follows_edit_rights(world, client_for, deal):
    assert_edit_rights(world, client_for, reverse("sales:deal_lines", args=[deal.pk]))


@pytest.mark.parametrize("route", ["sales:deal_edit", "sales:deal_contacts", "sales:deal_contact_remove",
                                   "sales:deal_lines"])
def test_posting_to_an_edit_panel_follows_edit_rights(world, client_for, deal, route):
    allowed = {200, 302, 400, 404}  # an empty post: a field error, or (remove) no such person on the deal
    outcomes = {**EDIT_OUTCOMES, "rep_a": allowed, "rep_b": allowed, "manager1": allowed, "admin": allowed}
    assert_edit_rights(world, client_for, reverse(route, args=[deal.pk]), method="post", outcomes=outcomes)
    deal.refresh_from_db()
    assert deal.title == "Eid order"


# --- Details --------------------------------------------------------------------------------------


def details(deal, **changes):
    data = {"title": deal.title, "company": "", "primary_contact": "", "amount": str(deal.amount),
            "currency": deal.currency, "expected_close": "", "probability": "", "owner": deal.owner_id}
    data.update(changes)
    return data


def test_details_save_the_fields(world, client_for, deal):
    company = make_company(world.rep_a, name="Aarong Traders")
    contact = make_contact(world.rep_a, first_name="Salma", last_name="Khatun")
    response = client_for(world.rep_a).post(reverse("sales:deal_edit", args=[deal.pk]), details(
        deal, title="Eid wholesale", company="Aarong Traders", primary_contact="Salma Khatun", amount="2500.50",
        expected_close="2026-05-20", probability="60"))
    assert response.status_code == 302
    deal.refresh_from_db()
    assert (deal.title, deal.company, deal.primary_contact, deal.amount, deal.expected_close, deal.probability) == (
        "Eid wholesale", company, contact, Decimal("2500.50"), date(2026, 5, 20), 60)


def test_details_with_htmx_answer_the_panel_and_the_header(world, client_for, deal):
    response = client_for(world.rep_a).post(reverse("sales:deal_edit", args=[deal.pk]),
                                            details(deal, title="Renamed"), HTTP_HX_REQUEST="true")
    body = response.content.decode()
    assert response.status_code == 200
    assert 'id="deal-details"' in body and 'hx-swap-oob="true"' in body and "Renamed" in body


def test_details_show_field_errors_and_change_nothing(world, client_for, deal):
    response = client_for(world.rep_a).post(reverse("sales:deal_edit", args=[deal.pk]), details(
        deal, title="Changed", amount="-5", probability="140"), HTTP_HX_REQUEST="true")
    assert response.status_code == 400
    form = response.context["details_form"]
    assert {"amount", "probability"} <= set(form.errors)
    deal.refresh_from_db()
    assert deal.title == "Eid order"


def test_details_refuse_a_company_the_user_cannot_see(world, client_for, deal):
    make_company(world.rep_c, name="Hidden Ltd")
    response = client_for(world.rep_a).post(reverse("sales:deal_edit", args=[deal.pk]),
                                            details(deal, company="Hidden Ltd"))
    assert response.status_code == 400
    assert "company" in response.context["details_form"].errors


def test_details_transfer_the_deal_to_a_teammate(world, client_for, deal):
    response = client_for(world.rep_a).post(reverse("sales:deal_edit", args=[deal.pk]),
                                            details(deal, owner=world.rep_b.pk))
    assert response.status_code == 302
    deal.refresh_from_db()
    assert deal.owner == world.rep_b


def test_details_refuse_an_owner_outside_the_team_and_keep_the_fields(world, client_for, deal):
    response = client_for(world.manager1).post(reverse("sales:deal_edit", args=[deal.pk]),
                                               details(deal, title="Changed again", owner=world.rep_c.pk))
    assert response.status_code == 400
    assert "owner" in response.context["details_form"].errors
    deal.refresh_from_db()
    assert deal.title != "Changed again"


# --- Contacts -------------------------------------------------------------------------------------


def test_add_and_remove_a_person_on_the_deal(world, client_for, deal):
    contact = make_contact(world.rep_a, first_name="Farhan", last_name="Ali")
    client = client_for(world.rep_a)
    response = client.post(reverse("sales:deal_contacts", args=[deal.pk]),
                           {"contact": "Farhan Ali", "role": "Budget holder"}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200 and "Budget holder" in response.content.decode()
    assert DealContact.objects.get(deal=deal).contact == contact
    response = client.post(reverse("sales:deal_contact_remove", args=[deal.pk]), {"contact": contact.pk})
    assert response.status_code == 302
    assert not DealContact.objects.filter(deal=deal).exists()


def test_adding_an_unknown_person_is_a_field_error(world, client_for, deal):
    make_contact(world.rep_c, first_name="Hidden", last_name="Person")
    response = client_for(world.rep_a).post(reverse("sales:deal_contacts", args=[deal.pk]),
                                            {"contact": "Hidden Person"}, HTTP_HX_REQUEST="true")
    assert response.status_code == 400
    assert "contact" in response.context["contacts_form"].errors
    assert not DealContact.objects.exists()


# --- Lines ----------------------------------------------------------------------------------------


def lines_data(*rows):
    data = {"lines-TOTAL_FORMS": str(len(rows)), "lines-INITIAL_FORMS": "0", "lines-MIN_NUM_FORMS": "0",
            "lines-MAX_NUM_FORMS": "100"}
    for i, row in enumerate(rows):
        for key, value in row.items():
            data[f"lines-{i}-{key}"] = value
    return data


def test_lines_replace_the_deal_lines_and_set_the_amount(world, client_for, deal):
    product = services.save_product(by=world.admin, sku="TEA-1", name="Tea chest", unit_price="150.00")
    response = client_for(world.rep_a).post(reverse("sales:deal_lines", args=[deal.pk]), lines_data(
        {"product": product.pk, "quantity": "2", "discount": "10"},
        {"description": "Delivery", "quantity": "1", "unit_price": "60.00"},
        {},  # a blank row is skipped
    ))
    assert response.status_code == 302
    deal.refresh_from_db()
    assert deal.amount == Decimal("330.00")  # 2 x 150 less 10 % + 60
    assert DealLine.objects.filter(deal=deal).count() == 2


def test_lines_errors_show_on_their_row_and_change_nothing(world, client_for, deal):
    response = client_for(world.rep_a).post(reverse("sales:deal_lines", args=[deal.pk]), lines_data(
        {"description": "Good", "quantity": "1", "unit_price": "10"},
        {"description": "Bad", "quantity": "0", "unit_price": "10"},
    ), HTTP_HX_REQUEST="true")
    assert response.status_code == 400
    formset = response.context["lines_form"]
    assert not formset.forms[0].errors and formset.forms[1].non_field_errors()
    deal.refresh_from_db()
    assert deal.amount == Decimal("1000.00") and not deal.lines.exists()


def test_lines_form_opens_with_the_current_lines(world, client_for, deal):
    services.set_deal_lines(by=world.rep_a, deal=deal, lines=[{"description": "Setup", "unit_price": "99.00"}])
    response = client_for(world.rep_a).get(reverse("sales:deal_lines", args=[deal.pk]), HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert 'value="Setup"' in response.content.decode()


# --- The deal page ----------------------------------------------------------------------------------


def test_deal_page_has_the_edit_panels_and_the_lazy_panels(world, client_for, deal):
    body = client_for(world.rep_a).get(reverse("sales:deal", args=[deal.pk])).content.decode()
    assert reverse("sales:deal_edit", args=[deal.pk]) in body
    assert reverse("sales:deal_lines", args=[deal.pk]) in body
    # the same ids as the fragments that replace them
    for panel, name in (("tasks-panel", "sales:deal_tasks"), ("commerce-panel", "sales:deal_commerce")):
        assert f'id="{panel}" aria-labelledby="{panel}-title" hx-get="{reverse(name, args=[deal.pk])}"' in body


def test_a_teammate_edits_the_deal_but_cannot_give_it_away(world, client_for, deal):
    response = client_for(world.rep_b).get(reverse("sales:deal_edit", args=[deal.pk]), HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert "owner" not in response.context["details_form"].fields


# --- New deal from a contact or company ------------------------------------------------------------


def test_new_deal_form_is_prefilled_from_the_contact(world, client_for, pipeline):
    company = make_company(world.rep_a, name="Jamuna Foods")
    contact = make_contact(world.rep_a, first_name="Rafiq", last_name="Islam", company=company)
    response = client_for(world.rep_a).get(reverse("sales:deal_new"), {"contact": contact.pk})
    assert response.status_code == 200
    form = response.context["form"]
    assert form.initial["primary_contact"] == contact and form.initial["company"] == company


def test_new_deal_ignores_a_contact_the_user_cannot_see(world, client_for, pipeline):
    hidden = make_contact(world.rep_c, first_name="Hidden")
    response = client_for(world.rep_a).get(reverse("sales:deal_new"), {"contact": hidden.pk})
    assert "primary_contact" not in response.context["form"].initial


def test_new_deal_posts_to_create_deal_and_goes_to_the_deal(world, client_for, pipeline):
    contact = make_contact(world.rep_a, first_name="Rafiq", last_name="Islam")
    response = client_for(world.rep_a).post(reverse("sales:deal_new"), {
        "title": "Ramadan hampers", "pipeline": pipeline.pk, "primary_contact": "Rafiq Islam", "amount": "4500",
        "currency": "", "expected_close": "2026-03-01", "probability": ""})
    deal = Deal.objects.get(title="Ramadan hampers")
    assert response.status_code == 302 and response["Location"] == reverse("sales:deal", args=[deal.pk])
    assert (deal.primary_contact, deal.owner, deal.amount) == (contact, world.rep_a, Decimal("4500.00"))


def test_new_deal_errors_are_field_errors(world, client_for, pipeline):
    response = client_for(world.rep_a).post(reverse("sales:deal_new"), {"title": "Valid", "pipeline": pipeline.pk,
                                                                         "amount": "abc", "probability": "500"})
    assert response.status_code == 400
    assert {"probability", "amount"} <= set(response.context["form"].errors)
    assert not Deal.objects.exists()


@pytest.mark.parametrize(("name", "status"), [("rep_a", 200), ("manager2", 200), ("agent1", 403)])
def test_new_deal_page_is_for_sellers(world, client_for, pipeline, name, status):
    assert client_for(getattr(world, name)).get(reverse("sales:deal_new")).status_code == status


# --- Deals panels of contact and company pages -----------------------------------------------------


def record_outcomes(world, model, record):
    """200 for who sees the record (support agents included: the panel is read-only), 404 for others."""
    out = {}
    for name, user in world.principals().items():
        if user is None:
            out[name] = 302
        else:
            out[name] = 200 if model.objects.visible_to(user).filter(pk=record.pk).exists() else 404
    return out


@pytest.mark.parametrize("kind", ["contact", "company"])
def test_record_deals_panel_visibility(world, client_for, pipeline, kind):
    from contacts.models import Company

    record = make_contact(world.rep_a) if kind == "contact" else make_company(world.rep_a)
    model = Contact if kind == "contact" else Company
    url = reverse(f"sales:{kind}_deals", args=[record.pk])
    expected = record_outcomes(world, model, record)
    assert expected["rep_c"] == 404 and expected["rep_b"] == 200
    seen = {name: client_for(user).get(url).status_code for name, user in world.principals().items()}
    assert seen == expected


def test_contact_deals_panel_lists_open_deals_and_offers_add(world, client_for, pipeline):
    contact = make_contact(world.rep_a, first_name="Mina")
    other = make_contact(world.rep_a, first_name="Other")
    primary = new_deal(world, pipeline, title="As primary", primary_contact=contact)
    on_it = new_deal(world, pipeline, title="On the deal")
    services.add_deal_contact(by=world.rep_a, deal=on_it, contact=contact, role="User")
    new_deal(world, pipeline, title="Not theirs", primary_contact=other)
    new_deal(world, pipeline, title="Closed one", primary_contact=contact, stage=pipeline.stages.get(name="Won"))
    response = client_for(world.rep_a).get(reverse("sales:contact_deals", args=[contact.pk]), HTTP_HX_REQUEST="true")
    body = response.content.decode()
    assert body.startswith('<section class="card related-panel" id="deals-panel"')
    assert {d.pk for d in response.context["deals"]} == {primary.pk, on_it.pk}
    assert response.context["closed_count"] == 1
    assert reverse("sales:deal_new") + f"?contact={contact.pk}" in body


def test_company_deals_panel_without_htmx_is_a_page(world, client_for, pipeline):
    company = make_company(world.rep_a)
    new_deal(world, pipeline, title="Company deal", company=company)
    response = client_for(world.rep_a).get(reverse("sales:company_deals", args=[company.pk]))
    assert response.status_code == 200 and "<html" in response.content.decode()
    assert "Company deal" in response.content.decode()


def test_record_deals_panel_hides_deals_the_user_cannot_see(world, client_for, pipeline):
    company = make_company(world.rep_a)
    new_deal(world, pipeline, title="Team one deal", company=company)
    response = client_for(world.agent1).get(reverse("sales:company_deals", args=[company.pk]), HTTP_HX_REQUEST="true")
    if response.status_code == 200:  # agents may see the company, never the deals, nor "Add deal"
        assert response.context["deals"] == [] and not response.context["can_add"]


def test_details_set_and_keep_the_source_campaign(world, client_for, deal):
    from sales.campaigns import create_campaign

    campaign = create_campaign(by=world.rep_a, name="Eid mailer", channel="email", starts_on=date(2026, 3, 1))
    client = client_for(world.rep_a)
    response = client.post(reverse("sales:deal_edit", args=[deal.pk]), details(deal, source_campaign=campaign.pk))
    assert response.status_code == 302
    deal.refresh_from_db()
    assert deal.source_campaign == campaign
    # saving other fields keeps it (the form offers the deal's own campaign even to someone who cannot pick it)
    response = client.post(reverse("sales:deal_edit", args=[deal.pk]),
                           details(deal, title="Renamed", source_campaign=campaign.pk))
    deal.refresh_from_db()
    assert (deal.title, deal.source_campaign) == ("Renamed", campaign)

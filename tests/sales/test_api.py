"""The sales API: visibility of deals, moves with their rules, amounts as strings, writes through the services,
admin-only pipelines and stages, catalogue rights, query counts, token sign-in."""

from datetime import date
from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse

from crm import services as crm_services
from sales import services
from sales.models import Deal, DealLine, Pipeline, Product, StageChange
from tests.factories import make_company, make_contact
from tests.sales.helpers import new_deal, stage
from tests.visibility import assert_visibility


def send(client, method, url, data=None):
    return getattr(client, method)(url, data, content_type="application/json")


def deal_url(deal, action=None):
    return reverse(f"deal-{action or 'detail'}", args=[deal.pk])


def result_ids(response) -> list[int]:
    assert response.status_code == 200, response.content
    return [row["id"] for row in response.json()["results"]]


# --- Visibility ---------------------------------------------------------------------------------


def test_deal_detail_visibility_for_every_role(world, client_for, pipeline):
    deal = new_deal(world, pipeline)
    assert_visibility(world, client_for, deal_url(deal), api=True)


def test_deal_move_visibility_for_every_role(world, client_for, pipeline):
    deal = new_deal(world, pipeline)  # moving to the stage it is in changes nothing: 200 for those who see it
    assert_visibility(world, client_for, deal_url(deal, "move"), method="post", data={"stage": deal.stage_id}, api=True)


def test_deal_list_shows_only_visible_deals(world, client_for, pipeline):
    mine = new_deal(world, pipeline, title="Team 1")
    new_deal(world, pipeline, title="Team 2", by=world.rep_c)
    assert result_ids(client_for(world.rep_b).get(reverse("deal-list"))) == [mine.pk]
    assert result_ids(client_for(world.agent1).get(reverse("deal-list"))) == []


def test_invisible_deal_cannot_be_changed_or_deleted(world, client_for, pipeline):
    deal = new_deal(world, pipeline, title="Before")
    client = client_for(world.rep_c)
    assert send(client, "patch", deal_url(deal), {"title": "After"}).status_code == 404
    assert client.delete(deal_url(deal)).status_code == 404
    deal.refresh_from_db()
    assert deal.title == "Before"


def test_filter_by_another_teams_company_is_a_field_error(world, client_for, pipeline):
    company = make_company(world.rep_c, name="Hidden Ltd")
    response = client_for(world.rep_a).get(reverse("deal-list"), {"company": company.pk})
    assert response.status_code == 400
    assert "company" in response.json()["errors"]


# --- Moves --------------------------------------------------------------------------------------


def test_move_changes_the_stage_and_records_it(world, client_for, pipeline):
    deal = new_deal(world, pipeline)
    response = send(client_for(world.rep_a), "post", deal_url(deal, "move"), {"stage": stage(pipeline, "Proposal").pk})
    assert response.status_code == 200, response.content
    assert response.json()["stage_name"] == "Proposal"
    assert list(StageChange.objects.filter(deal=deal).values_list("to_stage__name", flat=True)) == ["Lead", "Proposal"]


def test_move_to_lost_without_a_reason_is_a_field_error(world, client_for, pipeline):
    deal = new_deal(world, pipeline)
    response = send(client_for(world.rep_a), "post", deal_url(deal, "move"), {"stage": stage(pipeline, "Lost").pk})
    assert response.status_code == 400
    assert "lost_reason" in response.json()["errors"]
    deal.refresh_from_db()
    assert deal.stage.name == "Lead" and deal.lost_at is None


def test_move_to_lost_with_a_reason_closes_the_deal(world, client_for, pipeline):
    deal = new_deal(world, pipeline)
    response = send(client_for(world.rep_a), "post", deal_url(deal, "move"),
                    {"stage": stage(pipeline, "Lost").pk, "lost_reason": "Chose a cheaper supplier"})
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["status"], body["lost_reason"]) == ("lost", "Chose a cheaper supplier")
    assert body["closed_at"] is not None


def test_move_to_a_stage_of_another_pipeline_is_a_field_error(world, client_for, pipeline):
    other = services.create_pipeline(by=world.admin, name="Services", stages=["Brief"])
    deal = new_deal(world, pipeline)
    response = send(client_for(world.rep_a), "post", deal_url(deal, "move"), {"stage": stage(other, "Brief").pk})
    assert response.status_code == 400
    assert "stage" in response.json()["errors"]
    deal.refresh_from_db()
    assert deal.stage.name == "Lead"


def test_patching_the_stage_moves_the_deal(world, client_for, pipeline):
    deal = new_deal(world, pipeline)
    response = send(client_for(world.rep_a), "patch", deal_url(deal), {"stage": stage(pipeline, "Won").pk})
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "won"
    assert StageChange.objects.filter(deal=deal).count() == 2


# --- Amounts and writes -------------------------------------------------------------------------


def test_amounts_are_decimal_strings(world, client_for, pipeline):
    deal = new_deal(world, pipeline, amount="1250.50", probability=40)
    body = client_for(world.rep_a).get(deal_url(deal)).json()
    assert (body["amount"], body["weighted_amount"]) == ("1250.50", "500.20")


def test_create_sets_owner_stage_and_default_currency(world, client_for, pipeline):
    contact = make_contact(world.rep_a, first_name="Karim")
    response = send(client_for(world.rep_a), "post", reverse("deal-list"),
                    {"title": "Ramadan stock", "pipeline": pipeline.pk, "amount": "90000", "primary_contact": contact.pk,
                     "expected_close": "2026-12-31"})
    assert response.status_code == 201, response.content
    deal = Deal.objects.get(pk=response.json()["id"])
    assert (deal.owner, deal.team, deal.stage.name, deal.amount, deal.expected_close) == (
        world.rep_a, world.team1, "Lead", Decimal("90000.00"), date(2026, 12, 31))
    assert deal.currency == "BDT"


def test_create_with_lines_sums_the_amount(world, client_for, pipeline):
    product = services.save_product(by=world.admin, sku="TEA-1", name="Tea chest", unit_price="1000")
    response = send(client_for(world.rep_a), "post", reverse("deal-list"), {
        "title": "Tea", "pipeline": pipeline.pk,
        "lines": [{"product": product.pk, "quantity": "3", "discount": "10"},
                  {"description": "Delivery", "unit_price": "150.25"}],
    })
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["amount"] == "2850.25"
    assert [line["total"] for line in body["lines"]] == ["2700.00", "150.25"]


def test_bad_line_is_a_field_error_and_creates_nothing(world, client_for, pipeline):
    response = send(client_for(world.rep_a), "post", reverse("deal-list"),
                    {"title": "Tea", "pipeline": pipeline.pk, "lines": [{"quantity": "1"}]})
    assert response.status_code == 400
    assert "lines.0" in response.json()["errors"]
    assert not Deal.objects.exists()


def test_amount_with_three_decimals_is_a_field_error(world, client_for, pipeline):
    response = send(client_for(world.rep_a), "post", reverse("deal-list"),
                    {"title": "Tea", "pipeline": pipeline.pk, "amount": "10.005"})
    assert response.status_code == 400
    assert "amount" in response.json()["errors"]


def test_company_must_be_one_the_user_can_see(world, client_for, pipeline):
    hidden = make_company(world.rep_c, name="Hidden Ltd")
    response = send(client_for(world.rep_a), "post", reverse("deal-list"),
                    {"title": "Tea", "pipeline": pipeline.pk, "company": hidden.pk})
    assert response.status_code == 400
    assert "company" in response.json()["errors"]


def test_putting_back_what_was_read_changes_nothing(world, client_for, pipeline):
    deal = new_deal(world, pipeline, amount="500", company=make_company(world.rep_a))
    client = client_for(world.rep_a)
    before = client.get(deal_url(deal)).json()
    response = send(client, "put", deal_url(deal), before)
    assert response.status_code == 200, response.content
    ignore = {"updated_at", "lines"}
    assert {k: v for k, v in response.json().items() if k not in ignore} == {k: v for k, v in before.items() if k not in ignore}


def test_support_agent_cannot_create_deals(world, client_for, pipeline):
    response = send(client_for(world.agent1), "post", reverse("deal-list"), {"title": "Tea", "pipeline": pipeline.pk})
    assert response.status_code == 403
    assert not Deal.objects.exists()


def test_teammate_cannot_delete_a_deal(world, client_for, pipeline):
    deal = new_deal(world, pipeline)
    assert client_for(world.rep_b).delete(deal_url(deal)).status_code == 403
    assert Deal.objects.filter(pk=deal.pk).exists()


def test_owner_deletes_a_deal(world, client_for, pipeline):
    deal = new_deal(world, pipeline)
    assert client_for(world.rep_a).delete(deal_url(deal)).status_code == 204
    assert not Deal.objects.filter(pk=deal.pk).exists()


def test_owner_field_transfers_the_deal(world, client_for, pipeline):
    deal = new_deal(world, pipeline)
    response = send(client_for(world.manager1), "patch", deal_url(deal), {"owner": world.rep_b.pk})
    assert response.status_code == 200, response.content
    deal.refresh_from_db()
    assert deal.owner == world.rep_b


def test_patching_lines_replaces_them(world, client_for, pipeline):
    deal = new_deal(world, pipeline)
    services.set_deal_lines(by=world.rep_a, deal=deal, lines=[{"description": "Old", "unit_price": "10"}])
    response = send(client_for(world.rep_a), "patch", deal_url(deal), {"lines": [{"description": "New", "unit_price": "20"}]})
    assert response.status_code == 200, response.content
    assert list(DealLine.objects.filter(deal=deal).values_list("description", flat=True)) == ["New"]
    assert response.json()["amount"] == "20.00"


def test_amount_of_a_deal_with_lines_cannot_be_set_by_hand(world, client_for, pipeline):
    deal = new_deal(world, pipeline)
    services.set_deal_lines(by=world.rep_a, deal=deal, lines=[{"description": "Line", "unit_price": "10"}])
    response = send(client_for(world.rep_a), "patch", deal_url(deal), {"amount": "99.00"})
    assert response.status_code == 400
    assert "amount" in response.json()["errors"]
    deal.refresh_from_db()
    assert deal.amount == Decimal("10.00")


def test_deal_cannot_change_pipeline_on_update(world, client_for, pipeline):
    other = services.create_pipeline(by=world.admin, name="Services", stages=["Brief"])
    deal = new_deal(world, pipeline)
    response = send(client_for(world.rep_a), "patch", deal_url(deal), {"pipeline": other.pk})
    assert response.status_code == 400
    assert "pipeline" in response.json()["errors"]


# --- Filters and sorts --------------------------------------------------------------------------


def test_filter_by_status(world, client_for, pipeline):
    open_deal = new_deal(world, pipeline, title="Open")
    won = new_deal(world, pipeline, title="Won", stage=stage(pipeline, "Won"))
    client = client_for(world.rep_a)
    assert result_ids(client.get(reverse("deal-list"), {"status": "open"})) == [open_deal.pk]
    assert result_ids(client.get(reverse("deal-list"), {"status": "won"})) == [won.pk]


def test_filter_by_contact_finds_primary_and_linked_deals(world, client_for, pipeline):
    contact = make_contact(world.rep_a, first_name="Karim")
    primary = new_deal(world, pipeline, title="Primary", primary_contact=contact)
    linked = new_deal(world, pipeline, title="Linked")
    services.add_deal_contact(by=world.rep_a, deal=linked, contact=contact, role="budget holder")
    new_deal(world, pipeline, title="Other")
    ids = result_ids(client_for(world.rep_a).get(reverse("deal-list"), {"contact": contact.pk, "sort": "created"}))
    assert ids == [primary.pk, linked.pk]


def test_filter_by_expected_close_range(world, client_for, pipeline):
    new_deal(world, pipeline, expected_close=date(2026, 1, 10))
    inside = new_deal(world, pipeline, expected_close=date(2026, 2, 10))
    response = client_for(world.rep_a).get(reverse("deal-list"),
                                           {"expected_close_after": "2026-02-01", "expected_close_before": "2026-02-28"})
    assert result_ids(response) == [inside.pk]


def test_sort_by_amount(world, client_for, pipeline):
    small = new_deal(world, pipeline, amount="10")
    large = new_deal(world, pipeline, amount="1000")
    assert result_ids(client_for(world.rep_a).get(reverse("deal-list"), {"sort": "-amount"})) == [large.pk, small.pk]


def test_unknown_sort_is_a_field_error(world, client_for, pipeline):
    response = client_for(world.rep_a).get(reverse("deal-list"), {"sort": "title"})
    assert response.status_code == 400
    assert "sort" in response.json()["errors"]


def test_deal_shows_its_other_contacts(world, client_for, pipeline):
    deal = new_deal(world, pipeline)
    contact = make_contact(world.rep_a, first_name="Karim", last_name="Ahmed")
    services.add_deal_contact(by=world.rep_a, deal=deal, contact=contact, role="decision maker")
    body = client_for(world.rep_a).get(deal_url(deal)).json()
    assert body["contacts"] == [{"contact": contact.pk, "contact_name": contact.full_name, "role": "decision maker"}]


# --- Query counts -------------------------------------------------------------------------------


def test_deal_list_runs_the_same_queries_for_any_page_size(world, client_for, pipeline, django_assert_num_queries):
    company = make_company(world.rep_a)
    for i in range(8):
        deal = new_deal(world, pipeline, title=f"Deal {i}", company=company, primary_contact=make_contact(world.rep_a))
        services.set_deal_lines(by=world.rep_a, deal=deal, lines=[{"description": "Line", "unit_price": "5"}])
        services.add_deal_contact(by=world.rep_a, deal=deal, contact=make_contact(world.rep_a))
    client = client_for(world.manager1)
    client.get(reverse("deal-list"))  # warm the caches of a first request (then: session, user, org settings,
    # managed teams, count, page, contact links, lines)
    with django_assert_num_queries(8):
        assert len(client.get(reverse("deal-list"), {"page_size": 5}).json()["results"]) == 5
    with django_assert_num_queries(8):
        assert len(client.get(reverse("deal-list"), {"page_size": 50}).json()["results"]) == 8


# --- Pipelines and stages -----------------------------------------------------------------------


def test_everyone_signed_in_reads_pipelines_with_their_stages(world, client_for, pipeline):
    response = client_for(world.agent1).get(reverse("pipeline-list"))
    assert response.status_code == 200
    [row] = response.json()["results"]
    assert [s["name"] for s in row["stages"]] == ["Lead", "Proposal", "Negotiation", "Won", "Lost"]


def test_admin_creates_a_pipeline(world, client_for):
    response = send(client_for(world.admin), "post", reverse("pipeline-list"),
                    {"name": "Services", "open_stages": [{"name": "Brief", "probability": 20}], "won_name": "Signed"})
    assert response.status_code == 201, response.content
    assert [s["name"] for s in response.json()["stages"]] == ["Brief", "Signed", "Lost"]


@pytest.mark.parametrize("role", ["rep_a", "manager1", "agent1"])
def test_only_admins_write_pipelines(world, client_for, pipeline, role):
    client = client_for(getattr(world, role))
    assert send(client, "post", reverse("pipeline-list"), {"name": "Mine", "open_stages": [{"name": "Lead"}]}).status_code == 403
    assert send(client, "patch", reverse("pipeline-detail", args=[pipeline.pk]), {"name": "Renamed"}).status_code == 403
    assert client.post(reverse("pipeline-archive", args=[pipeline.pk])).status_code == 403
    assert list(Pipeline.objects.values_list("name", flat=True)) == ["E-commerce B2B"]


@pytest.mark.parametrize("role", ["rep_a", "manager1", "agent1"])
def test_only_admins_write_stages(world, client_for, pipeline, role):
    client = client_for(getattr(world, role))
    lead = stage(pipeline, "Lead")
    assert send(client, "post", reverse("stage-list"), {"pipeline": pipeline.pk, "name": "Demo"}).status_code == 403
    assert send(client, "patch", reverse("stage-detail", args=[lead.pk]), {"name": "Renamed"}).status_code == 403
    ids = list(pipeline.stages.order_by("-position").values_list("pk", flat=True))
    assert send(client, "post", reverse("stage-reorder"), {"pipeline": pipeline.pk, "stage_ids": ids}).status_code == 403
    assert client.post(reverse("stage-archive", args=[lead.pk])).status_code == 403
    assert pipeline.stages.count() == 5 and stage(pipeline, "Lead").position == 0


def test_admin_renames_a_pipeline_and_makes_it_the_default(world, client_for, pipeline):
    other = services.create_pipeline(by=world.admin, name="Services", stages=["Brief"])
    response = send(client_for(world.admin), "patch", reverse("pipeline-detail", args=[other.pk]),
                    {"name": "Service firms", "is_default": True})
    assert response.status_code == 200, response.content
    pipeline.refresh_from_db()
    assert (response.json()["name"], response.json()["is_default"], pipeline.is_default) == ("Service firms", True, False)


def test_pipeline_with_open_deals_cannot_be_archived(world, client_for, pipeline):
    other = services.create_pipeline(by=world.admin, name="Services", stages=["Brief"])
    new_deal(world, other)
    response = client_for(world.admin).post(reverse("pipeline-archive", args=[other.pk]))
    assert response.status_code == 400
    assert "pipeline" in response.json()["errors"]


def test_stages_filter_by_pipeline(world, client_for, pipeline):
    other = services.create_pipeline(by=world.admin, name="Services", stages=["Brief"])
    response = client_for(world.rep_a).get(reverse("stage-list"), {"pipeline": other.pk})
    assert [row["name"] for row in response.json()["results"]] == ["Brief", "Won", "Lost"]


def test_admin_adds_a_stage_before_won_and_lost(world, client_for, pipeline):
    response = send(client_for(world.admin), "post", reverse("stage-list"),
                    {"pipeline": pipeline.pk, "name": "Demo", "probability": 50})
    assert response.status_code == 201, response.content
    assert list(pipeline.stages.order_by("position").values_list("name", flat=True)) == [
        "Lead", "Proposal", "Negotiation", "Demo", "Won", "Lost"]


def test_admin_reorders_stages(world, client_for, pipeline):
    names = ["Negotiation", "Lead", "Proposal", "Won", "Lost"]
    ids = [stage(pipeline, name).pk for name in names]
    response = send(client_for(world.admin), "post", reverse("stage-reorder"), {"pipeline": pipeline.pk, "stage_ids": ids})
    assert response.status_code == 200, response.content
    assert [row["name"] for row in response.json()] == names
    assert list(pipeline.stages.order_by("position").values_list("name", flat=True)) == names


def test_reorder_missing_a_stage_is_a_field_error(world, client_for, pipeline):
    ids = [stage(pipeline, "Lead").pk]
    response = send(client_for(world.admin), "post", reverse("stage-reorder"), {"pipeline": pipeline.pk, "stage_ids": ids})
    assert response.status_code == 400
    assert "stage_ids" in response.json()["errors"]


def test_stage_with_deals_cannot_be_archived(world, client_for, pipeline):
    new_deal(world, pipeline)
    response = client_for(world.admin).post(reverse("stage-archive", args=[stage(pipeline, "Lead").pk]))
    assert response.status_code == 400
    assert "stage" in response.json()["errors"]
    assert stage(pipeline, "Lead").archived_at is None


# --- Products -----------------------------------------------------------------------------------


def test_everyone_signed_in_reads_products(world, client_for):
    product = services.save_product(by=world.admin, sku="TEA-1", name="Tea chest", unit_price="1000", tags=["Tea"])
    [row] = client_for(world.rep_c).get(reverse("product-list")).json()["results"]
    assert (row["id"], row["unit_price"], row["tags"]) == (product.pk, "1000.00", ["Tea"])


def test_manager_creates_a_product(world, client_for):
    response = send(client_for(world.manager1), "post", reverse("product-list"),
                    {"sku": "TEA-2", "name": "Green tea", "unit_price": "250.50", "tags": ["Tea"]})
    assert response.status_code == 201, response.content
    assert Product.objects.get().currency == "BDT"


@pytest.mark.parametrize("role", ["rep_a", "agent1"])
def test_reps_and_agents_cannot_change_the_catalogue(world, client_for, role):
    product = services.save_product(by=world.admin, sku="TEA-1", name="Tea chest", unit_price="1000")
    client = client_for(getattr(world, role))
    assert send(client, "post", reverse("product-list"), {"sku": "X", "name": "X", "unit_price": "1"}).status_code == 403
    assert send(client, "patch", reverse("product-detail", args=[product.pk]), {"name": "Renamed"}).status_code == 403
    assert list(Product.objects.values_list("name", flat=True)) == ["Tea chest"]


def test_taken_sku_is_a_field_error(world, client_for):
    services.save_product(by=world.admin, sku="TEA-1", name="Tea chest", unit_price="1000")
    response = send(client_for(world.admin), "post", reverse("product-list"), {"sku": "tea-1", "name": "X", "unit_price": "1"})
    assert response.status_code == 400
    assert "sku" in response.json()["errors"]


# --- Sign-in ------------------------------------------------------------------------------------


def test_api_accepts_a_personal_token(world, pipeline):
    deal = new_deal(world, pipeline)
    _token, key = crm_services.create_api_token(user=world.rep_a, name="sync")
    response = Client(HTTP_AUTHORIZATION=f"Token {key}").get(reverse("deal-list"))
    assert result_ids(response) == [deal.pk]


def test_api_refuses_anonymous_callers(client):
    assert client.get(reverse("deal-list")).status_code in {401, 403}

"""The deal list page and its bulk actions (service and page)."""

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from sales.deal_bulk import bulk_update_deals
from sales.models import Deal, StageChange
from tests.sales.helpers import new_deal, stage

LIST_QUERIES = 11  # session, user, org; capped count, page; the filters' and bulk bar's choices (6)


def listed(response) -> list[int]:
    return [d.pk for d in response.context["result"].page.object_list]


# --- The page ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(("name", "sees"), [
    ("rep_a", True), ("rep_b", True), ("manager1", True), ("admin", True), ("rep_c", False), ("manager2", False),
])
def test_list_shows_only_visible_deals(world, client_for, pipeline, name, sees):
    deal = new_deal(world, pipeline, title="Team one's deal")
    response = client_for(getattr(world, name)).get(reverse("sales:deals"))
    assert response.status_code == 200
    assert (deal.pk in listed(response)) is sees
    assert ("Team one&#x27;s deal" in response.content.decode()) is sees


def test_list_is_not_for_support_agents(world, client_for, pipeline):
    assert client_for(world.agent1).get(reverse("sales:deals")).status_code == 403
    assert client_for(world.agent1).post(reverse("sales:deal_bulk"), {}).status_code == 403


def test_list_sends_anonymous_visitors_to_sign_in(client, pipeline):
    assert client.get(reverse("sales:deals")).status_code == 302


def test_list_filters_by_stage_and_status(world, client_for, pipeline):
    lead = new_deal(world, pipeline, title="Lead")
    proposal = new_deal(world, pipeline, title="Proposal", stage=stage(pipeline, "Proposal"))
    won = new_deal(world, pipeline, title="Won", stage=stage(pipeline, "Won"))
    client = client_for(world.rep_a)
    assert listed(client.get(reverse("sales:deals"), {"stage": stage(pipeline, "Proposal").pk})) == [proposal.pk]
    assert set(listed(client.get(reverse("sales:deals"), {"status": "open"}))) == {lead.pk, proposal.pk}
    assert listed(client.get(reverse("sales:deals"), {"status": "won"})) == [won.pk]


def test_list_sorts_by_amount(world, client_for, pipeline):
    small = new_deal(world, pipeline, amount="10.00")
    large = new_deal(world, pipeline, amount="900.00")
    response = client_for(world.rep_a).get(reverse("sales:deals"), {"sort": "-amount"})
    assert listed(response) == [large.pk, small.pk]


def test_list_answers_a_bad_filter_with_a_field_error(world, client_for, pipeline):
    response = client_for(world.rep_a).get(reverse("sales:deals"), {"sort": "title", "status": "maybe"})
    assert response.status_code == 400
    assert response.context["result"].filterset.form.errors.keys() >= {"sort", "status"}


def test_list_htmx_answers_the_results_fragment(world, client_for, pipeline):
    new_deal(world, pipeline, title="Fragment deal")
    response = client_for(world.rep_a).get(reverse("sales:deals"), {"status": "open"}, HTTP_HX_REQUEST="true")
    body = response.content.decode()
    assert response.status_code == 200
    assert body.lstrip().startswith('<div id="list-results"') or 'id="list-results"' in body[:200]
    assert "<html" not in body


def test_list_query_count_is_constant_whatever_the_page_size(world, client_for, pipeline, django_assert_num_queries):
    client = client_for(world.rep_a)
    url = reverse("sales:deals")
    client.get(url)  # the first request after signing in also saves the session
    counts = []
    for size in (3, 8):
        Deal.objects.all().delete()
        for i in range(size):
            from tests.factories import make_company, make_contact

            company = make_company(world.rep_a)
            contact = make_contact(world.rep_a)
            new_deal(world, pipeline, title=f"Deal {i}", amount=Decimal(i), company=company, primary_contact=contact)
        with django_assert_num_queries(LIST_QUERIES) as ctx:
            response = client.get(url)
        assert response.status_code == 200
        assert len(response.context["result"].page.object_list) == size
        counts.append(len(ctx.captured_queries))
    assert counts[0] == counts[1]


# --- Bulk: the service ------------------------------------------------------------------------------


def test_bulk_assign_changes_only_the_deals_the_user_may_give(world, pipeline):
    mine = new_deal(world, pipeline, title="Mine")
    teammates = new_deal(world, pipeline, title="Teammate's", by=world.rep_b)
    outcome = bulk_update_deals(by=world.rep_a, ids=[mine.pk, teammates.pk], action="assign", owner=world.rep_b)
    assert outcome == {"done": 1, "skipped": 1}
    mine.refresh_from_db()
    assert (mine.owner, mine.team) == (world.rep_b, world.team1)


def test_bulk_assign_to_another_team_is_refused_for_a_rep(world, pipeline):
    mine = new_deal(world, pipeline)
    with pytest.raises(ValidationError) as exc:
        bulk_update_deals(by=world.rep_a, ids=[mine.pk], action="assign", owner=world.rep_c)
    assert "owner" in exc.value.message_dict
    mine.refresh_from_db()
    assert mine.owner == world.rep_a


def test_bulk_move_records_stage_changes_and_skips_invisible_deals(world, pipeline):
    mine = new_deal(world, pipeline)
    other_team = new_deal(world, pipeline, by=world.rep_c)
    proposal = stage(pipeline, "Proposal")
    outcome = bulk_update_deals(by=world.rep_a, ids=[mine.pk, other_team.pk], action="stage", stage=proposal)
    assert outcome == {"done": 1, "skipped": 1}
    mine.refresh_from_db()
    other_team.refresh_from_db()
    assert mine.stage == proposal and other_team.stage == stage(pipeline, "Lead")
    assert StageChange.objects.filter(deal=mine, to_stage=proposal).count() == 1


def test_bulk_move_to_lost_needs_a_reason(world, pipeline):
    deal = new_deal(world, pipeline)
    with pytest.raises(ValidationError) as exc:
        bulk_update_deals(by=world.rep_a, ids=[deal.pk], action="stage", stage=stage(pipeline, "Lost"))
    assert "lost_reason" in exc.value.message_dict
    bulk_update_deals(by=world.rep_a, ids=[deal.pk], action="stage", stage=stage(pipeline, "Lost"),
                      lost_reason="Chose a rival")
    deal.refresh_from_db()
    assert deal.lost_at is not None and deal.lost_reason == "Chose a rival"


def test_bulk_move_skips_deals_of_another_pipeline(world, pipeline):
    from sales import services

    other = services.create_pipeline(by=world.admin, name="Services", stages=["Call"])
    deal = new_deal(world, other)
    outcome = bulk_update_deals(by=world.rep_a, ids=[deal.pk], action="stage", stage=stage(pipeline, "Proposal"))
    assert outcome == {"done": 0, "skipped": 1}


def test_bulk_delete_only_deletes_what_the_user_may_delete(world, pipeline):
    mine = new_deal(world, pipeline)
    teammates = new_deal(world, pipeline, by=world.rep_b)
    outcome = bulk_update_deals(by=world.rep_a, ids=[mine.pk, teammates.pk], action="delete")
    assert outcome == {"done": 1, "skipped": 1}
    assert list(Deal.objects.values_list("pk", flat=True)) == [teammates.pk]


def test_a_manager_bulk_deletes_the_teams_deals(world, pipeline):
    deals = [new_deal(world, pipeline), new_deal(world, pipeline, by=world.rep_b), new_deal(world, pipeline, by=world.rep_c)]
    outcome = bulk_update_deals(by=world.manager1, ids=[d.pk for d in deals], action="delete")
    assert outcome == {"done": 2, "skipped": 1}


def test_bulk_needs_ids_and_an_action(world, pipeline):
    with pytest.raises(ValidationError) as exc:
        bulk_update_deals(by=world.rep_a, ids=[], action="delete")
    assert "ids" in exc.value.message_dict
    with pytest.raises(ValidationError) as exc:
        bulk_update_deals(by=world.rep_a, ids=[1], action="explode")
    assert "action" in exc.value.message_dict


def test_support_agents_change_nothing_in_bulk(world, pipeline):
    deal = new_deal(world, pipeline)
    assert bulk_update_deals(by=world.agent1, ids=[deal.pk], action="delete") == {"done": 0, "skipped": 1}
    assert Deal.objects.filter(pk=deal.pk).exists()


# --- Bulk: the page ---------------------------------------------------------------------------------


def test_bulk_asks_for_confirmation_before_applying(world, client_for, pipeline):
    deal = new_deal(world, pipeline)
    response = client_for(world.rep_a).post(reverse("sales:deal_bulk"), {"ids": [deal.pk], "action": "delete",
                                                                          "query": "status=open"})
    assert response.status_code == 200
    assert response.context["bulk_confirm"]["count"] == 1
    assert Deal.objects.filter(pk=deal.pk).exists()


def test_bulk_confirmed_applies_and_goes_back_to_the_list(world, client_for, pipeline):
    deal = new_deal(world, pipeline)
    proposal = stage(pipeline, "Proposal")
    response = client_for(world.rep_a).post(reverse("sales:deal_bulk"), {
        "ids": [deal.pk], "action": "stage", "stage": proposal.pk, "query": "status=open", "confirmed": "1"})
    assert response.status_code == 302
    assert response["Location"] == reverse("sales:deals") + "?status=open"
    deal.refresh_from_db()
    assert deal.stage == proposal


def test_bulk_without_the_needed_choice_shows_a_field_error(world, client_for, pipeline):
    deal = new_deal(world, pipeline)
    response = client_for(world.rep_a).post(reverse("sales:deal_bulk"), {"ids": [deal.pk], "action": "assign",
                                                                          "confirmed": "1"})
    assert response.status_code == 400
    assert "owner" in response.context["bulk_form"].errors

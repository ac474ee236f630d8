"""The sales pages: the board (filters, quick-add, "load more", moves) and the deal page."""

import json
from datetime import date
from decimal import Decimal

import pytest
from django.urls import reverse

from sales.models import Deal, StageChange
from tests.factories import make_company
from tests.sales.helpers import new_deal, stage
from tests.visibility import assert_visibility


def move(client, deal, stage_obj, *, lost_reason="", json_api=True):
    headers = {"HTTP_ACCEPT": "application/json"} if json_api else {}
    return client.post(reverse("sales:deal_move", args=[deal.pk]), {"stage": stage_obj.pk, "lost_reason": lost_reason}, **headers)


# --- Board ----------------------------------------------------------------------------------------


def test_nav_links_to_the_board(world, client_for, pipeline):
    response = client_for(world.rep_a).get(reverse("home"))
    assert reverse("sales:index") in response.content.decode()


def test_board_shows_every_active_stage_as_a_column(world, client_for, pipeline):
    response = client_for(world.rep_a).get(reverse("sales:index"))
    assert response.status_code == 200
    assert [c.stage.name for c in response.context["columns"]] == ["Lead", "Proposal", "Negotiation", "Won", "Lost"]


def test_board_shows_count_and_total_per_column(world, client_for, pipeline):
    new_deal(world, pipeline, amount="1000.00")
    new_deal(world, pipeline, amount="250.50")
    lead = client_for(world.rep_a).get(reverse("sales:index")).context["columns"][0]
    assert (lead.count, lead.total) == (2, Decimal("1250.50"))


@pytest.mark.parametrize(("name", "sees"), [
    ("rep_a", True), ("rep_b", True), ("manager1", True), ("admin", True), ("rep_c", False), ("manager2", False),
])
def test_board_lists_only_visible_deals(world, client_for, pipeline, name, sees):
    deal = new_deal(world, pipeline, title="Visible to team one")
    response = client_for(getattr(world, name)).get(reverse("sales:pipeline", args=[pipeline.pk]))
    assert response.status_code == 200
    cards = [d.pk for column in response.context["columns"] for d in column.deals]
    assert (deal.pk in cards) is sees
    assert ("Visible to team one" in response.content.decode()) is sees


def test_board_is_not_for_support_agents(world, client_for, pipeline):
    assert client_for(world.agent1).get(reverse("sales:index")).status_code == 403


def test_board_sends_anonymous_visitors_to_sign_in(client, pipeline):
    assert client.get(reverse("sales:index")).status_code == 302


def test_board_of_an_unknown_pipeline_is_404(world, client_for, pipeline):
    assert client_for(world.rep_a).get(reverse("sales:pipeline", args=[pipeline.pk + 999])).status_code == 404


def test_board_filters_by_owner(world, client_for, pipeline):
    mine = new_deal(world, pipeline, title="Mine")
    new_deal(world, pipeline, title="Theirs", by=world.rep_b)
    response = client_for(world.manager1).get(reverse("sales:index"), {"owner": world.rep_a.pk})
    assert [d.pk for c in response.context["columns"] for d in c.deals] == [mine.pk]


def test_board_filters_by_close_month(world, client_for, pipeline):
    march = new_deal(world, pipeline, title="March", expected_close=date(2026, 3, 15))
    new_deal(world, pipeline, title="April", expected_close=date(2026, 4, 1))
    response = client_for(world.rep_a).get(reverse("sales:index"), {"close": "2026-03"})
    assert [d.pk for c in response.context["columns"] for d in c.deals] == [march.pk]


def test_board_filter_by_team_keeps_that_teams_deals(world, client_for, pipeline):
    new_deal(world, pipeline, title="Team one deal")
    response = client_for(world.admin).get(reverse("sales:index"), {"team": world.team2.pk})
    assert sum(c.count for c in response.context["columns"]) == 0


def test_htmx_filter_swaps_only_the_board(world, client_for, pipeline):
    response = client_for(world.rep_a).get(reverse("sales:index"), {"close": "2026-03"}, HTTP_HX_REQUEST="true")
    body = response.content.decode()
    assert body.startswith('<div id="board"') and "<html" not in body


def test_board_page_loads_sortable_with_the_csp_nonce(world, client_for, pipeline):
    body = client_for(world.rep_a).get(reverse("sales:index")).content.decode()
    assert 'vendor/sortablejs/Sortable.min.js" nonce="' in body


# session, user, org settings, pipelines, stages, counts and totals, cards (with the pghistory context), 2 filter choices
BOARD_QUERIES = 10


def test_board_query_count_is_constant_whatever_the_number_of_cards(world, client_for, pipeline,
                                                                    django_assert_num_queries):
    client = client_for(world.rep_a)
    url = reverse("sales:pipeline", args=[pipeline.pk])
    client.get(url)  # the first request after signing in also saves the session
    counts = []
    for size in (5, 50):
        Deal.objects.all().delete()
        for name in ("Lead", "Proposal"):
            for i in range(size):
                Deal.objects.create(title=f"{name} {i}", pipeline=pipeline, stage=stage(pipeline, name), owner=world.rep_a,
                                    team=world.team1, amount=Decimal(i), currency="BDT")
        with django_assert_num_queries(BOARD_QUERIES) as ctx:
            response = client.get(url)
        assert response.status_code == 200
        counts.append(len(ctx.captured_queries))
    assert counts[0] == counts[1]



# --- Quick-add and "load more" -------------------------------------------------------------------


def test_quick_add_creates_a_deal_in_the_first_open_stage(world, client_for, pipeline):
    response = client_for(world.rep_a).post(reverse("sales:quick_add", args=[pipeline.pk]),
                                            {"title": "Corporate gifts", "amount": "5000"})
    assert response.status_code == 302
    deal = Deal.objects.get(title="Corporate gifts")
    assert (deal.stage.name, deal.amount, deal.owner) == ("Lead", Decimal("5000.00"), world.rep_a)


def test_quick_add_over_htmx_returns_the_board_with_the_new_card(world, client_for, pipeline):
    response = client_for(world.rep_a).post(reverse("sales:quick_add", args=[pipeline.pk]),
                                            {"title": "Corporate gifts", "amount": "5000"}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert "Corporate gifts" in response.content.decode()


def test_quick_add_with_a_bad_amount_is_400_with_the_error_and_adds_nothing(world, client_for, pipeline):
    response = client_for(world.rep_a).post(reverse("sales:quick_add", args=[pipeline.pk]),
                                            {"title": "Corporate gifts", "amount": "12.345"}, HTTP_HX_REQUEST="true")
    assert response.status_code == 400
    assert "Use at most two decimal places." in response.content.decode()
    assert not Deal.objects.exists()


def test_quick_add_is_refused_to_support_agents(world, client_for, pipeline):
    response = client_for(world.agent1).post(reverse("sales:quick_add", args=[pipeline.pk]), {"title": "X"})
    assert response.status_code == 403
    assert not Deal.objects.exists()


def test_load_more_returns_the_next_cards_of_a_column(world, client_for, pipeline):
    from sales.views import PER_COLUMN

    for i in range(PER_COLUMN + 3):
        new_deal(world, pipeline, title=f"Deal {i:02d}", amount=str(1000 - i))
    client = client_for(world.rep_a)
    board = client.get(reverse("sales:index"))
    assert board.context["columns"][0].has_more
    url = reverse("sales:column_more", args=[pipeline.pk, stage(pipeline, "Lead").pk])
    last = board.context["columns"][0].deals[-1]
    response = client.get(url, {"after": f"{last.amount}_{last.pk}"}, HTTP_HX_REQUEST="true")
    assert [d.title for d in response.context["cards"]] == [f"Deal {i:02d}" for i in range(PER_COLUMN, PER_COLUMN + 3)]
    assert not response.context["has_more"]


def test_load_more_skips_no_card_when_a_shown_card_was_moved_away(world, client_for, pipeline):
    from sales.views import PER_COLUMN

    deals = [new_deal(world, pipeline, title=f"Deal {i:02d}", amount=str(1000 - i)) for i in range(PER_COLUMN + 2)]
    client = client_for(world.rep_a)
    last = client.get(reverse("sales:index")).context["columns"][0].deals[-1]
    move(client, deals[0], stage(pipeline, "Proposal"))  # dragged away after the board was drawn
    url = reverse("sales:column_more", args=[pipeline.pk, stage(pipeline, "Lead").pk])
    response = client.get(url, {"after": f"{last.amount}_{last.pk}"})
    assert [d.title for d in response.context["cards"]] == [f"Deal {i:02d}" for i in (PER_COLUMN, PER_COLUMN + 1)]


def test_load_more_lists_only_visible_deals(world, client_for, pipeline):
    new_deal(world, pipeline, title="Team one")
    url = reverse("sales:column_more", args=[pipeline.pk, stage(pipeline, "Lead").pk])
    assert client_for(world.rep_c).get(url).context["cards"] == []


# --- Moves ----------------------------------------------------------------------------------------


def test_move_via_the_view_moves_the_deal_and_records_it(world, client_for, pipeline):
    deal = new_deal(world, pipeline)
    response = move(client_for(world.rep_a), deal, stage(pipeline, "Proposal"))
    assert response.status_code == 200
    deal.refresh_from_db()
    assert deal.stage.name == "Proposal"
    assert StageChange.objects.filter(deal=deal, to_stage__name="Proposal").exists()


def test_move_answers_the_columns_new_figures(world, client_for, pipeline):
    deal = new_deal(world, pipeline, amount="100")
    data = json.loads(move(client_for(world.rep_a), deal, stage(pipeline, "Proposal")).content)
    proposal = str(stage(pipeline, "Proposal").pk)
    assert data["columns"][proposal]["count"] == "1"


def test_move_to_lost_without_a_reason_is_400_and_changes_nothing(world, client_for, pipeline):
    deal = new_deal(world, pipeline)
    response = move(client_for(world.rep_a), deal, stage(pipeline, "Lost"))
    assert response.status_code == 400
    assert json.loads(response.content) == {"errors": {"lost_reason": ["Say why the deal was lost."]}}
    deal.refresh_from_db()
    assert deal.stage.name == "Lead" and deal.lost_at is None


def test_move_to_lost_with_a_reason_closes_the_deal(world, client_for, pipeline):
    deal = new_deal(world, pipeline)
    assert move(client_for(world.rep_a), deal, stage(pipeline, "Lost"), lost_reason="Price too high").status_code == 200
    deal.refresh_from_db()
    assert (deal.stage.name, deal.lost_reason) == ("Lost", "Price too high") and deal.closed_at is not None


def test_move_of_an_invisible_deal_is_404(world, client_for, pipeline):
    deal = new_deal(world, pipeline)
    assert move(client_for(world.rep_c), deal, stage(pipeline, "Proposal")).status_code == 404
    deal.refresh_from_db()
    assert deal.stage.name == "Lead"


def no_edit_right(monkeypatch):
    """A user who sees the deal but may not change it (no such role in the default world: teammates edit)."""
    monkeypatch.setattr("sales.views.policy.can_edit", lambda user, obj: False)


def test_move_without_the_edit_right_is_403_and_changes_nothing(world, client_for, pipeline, monkeypatch):
    deal = new_deal(world, pipeline)
    no_edit_right(monkeypatch)
    assert move(client_for(world.rep_b), deal, stage(pipeline, "Proposal")).status_code == 403
    deal.refresh_from_db()
    assert deal.stage.name == "Lead"


def test_deal_page_offers_no_stage_form_to_who_cannot_edit(world, client_for, pipeline, monkeypatch):
    deal = new_deal(world, pipeline)
    no_edit_right(monkeypatch)
    response = client_for(world.rep_b).get(reverse("sales:deal", args=[deal.pk]))
    assert response.status_code == 200 and response.context["move_form"] is None


def test_stage_form_without_js_redirects_to_the_deal(world, client_for, pipeline):
    deal = new_deal(world, pipeline)
    response = move(client_for(world.rep_a), deal, stage(pipeline, "Won"), json_api=False)
    assert response.status_code == 302 and response.url == reverse("sales:deal", args=[deal.pk])


def test_stage_form_without_a_lost_reason_rerenders_the_page_with_the_error(world, client_for, pipeline):
    deal = new_deal(world, pipeline)
    response = move(client_for(world.rep_a), deal, stage(pipeline, "Lost"), json_api=False)
    assert response.status_code == 400
    assert "Say why the deal was lost." in response.content.decode()


# --- Deal page ------------------------------------------------------------------------------------


def test_deal_page_visibility_for_every_role(world, client_for, pipeline):
    deal = new_deal(world, pipeline)
    assert_visibility(world, client_for, reverse("sales:deal", args=[deal.pk]))


def test_deal_page_shows_header_and_stage_history(world, client_for, pipeline):
    company = make_company(world.rep_a, name="Aarong Traders")
    deal = new_deal(world, pipeline, title="Eid bulk order", company=company, amount="1500")
    move(client_for(world.rep_a), deal, stage(pipeline, "Proposal"))
    body = client_for(world.rep_a).get(reverse("sales:deal", args=[deal.pk])).content.decode()
    assert "Eid bulk order" in body and "Aarong Traders" in body
    assert "Lead → Proposal" in body


def test_deal_history_tab_lists_changes(world, client_for, pipeline):
    deal = new_deal(world, pipeline)
    response = client_for(world.rep_a).get(reverse("sales:deal", args=[deal.pk]), {"tab": "history"})
    assert response.status_code == 200 and response.context["history"]

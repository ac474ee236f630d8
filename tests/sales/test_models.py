"""Deals: who sees them (crm.visibility through `Deal.objects.visible_to`), and the board's query plans."""

from decimal import Decimal

import pytest
from django.db import connection

from crm import policy
from crm.models import OrgSettings, Sharing
from sales import services
from sales.models import Deal, DealContact, DealLine, StageChange
from sales.selectors import board_columns, top_card_ids
from tests.factories import make_contact
from tests.visibility import DEFAULT_SEES


@pytest.fixture
def pipeline(world):
    return services.create_pipeline(by=world.admin, name="Services", stages=[("Brief", 10), ("Proposal", 50)])


@pytest.fixture
def deal(world, pipeline):
    deal = services.create_deal(by=world.rep_a, title="Website rebuild", pipeline=pipeline, amount="250000")
    services.add_deal_contact(by=world.rep_a, deal=deal, contact=make_contact(world.rep_a), role="Buyer")
    services.set_deal_lines(by=world.rep_a, deal=deal, lines=[{"description": "Design", "unit_price": "1000"}])
    return deal


def _seen_by(world, model, **lookup) -> set[str]:
    return {name for name, user in world.principals().items() if model.objects.visible_to(user).filter(**lookup).exists()}


def test_deal_is_seen_by_its_owner_team_manager_and_admin(world, deal):
    assert _seen_by(world, Deal, pk=deal.pk) == DEFAULT_SEES


def test_private_sharing_hides_a_deal_from_teammates(world, deal):
    OrgSettings.objects.filter(pk=1).update(sharing_default=Sharing.PRIVATE)
    for user in world.principals().values():
        if user is not None:
            user.__dict__.pop("_org", None)
    assert _seen_by(world, Deal, pk=deal.pk) == {"rep_a", "manager1", "admin"}


@pytest.mark.parametrize("model", [DealContact, StageChange, DealLine])
def test_a_deals_rows_are_seen_exactly_when_the_deal_is(world, deal, model):
    assert _seen_by(world, model, deal=deal) == DEFAULT_SEES


def test_those_who_see_a_deal_may_edit_it_except_support_agents(world, deal):
    editors = {name for name, user in world.principals().items() if user is not None and policy.can_edit(user, deal)}
    assert editors == DEFAULT_SEES


def test_deal_amount_reads_back_as_a_decimal(deal):
    assert Deal.objects.values_list("amount", flat=True).get(pk=deal.pk) == Decimal("1000.00")


# --- The board's query plans ----------------------------------------------------------------------


@pytest.fixture
def board(world, pipeline):
    """6,000 deals over two pipelines and two teams, half of them closed: one team's open deals of one pipeline
    are an eighth of the table, as on a real board (years of closed deals, other teams, other pipelines)."""
    other = services.create_pipeline(by=world.admin, name="E-commerce", stages=["Cart", "Quote"])
    stages = {p.pk: list(p.stages.order_by("position")) for p in (pipeline, other)}
    rows = []
    for i in range(6000):
        owner = (world.rep_a, world.rep_c)[i % 2]
        in_pipeline = (pipeline, other)[(i // 2) % 2]
        stage = stages[in_pipeline.pk][(i // 4) % 4]
        rows.append(Deal(owner=owner, team_id=owner.team_id, title=f"d{i}", pipeline=in_pipeline, stage=stage,
                         amount=Decimal(i * 7 % 100000), currency="BDT",
                         closed_at=stage.created_at if stage.is_closed else None,
                         won_at=stage.created_at if stage.is_won else None,
                         lost_at=stage.created_at if stage.is_lost else None))
    Deal.objects.bulk_create(rows, batch_size=3000)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE sales_deal")
    return stages[pipeline.pk][0]


def _assert_index_plan(qs, case):
    plan = qs.explain()
    assert "Seq Scan on sales_deal" not in plan, (case, plan)
    assert "Sort" not in plan.replace("Sort Key", ""), (case, plan)  # the index gives the order: no sort of the column
    assert "Index" in plan, (case, plan)


def test_a_board_column_is_an_index_scan_for_every_role(world, board):
    """The top cards of one column: open deals of a pipeline's stage the user sees, largest first."""
    for who in ("rep_a", "manager1", "admin"):
        qs = (Deal.objects.visible_to(getattr(world, who)).open().filter(pipeline=board.pipeline, stage=board)
              .select_related("owner", "company", "primary_contact").order_by("-amount", "-id")[:25])
        _assert_index_plan(qs, who)
        assert ("sales_deal_board" if who == "admin" else "sales_deal_board_team") in qs.explain(), who


def test_a_board_column_is_an_index_scan_with_private_sharing(world, board):
    OrgSettings.objects.filter(pk=1).update(sharing_default=Sharing.PRIVATE)
    world.rep_a.__dict__.pop("_org", None)
    qs = (Deal.objects.visible_to(world.rep_a).open().filter(pipeline=board.pipeline, stage=board)
          .order_by("-amount", "-id")[:25])
    _assert_index_plan(qs, "private")
    assert "sales_deal_board_owner" in qs.explain()




def test_the_board_selectors_card_query_is_index_served(world, board):
    """`top_card_ids`: one UNION ALL branch per stage, each a LIMITed scan of the team's board index."""
    deals = Deal.objects.visible_to(world.rep_a).open().filter(pipeline=board.pipeline)
    stages = list(board.pipeline.stages.filter(is_won=False, is_lost=False))
    plan = top_card_ids(deals, stages, per_column=25).explain()
    assert "Seq Scan on sales_deal" not in plan and "sales_deal_board_team" in plan, plan
    assert "Sort" not in plan.replace("Sort Key", ""), plan


# --- The board selector ---------------------------------------------------------------------------


@pytest.fixture
def small_board(world, pipeline):
    brief, proposal = pipeline.stages.get(name="Brief"), pipeline.stages.get(name="Proposal")
    for i, (owner, stage) in enumerate([(world.rep_a, brief), (world.rep_b, brief), (world.rep_a, brief),
                                        (world.rep_a, proposal), (world.rep_c, brief)]):
        services.create_deal(by=owner, title=f"deal {i}", pipeline=pipeline, stage=stage, amount=str(100 * (i + 1)))
    won = services.create_deal(by=world.rep_a, title="won", pipeline=pipeline, amount="9999")
    services.move_deal(deal=won, stage=pipeline.stages.get(is_won=True), by=world.rep_a)
    return pipeline


def test_board_has_a_column_per_active_stage_with_count_and_total_of_open_deals(world, small_board):
    columns = board_columns(user=world.rep_a, pipeline=small_board)
    assert [(c.stage.name, c.count, c.total) for c in columns] == [
        ("Brief", 3, Decimal("600.00")), ("Proposal", 1, Decimal("400.00")), ("Won", 0, Decimal("0.00")),
        ("Lost", 0, Decimal("0.00"))]


def test_board_cards_are_the_largest_first_and_say_when_there_are_more(world, small_board):
    brief = board_columns(user=world.rep_a, pipeline=small_board, per_column=2)[0]
    assert [d.title for d in brief.deals] == ["deal 2", "deal 1"] and brief.has_more


def test_board_shows_only_deals_the_user_sees(world, small_board):
    columns = board_columns(user=world.rep_c, pipeline=small_board)
    assert [(c.count, [d.title for d in c.deals]) for c in columns[:2]] == [(1, ["deal 4"]), (0, [])]


def test_board_filters_narrow_the_deals(world, small_board):
    from django.db.models import Q

    brief = board_columns(user=world.manager1, pipeline=small_board, filters=Q(owner=world.rep_b))[0]
    assert (brief.count, [d.title for d in brief.deals]) == (1, ["deal 1"])


def test_board_costs_the_same_queries_whatever_the_column_size(world, small_board, django_assert_num_queries):
    for per_column in (1, 25):
        with django_assert_num_queries(4):
            columns = board_columns(user=world.rep_a, pipeline=small_board, per_column=per_column)
            [(d.owner.full_name, d.company, d.primary_contact) for c in columns for d in c.deals]

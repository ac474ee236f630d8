"""sales.services: the rules behind pipelines, stages, deals, their stage history, products and deal lines."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from contacts import services as contact_services
from contacts.models import Company, Contact, Interaction
from crm.models import OrgSettings
from sales import services
from sales.models import Deal, DealContact, DealLine, Pipeline, Product, StageChange
from tests.factories import make_company, make_contact
from tests.sales.helpers import new_deal, stage

# --- Pipelines and stages -------------------------------------------------------------------------


def test_create_pipeline_adds_open_stages_then_won_and_lost(pipeline):
    rows = list(pipeline.stages.values_list("name", "position", "probability", "is_won", "is_lost"))
    assert rows == [("Lead", 0, 10, False, False), ("Proposal", 1, 40, False, False), ("Negotiation", 2, 70, False, False),
                    ("Won", 3, 100, True, False), ("Lost", 4, 0, False, True)]


def test_first_pipeline_is_the_default(pipeline):
    assert pipeline.is_default


def test_making_a_pipeline_default_unsets_the_previous_one(world, pipeline):
    other = services.create_pipeline(by=world.admin, name="Services", stages=["Brief"], is_default=True)
    pipeline.refresh_from_db()
    assert other.is_default and not pipeline.is_default


def test_pipeline_names_are_unique_whatever_the_case(world, pipeline):
    with pytest.raises(ValidationError) as exc:
        services.create_pipeline(by=world.admin, name="e-commerce b2b", stages=["Lead"])
    assert "name" in exc.value.message_dict


def test_pipeline_needs_an_open_stage(world):
    with pytest.raises(ValidationError) as exc:
        services.create_pipeline(by=world.admin, name="Empty", stages=[])
    assert "stages" in exc.value.message_dict
    assert not Pipeline.objects.exists()


def test_only_admins_change_pipelines(world, pipeline):
    with pytest.raises(PermissionDenied):
        services.create_pipeline(by=world.manager1, name="Mine", stages=["Lead"])
    with pytest.raises(PermissionDenied):
        services.save_stage(by=world.rep_a, pipeline=pipeline, name="Demo")


def test_the_default_pipeline_cannot_be_unset_only_replaced(world, pipeline):
    with pytest.raises(ValidationError) as exc:
        services.update_pipeline(by=world.admin, pipeline=pipeline, is_default=False)
    assert "is_default" in exc.value.message_dict


def test_default_pipeline_cannot_be_archived(world, pipeline):
    with pytest.raises(ValidationError) as exc:
        services.archive_pipeline(by=world.admin, pipeline=pipeline)
    assert "pipeline" in exc.value.message_dict


def test_pipeline_with_open_deals_cannot_be_archived(world, pipeline):
    other = services.create_pipeline(by=world.admin, name="Services", stages=["Brief"])
    new_deal(world, other)
    with pytest.raises(ValidationError) as exc:
        services.archive_pipeline(by=world.admin, pipeline=other)
    assert "pipeline" in exc.value.message_dict


def test_archived_pipeline_takes_no_new_deals(world, pipeline):
    other = services.create_pipeline(by=world.admin, name="Services", stages=["Brief"])
    services.archive_pipeline(by=world.admin, pipeline=other)
    with pytest.raises(ValidationError) as exc:
        new_deal(world, other)
    assert "pipeline" in exc.value.message_dict


def test_new_stage_goes_after_the_last_open_stage(world, pipeline):
    demo = services.save_stage(by=world.admin, pipeline=pipeline, name="Demo", probability=50)
    names = list(pipeline.stages.order_by("position").values_list("name", flat=True))
    assert names == ["Lead", "Proposal", "Negotiation", "Demo", "Won", "Lost"]
    assert demo.probability == 50


def test_stage_names_are_unique_in_a_pipeline(world, pipeline):
    with pytest.raises(ValidationError) as exc:
        services.save_stage(by=world.admin, pipeline=pipeline, name="proposal")
    assert "name" in exc.value.message_dict


def test_stage_probability_is_a_percentage(world, pipeline):
    with pytest.raises(ValidationError) as exc:
        services.save_stage(by=world.admin, pipeline=pipeline, name="Demo", probability=120)
    assert "probability" in exc.value.message_dict


def test_won_stage_stays_certain(world, pipeline):
    with pytest.raises(ValidationError) as exc:
        services.save_stage(by=world.admin, pipeline=pipeline, stage=stage(pipeline, "Won"), name="Won", probability=80)
    assert "probability" in exc.value.message_dict


def test_rename_stage(world, pipeline):
    services.save_stage(by=world.admin, pipeline=pipeline, stage=stage(pipeline, "Lead"), name="New lead")
    assert pipeline.stages.filter(name="New lead", probability=10).exists()


def test_reorder_stages_sets_positions_in_the_given_order(world, pipeline):
    ids = list(pipeline.stages.order_by("-position").values_list("pk", flat=True))
    services.reorder_stages(by=world.admin, pipeline=pipeline, stage_ids=ids)
    assert list(pipeline.stages.order_by("position").values_list("pk", flat=True)) == ids


def test_reorder_stages_needs_every_active_stage_once(world, pipeline):
    ids = list(pipeline.stages.values_list("pk", flat=True))
    with pytest.raises(ValidationError) as exc:
        services.reorder_stages(by=world.admin, pipeline=pipeline, stage_ids=ids[:-1])
    assert "stage_ids" in exc.value.message_dict


def test_archive_stage_refused_while_deals_are_in_it(world, pipeline):
    new_deal(world, pipeline)
    with pytest.raises(ValidationError) as exc:
        services.archive_stage(by=world.admin, stage=stage(pipeline, "Lead"))
    assert "stage" in exc.value.message_dict
    assert stage(pipeline, "Lead").archived_at is None


def test_archive_stage_once_its_deals_are_moved(world, pipeline):
    deal = new_deal(world, pipeline)
    services.move_deal(deal=deal, stage=stage(pipeline, "Proposal"), by=world.rep_a)
    archived = services.archive_stage(by=world.admin, stage=stage(pipeline, "Lead"))
    assert archived.archived_at is not None


def test_won_and_lost_stages_cannot_be_archived(world, pipeline):
    for name in ("Won", "Lost"):
        with pytest.raises(ValidationError):
            services.archive_stage(by=world.admin, stage=stage(pipeline, name))


# --- Creating deals -------------------------------------------------------------------------------


def test_new_deal_starts_in_the_first_open_stage(world, pipeline):
    deal = new_deal(world, pipeline)
    assert deal.stage.name == "Lead" and deal.closed_at is None


def test_new_deal_takes_the_owner_and_team_of_its_creator(world, pipeline):
    deal = new_deal(world, pipeline)
    assert (deal.owner, deal.team, deal.created_by) == (world.rep_a, world.team1, world.rep_a)


def test_new_deal_currency_defaults_to_the_organisation_currency(world, pipeline):
    OrgSettings.objects.filter(pk=1).update(default_currency="USD")
    world.rep_a.__dict__.pop("_org", None)
    assert new_deal(world, pipeline).currency == "USD"


def test_currency_is_three_letters_in_capitals(world, pipeline):
    assert new_deal(world, pipeline, currency=" eur ").currency == "EUR"
    with pytest.raises(ValidationError) as exc:
        new_deal(world, pipeline, currency="TAKA")
    assert "currency" in exc.value.message_dict


def test_amount_is_stored_as_an_exact_decimal(world, pipeline):
    deal = new_deal(world, pipeline, amount="1,250,000.10")
    deal.refresh_from_db()
    assert deal.amount == Decimal("1250000.10")
    assert isinstance(deal.amount, Decimal)


def test_amounts_refuse_floats(world, pipeline):
    with pytest.raises(TypeError):
        new_deal(world, pipeline, amount=0.1)


def test_amount_must_be_a_non_negative_number_with_two_decimals(world, pipeline):
    for bad in ("-5", "12.345", "lots", "1" * 15):
        with pytest.raises(ValidationError) as exc:
            new_deal(world, pipeline, amount=bad)
        assert "amount" in exc.value.message_dict, bad
    assert not Deal.objects.exists()


def test_overlong_title_is_refused_not_cut(world, pipeline):
    with pytest.raises(ValidationError) as exc:
        new_deal(world, pipeline, title="x" * 201)
    assert "title" in exc.value.message_dict


def test_deal_needs_a_title(world, pipeline):
    with pytest.raises(ValidationError) as exc:
        new_deal(world, pipeline, title="   ")
    assert "title" in exc.value.message_dict


def test_deal_company_and_contact_must_be_visible(world, pipeline):
    hidden_company, hidden_contact = make_company(world.rep_c), make_contact(world.rep_c)
    with pytest.raises(ValidationError) as exc:
        new_deal(world, pipeline, company=hidden_company, primary_contact=hidden_contact)
    assert set(exc.value.message_dict) == {"company", "primary_contact"}


def test_support_agents_cannot_create_deals(world, pipeline):
    with pytest.raises(PermissionDenied):
        new_deal(world, pipeline, by=world.agent1)


def test_rep_cannot_give_a_new_deal_to_someone_else_manager_can_within_their_team(world, pipeline):
    with pytest.raises(ValidationError) as exc:
        new_deal(world, pipeline, owner=world.rep_b)
    assert "owner" in exc.value.message_dict
    deal = new_deal(world, pipeline, by=world.manager1, owner=world.rep_b)
    assert (deal.owner, deal.team) == (world.rep_b, world.team1)


def test_new_deal_in_a_stage_of_another_pipeline_is_refused(world, pipeline):
    other = services.create_pipeline(by=world.admin, name="Services", stages=["Brief"])
    with pytest.raises(ValidationError) as exc:
        new_deal(world, pipeline, stage=other.stages.first())
    assert "stage" in exc.value.message_dict


def test_creating_a_deal_records_its_first_stage(world, pipeline):
    deal = new_deal(world, pipeline)
    change = StageChange.objects.get(deal=deal)
    assert (change.from_stage, change.to_stage, change.by) == (None, stage(pipeline, "Lead"), world.rep_a)


def test_creating_a_deal_for_a_contact_adds_it_to_their_timeline(world, pipeline):
    contact = make_contact(world.rep_a, first_name="Rahim")
    deal = new_deal(world, pipeline, primary_contact=contact)
    entry = Interaction.objects.get(contact=contact)
    assert (entry.kind, entry.subject, entry.link_id) == ("deal_event", "Deal created in Lead", deal.pk)


def test_effective_probability_is_the_override_or_the_stage_default(world, pipeline):
    deal = new_deal(world, pipeline, amount="1000")
    assert (deal.effective_probability, deal.weighted_amount) == (10, Decimal("100.00"))
    services.update_deal(by=world.rep_a, deal=deal, probability=35)
    assert (deal.effective_probability, deal.weighted_amount) == (35, Decimal("350.00"))


def test_probability_override_is_a_percentage(world, pipeline):
    with pytest.raises(ValidationError) as exc:
        new_deal(world, pipeline, probability=101)
    assert "probability" in exc.value.message_dict


# --- Updating, transferring, deleting -------------------------------------------------------------


def test_update_deal_changes_its_details(world, pipeline):
    deal = new_deal(world, pipeline)
    services.update_deal(by=world.rep_b, deal=deal, title="Eid order (revised)", amount=Decimal("99.90"),
                         expected_close=date(2026, 12, 31))
    deal.refresh_from_db()
    assert (deal.title, deal.amount, deal.expected_close) == ("Eid order (revised)", Decimal("99.90"), date(2026, 12, 31))


def test_update_deal_refuses_other_teams_and_agents(world, pipeline):
    deal = new_deal(world, pipeline)
    for user in (world.rep_c, world.manager2, world.agent1):
        with pytest.raises(PermissionDenied):
            services.update_deal(by=user, deal=deal, title="Mine now")


def test_update_deal_does_not_change_the_stage(world, pipeline):
    deal = new_deal(world, pipeline)
    with pytest.raises(TypeError):
        services.update_deal(by=world.rep_a, deal=deal, stage=stage(pipeline, "Won"))


def test_transfer_deal_moves_it_to_the_new_owners_team(world, pipeline):
    deal = new_deal(world, pipeline)
    services.transfer_deal(by=world.admin, deal=deal, owner=world.rep_c)
    deal.refresh_from_db()
    assert (deal.owner, deal.team) == (world.rep_c, world.team2)


def test_rep_cannot_transfer_a_teammates_deal(world, pipeline):
    deal = new_deal(world, pipeline)
    with pytest.raises(PermissionDenied):
        services.transfer_deal(by=world.rep_b, deal=deal, owner=world.rep_b)


def test_teammate_cannot_delete_a_deal_owner_can(world, pipeline):
    deal = new_deal(world, pipeline)
    with pytest.raises(PermissionDenied):
        services.delete_deal(by=world.rep_b, deal=deal)
    services.delete_deal(by=world.rep_a, deal=deal)
    assert not Deal.objects.exists() and not StageChange.objects.exists()


def test_manager_deletes_a_deal_of_their_team(world, pipeline):
    deal = new_deal(world, pipeline)
    services.delete_deal(by=world.manager1, deal=deal)
    assert not Deal.objects.exists()


# --- Moving -------------------------------------------------------------------------------------


def test_move_records_the_stage_change(world, pipeline):
    deal = new_deal(world, pipeline)
    services.move_deal(deal=deal, stage=stage(pipeline, "Proposal"), by=world.rep_b)
    change = StageChange.objects.filter(deal=deal).latest("at", "id")
    assert (change.from_stage.name, change.to_stage.name, change.by) == ("Lead", "Proposal", world.rep_b)


def test_move_adds_a_deal_event_to_the_contact_timeline(world, pipeline):
    company = make_company(world.rep_a, name="Aarong")
    contact = make_contact(world.rep_a, first_name="Rahim")
    deal = new_deal(world, pipeline, company=company, primary_contact=contact)
    services.move_deal(deal=deal, stage=stage(pipeline, "Proposal"), by=world.rep_a)
    entry = Interaction.objects.filter(contact=contact, subject="Moved to Proposal").get()
    assert (entry.kind, entry.company, entry.author) == ("deal_event", company, world.rep_a)
    assert (entry.link_type, entry.link_id, entry.link_label) == ("deal", deal.pk, "Eid bulk order")


def test_move_of_a_deal_without_customer_leaves_no_timeline_entry(world, pipeline):
    deal = new_deal(world, pipeline)
    services.move_deal(deal=deal, stage=stage(pipeline, "Proposal"), by=world.rep_a)
    assert not Interaction.objects.exists()
    assert StageChange.objects.filter(deal=deal).count() == 2


def test_move_to_a_stage_of_another_pipeline_is_refused(world, pipeline):
    other = services.create_pipeline(by=world.admin, name="Services", stages=["Brief"])
    deal = new_deal(world, pipeline)
    with pytest.raises(ValidationError) as exc:
        services.move_deal(deal=deal, stage=other.stages.first(), by=world.rep_a)
    assert "stage" in exc.value.message_dict
    assert Deal.objects.get().stage.name == "Lead"


def test_moving_to_lost_requires_reason(world, pipeline):
    deal = new_deal(world, pipeline)
    with pytest.raises(ValidationError) as exc:
        services.move_deal(deal=deal, stage=stage(pipeline, "Lost"), by=world.rep_a, lost_reason="  ")
    assert "lost_reason" in exc.value.message_dict
    assert StageChange.objects.filter(deal=deal).count() == 1


def test_moving_to_lost_stamps_lost_and_closed(world, pipeline):
    deal = new_deal(world, pipeline)
    services.move_deal(deal=deal, stage=stage(pipeline, "Lost"), by=world.rep_a, lost_reason="Price too high")
    deal.refresh_from_db()
    assert deal.lost_reason == "Price too high"
    assert deal.lost_at is not None and deal.closed_at == deal.lost_at and deal.won_at is None


def test_moving_to_won_stamps_won_and_closed(world, pipeline):
    deal = new_deal(world, pipeline)
    services.move_deal(deal=deal, stage=stage(pipeline, "Won"), by=world.rep_a)
    deal.refresh_from_db()
    assert deal.won_at is not None and deal.closed_at == deal.won_at and deal.lost_at is None


def test_reopening_a_lost_deal_clears_the_closing(world, pipeline):
    deal = new_deal(world, pipeline)
    services.move_deal(deal=deal, stage=stage(pipeline, "Lost"), by=world.rep_a, lost_reason="Budget")
    services.move_deal(deal=deal, stage=stage(pipeline, "Negotiation"), by=world.rep_a)
    deal.refresh_from_db()
    assert (deal.won_at, deal.lost_at, deal.closed_at, deal.lost_reason) == (None, None, None, "")


def test_moving_from_won_to_lost_swaps_the_stamps(world, pipeline):
    deal = new_deal(world, pipeline)
    services.move_deal(deal=deal, stage=stage(pipeline, "Won"), by=world.rep_a)
    services.move_deal(deal=deal, stage=stage(pipeline, "Lost"), by=world.rep_a, lost_reason="Cancelled")
    deal.refresh_from_db()
    assert deal.won_at is None and deal.lost_at is not None and deal.closed_at == deal.lost_at


def test_move_updates_the_callers_deal(world, pipeline):
    deal = new_deal(world, pipeline)
    services.move_deal(deal=deal, stage=stage(pipeline, "Won"), by=world.rep_a)
    assert deal.stage.name == "Won" and deal.won_at is not None


def test_move_to_the_same_stage_changes_nothing(world, pipeline):
    deal = new_deal(world, pipeline)
    services.move_deal(deal=deal, stage=stage(pipeline, "Lead"), by=world.rep_a)
    assert StageChange.objects.filter(deal=deal).count() == 1


def test_move_to_an_archived_stage_is_refused(world, pipeline):
    deal = new_deal(world, pipeline, stage=stage(pipeline, "Proposal"))
    services.archive_stage(by=world.admin, stage=stage(pipeline, "Lead"))
    with pytest.raises(ValidationError) as exc:
        services.move_deal(deal=deal, stage=stage(pipeline, "Lead"), by=world.rep_a)
    assert "stage" in exc.value.message_dict


def test_support_agent_cannot_move_deals(world, pipeline):
    deal = new_deal(world, pipeline)
    with pytest.raises(PermissionDenied):
        services.move_deal(deal=deal, stage=stage(pipeline, "Won"), by=world.agent1)


def test_creating_a_deal_straight_in_won_closes_it(world, pipeline):
    deal = new_deal(world, pipeline, stage=stage(pipeline, "Won"))
    assert deal.won_at is not None and deal.closed_at == deal.won_at


# --- Other contacts -----------------------------------------------------------------------------


def test_add_deal_contact_with_a_role_then_change_the_role(world, pipeline):
    deal, contact = new_deal(world, pipeline), make_contact(world.rep_a)
    services.add_deal_contact(by=world.rep_a, deal=deal, contact=contact, role="Buyer")
    services.add_deal_contact(by=world.rep_a, deal=deal, contact=contact, role="Decision maker")
    assert list(deal.contact_links.values_list("contact", "role")) == [(contact.pk, "Decision maker")]


def test_deal_contact_must_be_visible(world, pipeline):
    deal = new_deal(world, pipeline)
    with pytest.raises(ValidationError) as exc:
        services.add_deal_contact(by=world.rep_a, deal=deal, contact=make_contact(world.rep_c))
    assert "contact" in exc.value.message_dict


def test_remove_deal_contact(world, pipeline):
    deal, contact = new_deal(world, pipeline), make_contact(world.rep_a)
    services.add_deal_contact(by=world.rep_a, deal=deal, contact=contact)
    services.remove_deal_contact(by=world.rep_a, deal=deal, contact=contact)
    assert not DealContact.objects.exists()


def test_purging_a_contact_and_a_company_from_the_trash_keeps_their_deals(world, pipeline):
    contact, company = make_contact(world.rep_a), make_company(world.rep_a)
    deal = new_deal(world, pipeline, primary_contact=contact, company=company)
    contact_services.delete_contact(by=world.rep_a, contact=contact)
    contact_services.delete_company(by=world.rep_a, company=company)
    contact_services.purge_trash(now=timezone.now() + timedelta(days=31))
    deal.refresh_from_db()
    assert not Contact.all_objects.exists() and not Company.all_objects.exists()
    assert (deal.primary_contact, deal.company) == (None, None)


# --- Products and lines -------------------------------------------------------------------------


@pytest.fixture
def saree(world):
    return services.save_product(by=world.admin, sku="SAR-001", name="Jamdani saree", category="Textiles",
                                 unit_price="4500.00", tags=["Eid", "Textiles"])


def test_product_currency_defaults_to_the_organisation_currency(saree):
    assert saree.currency == "BDT"
    assert set(saree.tags.values_list("name", flat=True)) == {"Eid", "Textiles"}


def test_product_sku_is_unique_whatever_the_case(world, saree):
    with pytest.raises(ValidationError) as exc:
        services.save_product(by=world.admin, sku="sar-001", name="Other", unit_price="1")
    assert "sku" in exc.value.message_dict


def test_reps_cannot_change_the_catalogue(world):
    with pytest.raises(PermissionDenied):
        services.save_product(by=world.rep_a, sku="X", name="X", unit_price="1")


def test_deal_lines_set_the_amount_to_their_total(world, pipeline, saree):
    deal = new_deal(world, pipeline, amount="1")
    services.set_deal_lines(by=world.rep_a, deal=deal, lines=[
        {"product": saree, "quantity": "3", "discount": "10"},  # 3 x 4500 less 10 % = 12150.00
        {"description": "Gift wrapping", "quantity": "3", "unit_price": "33.33", "discount": "12.5"},  # 87.4913 -> 87.49
    ])
    deal.refresh_from_db()
    assert deal.amount == Decimal("12237.49")
    assert list(deal.lines.values_list("description", flat=True)) == ["Jamdani saree", "Gift wrapping"]


def test_line_total_rounds_half_up_to_the_cent(world):
    line = DealLine(quantity=Decimal("1"), unit_price=Decimal("0.05"), discount=Decimal("50"))
    assert line.total == Decimal("0.03")


def test_bad_lines_are_reported_by_position_and_change_nothing(world, pipeline, saree):
    deal = new_deal(world, pipeline, amount="7")
    with pytest.raises(ValidationError) as exc:
        services.set_deal_lines(by=world.rep_a, deal=deal, lines=[
            {"product": saree}, {"description": "", "unit_price": "1"}, {"product": saree, "discount": "150"},
        ])
    assert set(exc.value.message_dict) == {"lines.1", "lines.2"}
    assert not DealLine.objects.exists() and Deal.objects.get().amount == Decimal("7.00")


def test_amount_of_a_deal_with_lines_cannot_be_set_by_hand(world, pipeline, saree):
    deal = new_deal(world, pipeline)
    services.set_deal_lines(by=world.rep_a, deal=deal, lines=[{"product": saree}])
    with pytest.raises(ValidationError) as exc:
        services.update_deal(by=world.rep_a, deal=deal, amount="1")
    assert "amount" in exc.value.message_dict


def test_currency_of_a_deal_with_lines_cannot_change(world, pipeline, saree):
    deal = new_deal(world, pipeline)
    services.set_deal_lines(by=world.rep_a, deal=deal, lines=[{"product": saree}])
    with pytest.raises(ValidationError) as exc:
        services.update_deal(by=world.rep_a, deal=deal, currency="USD")
    assert "currency" in exc.value.message_dict


def test_inactive_product_cannot_go_on_a_deal(world, pipeline, saree):
    services.save_product(by=world.admin, product=saree, active=False)
    deal = new_deal(world, pipeline)
    with pytest.raises(ValidationError) as exc:
        services.set_deal_lines(by=world.rep_a, deal=deal, lines=[{"product": saree}])
    assert "lines.0" in exc.value.message_dict


def test_product_in_another_currency_cannot_go_on_a_deal(world, pipeline, saree):
    deal = new_deal(world, pipeline, currency="USD")
    with pytest.raises(ValidationError) as exc:
        services.set_deal_lines(by=world.rep_a, deal=deal, lines=[{"product": saree}])
    assert "lines.0" in exc.value.message_dict


def test_deleting_a_product_keeps_the_lines_that_used_it(world, pipeline, saree):
    deal = new_deal(world, pipeline)
    services.set_deal_lines(by=world.rep_a, deal=deal, lines=[{"product": saree}])
    Product.objects.filter(pk=saree.pk).delete()
    assert list(DealLine.objects.values_list("product", "description")) == [(None, "Jamdani saree")]


# --- Merging contacts -----------------------------------------------------------------------------


def test_merging_contacts_moves_their_deals_to_the_primary(world, pipeline):
    primary, duplicate = make_contact(world.rep_a, first_name="Rahim"), make_contact(world.rep_a, first_name="Rahim U")
    deal = new_deal(world, pipeline, primary_contact=duplicate)
    other = new_deal(world, pipeline, title="Second")
    services.add_deal_contact(by=world.rep_a, deal=other, contact=duplicate, role="Buyer")
    contact_services.merge_contacts(by=world.manager1, primary=primary, duplicate=duplicate)
    deal.refresh_from_db()
    assert deal.primary_contact == primary
    assert list(other.contact_links.values_list("contact", "role")) == [(primary.pk, "Buyer")]


# --- Audit --------------------------------------------------------------------------------------


def test_the_audit_log_records_a_move_but_not_the_updated_stamp(world, pipeline):
    from crm import audit

    deal = new_deal(world, pipeline)
    services.move_deal(deal=deal, stage=stage(pipeline, "Proposal"), by=world.rep_a)
    entries = audit.history_for(deal)
    assert [e.label for e in entries] == ["update", "insert"]
    changed = {c.field for c in entries[0].changes}
    assert "stage" in changed and "updated_at" not in changed


def test_merging_two_contacts_on_the_same_deal_keeps_one_link(world, pipeline):
    primary, duplicate = make_contact(world.rep_a, first_name="Rahim"), make_contact(world.rep_a, first_name="Rahim U")
    deal = new_deal(world, pipeline)
    services.add_deal_contact(by=world.rep_a, deal=deal, contact=primary, role="Buyer")
    services.add_deal_contact(by=world.rep_a, deal=deal, contact=duplicate, role="Decision maker")
    contact_services.merge_contacts(by=world.manager1, primary=primary, duplicate=duplicate)
    assert list(deal.contact_links.values_list("contact", "role")) == [(primary.pk, "Buyer")]


def test_a_lost_reason_for_a_stage_that_is_not_lost_is_refused_not_dropped(world, pipeline):
    deal = new_deal(world, pipeline)
    open_stage = pipeline.stages.filter(is_won=False, is_lost=False).order_by("-position").first()
    with pytest.raises(ValidationError) as raised:
        services.move_deal(deal=deal, stage=open_stage, by=world.rep_a, lost_reason="Too expensive")
    assert "lost_reason" in raised.value.message_dict
    deal.refresh_from_db()
    assert deal.stage_id != open_stage.pk and deal.lost_reason == ""

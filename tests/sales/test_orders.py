"""Order services: totals from lines, owner and timeline, status transitions, a won deal's order, shop sync, CSV import."""

from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import CommandError, call_command

from contacts.models import Contact, Interaction, InteractionKind
from sales import orders, services
from sales.models import Order, OrderLine, OrderStatus
from sales.order_import import import_orders
from tests.factories import make_company, make_contact
from tests.sales.helpers import new_deal, stage

LINES = [{"description": "Jamdani saree", "quantity": "2", "unit_price": "1500.00", "discount": "10"},
         {"sku": "TEA-1", "description": "Tea", "quantity": "1", "unit_price": "250.50"}]


def won_deal(world, pipeline, **fields):
    deal = new_deal(world, pipeline, **fields)
    return services.move_deal(by=world.rep_a, deal=deal, stage=stage(pipeline, "Won"))


# --- create_order -------------------------------------------------------------------------------


def test_totals_are_the_lines_plus_shipping_and_tax(world):
    order = orders.create_order(by=world.rep_a, lines=LINES, shipping="60", tax="100.25")
    assert order.subtotal == Decimal("2950.50")  # 2 x 1500 less 10 % + 250.50
    assert order.total == Decimal("3110.75")
    assert [line.total for line in order.lines.all()] == [Decimal("2700.00"), Decimal("250.50")]


def test_currency_defaults_to_the_organisations(world):
    assert orders.create_order(by=world.rep_a, lines=LINES).currency == world.rep_a.org().default_currency


def test_order_goes_to_the_contacts_owner(world):
    contact = make_contact(world.rep_b, first_name="Ayesha")
    order = orders.create_order(by=world.rep_a, contact=contact, lines=LINES)
    assert (order.owner, order.team) == (world.rep_b, world.team1)
    assert order.company is None


def test_order_without_contact_belongs_to_its_creator(world):
    order = orders.create_order(by=world.manager1, lines=LINES)
    assert (order.owner, order.team) == (world.manager1, world.team1)


def test_invisible_contact_is_a_field_error(world):
    contact = make_contact(world.rep_c)
    with pytest.raises(ValidationError) as exc:
        orders.create_order(by=world.rep_a, contact=contact, lines=LINES)
    assert "contact" in exc.value.message_dict
    assert not Order.objects.exists()


def test_purchase_appears_on_the_contact_timeline(world):
    company = make_company(world.rep_a, name="Aarong")
    contact = make_contact(world.rep_a, company=company)
    order = orders.create_order(by=world.rep_a, contact=contact, lines=LINES, external_ref="1001")
    entry = Interaction.objects.get(kind=InteractionKind.PURCHASE)
    assert (entry.contact, entry.company, entry.link_type, entry.link_id) == (contact, company, "order", order.pk)
    assert order.company == company


def test_bad_lines_are_errors_by_line_and_nothing_is_saved(world):
    with pytest.raises(ValidationError) as exc:
        orders.create_order(by=world.rep_a, lines=[LINES[0], {"description": "", "unit_price": "x", "quantity": "0"}])
    assert list(exc.value.message_dict) == ["lines.1"]
    assert not Order.objects.exists() and not OrderLine.objects.exists()


def test_an_order_needs_lines(world):
    with pytest.raises(ValidationError) as exc:
        orders.create_order(by=world.rep_a, lines=[])
    assert "lines" in exc.value.message_dict


def test_float_amounts_are_refused(world):
    with pytest.raises(TypeError):
        orders.create_order(by=world.rep_a, lines=[{"description": "x", "unit_price": 1.5}])


def test_order_number_is_unique_per_channel(world):
    orders.create_order(by=world.rep_a, lines=LINES, external_ref="A-1")
    orders.create_order(by=world.rep_a, lines=LINES, external_ref="A-1", channel="store")
    with pytest.raises(ValidationError) as exc:
        orders.create_order(by=world.rep_a, lines=LINES, external_ref="A-1")
    assert "external_ref" in exc.value.message_dict


def test_support_agents_cannot_create_orders(world):
    with pytest.raises(PermissionDenied):
        orders.create_order(by=world.agent1, lines=LINES)


# --- status ---------------------------------------------------------------------------------------


def test_status_moves_forward(world):
    order = orders.create_order(by=world.rep_a, lines=LINES)
    for status in ("paid", "shipped", "delivered", "refunded"):
        order = orders.set_order_status(by=world.rep_a, order=order, status=status)
    assert order.status == OrderStatus.REFUNDED


@pytest.mark.parametrize(("start", "to"), [("pending", "shipped"), ("cancelled", "paid"), ("delivered", "pending")])
def test_impossible_transitions_are_field_errors(world, start, to):
    order = orders.create_order(by=world.rep_a, lines=LINES, status=start)
    with pytest.raises(ValidationError) as exc:
        orders.set_order_status(by=world.rep_a, order=order, status=to)
    assert "status" in exc.value.message_dict
    order.refresh_from_db()
    assert order.status == start


def test_other_team_cannot_change_the_status(world):
    order = orders.create_order(by=world.rep_a, lines=LINES)
    with pytest.raises(PermissionDenied):
        orders.set_order_status(by=world.rep_c, order=order, status="paid")


def test_lines_of_a_paid_order_are_fixed(world):
    order = orders.create_order(by=world.rep_a, lines=LINES, status="paid")
    with pytest.raises(ValidationError):
        orders.update_order(by=world.rep_a, order=order, lines=LINES[:1])


def test_update_recomputes_the_total(world):
    order = orders.create_order(by=world.rep_a, lines=LINES)
    order = orders.update_order(by=world.rep_a, order=order, lines=LINES[1:], shipping="10.00")
    assert (order.subtotal, order.total) == (Decimal("250.50"), Decimal("260.50"))


# --- from a deal ------------------------------------------------------------------------------------


def test_won_deal_becomes_an_order_with_its_lines(world, pipeline):
    contact = make_contact(world.rep_a)
    deal = won_deal(world, pipeline, primary_contact=contact)
    services.set_deal_lines(by=world.rep_a, deal=deal, lines=[{"description": "Design", "unit_price": "5000"},
                                                              {"description": "Print", "quantity": "3", "unit_price": "10"}])
    order = orders.order_from_deal(by=world.rep_a, deal=deal)
    assert order.deal == deal and order.contact == contact
    assert [(line.description, line.total) for line in order.lines.all()] == [
        ("Design", Decimal("5000.00")), ("Print", Decimal("30.00"))]
    assert order.total == Decimal("5030.00")


def test_won_deal_without_lines_becomes_one_line_for_its_amount(world, pipeline):
    deal = won_deal(world, pipeline, amount="12000.00", title="Retainer")
    order = orders.order_from_deal(by=world.rep_a, deal=deal)
    assert [(line.description, line.total) for line in order.lines.all()] == [("Retainer", Decimal("12000.00"))]


def test_open_deal_cannot_become_an_order(world, pipeline):
    with pytest.raises(ValidationError) as exc:
        orders.order_from_deal(by=world.rep_a, deal=new_deal(world, pipeline))
    assert "deal" in exc.value.message_dict


def test_deal_becomes_an_order_once(world, pipeline):
    deal = won_deal(world, pipeline, amount="10")
    orders.order_from_deal(by=world.rep_a, deal=deal)
    with pytest.raises(ValidationError):
        orders.order_from_deal(by=world.rep_a, deal=deal)
    assert Order.objects.count() == 1


# --- shop sync ---------------------------------------------------------------------------------------


def test_sync_updates_the_same_order(world):
    order, created = orders.sync_order(by=world.rep_a, channel="web", external_ref="9001", lines=LINES)
    again, created_again = orders.sync_order(by=world.rep_a, channel="web", external_ref="9001", lines=LINES[:1],
                                             status="paid")
    assert (created, created_again) == (True, False)
    assert again.pk == order.pk and again.status == "paid" and again.total == Decimal("2700.00")
    assert Order.objects.count() == 1 and OrderLine.objects.count() == 1


# --- CSV import ----------------------------------------------------------------------------------------

HEADER = ("order_number,ordered_at,channel,status,email,phone,first_name,last_name,sku,description,quantity,unit_price,"
          "discount,shipping,tax,currency\n")
CSV = HEADER + """1001,2026-03-01 10:00,web,paid,ayesha@example.com,01712-345678,Ayesha,Siddiqua,S-1,Saree,2,1500,0,60,0,BDT
1001,,,,,,,,S-2,Scarf,1,400,10,,,
1002,2026-03-02,store,pending,,+8801812345678,Rafi,,,Kurta,1,900,,,,
1003,2026-03-02,web,pending,,,,,,Broken,one,abc,,,,
1003,,,,,,,,,Fine line,1,10,,,,
"""


def test_import_groups_rows_into_orders_and_creates_contacts(world):
    report = import_orders(by=world.rep_a, data=CSV)
    assert (report["rows"], report["orders"], report["created"], report["updated"]) == (5, 3, 2, 0)
    assert report["contacts_created"] == 2
    first = Order.objects.get(external_ref="1001")
    assert first.status == "paid" and first.total == Decimal("3000.00") + Decimal("360.00") + Decimal("60.00")
    assert first.contact.email == "ayesha@example.com" and first.owner == world.rep_a
    assert Order.objects.get(external_ref="1002", channel="store").contact.phone == "+8801812345678"


def test_import_reports_every_refused_row_with_its_field(world):
    report = import_orders(by=world.rep_a, data=CSV)
    assert {(e["row"], e["field"]) for e in report["errors"]} == {(5, "quantity"), (5, "unit_price"), (6, "order_number")}
    assert not Order.objects.filter(external_ref="1003").exists()


def test_reimporting_updates_and_never_duplicates(world):
    import_orders(by=world.rep_a, data=CSV)
    report = import_orders(by=world.rep_a, data=CSV.replace("1001,2026-03-01 10:00,web,paid", "1001,,web,shipped"))
    assert (report["created"], report["updated"], report["contacts_created"]) == (0, 2, 0)
    assert Order.objects.count() == 2 and Contact.objects.count() == 2
    assert Order.objects.get(external_ref="1001").status == "shipped"
    assert Interaction.objects.filter(kind=InteractionKind.PURCHASE).count() == 2


def test_import_matches_contacts_the_user_sees(world):
    known = make_contact(world.rep_b, emails=["ayesha@example.com"])
    import_orders(by=world.rep_a, data=CSV)
    assert Order.objects.get(external_ref="1001").contact == known


def test_import_of_another_teams_buyer_imports_the_order_without_contact_and_says_so(world):
    make_contact(world.rep_c, emails=["ayesha@example.com"])
    report = import_orders(by=world.rep_a, data=CSV)
    assert Order.objects.get(external_ref="1001").contact is None
    assert [(w["row"], w["field"]) for w in report["warnings"]] == [(2, "email")]


def test_import_without_required_columns_is_a_file_error(world):
    with pytest.raises(ValidationError) as exc:
        import_orders(by=world.rep_a, data="email,sku\nx@example.com,S-1\n")
    assert "file" in exc.value.message_dict


def test_import_command_prints_progress(world, tmp_path, capsys):
    path = tmp_path / "orders.csv"
    path.write_text(CSV.replace("Broken,one,abc", "Fixed,1,5"), encoding="utf-8")
    call_command("import_orders", str(path), "--user", world.rep_a.email)
    out = capsys.readouterr().out
    assert "3/3 orders" in out and "3 created" in out


def test_import_command_fails_on_refused_rows(world, tmp_path):
    path = tmp_path / "orders.csv"
    path.write_text(CSV, encoding="utf-8")
    with pytest.raises(CommandError):
        call_command("import_orders", str(path), "--user", world.rep_a.email)
    assert Order.objects.count() == 2

"""The order and invoice API: visibility for every role, idempotent shop posts, status changes, invoice actions,
filters and sorts, field errors, pinned query counts."""

from datetime import date
from decimal import Decimal

import pytest
from django.urls import reverse

from contacts.models import Contact
from sales import invoices, orders
from sales.models import Invoice, Order, Payment
from tests.factories import make_company, make_contact
from tests.visibility import assert_visibility

LINES = [{"description": "Saree", "quantity": "2", "unit_price": "1500.00"}]


def send(client, method, url, data=None):
    return getattr(client, method)(url, data, content_type="application/json")


def new_order(world, by=None, **fields):
    fields.setdefault("lines", LINES)
    return orders.create_order(by=by or world.rep_a, **fields)


def new_invoice(world, by=None, **fields):
    fields.setdefault("lines", LINES)
    return invoices.create_invoice(by=by or world.rep_a, **fields)


def ids(response) -> list[int]:
    assert response.status_code == 200, response.content
    return [row["id"] for row in response.json()["results"]]


# --- Visibility ---------------------------------------------------------------------------------


def test_order_detail_visibility_for_every_role(world, client_for):
    assert_visibility(world, client_for, reverse("order-detail", args=[new_order(world).pk]), api=True)


def test_invoice_detail_visibility_for_every_role(world, client_for):
    assert_visibility(world, client_for, reverse("invoice-detail", args=[new_invoice(world).pk]), api=True)


@pytest.mark.parametrize("action", ["send", "void"])
def test_invoice_actions_visibility(world, client_for, action):
    bill = new_invoice(world)
    client = client_for(world.rep_c)
    assert client.post(reverse(f"invoice-{action}", args=[bill.pk])).status_code == 404
    assert client_for(world.agent1).post(reverse(f"invoice-{action}", args=[bill.pk])).status_code == 404
    bill.refresh_from_db()
    assert bill.status == "draft"


def test_lists_show_only_visible_records(world, client_for):
    mine, bill = new_order(world), new_invoice(world)
    new_order(world, by=world.rep_c)
    new_invoice(world, by=world.rep_c)
    assert ids(client_for(world.rep_b).get(reverse("order-list"))) == [mine.pk]
    assert ids(client_for(world.rep_b).get(reverse("invoice-list"))) == [bill.pk]
    assert ids(client_for(world.agent1).get(reverse("order-list"))) == []
    assert len(ids(client_for(world.admin).get(reverse("order-list")))) == 2


def test_support_agent_reads_but_cannot_write_orders(world, client_for):
    order = new_order(world)
    response = send(client_for(world.agent1), "post", reverse("order-list"), {"lines": LINES})
    assert response.status_code == 403
    assert not Order.objects.exclude(pk=order.pk).exists()


def test_invisible_order_cannot_be_changed(world, client_for):
    order = new_order(world)
    assert send(client_for(world.rep_c), "patch", reverse("order-detail", args=[order.pk]), {"status": "paid"}).status_code == 404
    order.refresh_from_db()
    assert order.status == "pending"


def test_orders_and_invoices_are_not_deleted(world, client_for):
    client = client_for(world.rep_a)
    assert client.delete(reverse("order-detail", args=[new_order(world).pk])).status_code == 405
    assert client.delete(reverse("invoice-detail", args=[new_invoice(world).pk])).status_code == 405


# --- Orders ---------------------------------------------------------------------------------------


def test_shop_posts_an_order_with_a_new_customer(world, client_for):
    payload = {"external_ref": "W-1001", "channel": "web", "status": "paid", "shipping": "60.00",
               "customer": {"email": "Ayesha@Example.com", "first_name": "Ayesha"},
               "lines": [{"sku": "S-1", "description": "Saree", "quantity": "2", "unit_price": "1500.00"}]}
    response = send(client_for(world.rep_a), "post", reverse("order-list"), payload)
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["total"], body["subtotal"], body["status"]) == ("3060.00", "3000.00", "paid")
    assert Contact.objects.get(pk=body["contact"]).email == "ayesha@example.com"


def test_repeated_shop_post_returns_the_same_order_with_200(world, client_for):
    client = client_for(world.rep_a)
    payload = {"external_ref": "W-7", "lines": LINES, "customer": {"phone": "01712-345678"}}
    first = send(client, "post", reverse("order-list"), payload)
    again = send(client, "post", reverse("order-list"), {**payload, "status": "paid"})
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json()["id"] == again.json()["id"] and again.json()["status"] == "paid"
    assert Order.objects.count() == 1 and Contact.objects.count() == 1


def test_customer_found_among_visible_contacts(world, client_for):
    known = make_contact(world.rep_b, emails=["rafi@example.com"])
    response = send(client_for(world.rep_a), "post", reverse("order-list"),
                    {"lines": LINES, "customer": {"email": "rafi@example.com"}})
    assert response.json()["contact"] == known.pk
    assert response.json()["owner"] == world.rep_b.pk


def test_customer_of_another_team_is_a_field_error(world, client_for):
    make_contact(world.rep_c, emails=["rafi@example.com"])
    response = send(client_for(world.rep_a), "post", reverse("order-list"),
                    {"lines": LINES, "customer": {"email": "rafi@example.com"}})
    assert response.status_code == 400 and "customer" in response.json()["errors"]
    assert not Order.objects.exists()


def test_contact_must_be_visible(world, client_for):
    response = send(client_for(world.rep_a), "post", reverse("order-list"),
                    {"lines": LINES, "contact": make_contact(world.rep_c).pk})
    assert response.status_code == 400 and "contact" in response.json()["errors"]


def test_bad_line_is_a_field_error_and_creates_nothing(world, client_for):
    response = send(client_for(world.rep_a), "post", reverse("order-list"),
                    {"lines": [{"description": "", "unit_price": "5"}]})
    assert response.status_code == 400 and "lines.0" in response.json()["errors"]
    assert not Order.objects.exists()


def test_patching_status_follows_the_transitions(world, client_for):
    order = new_order(world)
    client, url = client_for(world.rep_a), reverse("order-detail", args=[order.pk])
    assert send(client, "patch", url, {"status": "paid"}).json()["status"] == "paid"
    response = send(client, "patch", url, {"status": "pending"})
    assert response.status_code == 400 and "status" in response.json()["errors"]


def test_patching_the_channel_is_a_field_error(world, client_for):
    order = new_order(world)
    response = send(client_for(world.rep_a), "patch", reverse("order-detail", args=[order.pk]), {"channel": "store"})
    assert response.status_code == 400 and "channel" in response.json()["errors"]


def test_filters_and_sort(world, client_for):
    cheap = new_order(world, channel="store", lines=[{"description": "x", "unit_price": "10"}])
    dear = new_order(world, status="paid", lines=[{"description": "y", "unit_price": "1000"}])
    client = client_for(world.rep_a)
    assert ids(client.get(reverse("order-list"), {"status": "paid"})) == [dear.pk]
    assert ids(client.get(reverse("order-list"), {"channel": "store"})) == [cheap.pk]
    assert ids(client.get(reverse("order-list"), {"sort": "total"})) == [cheap.pk, dear.pk]
    assert ids(client.get(reverse("order-list"), {"ordered_after": str(date.today()), "owner": world.rep_a.pk})) == [
        dear.pk, cheap.pk]
    response = client.get(reverse("order-list"), {"sort": "sideways"})
    assert response.status_code == 400 and "sort" in response.json()["errors"]


def test_filter_by_another_teams_contact_is_a_field_error(world, client_for):
    response = client_for(world.rep_a).get(reverse("order-list"), {"contact": make_contact(world.rep_c).pk})
    assert response.status_code == 400 and "contact" in response.json()["errors"]


# --- Invoices ---------------------------------------------------------------------------------------


def test_create_invoice_from_an_order(world, client_for):
    order = new_order(world)
    response = send(client_for(world.rep_a), "post", reverse("invoice-list"), {"order": order.pk, "due_on": "2099-01-01"})
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["number"].startswith("INV-") and body["total"] == "3000.00" and body["order"] == order.pk


def test_invoice_of_an_invisible_order_is_a_field_error(world, client_for):
    order = new_order(world, by=world.rep_c)
    response = send(client_for(world.rep_a), "post", reverse("invoice-list"), {"order": order.pk})
    assert response.status_code == 400 and "order" in response.json()["errors"]
    assert not Invoice.objects.exists()


def test_send_pay_and_void(world, client_for):
    bill = new_invoice(world)
    client = client_for(world.rep_a)
    assert client.post(reverse("invoice-send", args=[bill.pk])).json()["status"] == "sent"
    paid = send(client, "post", reverse("invoice-pay", args=[bill.pk]), {"amount": "3000.00", "method": "mobile"})
    assert paid.status_code == 200, paid.content
    assert (paid.json()["status"], paid.json()["balance"], len(paid.json()["payments"])) == ("paid", "0.00", 1)
    other = new_invoice(world)
    assert client.post(reverse("invoice-void", args=[other.pk])).json()["status"] == "void"


def test_overpayment_is_a_field_error(world, client_for):
    bill = new_invoice(world)
    response = send(client_for(world.rep_a), "post", reverse("invoice-pay", args=[bill.pk]), {"amount": "9999.00"})
    assert response.status_code == 400 and "amount" in response.json()["errors"]
    assert not Payment.objects.exists()


def test_invoice_filters(world, client_for):
    draft = new_invoice(world)
    sent = invoices.send_invoice(by=world.rep_a, invoice=new_invoice(world))
    client = client_for(world.rep_a)
    assert ids(client.get(reverse("invoice-list"), {"status": "sent"})) == [sent.pk]
    assert ids(client.get(reverse("invoice-list"), {"number": draft.number})) == [draft.pk]


# --- Query counts ---------------------------------------------------------------------------------------


def _orders(world, count):
    company = make_company(world.rep_a)
    for _ in range(count):
        new_order(world, contact=make_contact(world.rep_a), company=company)


@pytest.mark.parametrize("count", [3, 8])
def test_order_list_runs_the_same_queries_for_any_size(world, client_for, django_assert_num_queries, count):
    _orders(world, count)
    client = client_for(world.manager1)
    client.get(reverse("order-list"))  # warm a first request's caches
    # session, user, org settings, managed teams, count, page, lines
    with django_assert_num_queries(7):
        assert len(client.get(reverse("order-list")).json()["results"]) == count


@pytest.mark.parametrize("count", [3, 8])
def test_invoice_list_runs_the_same_queries_for_any_size(world, client_for, django_assert_num_queries, count):
    for _ in range(count):
        bill = new_invoice(world, contact=make_contact(world.rep_a))
        invoices.record_payment(by=world.rep_a, invoice=bill, amount=Decimal("10.00"))
    client = client_for(world.manager1)
    client.get(reverse("invoice-list"))
    # session, user, org settings, managed teams, count, page, lines, payments
    with django_assert_num_queries(8):
        assert len(client.get(reverse("invoice-list")).json()["results"]) == count

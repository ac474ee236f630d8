"""Order and invoice pages: visibility on every page for every role, lists with filters and pinned query counts,
forms with field errors, the won deal's order button, invoice actions, the printable invoice, the CSV import with
its progress page, and the panels of contact, company and deal pages."""

import uuid
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from crm.celery import app
from sales import invoices, orders, services
from sales.models import Invoice, Order, Payment
from tests.factories import make_company, make_contact
from tests.sales.helpers import new_deal, stage
from tests.visibility import assert_visibility

LINES = [{"description": "Saree", "quantity": "2", "unit_price": "1500.00"}]
ALL_SEE = {"rep_a", "rep_b", "manager1", "admin"}


def new_order(world, by=None, **fields):
    fields.setdefault("lines", LINES)
    return orders.create_order(by=by or world.rep_a, **fields)


def new_invoice(world, by=None, **fields):
    fields.setdefault("lines", LINES)
    return invoices.create_invoice(by=by or world.rep_a, **fields)


def won(world, pipeline, **fields):
    return services.move_deal(by=world.rep_a, deal=new_deal(world, pipeline, **fields), stage=stage(pipeline, "Won"))


# --- Visibility of every page naming a record ---------------------------------------------------


@pytest.mark.parametrize("name", ["sales:order"])
def test_order_pages_visibility(world, client_for, name):
    assert_visibility(world, client_for, reverse(name, args=[new_order(world).pk]))


@pytest.mark.parametrize("name", ["sales:invoice", "sales:invoice_print"])
def test_invoice_pages_visibility(world, client_for, name):
    assert_visibility(world, client_for, reverse(name, args=[new_invoice(world).pk]))


@pytest.mark.parametrize("source", ["order", "deal"])
def test_invoice_form_visibility(world, client_for, pipeline, source):
    record = new_order(world) if source == "order" else new_deal(world, pipeline)
    url = reverse(f"sales:{source}_invoice_new", args=[record.pk])
    seen = {name: client_for(user).get(url).status_code for name, user in world.principals().items()}
    assert seen == {"anonymous": 302, "rep_a": 200, "rep_b": 200, "rep_c": 404, "manager1": 200, "manager2": 404,
                    "agent1": 403, "admin": 200}  # agents never bill (403 before any record is looked up)


@pytest.mark.parametrize(("name", "record"), [("sales:contact_orders", "contact"), ("sales:company_orders", "company")])
def test_customer_panels_visibility(world, client_for, name, record):
    customer = make_contact(world.rep_a) if record == "contact" else make_company(world.rep_a)
    assert_visibility(world, client_for, reverse(name, args=[customer.pk]))


def test_deal_commerce_panel_visibility(world, client_for, pipeline):
    assert_visibility(world, client_for, reverse("sales:deal_commerce", args=[new_deal(world, pipeline).pk]))


@pytest.mark.parametrize("name", ["sales:order_status"])
def test_order_status_post_visibility(world, client_for, name):
    order = new_order(world)
    for user in (world.rep_c, world.manager2, world.agent1):
        assert client_for(user).post(reverse(name, args=[order.pk]), {"status": "paid"}).status_code == 404
    order.refresh_from_db()
    assert order.status == "pending"


@pytest.mark.parametrize("name", ["sales:invoice_send", "sales:invoice_void", "sales:invoice_pay"])
def test_invoice_posts_visibility(world, client_for, name):
    bill = new_invoice(world)
    for user in (world.rep_c, world.manager2, world.agent1):
        assert client_for(user).post(reverse(name, args=[bill.pk]), {"amount": "1"}).status_code == 404
    bill.refresh_from_db()
    assert bill.status == "draft" and not Payment.objects.exists()


def test_deal_order_post_visibility(world, client_for, pipeline):
    deal = won(world, pipeline, amount="10")
    for user in (world.rep_c, world.manager2):
        assert client_for(user).post(reverse("sales:deal_order_new", args=[deal.pk])).status_code == 404
    assert client_for(world.agent1).post(reverse("sales:deal_order_new", args=[deal.pk])).status_code == 403
    assert not Order.objects.exists()


def test_teammate_changes_the_status_too(world, client_for):
    order = new_order(world)  # team members edit the team's orders (the owned models' default)
    assert client_for(world.rep_b).post(reverse("sales:order_status", args=[order.pk]), {"status": "paid"}).status_code == 302


def test_import_and_new_order_pages_are_not_for_support_agents(world, client_for):
    client = client_for(world.agent1)
    assert client.get(reverse("sales:order_new")).status_code == 403
    assert client.get(reverse("sales:order_import")).status_code == 403
    assert client.get(reverse("sales:orders")).status_code == 200  # agents read orders


# --- Lists -----------------------------------------------------------------------------------------


def test_order_list_shows_only_visible_orders(world, client_for):
    mine = new_order(world, external_ref="MINE-1")
    new_order(world, by=world.rep_c, external_ref="THEIRS-1")
    response = client_for(world.rep_b).get(reverse("sales:orders"))
    assert [o.pk for o in response.context["rows"]] == [mine.pk]
    assert "THEIRS-1" not in response.content.decode()


def test_order_list_filters_by_status_channel_and_owner(world, client_for):
    paid = new_order(world, status="paid", channel="store")
    new_order(world, by=world.rep_b)
    client = client_for(world.manager1)
    assert [o.pk for o in client.get(reverse("sales:orders"), {"status": "paid"}).context["rows"]] == [paid.pk]
    assert [o.pk for o in client.get(reverse("sales:orders"), {"channel": "store"}).context["rows"]] == [paid.pk]
    assert len(client.get(reverse("sales:orders"), {"owner": world.rep_b.pk}).context["rows"]) == 1


def test_bad_filter_is_a_field_error(world, client_for):
    response = client_for(world.rep_a).get(reverse("sales:orders"), {"ordered_after": "soon"})
    assert response.status_code == 400 and response.context["filter_form"].errors["ordered_after"]


def _fill(world, count):
    company = make_company(world.rep_a)
    for _ in range(count):
        contact = make_contact(world.rep_a, company=company)
        order = new_order(world, contact=contact)
        invoices.create_invoice(by=world.rep_a, order=order)


@pytest.mark.parametrize("count", [3, 8])
@pytest.mark.parametrize("name", ["sales:orders", "sales:invoices"])
def test_lists_run_the_same_queries_for_any_size(world, client_for, django_assert_num_queries, count, name):
    _fill(world, count)
    client = client_for(world.manager1)
    client.get(reverse(name))  # warm a first request's caches
    # session, user, org settings, managed teams, owner and team choices, count, page
    with django_assert_num_queries(8):
        assert len(client.get(reverse(name)).context["rows"]) == count


# --- Order pages -------------------------------------------------------------------------------------


def test_create_an_order_by_hand(world, client_for):
    contact = make_contact(world.rep_a, first_name="Ayesha", emails=["ayesha@example.com"])
    data = {"contact": "Ayesha <ayesha@example.com>", "channel": "phone", "status": "pending", "shipping": "50",
            "lines-TOTAL_FORMS": "4", "lines-INITIAL_FORMS": "0",
            "lines-0-description": "Saree", "lines-0-quantity": "2", "lines-0-unit_price": "1500"}
    response = client_for(world.rep_a).post(reverse("sales:order_new"), data)
    order = Order.objects.get()
    assert response.status_code == 302 and response.url == reverse("sales:order", args=[order.pk])
    assert (order.contact, order.total) == (contact, Decimal("3050.00"))


def test_bad_line_shows_on_its_row_and_saves_nothing(world, client_for):
    data = {"channel": "phone", "status": "pending", "lines-TOTAL_FORMS": "4", "lines-INITIAL_FORMS": "0",
            "lines-0-description": "Saree", "lines-0-quantity": "0", "lines-0-unit_price": "1500"}
    response = client_for(world.rep_a).post(reverse("sales:order_new"), data)
    assert response.status_code == 400
    assert response.context["formset"].forms[0].non_field_errors()
    assert not Order.objects.exists()


def test_status_form_moves_the_order_on(world, client_for):
    order = new_order(world)
    client = client_for(world.rep_a)
    response = client.post(reverse("sales:order_status", args=[order.pk]), {"status": "paid"})
    assert response.status_code == 302
    order.refresh_from_db()
    assert order.status == "paid"
    response = client.post(reverse("sales:order_status", args=[order.pk]), {"status": "pending"})
    assert response.status_code == 400 and response.context["status_form"].errors["status"]


def test_order_page_shows_lines_totals_and_invoices(world, client_for):
    order = new_order(world, shipping="60")
    bill = invoices.create_invoice(by=world.rep_a, order=order)
    page = client_for(world.rep_a).get(reverse("sales:order", args=[order.pk])).content.decode()
    assert "Saree" in page and bill.number in page and "3,060.00" in page


def test_won_deal_order_button_creates_the_order_once(world, client_for, pipeline):
    deal = won(world, pipeline, amount="750.00")
    client = client_for(world.rep_a)
    panel = client.get(reverse("sales:deal_commerce", args=[deal.pk]), HTTP_HX_REQUEST="true")
    assert panel.context["can_order"] and 'id="commerce-panel"' in panel.content.decode()
    response = client.post(reverse("sales:deal_order_new", args=[deal.pk]))
    order = Order.objects.get(deal=deal)
    assert response.url == reverse("sales:order", args=[order.pk]) and order.total == Decimal("750.00")
    assert not client.get(reverse("sales:deal_commerce", args=[deal.pk])).context["can_order"]
    client.post(reverse("sales:deal_order_new", args=[deal.pk]))
    assert Order.objects.count() == 1


def test_open_deal_has_no_order_button(world, client_for, pipeline):
    panel = client_for(world.rep_a).get(reverse("sales:deal_commerce", args=[new_deal(world, pipeline).pk]))
    assert not panel.context["can_order"] and panel.context["can_invoice"]


def test_panels_without_htmx_render_inside_a_page(world, client_for):
    contact = make_contact(world.rep_a)
    new_order(world, contact=contact, external_ref="SHOP-9")
    client = client_for(world.rep_a)
    fragment = client.get(reverse("sales:contact_orders", args=[contact.pk]), HTTP_HX_REQUEST="true").content.decode()
    page = client.get(reverse("sales:contact_orders", args=[contact.pk])).content.decode()
    assert fragment.startswith('<section class="card related-panel" id="orders-panel"') and "#SHOP-9" in fragment
    assert "<html" in page and 'id="orders-panel"' in page


# --- Invoice pages -----------------------------------------------------------------------------------


def test_invoice_from_a_deal(world, client_for, pipeline):
    deal = new_deal(world, pipeline, amount="5000")
    response = client_for(world.rep_a).post(reverse("sales:deal_invoice_new", args=[deal.pk]), {"tax": "250"})
    bill = Invoice.objects.get()
    assert response.url == reverse("sales:invoice", args=[bill.pk]) and bill.total == Decimal("5250.00")


def test_invoice_form_due_before_issue_is_a_field_error(world, client_for):
    order = new_order(world)
    response = client_for(world.rep_a).post(reverse("sales:order_invoice_new", args=[order.pk]),
                                            {"issued_on": "2026-03-10", "due_on": "2026-03-01"})
    assert response.status_code == 400 and response.context["form"].errors["due_on"]
    assert not Invoice.objects.exists()


def test_send_pay_void_from_the_invoice_page(world, client_for):
    bill = new_invoice(world)
    client = client_for(world.rep_a)
    client.post(reverse("sales:invoice_send", args=[bill.pk]))
    response = client.post(reverse("sales:invoice_pay", args=[bill.pk]), {"amount": "3000.00", "method": "cash"})
    assert response.status_code == 302
    bill.refresh_from_db()
    assert bill.status == "paid"
    other = new_invoice(world)
    client.post(reverse("sales:invoice_void", args=[other.pk]))
    other.refresh_from_db()
    assert other.status == "void"


def test_overpayment_shows_a_field_error(world, client_for):
    bill = new_invoice(world)
    response = client_for(world.rep_a).post(reverse("sales:invoice_pay", args=[bill.pk]), {"amount": "99999", "method": "cash"})
    assert response.status_code == 400 and response.context["payment_form"].errors["amount"]


def test_printable_invoice_has_org_bill_to_lines_totals_and_balance(world, client_for):
    contact = make_contact(world.rep_a, first_name="Ayesha", last_name="Siddiqua")
    bill = new_invoice(world, contact=contact)
    invoices.record_payment(by=world.rep_a, invoice=bill, amount="1000")
    page = client_for(world.rep_a).get(reverse("sales:invoice_print", args=[bill.pk])).content.decode()
    for text in (world.rep_a.org().name, "Ayesha Siddiqua", bill.number, "Saree", "3,000.00", "1,000.00", "2,000.00",
                 "css/invoice"):
        assert text in page
    assert "<script" not in page and "style=" not in page


# --- Import --------------------------------------------------------------------------------------------

CSV = ("order_number,email,first_name,description,quantity,unit_price\n"
       "A-1,ayesha@example.com,Ayesha,Saree,1,1500\n"
       "A-2,,,Scarf,x,10\n")


@pytest.fixture
def eager_celery():
    conf = app.conf
    before = conf.task_always_eager, conf.task_store_eager_result
    conf.task_always_eager, conf.task_store_eager_result = True, True
    yield
    conf.task_always_eager, conf.task_store_eager_result = before


def test_upload_runs_the_import_in_the_background(world, client_for, eager_celery):
    response = client_for(world.rep_a).post(reverse("sales:order_import"), {"file": SimpleUploadedFile("o.csv", CSV.encode())})
    assert response.status_code == 302 and response.url.startswith(reverse("sales:order_import"))
    assert Order.objects.filter(external_ref="A-1").exists()


def test_import_task_reports_progress_and_rows_not_imported(world):
    from sales.tasks import import_orders

    report = import_orders.apply(args=[world.rep_a.pk, CSV]).get()
    assert (report["created"], report["orders"]) == (1, 2)
    assert [(e["row"], e["field"]) for e in report["errors"]] == [(3, "quantity")]


def progress_url(world, task_id, user=None):
    from sales.order_views import import_token

    return reverse("sales:order_import_progress", args=[import_token(task_id, (user or world.rep_a).pk)])


def stored_and_read(client, url, task_id, result, state, key):
    """Store a task's result and read the progress page. Another xdist worker's `cache.clear()` flushes the shared
    Redis database (results included) at the start of each of its tests, so try again if it struck in between."""
    for _attempt in range(5):
        app.backend.store_result(task_id, result, state)
        response = client.get(url, HTTP_HX_REQUEST="true")
        if response.context[key] is not None:
            return response
    return response


def test_progress_page_shows_the_report_when_done(world, client_for):
    from sales.order_import import import_orders

    task_id = str(uuid.uuid4())
    report = import_orders(by=world.rep_a, data=CSV)
    fragment = stored_and_read(client_for(world.rep_a), progress_url(world, task_id), task_id, report, "SUCCESS", "report")
    assert fragment.context["report"]["created"] == 1
    html = fragment.content.decode()
    assert html.startswith('<section id="import-status"') and "hx-trigger" not in html  # done: no more polling
    assert "quantity" in html


def test_progress_page_polls_while_the_import_runs(world, client_for):
    task_id = str(uuid.uuid4())
    response = stored_and_read(client_for(world.rep_a), progress_url(world, task_id), task_id,
                               {"processed": 3, "total": 10}, "PROGRESS", "progress")
    assert response.context["running"] and response.context["progress"] == {"processed": 3, "total": 10}
    assert 'hx-trigger="every 1s"' in response.content.decode()


def test_progress_page_is_only_for_the_uploader(world, client_for):
    task_id = str(uuid.uuid4())
    assert client_for(world.rep_b).get(progress_url(world, task_id)).status_code == 404
    assert client_for(world.rep_a).get(progress_url(world, task_id)).status_code == 200
    assert client_for(world.rep_a).get(reverse("sales:order_import_progress", args=["forged"])).status_code == 404


def test_upload_without_order_number_column_is_a_field_error(world, client_for):
    response = client_for(world.rep_a).post(reverse("sales:order_import"),
                                            {"file": SimpleUploadedFile("o.csv", b"email,sku\nx@example.com,S\n")})
    assert response.status_code == 400 and response.context["form"].errors["file"]

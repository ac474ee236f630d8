"""Invoice services: numbering without gaps or duplicates (also under concurrency), lines from a deal or an order,
sending, payments, voiding, and the daily overdue sweep."""

import threading
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connections, transaction
from django.utils import timezone

from sales import invoices, orders, services
from sales.models import Invoice, InvoiceSequence, InvoiceStatus, Payment
from sales.tasks import mark_overdue_invoices as overdue_task
from tests.background import wait_for
from tests.factories import make_contact
from tests.sales.helpers import new_deal, stage

LINES = [{"description": "Consulting", "quantity": "10", "unit_price": "2500.00"}]


def lock_waiters() -> int:
    with connections["default"].cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                       "AND wait_event_type = 'Lock' AND pid <> pg_backend_pid()")
        return cursor.fetchone()[0]


def invoice(world, **kwargs):
    kwargs.setdefault("lines", LINES)
    return invoices.create_invoice(by=kwargs.pop("by", world.rep_a), **kwargs)


# --- Numbering ------------------------------------------------------------------------------------


def test_numbers_run_per_year(world):
    first = invoice(world, issued_on=date(2026, 1, 5))
    second = invoice(world, issued_on=date(2026, 2, 5))
    other_year = invoice(world, issued_on=date(2027, 1, 2))
    assert [first.number, second.number, other_year.number] == ["INV-2026-00001", "INV-2026-00002", "INV-2027-00001"]


def test_a_rolled_back_invoice_gives_its_number_back(world):
    invoice(world, issued_on=date(2026, 1, 5))
    with pytest.raises(RuntimeError), transaction.atomic():
        invoice(world, issued_on=date(2026, 1, 6))
        raise RuntimeError("the caller's transaction fails after the invoice")
    assert invoice(world, issued_on=date(2026, 1, 7)).number == "INV-2026-00002"


def test_a_refused_invoice_takes_no_number(world):
    with pytest.raises(ValidationError):
        invoice(world, issued_on=date(2026, 1, 5), lines=[{"description": "x", "unit_price": "-1"}])
    assert not InvoiceSequence.objects.exists()
    assert invoice(world, issued_on=date(2026, 1, 5)).sequence == 1


@pytest.mark.django_db(transaction=True)
def test_concurrent_creation_gives_no_duplicate_and_no_gap(world):
    """Two threads on two connections: the first holds its transaction open after taking a number, the second
    queues on the year's row; then both create more, and one of them rolls back mid-way."""
    issued = date(2026, 5, 1)
    holding = threading.Event()
    release = threading.Event()
    numbers, errors = [], []

    def first():
        try:
            with transaction.atomic():
                numbers.append(invoice(world, issued_on=issued).sequence)
                holding.set()
                release.wait(10)
            for i in range(5):
                try:
                    with transaction.atomic():
                        created = invoice(world, issued_on=issued)
                        if i == 2:
                            raise RuntimeError("rolled back")
                        numbers.append(created.sequence)
                except RuntimeError:
                    pass
        except Exception as exc:  # reported to the test's thread
            errors.append(exc)
        finally:
            connections.close_all()

    def second():
        try:
            holding.wait(10)
            for _ in range(5):
                numbers.append(invoice(world, by=world.rep_b, issued_on=issued).sequence)
        except Exception as exc:
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for thread in threads:
        thread.start()
    # Let the first transaction go only once the second is queued behind its lock on the year's row.
    assert holding.wait(10)
    assert wait_for(lambda: lock_waiters() > 0, timeout=10)
    release.set()
    for thread in threads:
        thread.join(30)
    assert not errors
    assert sorted(numbers) == list(range(1, 11))  # 1 + 4 + 5 committed, numbered 1..10
    stored = sorted(Invoice.objects.filter(year=2026).values_list("sequence", flat=True))
    assert stored == list(range(1, 11))
    assert InvoiceSequence.objects.get(year=2026).last_number == 10


# --- From a deal or an order ----------------------------------------------------------------------


def test_invoice_from_an_order_copies_lines_shipping_tax_and_customer(world):
    contact = make_contact(world.rep_a)
    order = orders.create_order(by=world.rep_a, contact=contact, shipping="50", tax="15.00",
                                lines=[{"description": "Saree", "quantity": "2", "unit_price": "100"}])
    bill = invoices.create_invoice(by=world.rep_b, order=order)
    assert [(line.description, line.total) for line in bill.lines.all()] == [
        ("Saree", Decimal("200.00")), ("Shipping", Decimal("50.00"))]
    assert (bill.subtotal, bill.tax, bill.total) == (Decimal("250.00"), Decimal("15.00"), Decimal("265.00"))
    assert (bill.contact, bill.owner, bill.currency) == (contact, world.rep_a, order.currency)


def test_invoice_from_a_deal_copies_its_lines_or_amount(world, pipeline):
    deal = new_deal(world, pipeline, amount="9000.00", title="Website")
    bill = invoices.create_invoice(by=world.rep_a, deal=deal)
    assert [(line.description, line.total) for line in bill.lines.all()] == [("Website", Decimal("9000.00"))]
    services.set_deal_lines(by=world.rep_a, deal=deal, lines=[{"description": "Design", "unit_price": "700"}])
    assert invoices.create_invoice(by=world.rep_a, deal=deal).total == Decimal("700.00")


def test_invoice_of_an_invisible_deal_is_a_field_error(world, pipeline):
    deal = new_deal(world, pipeline)
    with pytest.raises(ValidationError) as exc:
        invoices.create_invoice(by=world.rep_c, deal=deal)
    assert "deal" in exc.value.message_dict


def test_due_date_defaults_and_cannot_precede_issue(world):
    bill = invoice(world, issued_on=date(2026, 3, 1))
    assert bill.due_on == date(2026, 3, 1) + timedelta(days=invoices.DEFAULT_TERMS_DAYS)
    with pytest.raises(ValidationError) as exc:
        invoice(world, issued_on=date(2026, 3, 1), due_on=date(2026, 2, 1))
    assert "due_on" in exc.value.message_dict


def test_support_agents_cannot_create_invoices(world):
    with pytest.raises(PermissionDenied):
        invoice(world, by=world.agent1)


# --- Send, pay, void ---------------------------------------------------------------------------------


def test_payments_make_the_invoice_paid_when_they_reach_the_total(world):
    bill = invoices.send_invoice(by=world.rep_a, invoice=invoice(world))
    invoices.record_payment(by=world.rep_a, invoice=bill, amount="20000.00", method="mobile", reference="bKash 1")
    bill.refresh_from_db()
    assert (bill.status, bill.amount_paid, bill.balance) == ("sent", Decimal("20000.00"), Decimal("5000.00"))
    invoices.record_payment(by=world.rep_a, invoice=bill, amount="5000")
    bill.refresh_from_db()
    assert bill.status == "paid" and bill.paid_at is not None and bill.balance == 0


def test_overpayment_is_a_field_error(world):
    bill = invoice(world)
    with pytest.raises(ValidationError) as exc:
        invoices.record_payment(by=world.rep_a, invoice=bill, amount="25000.01")
    assert "amount" in exc.value.message_dict
    assert not Payment.objects.exists()


def test_only_a_draft_is_sent(world):
    bill = invoices.send_invoice(by=world.rep_a, invoice=invoice(world))
    assert bill.status == "sent" and bill.sent_at is not None
    with pytest.raises(ValidationError):
        invoices.send_invoice(by=world.rep_a, invoice=bill)


def test_void_keeps_the_number_and_refuses_paid_invoices(world):
    bill = invoices.void_invoice(by=world.rep_a, invoice=invoice(world))
    assert bill.status == "void" and bill.number == f"INV-{timezone.localdate().year}-00001"
    paid = invoice(world)
    invoices.record_payment(by=world.rep_a, invoice=paid, amount="100")
    with pytest.raises(ValidationError):
        invoices.void_invoice(by=world.rep_a, invoice=paid)
    with pytest.raises(ValidationError):
        invoices.record_payment(by=world.rep_a, invoice=bill, amount="1")


def test_other_team_cannot_record_payments(world):
    with pytest.raises(PermissionDenied):
        invoices.record_payment(by=world.rep_c, invoice=invoice(world), amount="1")


# --- Overdue --------------------------------------------------------------------------------------------


def test_sweep_marks_sent_invoices_past_due_only(world):
    issued = timezone.localdate()
    today = issued + timedelta(days=40)  # the sweep's "today", after both sends

    def sent(due_on):
        return invoices.send_invoice(by=world.rep_a, invoice=invoice(world, issued_on=issued, due_on=due_on))

    late, due_today = sent(today - timedelta(days=1)), sent(today)
    draft = invoice(world, issued_on=issued, due_on=issued)
    assert invoices.mark_overdue_invoices(today=today) == 1
    assert invoices.mark_overdue_invoices(today=today) == 0
    statuses = dict(Invoice.objects.values_list("pk", "status"))
    assert (statuses[late.pk], statuses[due_today.pk], statuses[draft.pk]) == ("overdue", "sent", "draft")


def test_sweep_is_one_update(world, django_assert_num_queries):
    with django_assert_num_queries(1):
        invoices.mark_overdue_invoices(today=date(2026, 1, 1))


def test_overdue_task_calls_the_sweep(world):
    bill = invoices.send_invoice(by=world.rep_a, invoice=invoice(world, issued_on=date(2020, 1, 1),
                                                                  due_on=date(2020, 1, 2)))
    assert bill.status == InvoiceStatus.OVERDUE  # sent after its due date: overdue at once
    Invoice.objects.filter(pk=bill.pk).update(status="sent")
    assert overdue_task.apply().get() == 1


def test_invoice_from_a_won_deals_order_keeps_the_deal(world, pipeline):
    deal = services.move_deal(by=world.rep_a, deal=new_deal(world, pipeline, amount="10"), stage=stage(pipeline, "Won"))
    order = orders.order_from_deal(by=world.rep_a, deal=deal)
    assert invoices.create_invoice(by=world.rep_a, order=order).deal == deal


def test_a_cancelled_order_is_not_billed(world):
    order = orders.create_order(by=world.rep_a, lines=LINES, status="cancelled")
    with pytest.raises(ValidationError) as exc:
        invoices.create_invoice(by=world.rep_a, order=order)
    assert "order" in exc.value.message_dict

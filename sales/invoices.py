"""Writes with rules for invoices: create (from a deal, an order or by hand), send, record a payment, void,
and the daily overdue sweep.

Numbers are INV-<year>-<5 digits>, taken inside the invoice's transaction from `InvoiceSequence` with one
upsert: concurrent creators queue on the year's row lock, and a rolled-back invoice gives its number back,
so a year's numbers have no gaps and no duplicates.
"""

from collections.abc import Iterable
from datetime import date, timedelta

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from contacts.models import Company, Contact
from crm import policy
from crm.models import Role, User
from crm.services import assign_owner
from sales.models import Deal, Invoice, InvoiceLine, InvoiceStatus, Order, OrderStatus, Payment, PaymentMethod
from sales.orders import _require_visible, _visible, clean_lines, customer_owner, lines_subtotal
from sales.services import clean_currency, clean_money

DEFAULT_TERMS_DAYS = 14
_NEXT_NUMBER = """
    INSERT INTO sales_invoicesequence (year, last_number) VALUES (%s, 1)
    ON CONFLICT (year) DO UPDATE SET last_number = sales_invoicesequence.last_number + 1
    RETURNING last_number
"""


def _require_writer(by: User) -> None:
    if by.role == Role.SUPPORT_AGENT:
        raise PermissionDenied(_("Support agents cannot change invoices."))


def _require_edit(by: User, invoice: Invoice) -> None:
    _require_writer(by)
    if not policy.can_edit(by, invoice):
        raise PermissionDenied(_("You cannot change this invoice."))


def _lock(invoice: Invoice) -> None:
    Invoice.objects.select_for_update().filter(pk=invoice.pk).values_list("pk").get()
    invoice.refresh_from_db()


def format_number(year: int, sequence: int) -> str:
    return f"INV-{year}-{sequence:05d}"


def take_number(year: int) -> int:
    """The next number of `year`, taken in the caller's transaction (its rollback gives the number back)."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("take an invoice number inside the invoice's transaction")
    with connection.cursor() as cursor:
        cursor.execute(_NEXT_NUMBER, [year])
        return cursor.fetchone()[0]


def _clean_date(value, field: str, default=None) -> date:
    if value in (None, ""):
        if default is None:
            raise ValidationError({field: _("Enter a date.")})
        return default
    if not isinstance(value, date):
        raise ValidationError({field: _("Enter a date.")})
    return value


def _lines_from_order(order: Order) -> list[dict]:
    lines = [{"product": line.product, "description": line.description, "quantity": line.quantity,
              "unit_price": line.unit_price, "discount": line.discount} for line in order.lines.select_related("product")]
    if order.shipping:
        lines.append({"description": _("Shipping"), "quantity": 1, "unit_price": order.shipping})
    return lines


def _lines_from_deal(deal: Deal) -> list[dict]:
    lines = [{"product": line.product, "description": line.description, "quantity": line.quantity,
              "unit_price": line.unit_price, "discount": line.discount} for line in deal.lines.select_related("product")]
    return lines or [{"description": deal.title, "quantity": 1, "unit_price": deal.amount}]


@transaction.atomic
def create_invoice(
    *, by: User, deal: Deal | None = None, order: Order | None = None, contact: Contact | None = None,
    company: Company | None = None, lines: Iterable[dict] | None = None, due_on: date | None = None,
    issued_on: date | None = None, currency: str = "", tax=None, note: str = "",
) -> Invoice:
    """Bill a customer: a draft invoice numbered INV-<year of issue>-<sequence>.

    From an order or a deal it takes their lines (an order's shipping as a line, its tax), customer and
    currency unless given; on its own it needs lines. It belongs to the order's or deal's owner (so the
    team that sees them sees their invoices), else to the contact's owner as for orders. Due in
    DEFAULT_TERMS_DAYS days unless `due_on`, never before the issue date.
    """
    _require_writer(by)
    if deal is not None and not _visible(by, Deal, deal):
        raise ValidationError({"deal": _("Choose a deal you can see.")})
    if order is not None and not _visible(by, Order, order):
        raise ValidationError({"order": _("Choose an order you can see.")})
    _require_visible(by, Contact, contact, "contact")
    _require_visible(by, Company, company, "company")
    source = order or deal
    if source is not None and not policy.can_edit(by, source):
        raise PermissionDenied(_("You cannot bill this record."))
    if order is not None and order.status in (OrderStatus.CANCELLED, OrderStatus.REFUNDED):
        raise ValidationError({"order": _("A cancelled or refunded order is not billed.")})
    errors = {}
    today = timezone.localdate()
    try:
        issued_on = _clean_date(issued_on, "issued_on", default=today)
    except ValidationError as exc:
        errors.update(exc.message_dict)
        issued_on = today
    try:
        due_on = _clean_date(due_on, "due_on", default=issued_on + timedelta(days=DEFAULT_TERMS_DAYS))
        if due_on < issued_on:
            raise ValidationError({"due_on": _("The due date cannot be before the issue date.")})
    except ValidationError as exc:
        errors.update(exc.message_dict)
    try:
        if currency:
            currency = clean_currency(currency, by=by)
        else:
            currency = order.currency if order else deal.currency if deal else clean_currency("", by=by)
    except ValidationError as exc:
        errors.update(exc.message_dict)
    try:
        tax = clean_money(tax, field="tax") if tax not in (None, "") else (order.tax if order else clean_money(None))
    except ValidationError as exc:
        errors.update(exc.message_dict)
    if errors:
        raise ValidationError(errors)
    if lines is None:
        if order is not None:
            lines = _lines_from_order(order)
        elif deal is not None:
            lines = _lines_from_deal(deal)
        else:
            lines = []
    built = clean_lines(lines, currency=currency, line_class=InvoiceLine)
    if contact is None and source is not None:
        contact = order.contact if order is not None else deal.primary_contact
    if company is None:
        company = (order.company if order is not None else deal.company if deal is not None else None) or (
            contact.company if contact is not None else None)
    if order is not None and deal is None:
        deal = order.deal
    invoice = Invoice(deal=deal, order=order, contact=contact, company=company, currency=currency,
                      issued_on=issued_on, due_on=due_on, tax=tax, note=str(note or "").strip())
    invoice.subtotal = lines_subtotal(built)
    invoice.total = invoice.subtotal + invoice.tax
    if len(invoice.total.as_tuple().digits) > 14:
        raise ValidationError({"lines": _("The total is too large.")})
    owner = source.owner if source is not None and source.owner.is_active else customer_owner(by=by, contact=contact)
    assign_owner(invoice, owner)
    invoice.created_by = by
    # Last, so the year's row is locked for as short a time as possible.
    invoice.year = issued_on.year
    invoice.sequence = take_number(invoice.year)
    invoice.number = format_number(invoice.year, invoice.sequence)
    invoice.save()
    for line in built:
        line.invoice = invoice
    InvoiceLine.objects.bulk_create(built)
    return invoice


@transaction.atomic
def send_invoice(*, by: User, invoice: Invoice) -> Invoice:
    """Mark a draft invoice as sent to the customer (from then on the overdue sweep watches its due date)."""
    _require_edit(by, invoice)
    _lock(invoice)
    if invoice.status != InvoiceStatus.DRAFT:
        raise ValidationError({"status": _("Only a draft invoice can be sent.")})
    invoice.status = InvoiceStatus.SENT
    invoice.sent_at = timezone.now()
    if invoice.due_on < timezone.localdate():
        invoice.status = InvoiceStatus.OVERDUE
    invoice.save(update_fields=["status", "sent_at", "updated_at"])
    return invoice


@transaction.atomic
def record_payment(
    *, by: User, invoice: Invoice, amount, paid_on: date | None = None, method: str = PaymentMethod.BANK,
    reference: str = "",
) -> Payment:
    """Record money received against an invoice; it is paid when its payments reach its total.

    A payment is above zero and at most the balance; a void or paid invoice takes none.
    """
    _require_edit(by, invoice)
    _lock(invoice)
    if invoice.status in (InvoiceStatus.VOID, InvoiceStatus.PAID):
        raise ValidationError({"amount": _("This invoice takes no more payments.")})
    errors = {}
    try:
        amount = clean_money(amount, field="amount")
        if amount <= 0:
            raise ValidationError({"amount": _("A payment is above zero.")})
        if amount > invoice.balance:
            raise ValidationError({"amount": _("This is more than the balance of %(balance)s.") % {
                "balance": invoice.balance}})
    except ValidationError as exc:
        errors.update(exc.message_dict)
    today = timezone.localdate()
    try:
        paid_on = _clean_date(paid_on, "paid_on", default=today)
        if paid_on > today:
            raise ValidationError({"paid_on": _("A payment cannot be in the future.")})
    except ValidationError as exc:
        errors.update(exc.message_dict)
    if method not in PaymentMethod.values:
        errors["method"] = [_("Choose a payment method.")]
    reference = " ".join(str(reference or "").split())
    if len(reference) > 100:
        errors["reference"] = [_("Keep the reference under 101 characters.")]
    if errors:
        raise ValidationError(errors)
    payment = Payment.objects.create(invoice=invoice, amount=amount, paid_on=paid_on, method=method,
                                     reference=reference, recorded_by=by)
    invoice.amount_paid += amount
    fields = ["amount_paid", "updated_at"]
    if invoice.amount_paid >= invoice.total:
        invoice.status, invoice.paid_at = InvoiceStatus.PAID, timezone.now()
        fields += ["status", "paid_at"]
    invoice.save(update_fields=fields)
    return payment


@transaction.atomic
def void_invoice(*, by: User, invoice: Invoice) -> Invoice:
    """Cancel an invoice that has no payment; it keeps its number (numbers are never reused)."""
    _require_edit(by, invoice)
    _lock(invoice)
    if invoice.status == InvoiceStatus.VOID:
        return invoice
    if invoice.amount_paid > 0:
        raise ValidationError({"status": _("An invoice with payments cannot be voided.")})
    invoice.status, invoice.voided_at = InvoiceStatus.VOID, timezone.now()
    invoice.save(update_fields=["status", "voided_at", "updated_at"])
    return invoice


def mark_overdue_invoices(*, today: date | None = None) -> int:
    """Sent invoices whose due date has passed become overdue: one UPDATE over the partial due-date index.

    Returns how many changed; running it twice the same day changes nothing more.
    """
    today = today or timezone.localdate()
    return Invoice.objects.filter(status=InvoiceStatus.SENT, due_on__lt=today).update(
        status=InvoiceStatus.OVERDUE, updated_at=timezone.now())

"""Orders (an e-commerce purchase or a won deal's order) and invoices (for service firms), with their lines and payments.

Both are owned records: the owner is the customer's owner when the services can tell (a shop's order for a
known contact lands with that contact's rep), so the team that serves the customer sees its orders.
Totals are kept by the services from the lines; amounts are Decimal to the cent.
"""

from decimal import Decimal

import pghistory
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from contacts.models import Company, Contact
from crm.models import OwnedModel, OwnedQuerySet, owned_indexes, sort_indexes
from sales.models.deals import Deal, PricedLine, Product, currency_validator

_MONEY = {"max_digits": 14, "decimal_places": 2, "default": Decimal("0.00"), "validators": [MinValueValidator(0)]}


class OrderStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    PAID = "paid", _("Paid")
    SHIPPED = "shipped", _("Shipped")
    DELIVERED = "delivered", _("Delivered")
    CANCELLED = "cancelled", _("Cancelled")
    REFUNDED = "refunded", _("Refunded")


#: Orders that count as revenue (spend, campaign revenue, lead scoring's "total spend").
REVENUE_STATUSES = (OrderStatus.PAID, OrderStatus.SHIPPED, OrderStatus.DELIVERED)


class OrderChannel(models.TextChoices):
    WEB = "web", _("Web shop")
    STORE = "store", _("Store")
    PHONE = "phone", _("Phone")
    MARKETPLACE = "marketplace", _("Marketplace")


class OrderQuerySet(OwnedQuerySet):
    def revenue(self):
        return self.filter(status__in=REVENUE_STATUSES)


@pghistory.track(
    pghistory.InsertEvent(),
    pghistory.UpdateEvent(condition=pghistory.AnyChange(exclude=["updated_at"])),
    pghistory.DeleteEvent(),
)
class Order(OwnedModel):
    """A purchase: who bought what, through which channel, and where it stands."""

    # The shop's own order number: with the channel it makes a re-posted order (API retry, re-imported CSV)
    # update the same row instead of creating a second.
    external_ref = models.CharField(_("order number"), max_length=64, blank=True, default="")
    contact = models.ForeignKey(Contact, verbose_name=_("contact"), null=True, blank=True, on_delete=models.SET_NULL,
                                related_name="orders")
    company = models.ForeignKey(Company, verbose_name=_("company"), null=True, blank=True, on_delete=models.SET_NULL,
                                related_name="orders")
    deal = models.OneToOneField(Deal, verbose_name=_("deal"), null=True, blank=True, on_delete=models.SET_NULL,
                                related_name="order")
    status = models.CharField(_("status"), max_length=12, choices=OrderStatus.choices, default=OrderStatus.PENDING)
    channel = models.CharField(_("channel"), max_length=12, choices=OrderChannel.choices, default=OrderChannel.WEB)
    currency = models.CharField(_("currency"), max_length=3, validators=[currency_validator])
    subtotal = models.DecimalField(_("subtotal"), **_MONEY)
    shipping = models.DecimalField(_("shipping"), **_MONEY)
    tax = models.DecimalField(_("tax"), **_MONEY)
    total = models.DecimalField(_("total"), **_MONEY)
    ordered_at = models.DateTimeField(_("ordered"), default=timezone.now)
    note = models.TextField(_("note"), blank=True, default="")

    read_only_for_agents = True

    objects = OrderQuerySet.as_manager()

    class Meta:
        verbose_name = _("order")
        verbose_name_plural = _("orders")
        indexes = [
            *owned_indexes("sales_order"),
            models.Index(fields=["team", "-ordered_at", "-id"], name="sales_order_team_ordered"),
            models.Index(fields=["-ordered_at", "-id"], name="sales_order_ordered"),
            models.Index(fields=["contact", "-ordered_at"], name="sales_order_contact"),
            # Lead scoring: a contact's orders that count (status) in a window, and their total, from the index alone.
            models.Index(fields=["contact", "status", "ordered_at"], include=["total"], name="sales_order_contact_status"),
            models.Index(fields=["company", "-ordered_at"], name="sales_order_company"),
            *sort_indexes("sales_order", "total", "-total", "-id"),
            *sort_indexes("sales_order", "created", "-created_at", "-id", team=False),
        ]
        constraints = [
            models.UniqueConstraint(fields=["channel", "external_ref"], condition=~Q(external_ref=""),
                                    name="sales_order_external_ref_unique",
                                    violation_error_message=_("An order with this number already exists for this channel.")),
            models.CheckConstraint(condition=Q(total__gte=0), name="sales_order_total_not_negative"),
        ]

    def __str__(self):
        return _("Order %(number)s") % {"number": f"#{self.external_ref}" if self.external_ref else self.pk}

    @property
    def is_revenue(self) -> bool:
        return self.status in REVENUE_STATUSES


class OrderChildQuerySet(models.QuerySet):
    def visible_to(self, user):
        return self.filter(order__in=Order.objects.visible_to(user))


@pghistory.track(pghistory.InsertEvent(), pghistory.UpdateEvent(), pghistory.DeleteEvent())
class OrderLine(PricedLine):
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="lines")
    product = models.ForeignKey(Product, null=True, blank=True, on_delete=models.SET_NULL, related_name="order_lines")
    sku = models.CharField(_("SKU"), max_length=64, blank=True, default="")

    objects = OrderChildQuerySet.as_manager()

    class Meta(PricedLine.Meta):
        verbose_name = _("order line")
        verbose_name_plural = _("order lines")
        ordering = ["order", "position", "id"]
        indexes = [models.Index(fields=["product"], name="sales_orderline_product")]


# --- Invoices -----------------------------------------------------------------------------------


class InvoiceStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    SENT = "sent", _("Sent")
    PAID = "paid", _("Paid")
    OVERDUE = "overdue", _("Overdue")
    VOID = "void", _("Void")


class InvoiceSequence(models.Model):
    """The last invoice number given out in a year.

    Taking a number updates this row inside the invoice's transaction, so concurrent creators queue on
    its lock and a rolled-back invoice gives its number back: numbers have no gaps and no duplicates.
    """

    year = models.PositiveSmallIntegerField(primary_key=True)
    last_number = models.PositiveIntegerField(default=0)

    def __str__(self):
        return f"{self.year}: {self.last_number}"


@pghistory.track(
    pghistory.InsertEvent(),
    pghistory.UpdateEvent(condition=pghistory.AnyChange(exclude=["updated_at"])),
    pghistory.DeleteEvent(),
)
class Invoice(OwnedModel):
    """A bill to a customer, from a deal or an order (or on its own), numbered INV-<year>-<sequence>."""

    year = models.PositiveSmallIntegerField(_("year"), editable=False)
    sequence = models.PositiveIntegerField(_("sequence"), editable=False)
    number = models.CharField(_("number"), max_length=20, unique=True, editable=False)
    deal = models.ForeignKey(Deal, verbose_name=_("deal"), null=True, blank=True, on_delete=models.SET_NULL,
                             related_name="invoices")
    order = models.ForeignKey(Order, verbose_name=_("order"), null=True, blank=True, on_delete=models.SET_NULL,
                              related_name="invoices")
    contact = models.ForeignKey(Contact, verbose_name=_("contact"), null=True, blank=True, on_delete=models.SET_NULL,
                                related_name="invoices")
    company = models.ForeignKey(Company, verbose_name=_("company"), null=True, blank=True, on_delete=models.SET_NULL,
                                related_name="invoices")
    status = models.CharField(_("status"), max_length=10, choices=InvoiceStatus.choices, default=InvoiceStatus.DRAFT)
    currency = models.CharField(_("currency"), max_length=3, validators=[currency_validator])
    issued_on = models.DateField(_("issued"))
    due_on = models.DateField(_("due"))
    subtotal = models.DecimalField(_("subtotal"), **_MONEY)
    tax = models.DecimalField(_("tax"), **_MONEY)
    total = models.DecimalField(_("total"), **_MONEY)
    amount_paid = models.DecimalField(_("paid"), **_MONEY)
    note = models.TextField(_("note"), blank=True, default="")
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True, editable=False)
    paid_at = models.DateTimeField(_("paid"), null=True, blank=True, editable=False)
    voided_at = models.DateTimeField(_("voided"), null=True, blank=True, editable=False)

    objects = OwnedQuerySet.as_manager()

    class Meta:
        verbose_name = _("invoice")
        verbose_name_plural = _("invoices")
        indexes = [
            *owned_indexes("sales_invoice"),
            models.Index(fields=["due_on"], name="sales_invoice_overdue_watch", condition=Q(status="sent")),
            models.Index(fields=["contact", "-issued_on"], name="sales_invoice_contact"),
            *sort_indexes("sales_invoice", "issued", "-issued_on", "-id"),
            *sort_indexes("sales_invoice", "due", "due_on", "id"),
            *sort_indexes("sales_invoice", "total", "-total", "-id"),
            *sort_indexes("sales_invoice", "created", "-created_at", "-id", team=False),
        ]
        constraints = [
            models.UniqueConstraint(fields=["year", "sequence"], name="sales_invoice_number_unique"),
            models.CheckConstraint(condition=Q(due_on__gte=models.F("issued_on")), name="sales_invoice_due_after_issue",
                                   violation_error_message=_("The due date cannot be before the issue date.")),
        ]

    def __str__(self):
        return self.number

    @property
    def balance(self) -> Decimal:
        return self.total - self.amount_paid


class InvoiceChildQuerySet(models.QuerySet):
    def visible_to(self, user):
        return self.filter(invoice__in=Invoice.objects.visible_to(user))


@pghistory.track(pghistory.InsertEvent(), pghistory.UpdateEvent(), pghistory.DeleteEvent())
class InvoiceLine(PricedLine):
    invoice = models.ForeignKey(Invoice, on_delete=models.CASCADE, related_name="lines")
    product = models.ForeignKey(Product, null=True, blank=True, on_delete=models.SET_NULL, related_name="invoice_lines")

    objects = InvoiceChildQuerySet.as_manager()

    class Meta(PricedLine.Meta):
        verbose_name = _("invoice line")
        verbose_name_plural = _("invoice lines")
        ordering = ["invoice", "position", "id"]


class PaymentMethod(models.TextChoices):
    BANK = "bank", _("Bank transfer")
    MOBILE = "mobile", _("Mobile money (bKash, Nagad)")
    CARD = "card", _("Card")
    CASH = "cash", _("Cash")
    CHEQUE = "cheque", _("Cheque")
    OTHER = "other", _("Other")


@pghistory.track(pghistory.InsertEvent(), pghistory.UpdateEvent(), pghistory.DeleteEvent())
class Payment(models.Model):
    """Money received against an invoice; the invoice is paid when its payments reach its total."""

    invoice = models.ForeignKey(Invoice, on_delete=models.CASCADE, related_name="payments")
    amount = models.DecimalField(_("amount"), max_digits=14, decimal_places=2, validators=[MinValueValidator(0)])
    paid_on = models.DateField(_("paid on"))
    method = models.CharField(_("method"), max_length=10, choices=PaymentMethod.choices, default=PaymentMethod.BANK)
    reference = models.CharField(_("reference"), max_length=100, blank=True, default="")
    recorded_by = models.ForeignKey("crm.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    objects = InvoiceChildQuerySet.as_manager()

    class Meta:
        verbose_name = _("payment")
        verbose_name_plural = _("payments")
        ordering = ["invoice", "paid_on", "id"]
        constraints = [models.CheckConstraint(condition=Q(amount__gt=0), name="sales_payment_amount_positive")]

    def __str__(self):
        return f"{self.invoice_id}: {self.amount}"

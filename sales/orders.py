"""Writes with rules for orders: create (by hand, from a shop, from a won deal), sync a shop's order, change status.

Keyword-only and transactional like `sales.services`; errors are ValidationErrors keyed by field (a line's
errors under `lines.<index>`), PermissionDenied for a right the user lacks. Totals are kept here from the
lines: subtotal = the lines' totals (each rounded to the cent), total = subtotal + shipping + tax.
"""

from collections.abc import Iterable
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from contacts.models import Company, Contact, InteractionKind
from contacts.services import record_interaction
from crm import policy
from crm.models import Role, User
from crm.services import assign_owner
from crm.visibility import can_see
from sales.models import CENT, Deal, Order, OrderChannel, OrderLine, OrderStatus, Product, line_total
from sales.services import clean_currency, clean_money

#: status -> the statuses an order may move to by hand (a shop's sync sets what the shop says).
ORDER_TRANSITIONS = {
    OrderStatus.PENDING: {OrderStatus.PAID, OrderStatus.CANCELLED},
    OrderStatus.PAID: {OrderStatus.SHIPPED, OrderStatus.DELIVERED, OrderStatus.REFUNDED, OrderStatus.CANCELLED},
    OrderStatus.SHIPPED: {OrderStatus.DELIVERED, OrderStatus.REFUNDED},
    OrderStatus.DELIVERED: {OrderStatus.REFUNDED},
    OrderStatus.CANCELLED: set(),
    OrderStatus.REFUNDED: set(),
}
LINE_FIELDS = {"product", "sku", "description", "quantity", "unit_price", "discount"}
QUANTUM = Decimal("0.001")


def _require_writer(by: User) -> None:
    if by.role == Role.SUPPORT_AGENT:
        raise PermissionDenied(_("Support agents cannot change orders."))


def _require_edit(by: User, order: Order) -> None:
    if not policy.can_edit(by, order):
        raise PermissionDenied(_("You cannot change this order."))


def _visible(by: User, model, obj) -> bool:
    return obj is not None and model.objects.visible_to(by).filter(pk=obj.pk).exists()


def _require_visible(by: User, model, obj, field: str) -> None:
    if obj is not None and not _visible(by, model, obj):
        message = _("Choose a company you can see.") if model is Company else _("Choose a contact you can see.")
        raise ValidationError({field: message})


def customer_owner(*, by: User, contact: Contact | None) -> User:
    """Who owns a new order or invoice: the contact's owner when `by` sees the contact (and its owner is active),
    so the team serving the customer sees its purchases; otherwise `by`."""
    if contact is not None and contact.owner_id and can_see(by, contact):
        owner = contact.owner
        if owner.is_active and owner.role != Role.SUPPORT_AGENT:
            return owner
    return by


# --- Values -------------------------------------------------------------------------------------


def clean_quantity(value) -> Decimal:
    if isinstance(value, float):
        raise TypeError("quantities are Decimal, int or str, never float")
    try:
        quantity = Decimal(str(value if value not in (None, "") else "1").strip().replace(",", ""))
    except InvalidOperation:
        raise ValidationError(_("Give a quantity above zero with at most three decimals.")) from None
    if (not quantity.is_finite() or quantity <= 0 or quantity != quantity.quantize(QUANTUM)
            or len(quantity.quantize(QUANTUM).as_tuple().digits) > 12):
        raise ValidationError(_("Give a quantity above zero with at most three decimals."))
    return quantity.quantize(QUANTUM)


def clean_discount(value) -> Decimal:
    if isinstance(value, float):
        raise TypeError("discounts are Decimal, int or str, never float")
    try:
        discount = Decimal(str(value if value not in (None, "") else "0").strip())
    except InvalidOperation:
        raise ValidationError(_("A discount is a percentage from 0 to 100.")) from None
    if not discount.is_finite() or not 0 <= discount <= 100 or discount != discount.quantize(CENT):
        raise ValidationError(_("A discount is a percentage from 0 to 100."))
    return discount.quantize(CENT)


def clean_lines(items: Iterable[dict], *, currency: str, line_class, with_sku: bool = False) -> list:
    """Unsaved lines of `line_class` (OrderLine or InvoiceLine) from dicts; errors keyed `lines.<index>`.

    A line names a product (or, with `with_sku`, a catalogue SKU) or describes itself; its unit price
    defaults to the product's, which must be priced in the order's currency.
    """
    items = [dict(item) for item in items]
    if not items:
        raise ValidationError({"lines": _("Add at least one line.")})
    skus = {str(i.get("sku") or "").strip().lower() for i in items if with_sku and not i.get("product")} - {""}
    by_sku = {p.sku.lower(): p for p in Product.objects.filter(sku__in=list(skus))} if skus else {}
    if skus and len(by_sku) < len(skus):  # SKUs are unique whatever the case: look the rest up case-insensitively
        for sku in skus - set(by_sku):
            product = Product.objects.filter(sku__iexact=sku).first()
            if product:
                by_sku[sku] = product
    errors, lines = {}, []
    for index, item in enumerate(items):
        unknown = set(item) - LINE_FIELDS
        if unknown:
            raise TypeError(f"unknown line fields: {sorted(unknown)}")
        sku = " ".join(str(item.get("sku") or "").split())[:64]
        product = item.get("product") or (by_sku.get(sku.lower()) if with_sku and sku else None)
        description = " ".join(str(item.get("description") or "").split())
        problems = []
        if product is None and not description:
            problems.append(_("Choose a product or describe the line."))
        if len(description) > 300:
            problems.append(_("Keep the description under 301 characters."))
        price = item.get("unit_price")
        unit_price = quantity = discount = None
        try:
            if price not in (None, ""):
                unit_price = clean_money(price, field="unit_price")
            elif product is not None:
                if product.currency != currency:
                    problems.append(_("“%(name)s” is priced in %(currency)s.") % {
                        "name": product.name, "currency": product.currency})
                unit_price = product.unit_price
            else:
                problems.append(_("Give a unit price."))
        except ValidationError as exc:
            problems.extend(exc.messages)
        for name, cleaner in (("quantity", clean_quantity), ("discount", clean_discount)):
            try:
                value = cleaner(item.get(name))
            except ValidationError as exc:
                problems.extend(exc.messages)
                continue
            if name == "quantity":
                quantity = value
            else:
                discount = value
        if problems:
            errors[f"lines.{index}"] = problems
            continue
        line = line_class(product=product, description=description or product.name, quantity=quantity,
                          unit_price=unit_price, discount=discount, position=index)
        if with_sku:
            line.sku = sku or (product.sku if product else "")
        lines.append(line)
    if errors:
        raise ValidationError(errors)
    return lines


def lines_subtotal(lines) -> Decimal:
    return sum((line_total(line.quantity, line.unit_price, line.discount) for line in lines), Decimal("0.00"))


def _check_total(total: Decimal) -> None:
    if len(total.quantize(CENT).as_tuple().digits) > 14:
        raise ValidationError({"lines": _("The total is too large.")})


def _clean_status(value, field: str = "status") -> str:
    if value not in OrderStatus.values:
        raise ValidationError({field: _("Choose a status.")})
    return value


def _clean_channel(value) -> str:
    if value not in OrderChannel.values:
        raise ValidationError({"channel": _("Choose a channel.")})
    return value


def _clean_external_ref(value) -> str:
    ref = " ".join(str(value or "").split())
    if len(ref) > 64:
        raise ValidationError({"external_ref": _("Keep the order number under 65 characters.")})
    return ref


def _clean_order_values(by: User, values: dict) -> dict:
    """Field-checked order values (only those given); every error at once."""
    errors, out = {}, {}
    for name, value in values.items():
        try:
            if name in ("shipping", "tax"):
                out[name] = clean_money(value, field=name)
            elif name == "currency":
                out[name] = clean_currency(value, by=by)
            elif name == "status":
                out[name] = _clean_status(value)
            elif name == "channel":
                out[name] = _clean_channel(value)
            elif name == "external_ref":
                out[name] = _clean_external_ref(value)
            elif name == "ordered_at":
                if value in (None, ""):
                    value = timezone.now()
                if not isinstance(value, datetime):
                    raise ValidationError({"ordered_at": _("Enter a date and time.")})
                if timezone.is_naive(value):
                    value = timezone.make_aware(value)
                if value > timezone.now() + timedelta(days=1):
                    raise ValidationError({"ordered_at": _("An order cannot be placed in the future.")})
                out[name] = value
            elif name == "note":
                out[name] = str(value or "").strip()
            else:
                raise TypeError(f"unknown order field: {name}")
        except ValidationError as exc:
            errors.update(exc.message_dict)
    if errors:
        raise ValidationError(errors)
    return out


def _set_lines(order: Order, lines: list[OrderLine]) -> None:
    for line in lines:
        line.order = order
    order.lines.all().delete()
    OrderLine.objects.bulk_create(lines)


def _totals(order: Order, lines: list[OrderLine]) -> None:
    order.subtotal = lines_subtotal(lines)
    order.total = order.subtotal + order.shipping + order.tax
    _check_total(order.total)


def _record_purchase(order: Order, by: User | None) -> None:
    if order.contact_id is None and order.company_id is None:
        return
    from crm.templatetags.crm import money

    record_interaction(
        kind=InteractionKind.PURCHASE, contact=order.contact, company=order.company, by=by, occurred_at=order.ordered_at,
        subject=_("%(order)s: %(total)s") % {"order": order, "total": money(order.total, order.currency)},
        link_type="order", link_id=order.pk, link_label=str(order),
    )


# --- Services -----------------------------------------------------------------------------------


def _create(*, by: User, contact, company, lines, deal=None, **values) -> Order:
    currency = values.get("currency") or by.org().default_currency
    built = clean_lines(lines, currency=currency, line_class=OrderLine, with_sku=True)
    if company is None and contact is not None:
        company = contact.company
    order = Order(contact=contact, company=company, deal=deal, **values)
    order.currency = currency
    assign_owner(order, customer_owner(by=by, contact=contact))
    order.created_by = by
    _totals(order, built)
    if order.external_ref and Order.objects.filter(channel=order.channel, external_ref=order.external_ref).exists():
        raise ValidationError({"external_ref": _("An order with this number already exists for this channel.")})
    order.save()
    _set_lines(order, built)
    _record_purchase(order, by)
    return order


@transaction.atomic
def create_order(
    *, by: User, lines: Iterable[dict], contact: Contact | None = None, company: Company | None = None,
    channel: str = OrderChannel.WEB, status: str = OrderStatus.PENDING, currency: str = "", shipping=None, tax=None,
    ordered_at=None, external_ref: str = "", note: str = "",
) -> Order:
    """Record a purchase with its lines and put it on the customer's timeline.

    The contact and company must be ones `by` sees (the company defaults to the contact's). The order
    belongs to the contact's owner when `by` sees the contact, else to `by`; its team follows its owner.
    An order number (`external_ref`) is unique per channel.
    """
    _require_writer(by)
    _require_visible(by, Contact, contact, "contact")
    _require_visible(by, Company, company, "company")
    values = _clean_order_values(by, {
        "channel": channel, "status": status, "currency": currency, "shipping": shipping, "tax": tax,
        "ordered_at": ordered_at, "external_ref": external_ref, "note": note,
    })
    return _create(by=by, contact=contact, company=company, lines=lines, **values)


@transaction.atomic
def sync_order(
    *, by: User, channel: str, external_ref: str, lines: Iterable[dict], contact: Contact | None = None,
    company: Company | None = None, **fields,
) -> tuple[Order, bool]:
    """Create a shop's order, or bring the one with this (channel, order number) up to what the shop says.

    Idempotent: a re-posted or re-imported order updates the same row (its lines, totals, status as the
    shop reports it), never a second one. Returns (order, created). An existing order `by` may not change
    is refused on `external_ref`.
    """
    _require_writer(by)
    values = _clean_order_values(by, {"channel": channel, "external_ref": external_ref, **fields})
    if not values["external_ref"]:
        raise ValidationError({"external_ref": _("Give the shop's order number.")})
    _require_visible(by, Contact, contact, "contact")
    _require_visible(by, Company, company, "company")
    existing = (Order.objects.select_for_update()
                .filter(channel=values["channel"], external_ref=values["external_ref"]).first())
    if existing is None:
        try:
            with transaction.atomic():  # a concurrent post of the same order wins the insert: update it instead
                return _create(by=by, contact=contact, company=company, lines=lines, **values), True
        except IntegrityError:
            existing = Order.objects.select_for_update().filter(
                channel=values["channel"], external_ref=values["external_ref"]).first()
            if existing is None:
                raise
    if not policy.can_edit(by, existing):
        raise ValidationError({"external_ref": _("An order with this number already exists for this channel.")})
    currency = values.pop("currency", "") or existing.currency
    if currency != existing.currency and existing.invoices.exists():
        raise ValidationError({"currency": _("This order has invoices; its currency cannot change.")})
    built = clean_lines(lines, currency=currency, line_class=OrderLine, with_sku=True)
    if fields.get("ordered_at") in (None, ""):  # the shop did not say: the order keeps its date
        values.pop("ordered_at", None)
    for name, value in values.items():
        setattr(existing, name, value)
    existing.currency = currency
    if contact is not None:
        existing.contact = contact
    if company is not None or contact is not None:
        existing.company = company or existing.contact.company
    _totals(existing, built)
    existing.save()
    _set_lines(existing, built)
    return existing, False


@transaction.atomic
def update_order(*, by: User, order: Order, lines: Iterable[dict] | None = None, **fields) -> Order:
    """Change an order's note, shipping, tax or date, and (while it is pending) its lines; totals follow.

    Its status changes through `set_order_status`.
    """
    _require_edit(by, order)
    allowed = {"note", "shipping", "tax", "ordered_at"}
    unknown = set(fields) - allowed
    if unknown:
        raise TypeError(f"unknown order fields: {sorted(unknown)}")
    Order.objects.select_for_update().filter(pk=order.pk).values_list("pk").get()
    order.refresh_from_db()
    values = _clean_order_values(by, fields)
    for name, value in values.items():
        setattr(order, name, value)
    if lines is not None:
        if order.status != OrderStatus.PENDING:
            raise ValidationError({"lines": _("Only a pending order's lines can change.")})
        built = clean_lines(lines, currency=order.currency, line_class=OrderLine, with_sku=True)
        _set_lines(order, built)
    else:
        built = list(order.lines.all())
    _totals(order, built)
    order.save()
    return order


@transaction.atomic
def set_order_status(*, by: User, order: Order, status: str) -> Order:
    """Move an order along pending → paid → shipped → delivered (or cancelled / refunded).

    Cancelled and refunded are final; an order can be cancelled until it ships and refunded once paid.
    Setting the status it has changes nothing.
    """
    _require_edit(by, order)
    status = _clean_status(status)
    Order.objects.select_for_update().filter(pk=order.pk).values_list("pk").get()
    order.refresh_from_db()
    if status == order.status:
        return order
    if status not in ORDER_TRANSITIONS[order.status]:
        raise ValidationError({"status": _("A %(current)s order cannot become %(new)s.") % {
            "current": order.get_status_display().lower(), "new": OrderStatus(status).label.lower()}})
    order.status = status
    order.save(update_fields=["status", "updated_at"])
    return order


def allowed_statuses(order: Order) -> list[tuple[str, str]]:
    """(value, label) of the statuses this order may move to, for the status form."""
    return [(s.value, s.label) for s in OrderStatus if s in ORDER_TRANSITIONS[order.status]]


@transaction.atomic
def order_from_deal(*, by: User, deal: Deal, channel: str = OrderChannel.PHONE) -> Order:
    """The order of a won deal, in one click: its lines (or one line for its amount), its customer and currency.

    A deal has at most one order. The order goes to the deal's contact's owner as for any order.
    """
    _require_writer(by)
    if not policy.can_edit(by, deal):
        raise PermissionDenied(_("You cannot change this deal."))
    Deal.objects.select_for_update().filter(pk=deal.pk).values_list("pk").get()
    deal.refresh_from_db()
    if deal.won_at is None:
        raise ValidationError({"deal": _("Only a won deal becomes an order.")})
    if Order.objects.filter(deal=deal).exists():
        raise ValidationError({"deal": _("This deal already has its order.")})
    deal_lines = list(deal.lines.select_related("product"))
    if deal_lines:
        lines = [{"product": line.product, "sku": line.product.sku if line.product else "",
                  "description": line.description, "quantity": line.quantity, "unit_price": line.unit_price,
                  "discount": line.discount} for line in deal_lines]
    else:
        lines = [{"description": deal.title, "quantity": 1, "unit_price": deal.amount}]
    values = _clean_order_values(by, {"channel": channel, "status": OrderStatus.PENDING, "currency": deal.currency,
                                      "ordered_at": None})
    # The deal's customer was chosen by whoever could see it; the order follows the deal.
    order = _create(by=by, contact=deal.primary_contact, company=deal.company, lines=lines, deal=deal, **values)
    return order

"""Import orders from a CSV file: one row per line, grouped into orders by (channel, order number).

Columns (the first row names them; case and spaces do not matter): order_number (required), ordered_at,
channel, status, currency, shipping, tax, email, phone, first_name, last_name, sku, description, quantity,
unit_price, discount. An order's own fields come from the first row of the order that gives them.

Each order is written in its own transaction through `sales.orders.sync_order`, so re-importing a file
updates the same orders (never duplicates) and a refused order leaves the others imported. The buyer is
matched by email, then phone, among the contacts the importing user can see, and created through
`contacts.services` when unknown. Every refused row is reported with its row number and field; nothing
is dropped in silence.
"""

import csv
import io
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, time

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.translation import gettext as _

from contacts.models import Contact, ContactEmail, ContactPhone
from contacts.normalise import normalise_email, normalise_phone
from contacts.services import create_contact
from crm.models import Role, User
from sales.models import OrderChannel, OrderStatus
from sales.orders import clean_discount, clean_quantity, sync_order
from sales.services import clean_money

MAX_FILE_BYTES = 5 * 1024 * 1024
COLUMNS = ("order_number", "ordered_at", "channel", "status", "currency", "shipping", "tax", "email", "phone",
           "first_name", "last_name", "sku", "description", "quantity", "unit_price", "discount")
ORDER_COLUMNS = ("ordered_at", "channel", "status", "currency", "shipping", "tax", "email", "phone",
                 "first_name", "last_name")
ALIASES = {"order": "order_number", "order_no": "order_number", "order_id": "order_number", "number": "order_number",
           "date": "ordered_at", "order_date": "ordered_at", "price": "unit_price", "qty": "quantity",
           "item": "description", "product": "description"}


@dataclass
class Report:
    """What an import did, row by row where it matters (JSON-able through `as_dict`)."""

    rows: int = 0
    orders: int = 0
    created: int = 0
    updated: int = 0
    contacts_created: int = 0
    errors: list = field(default_factory=list)  # {"row", "field", "message"}: rows not imported
    warnings: list = field(default_factory=list)  # {"row", "field", "message"}: imported, with a caveat

    def error(self, row: int, column: str, message) -> None:
        self.errors.append({"row": row, "field": column, "message": str(message)})

    def warn(self, row: int, column: str, message) -> None:
        self.warnings.append({"row": row, "field": column, "message": str(message)})

    def as_dict(self) -> dict:
        return {"rows": self.rows, "orders": self.orders, "created": self.created, "updated": self.updated,
                "contacts_created": self.contacts_created,
                "errors": sorted(self.errors, key=lambda e: (e["row"], e["field"])),
                "warnings": sorted(self.warnings, key=lambda e: (e["row"], e["field"]))}


def _header(name: str) -> str:
    key = "_".join(str(name or "").strip().lower().replace("-", " ").split())
    return ALIASES.get(key, key)


def read_rows(data: bytes | str) -> tuple[list[str], list[tuple[int, dict]]]:
    """(columns, [(row number, {column: value})]) of a CSV file; row 1 is the header. ValidationError when unreadable."""
    if isinstance(data, bytes):
        try:
            data = data.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise ValidationError({"file": _("Save the file as CSV in UTF-8.")}) from None
    data = data.lstrip("\ufeff")
    try:
        dialect = csv.Sniffer().sniff(data[:4096], delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    reader = csv.reader(io.StringIO(data, newline=""), dialect)
    try:
        header = next(reader)
    except StopIteration:
        raise ValidationError({"file": _("The file is empty.")}) from None
    except csv.Error as exc:
        raise ValidationError({"file": _("The file is not a readable CSV: %(error)s") % {"error": exc}}) from None
    columns = [_header(h) for h in header]
    if "order_number" not in columns:
        raise ValidationError({"file": _("The file needs an order_number column.")})
    if "unit_price" not in columns:
        raise ValidationError({"file": _("The file needs a unit_price column.")})
    if "sku" not in columns and "description" not in columns:
        raise ValidationError({"file": _("The file needs a sku or a description column.")})
    rows = []
    try:
        for number, values in enumerate(reader, start=2):
            if not any(str(v).strip() for v in values):
                continue
            rows.append((number, {c: (values[i].strip() if i < len(values) else "") for i, c in enumerate(columns)
                                  if c in COLUMNS}))
    except csv.Error as exc:
        raise ValidationError({"file": _("The file is not a readable CSV: %(error)s") % {"error": exc}}) from None
    return columns, rows


def _parse_when(value: str):
    if not value:
        return None
    moment = parse_datetime(value.replace("/", "-"))
    if moment is None:
        day = parse_date(value.replace("/", "-"))
        if day is None:
            raise ValidationError(_("Enter a date such as 2026-03-15 or 2026-03-15 14:30."))
        moment = datetime.combine(day, time(12, 0))
    return timezone.make_aware(moment) if timezone.is_naive(moment) else moment


def _choice(value: str, choices, message):
    if not value:
        return None
    key = value.strip().lower()
    for choice in choices:
        if key in (choice.value, str(choice.label).lower()):
            return choice.value
    raise ValidationError(message)


class Importer:
    """One run of an import for one user; keeps the contacts it found or made so a file's orders share them."""

    def __init__(self, by: User, progress: Callable[[int, int], None] | None = None):
        self.by = by
        self.progress = progress
        self.report = Report()
        self.contacts: dict[str, Contact | None] = {}

    def run(self, data: bytes | str) -> Report:
        if not self.by.is_active or self.by.role == Role.SUPPORT_AGENT:
            raise PermissionDenied(_("Support agents cannot import orders."))
        _columns, rows = read_rows(data)
        self.report.rows = len(rows)
        groups: dict[tuple[str, str], list[tuple[int, dict]]] = {}
        for number, row in rows:
            if not row.get("order_number"):
                self.report.error(number, "order_number", _("Give the order number."))
                continue
            try:
                channel = _choice(row.get("channel", ""), OrderChannel, _("Use web, store, phone or marketplace.")) or (
                    OrderChannel.WEB)
            except ValidationError as exc:
                self.report.error(number, "channel", exc.messages[0])
                continue
            groups.setdefault((channel, row["order_number"]), []).append((number, row))
        self.report.orders = len(groups)
        for done, ((channel, ref), group) in enumerate(groups.items(), start=1):
            self.import_order(channel, ref, group)
            if self.progress:
                self.progress(done, len(groups))
        return self.report

    def import_order(self, channel: str, ref: str, group: list[tuple[int, dict]]) -> None:
        first_row = group[0][0]
        order_values = {c: next((row[c] for _n, row in group if row.get(c)), "") for c in ORDER_COLUMNS}
        where = {c: next((n for n, row in group if row.get(c)), first_row) for c in ORDER_COLUMNS}
        errors: list[tuple[int, str, str]] = []
        fields = {}
        for column, parse in (
            ("ordered_at", _parse_when),
            ("status", lambda v: _choice(v, OrderStatus, _("Use pending, paid, shipped, delivered, cancelled or refunded."))),
            ("shipping", lambda v: clean_money(v, field="shipping") if v else None),
            ("tax", lambda v: clean_money(v, field="tax") if v else None),
            ("currency", lambda v: v or ""),
        ):
            try:
                value = parse(order_values[column])
            except ValidationError as exc:
                errors.append((where[column], column, exc.messages[0]))
                continue
            if value not in (None, ""):
                fields[column] = value
        lines = []
        for number, row in group:
            line = {"sku": row.get("sku", ""), "description": row.get("description", "")}
            for column, clean in (("quantity", clean_quantity), ("discount", clean_discount),
                                  ("unit_price", lambda v: clean_money(v, field="unit_price"))):
                try:
                    line[column] = clean(row.get(column, "")) if column != "unit_price" or row.get(column) else None
                except ValidationError as exc:
                    errors.append((number, column, exc.messages[0]))
            if not line["sku"] and not line["description"]:
                errors.append((number, "description", _("Give a SKU or a description.")))
            lines.append(line)
        contact = None
        if not errors:
            try:
                contact = self.find_or_create_contact(order_values, where)
            except ValidationError as exc:
                for key, messages in exc.message_dict.items():
                    column = {"emails": "email", "phones": "phone"}.get(key, key)
                    errors.append((where.get(column, first_row), column, " ".join(messages)))
        if not errors:
            try:
                with transaction.atomic():
                    _order, created = sync_order(by=self.by, channel=channel, external_ref=ref, lines=lines,
                                                 contact=contact, **fields)
            except ValidationError as exc:
                errors.extend(self._service_errors(exc, group, where))
            except PermissionDenied as exc:
                errors.append((first_row, "order_number", str(exc) or _("You cannot change this order.")))
            else:
                if created:
                    self.report.created += 1
                else:
                    self.report.updated += 1
                return
        self._refuse(group, errors)

    def _service_errors(self, exc: ValidationError, group, where) -> list[tuple[int, str, str]]:
        out = []
        for key, messages in exc.message_dict.items():
            if key.startswith("lines."):
                index = int(key.split(".", 1)[1])
                out.append((group[index][0], "line", " ".join(messages)))
            elif key == "lines":
                out.append((group[0][0], "unit_price", " ".join(messages)))
            else:
                column = "order_number" if key == "external_ref" else key
                out.append((where.get(column, group[0][0]), column, " ".join(messages)))
        return out

    def _refuse(self, group, errors) -> None:
        """Report every row of a refused order: its own errors, or that its order was refused."""
        failed = set()
        for number, column, message in errors:
            self.report.error(number, column, message)
            failed.add(number)
        for number, _row in group:
            if number not in failed:
                self.report.error(number, "order_number", _("Not imported: another row of this order has errors."))

    def find_or_create_contact(self, values: dict, where: dict) -> Contact | None:
        """The buyer of an order (cached for the file's other orders); a hidden one becomes a warning."""
        keys = [f"{k}:{values[k].strip().lower()}" for k in ("email", "phone") if values[k]]
        for key in keys:
            if key in self.contacts:
                return self.contacts[key]
        contact, outcome = find_or_create_buyer(by=self.by, email=values["email"], phone=values["phone"],
                                                first_name=values["first_name"], last_name=values["last_name"])
        if outcome == "created":
            self.report.contacts_created += 1
        elif outcome == "hidden":
            column = "email" if values["email"] else "phone"
            self.report.warn(where[column], column, _("The buyer is a contact you cannot see; the order has no contact."))
        for key in keys:
            self.contacts[key] = contact
        return contact


def find_or_create_buyer(*, by: User, email: str = "", phone: str = "", first_name: str = "",
                         last_name: str = "") -> tuple[Contact | None, str]:
    """(contact, outcome) for a shop's buyer: a contact `by` sees with this email (else phone) is "found"; an
    unknown person is "created" through `contacts.services`; "hidden" when the email or phone belongs to a
    contact `by` cannot see (no contact); "none" when nothing names the buyer. Malformed email or phone is a
    ValidationError keyed `email` / `phone`.
    """
    errors = {}
    if email:
        try:
            email = normalise_email(email)
        except ValidationError as exc:
            errors["email"] = exc.messages
    if phone:
        try:
            phone = normalise_phone(phone)
        except ValidationError as exc:
            errors["phone"] = exc.messages
    if errors:
        raise ValidationError(errors)
    first_name, last_name = str(first_name or "").strip(), str(last_name or "").strip()
    if not (email or phone or first_name or last_name):
        return None, "none"
    visible = Contact.objects.visible_to(by)
    if email:
        contact = visible.filter(pk__in=ContactEmail.objects.filter(email=email).values("contact_id")).first()
        if contact is not None:
            return contact, "found"
    if phone:
        contact = visible.filter(pk__in=ContactPhone.objects.filter(number=phone).values("contact_id")).first()
        if contact is not None:
            return contact, "found"
    try:
        with transaction.atomic():
            contact = create_contact(by=by, first_name=first_name, last_name=last_name,
                                     emails=[email] if email else [], phones=[phone] if phone else [])
    except ValidationError as exc:
        if not any(getattr(e, "code", "") == "duplicate" for errs in exc.error_dict.values() for e in errs):
            raise
        return None, "hidden"
    return contact, "created"


def import_orders(*, by: User, data: bytes | str, progress: Callable[[int, int], None] | None = None) -> dict:
    """Import a CSV of order lines as `by`; returns the report (counts, errors and warnings by row and field)."""
    return Importer(by, progress).run(data).as_dict()

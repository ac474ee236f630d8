"""REST API for orders and invoices: (prefix, viewset, basename) rows that crm/urls.py registers.

Reads start from `visible_to`; writes go through `sales.orders` and `sales.invoices`. Orders are never
deleted (cancel or refund them) and invoices never deleted nor edited after creation (void them): their
numbers and history stay. The FilterSets here serve the list pages too.
"""

from django.db import transaction
from django.db.models import Prefetch
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django_filters import rest_framework as filters
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import exceptions, status
from rest_framework.decorators import action
from rest_framework.response import Response

from contacts.models import Company, Contact
from crm.api import OwnedViewSet
from crm.filters import ListFilterSet, SortFilter, active_people
from crm.models import Team
from crm.widgets import FastSelect
from sales import invoices, orders
from sales.models import Deal, Invoice, InvoiceStatus, Order, OrderChannel, OrderStatus, Payment
from sales.order_import import find_or_create_buyer
from sales.order_serializers import InvoiceSerializer, OrderSerializer, PaymentSerializer

# --- Filters ------------------------------------------------------------------------------------

#: sort key -> ORDER BY (the first is the default); served by the owned indexes and (team, -ordered_at, -id).
ORDER_SORTS = {
    "-ordered": ("-ordered_at", "-id"),
    "ordered": ("ordered_at", "id"),
    "-total": ("-total", "-id"),
    "total": ("total", "id"),
    "-created": ("-created_at", "-id"),
}
ORDER_SORT_LABELS = {
    "-ordered": gettext_lazy("Newest first"), "ordered": gettext_lazy("Oldest first"),
    "-total": gettext_lazy("Largest total first"), "total": gettext_lazy("Smallest total first"),
    "-created": gettext_lazy("Recently recorded"),
}
INVOICE_SORTS = {
    "-issued": ("-issued_on", "-id"),
    "issued": ("issued_on", "id"),
    "due": ("due_on", "id"),
    "-due": ("-due_on", "-id"),
    "-total": ("-total", "-id"),
    "total": ("total", "id"),
    "-created": ("-created_at", "-id"),
}
INVOICE_SORT_LABELS = {
    "-issued": gettext_lazy("Newest first"), "issued": gettext_lazy("Oldest first"),
    "due": gettext_lazy("Due soonest"), "-due": gettext_lazy("Due latest"),
    "-total": gettext_lazy("Largest total first"), "total": gettext_lazy("Smallest total first"),
    "-created": gettext_lazy("Recently recorded"),
}


class CustomerFilterSet(ListFilterSet):
    """Owner and team filters, and contact/company choices limited to what the user sees."""

    owner = filters.ModelChoiceFilter(queryset=active_people, label=gettext_lazy("Owner"), widget=FastSelect)
    team = filters.ModelChoiceFilter(queryset=Team.objects.order_by("name"), label=gettext_lazy("Team"), widget=FastSelect)
    contact = filters.ModelChoiceFilter(queryset=Contact.objects.none(), label=gettext_lazy("Contact"))
    company = filters.ModelChoiceFilter(queryset=Company.objects.none(), label=gettext_lazy("Company"))
    default_sort: tuple = ()

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.user is not None and self.user.is_authenticated:
            self.filters["company"].queryset = Company.objects.visible_to(self.user)
            self.filters["contact"].queryset = Contact.objects.visible_to(self.user)

    @property
    def qs(self):
        qs = super().qs
        if not self.form.cleaned_data.get("sort"):
            qs = qs.order_by(*self.default_sort)
        return qs


class OrderFilter(CustomerFilterSet):
    status = filters.ChoiceFilter(choices=OrderStatus.choices, label=gettext_lazy("Status"))
    channel = filters.ChoiceFilter(choices=OrderChannel.choices, label=gettext_lazy("Channel"))
    ordered_after = filters.DateFilter(field_name="ordered_at", lookup_expr="date__gte", label=gettext_lazy("Ordered from"))
    ordered_before = filters.DateFilter(field_name="ordered_at", lookup_expr="date__lte", label=gettext_lazy("Ordered until"))
    deal = filters.ModelChoiceFilter(queryset=Deal.objects.none(), label=gettext_lazy("Deal"))
    external_ref = filters.CharFilter(field_name="external_ref", label=gettext_lazy("Order number"))
    sort = SortFilter(sorts=ORDER_SORTS, labels=ORDER_SORT_LABELS)
    default_sort = ORDER_SORTS["-ordered"]

    class Meta:
        model = Order
        fields = ["status", "channel", "ordered_after", "ordered_before", "owner", "team", "contact", "company", "deal",
                  "external_ref"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.user is not None and self.user.is_authenticated:
            self.filters["deal"].queryset = Deal.objects.visible_to(self.user)


class InvoiceFilter(CustomerFilterSet):
    status = filters.ChoiceFilter(choices=InvoiceStatus.choices, label=gettext_lazy("Status"))
    issued_after = filters.DateFilter(field_name="issued_on", lookup_expr="gte", label=gettext_lazy("Issued from"))
    issued_before = filters.DateFilter(field_name="issued_on", lookup_expr="lte", label=gettext_lazy("Issued until"))
    due_before = filters.DateFilter(field_name="due_on", lookup_expr="lte", label=gettext_lazy("Due by"))
    deal = filters.ModelChoiceFilter(queryset=Deal.objects.none(), label=gettext_lazy("Deal"))
    order = filters.ModelChoiceFilter(queryset=Order.objects.none(), label=gettext_lazy("Order"))
    number = filters.CharFilter(field_name="number", lookup_expr="iexact", label=gettext_lazy("Number"))
    sort = SortFilter(sorts=INVOICE_SORTS, labels=INVOICE_SORT_LABELS)
    default_sort = INVOICE_SORTS["-issued"]

    class Meta:
        model = Invoice
        fields = ["status", "issued_after", "issued_before", "due_before", "owner", "team", "contact", "company", "deal",
                  "order", "number"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.user is not None and self.user.is_authenticated:
            self.filters["deal"].queryset = Deal.objects.visible_to(self.user)
            self.filters["order"].queryset = Order.objects.visible_to(self.user)


# --- Orders -------------------------------------------------------------------------------------


def _keys(sorts) -> str:
    return ", ".join(f"`{key}`" for key in sorts)


def buyer_for(by, customer: dict | None):
    """The contact a shop's `customer` object names (found among those `by` sees, or created); None for nobody."""
    if not customer:
        return None
    contact, outcome = find_or_create_buyer(by=by, **customer)
    if outcome == "hidden":
        raise exceptions.ValidationError({"customer": [_("This email or phone belongs to a contact you cannot see.")]})
    return contact


@extend_schema_view(list=extend_schema(description=(
    f"Orders you can see, newest first. Sort with `sort` ({_keys(ORDER_SORTS)}). `count` is exact up to 10,000 "
    "and estimated above (`count_is_exact`)."
)))
class OrderViewSet(OwnedViewSet):
    """Orders. POST with `external_ref` is idempotent per channel: a repeat updates the same order and answers 200.
    Orders are not deleted: cancel or refund them through `status`."""

    model = Order
    serializer_class = OrderSerializer
    filterset_class = OrderFilter
    filter_backends = [filters.DjangoFilterBackend]
    select_related = ("owner", "team", "contact", "company")
    http_method_names = ["get", "post", "put", "patch", "head", "options"]

    def get_queryset(self):
        return super().get_queryset().prefetch_related("lines")

    def reload(self, order):
        return self.get_queryset().get(pk=order.pk)

    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        lines = [dict(line) for line in data.pop("lines", [])]
        customer, contact = data.pop("customer", None), data.pop("contact", None)
        company = data.pop("company", None)
        with transaction.atomic():
            if contact is None:
                contact = buyer_for(request.user, customer)
            elif customer:
                raise exceptions.ValidationError({"customer": [_("Give a contact or a customer, not both.")]})
            if data.get("external_ref"):
                data.setdefault("channel", OrderChannel.WEB)
                order, created = orders.sync_order(by=request.user, contact=contact, company=company, lines=lines,
                                                   **data)
            else:
                order, created = orders.create_order(by=request.user, contact=contact, company=company, lines=lines,
                                                     **data), True
        code = status.HTTP_201_CREATED if created else status.HTTP_200_OK
        return Response(self.get_serializer(self.reload(order)).data, status=code)

    def update(self, request, *args, **kwargs):
        order = self.get_object()
        serializer = self.get_serializer(order, data=request.data, partial=kwargs.get("partial", False))
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        new_status = data.pop("status", None)
        lines = data.pop("lines", None)
        fixed = {"contact": order.contact, "company": order.company, "channel": order.channel,
                 "external_ref": order.external_ref, "currency": order.currency}
        changed = sorted(name for name in fixed if name in data and data[name] != fixed[name]
                         and not (name == "currency" and data[name] in ("", None)))
        if changed or "customer" in data:  # nothing a client sends is silently dropped
            message = _("This cannot change once the order is recorded.")
            raise exceptions.ValidationError({name: [message] for name in changed or ["customer"]})
        for name in [*fixed, "customer"]:
            data.pop(name, None)
        with transaction.atomic():
            if data or lines is not None:
                order = orders.update_order(by=request.user, order=order,
                                            lines=[dict(line) for line in lines] if lines is not None else None, **data)
            if new_status is not None:
                order = orders.set_order_status(by=request.user, order=order, status=new_status)
        return Response(self.get_serializer(self.reload(order)).data)


# --- Invoices -----------------------------------------------------------------------------------


@extend_schema_view(list=extend_schema(description=(
    f"Invoices you can see, newest first. Sort with `sort` ({_keys(INVOICE_SORTS)}). `count` is exact up to "
    "10,000 and estimated above (`count_is_exact`)."
)))
class InvoiceViewSet(OwnedViewSet):
    """Invoices. Created as drafts with the next number of their year; `send/`, `pay/` and `void/` move them
    on. They are never edited nor deleted afterwards: void one and issue another."""

    model = Invoice
    serializer_class = InvoiceSerializer
    filterset_class = InvoiceFilter
    filter_backends = [filters.DjangoFilterBackend]
    select_related = ("owner", "team", "contact", "company")
    http_method_names = ["get", "post", "head", "options"]

    def get_queryset(self):
        payments = Payment.objects.order_by("paid_on", "id")
        return super().get_queryset().prefetch_related("lines", Prefetch("payments", queryset=payments))

    def render(self, invoice, code=status.HTTP_200_OK):
        return Response(self.get_serializer(self.get_queryset().get(pk=invoice.pk)).data, status=code)

    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        if "lines" in data:
            data["lines"] = [dict(line) for line in data["lines"]]
        invoice = invoices.create_invoice(by=request.user, **data)
        return self.render(invoice, status.HTTP_201_CREATED)

    @extend_schema(request=None, responses=InvoiceSerializer, summary="Mark a draft invoice as sent")
    @action(detail=True, methods=["post"], filter_backends=[])
    def send(self, request, pk=None):
        return self.render(invoices.send_invoice(by=request.user, invoice=self.get_object()))

    @extend_schema(request=PaymentSerializer, responses=InvoiceSerializer,
                   summary="Record a payment (the invoice is paid when payments reach its total)")
    @action(detail=True, methods=["post"], filter_backends=[])
    def pay(self, request, pk=None):
        invoice = self.get_object()
        serializer = PaymentSerializer(data=request.data, context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        invoices.record_payment(by=request.user, invoice=invoice, **serializer.validated_data)
        return self.render(invoice)

    @extend_schema(request=None, responses=InvoiceSerializer, summary="Void an invoice without payments (its number stays)")
    @action(detail=True, methods=["post"], filter_backends=[])
    def void(self, request, pk=None):
        return self.render(invoices.void_invoice(by=request.user, invoice=self.get_object()))


ROUTES = [("orders", OrderViewSet, "order"), ("invoices", InvoiceViewSet, "invoice")]

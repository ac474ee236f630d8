"""Serializers of the order and invoice API: the JSON shape out, the form of the JSON in.

The rules of a write are `sales.orders`' and `sales.invoices`'; the viewsets of `sales.order_api` call them
with the validated data. Amounts go out as decimal strings ("1250.50"), never floats.
"""

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from contacts.models import Company, Contact
from crm import policy
from crm.api import VisibleRelatedField
from sales.models import (
    Deal,
    Invoice,
    InvoiceLine,
    InvoiceStatus,
    Order,
    OrderChannel,
    OrderLine,
    OrderStatus,
    Payment,
    PaymentMethod,
)
from sales.serializers import PricedLineSerializer, money


class OrderLineSerializer(PricedLineSerializer):
    sku = serializers.CharField(max_length=64, allow_blank=True, required=False,
                                help_text=_("The shop's SKU; a catalogue product with this SKU is linked."))

    class Meta:
        model = OrderLine
        fields = ["id", "product", "sku", "description", "quantity", "unit_price", "discount", "total"]


class InvoiceLineSerializer(PricedLineSerializer):
    class Meta:
        model = InvoiceLine
        fields = ["id", "product", "description", "quantity", "unit_price", "discount", "total"]


class CustomerSerializer(serializers.Serializer):
    """The buyer as a shop knows them: matched by email, then phone, among the contacts you see; created if new."""

    email = serializers.CharField(max_length=254, required=False, allow_blank=True)
    phone = serializers.CharField(max_length=40, required=False, allow_blank=True)
    first_name = serializers.CharField(max_length=100, required=False, allow_blank=True)
    last_name = serializers.CharField(max_length=100, required=False, allow_blank=True)


class OrderSerializer(serializers.ModelSerializer):
    """An order with its lines. On create give `contact` (an id) or `customer` (email/phone/name, for shops);
    with `external_ref` a repeated POST of the same (channel, order number) updates and returns that order (200).
    Its status changes through a PATCH of `status` (forward only: pending → paid → shipped → delivered, or
    cancelled / refunded)."""

    contact = VisibleRelatedField(queryset=Contact.objects.all(), allow_null=True, required=False)
    contact_name = serializers.CharField(source="contact.full_name", read_only=True, allow_null=True)
    customer = CustomerSerializer(write_only=True, required=False)
    company = VisibleRelatedField(queryset=Company.objects.all(), allow_null=True, required=False)
    company_name = serializers.CharField(source="company.name", read_only=True, allow_null=True)
    deal = serializers.PrimaryKeyRelatedField(read_only=True)
    status = serializers.ChoiceField(choices=OrderStatus.choices, required=False)
    channel = serializers.ChoiceField(choices=OrderChannel.choices, required=False)
    currency = serializers.CharField(max_length=3, required=False, allow_blank=True,
                                     help_text=_("Three letters; empty means the organisation's currency."))
    external_ref = serializers.CharField(max_length=64, required=False, allow_blank=True,
                                         help_text=_("The shop's order number, unique per channel."))
    subtotal = money(read_only=True)
    shipping = money(required=False)
    tax = money(required=False)
    total = money(read_only=True)
    lines = OrderLineSerializer(many=True, required=False)
    owner = serializers.PrimaryKeyRelatedField(read_only=True)
    owner_name = serializers.CharField(source="owner.full_name", read_only=True)
    team = serializers.PrimaryKeyRelatedField(read_only=True)
    can_edit = serializers.SerializerMethodField()

    class Meta:
        model = Order
        fields = ["id", "external_ref", "channel", "status", "ordered_at", "contact", "contact_name", "customer",
                  "company", "company_name", "deal", "currency", "lines", "subtotal", "shipping", "tax", "total", "note",
                  "owner", "owner_name", "team", "created_at", "updated_at", "can_edit"]
        read_only_fields = ["created_at", "updated_at"]
        validators = []  # the service refuses a taken order number, with its own message

    def get_can_edit(self, order) -> bool:
        return policy.can_edit(self.context["request"].user, order)


class PaymentSerializer(serializers.ModelSerializer):
    amount = money()
    method = serializers.ChoiceField(choices=PaymentMethod.choices, required=False, default=PaymentMethod.BANK)
    paid_on = serializers.DateField(required=False, allow_null=True)
    reference = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")

    class Meta:
        model = Payment
        fields = ["id", "amount", "paid_on", "method", "reference", "recorded_by", "created_at"]
        read_only_fields = ["recorded_by", "created_at"]


class InvoiceSerializer(serializers.ModelSerializer):
    """An invoice, numbered INV-<year>-<sequence> when created. From a `deal` or an `order` it takes their lines,
    customer and currency unless given; on its own it needs `lines`. `send/`, `pay/` and `void/` move it on."""

    deal = VisibleRelatedField(queryset=Deal.objects.all(), allow_null=True, required=False)
    order = VisibleRelatedField(queryset=Order.objects.all(), allow_null=True, required=False)
    contact = VisibleRelatedField(queryset=Contact.objects.all(), allow_null=True, required=False)
    contact_name = serializers.CharField(source="contact.full_name", read_only=True, allow_null=True)
    company = VisibleRelatedField(queryset=Company.objects.all(), allow_null=True, required=False)
    company_name = serializers.CharField(source="company.name", read_only=True, allow_null=True)
    status = serializers.ChoiceField(choices=InvoiceStatus.choices, read_only=True)
    currency = serializers.CharField(max_length=3, required=False, allow_blank=True)
    issued_on = serializers.DateField(required=False, allow_null=True)
    due_on = serializers.DateField(required=False, allow_null=True)
    subtotal = money(read_only=True)
    tax = money(required=False, allow_null=True)
    total = money(read_only=True)
    amount_paid = money(read_only=True)
    balance = money(read_only=True)
    lines = InvoiceLineSerializer(many=True, required=False)
    payments = PaymentSerializer(many=True, read_only=True)
    owner = serializers.PrimaryKeyRelatedField(read_only=True)
    team = serializers.PrimaryKeyRelatedField(read_only=True)
    can_edit = serializers.SerializerMethodField()

    class Meta:
        model = Invoice
        fields = ["id", "number", "status", "deal", "order", "contact", "contact_name", "company", "company_name",
                  "currency", "issued_on", "due_on", "lines", "subtotal", "tax", "total", "amount_paid", "balance",
                  "payments", "note", "sent_at", "paid_at", "voided_at", "owner", "team", "created_at", "updated_at",
                  "can_edit"]
        read_only_fields = ["number", "sent_at", "paid_at", "voided_at", "created_at", "updated_at"]

    @extend_schema_field(serializers.BooleanField())
    def get_can_edit(self, invoice) -> bool:
        return policy.can_edit(self.context["request"].user, invoice)

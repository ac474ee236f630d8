"""Serializers of the sales API: pipelines and stages, deals (their contacts and lines), products.

They shape the JSON out and check the form of the JSON in; the rules of a write are
`sales.services`', which the viewsets of `sales.api` call with the validated data.
Amounts are Decimal and go out as strings ("1250.50"), never floats.
"""

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from contacts.models import Company, Contact
from contacts.serializers import NameListField
from crm import policy
from crm.api import VisibleRelatedField
from crm.models import User
from sales.models import Campaign, Deal, DealContact, DealLine, Pipeline, Product, Stage


def money(**kwargs):
    """A Decimal amount with two decimals (its range and sign are the services' to check)."""
    return serializers.DecimalField(max_digits=14, decimal_places=2, **kwargs)


# --- Pipelines and stages -----------------------------------------------------------------------


class StageSerializer(serializers.ModelSerializer):
    """A column of a pipeline. The won and lost stages come with the pipeline; new stages are open ones."""

    pipeline = serializers.PrimaryKeyRelatedField(queryset=Pipeline.objects.all())
    probability = serializers.IntegerField(required=False, allow_null=True,
                                           help_text=_("Default win probability (%) of deals in this stage."))

    class Meta:
        model = Stage
        fields = ["id", "pipeline", "name", "position", "probability", "is_won", "is_lost", "archived_at", "created_at"]
        read_only_fields = ["position", "is_won", "is_lost", "archived_at", "created_at"]
        validators = []  # the service refuses a duplicate name, with its own message


class StageInputSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=80, allow_blank=True)
    probability = serializers.IntegerField(required=False, default=10)


class PipelineSerializer(serializers.ModelSerializer):
    """A pipeline with its active stages in order. On create, `open_stages` (in order) and the names of the
    won and lost stages; the stages change afterwards through `/stages/`."""

    stages = serializers.SerializerMethodField()
    open_stages = StageInputSerializer(many=True, write_only=True, required=False,
                                       help_text=_("On create: the open stages, in order."))
    won_name = serializers.CharField(write_only=True, required=False, allow_blank=True, max_length=80)
    lost_name = serializers.CharField(write_only=True, required=False, allow_blank=True, max_length=80)

    class Meta:
        model = Pipeline
        fields = ["id", "name", "is_default", "position", "archived_at", "created_at", "stages",
                  "open_stages", "won_name", "lost_name"]
        read_only_fields = ["position", "archived_at", "created_at"]
        validators = []
        extra_kwargs = {"name": {"validators": []}, "is_default": {"required": False, "validators": []}}

    @extend_schema_field(StageSerializer(many=True))
    def get_stages(self, pipeline):
        return StageSerializer(pipeline.active_stages, many=True, context=self.context).data


class ReorderStagesSerializer(serializers.Serializer):
    pipeline = serializers.PrimaryKeyRelatedField(queryset=Pipeline.objects.all())
    stage_ids = serializers.ListField(child=serializers.IntegerField(),
                                      help_text=_("Every active stage of the pipeline, once, in the new order."))


# --- Deals --------------------------------------------------------------------------------------


class DealContactSerializer(serializers.ModelSerializer):
    """Another person on the deal and their role in it (the primary contact is on the deal itself)."""

    contact_name = serializers.CharField(source="contact.full_name", read_only=True)

    class Meta:
        model = DealContact
        fields = ["contact", "contact_name", "role"]
        read_only_fields = fields


class PricedLineSerializer(serializers.ModelSerializer):
    """A line of a deal, order or invoice: a product (or a description), quantity, unit price (defaults to the
    product's), discount in %. `total` is quantity x price less the discount."""

    product = serializers.PrimaryKeyRelatedField(queryset=Product.objects.all(), allow_null=True, required=False)
    description = serializers.CharField(max_length=300, allow_blank=True, required=False)
    quantity = serializers.DecimalField(max_digits=12, decimal_places=3, required=False)
    unit_price = money(required=False, allow_null=True)
    discount = serializers.DecimalField(max_digits=5, decimal_places=2, required=False,
                                        help_text=_("Percentage off, 0 to 100."))
    total = money(read_only=True)


class DealLineSerializer(PricedLineSerializer):
    class Meta:
        model = DealLine
        fields = ["id", "product", "description", "quantity", "unit_price", "discount", "total"]


class DealSerializer(serializers.ModelSerializer):
    """A deal. Its stage changes through `move/` (or a changed `stage` on update); a changed `owner`
    transfers it; when it has `lines`, its amount is their sum and `lines` on write replaces them."""

    pipeline = serializers.PrimaryKeyRelatedField(queryset=Pipeline.objects.all())
    pipeline_name = serializers.CharField(source="pipeline.name", read_only=True)
    stage = serializers.PrimaryKeyRelatedField(
        queryset=Stage.objects.all(), required=False,
        help_text=_("On create: the pipeline's first open stage unless given."),
    )
    stage_name = serializers.CharField(source="stage.name", read_only=True)
    owner = serializers.PrimaryKeyRelatedField(
        queryset=User.objects.all(), required=False,
        help_text=_("Who owns the deal. On create: yourself unless you are a manager or admin; "
                    "on update, a different owner transfers the deal (and its team)."),
    )
    owner_name = serializers.CharField(source="owner.full_name", read_only=True)
    team = serializers.PrimaryKeyRelatedField(read_only=True)
    company = VisibleRelatedField(queryset=Company.objects.all(), allow_null=True, required=False)
    company_name = serializers.CharField(source="company.name", read_only=True, allow_null=True)
    primary_contact = VisibleRelatedField(queryset=Contact.objects.all(), allow_null=True, required=False)
    primary_contact_name = serializers.CharField(source="primary_contact.full_name", read_only=True, allow_null=True)
    amount = money(required=False, help_text=_("A decimal string such as \"1250.50\"; the sum of the lines when there are any."))
    currency = serializers.CharField(max_length=3, required=False, allow_blank=True,
                                     help_text=_("Three letters; empty means the organisation's currency."))
    probability = serializers.IntegerField(required=False, allow_null=True,
                                           help_text=_("Win probability (%); empty to use the stage's."))
    effective_probability = serializers.IntegerField(read_only=True)
    weighted_amount = money(read_only=True)
    lost_reason = serializers.CharField(max_length=300, required=False, allow_blank=True,
                                        help_text=_("Required when the deal is in (or moves to) a lost stage."))
    status = serializers.SerializerMethodField()
    contacts = DealContactSerializer(source="contact_links", many=True, read_only=True)
    lines = DealLineSerializer(many=True, required=False,
                               help_text=_("Line items; on write, the deal's lines become exactly these."))
    can_edit = serializers.SerializerMethodField()
    source_campaign = serializers.PrimaryKeyRelatedField(
        queryset=Campaign.objects.all(), required=False, allow_null=True,
        help_text=_("The campaign the deal came from (a campaign you can see); by default the primary contact's."))

    class Meta:
        model = Deal
        fields = ["id", "title", "pipeline", "pipeline_name", "stage", "stage_name", "status", "amount", "currency",
                  "probability", "effective_probability", "weighted_amount", "expected_close", "company", "company_name",
                  "primary_contact", "primary_contact_name", "contacts", "lines", "lost_reason", "won_at", "lost_at",
                  "closed_at", "source_campaign", "owner", "owner_name", "team", "created_at", "updated_at", "can_edit"]
        read_only_fields = ["won_at", "lost_at", "closed_at", "created_at", "updated_at"]

    def get_status(self, deal) -> str:
        return "won" if deal.won_at else "lost" if deal.lost_at else "open"

    def get_can_edit(self, deal) -> bool:
        return policy.can_edit(self.context["request"].user, deal)


class MoveDealSerializer(serializers.Serializer):
    stage = serializers.PrimaryKeyRelatedField(queryset=Stage.objects.all(), help_text=_("A stage of the deal's pipeline."))
    lost_reason = serializers.CharField(max_length=300, required=False, allow_blank=True, default="",
                                        help_text=_("Required when the stage is a lost one."))


# --- Products -----------------------------------------------------------------------------------


class ProductSerializer(serializers.ModelSerializer):
    """A catalogue product; its tags are the contacts' interest tags (by name)."""

    unit_price = money()
    currency = serializers.CharField(max_length=3, required=False, allow_blank=True,
                                     help_text=_("Three letters; empty means the organisation's currency."))
    tags = NameListField(attribute="name", child=serializers.CharField(max_length=60),
                         help_text=_("Tag names; on write, the product's tags become exactly these."))

    class Meta:
        model = Product
        fields = ["id", "sku", "name", "category", "unit_price", "currency", "active", "tags", "created_at", "updated_at"]
        read_only_fields = ["created_at", "updated_at"]
        validators = []  # the service refuses a taken SKU, with its own message

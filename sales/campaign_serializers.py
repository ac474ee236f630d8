"""Serializers of the campaign API: the campaign (with its read-only figures), its members, adding members.

They shape the JSON out and check its form in; the rules are `sales.campaigns`'. Amounts are strings.
"""

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from contacts.models import Tag
from crm import policy
from crm.models import SavedView
from sales.models import Campaign, CampaignMember, MemberStatus
from sales.serializers import money


class CampaignSerializer(serializers.ModelSerializer):
    """A campaign. The figures are read-only (definitions in the API description); only amounts in the
    campaign's currency count."""

    currency = serializers.CharField(max_length=3, required=False, allow_blank=True,
                                     help_text=_("Three letters; empty means the organisation's currency."))
    budget = money(required=False)
    actual_cost = money(required=False)
    target_tag = serializers.PrimaryKeyRelatedField(queryset=Tag.objects.all(), required=False, allow_null=True)
    target_view = serializers.PrimaryKeyRelatedField(queryset=SavedView.objects.all(), required=False, allow_null=True,
                                                     help_text=_("A saved contacts view you can see."))
    owner_name = serializers.CharField(source="owner.full_name", read_only=True)
    members_count = serializers.IntegerField(read_only=True, help_text=_("Contacts the campaign reached."))
    converted_count = serializers.IntegerField(read_only=True, help_text=_("Members with status converted."))
    leads = serializers.IntegerField(read_only=True, help_text=_("Members whose source (first touch) is this campaign."))
    deals_won = serializers.IntegerField(read_only=True, help_text=_("Won deals whose source campaign is this one."))
    won_amount = money(read_only=True)
    order_revenue = money(read_only=True)
    revenue = money(read_only=True, help_text=_("won_amount + revenue orders (not a deal's) of sourced contacts."))
    conversion_rate = serializers.FloatField(read_only=True, allow_null=True, help_text=_("converted / members."))
    cost_per_lead = money(read_only=True, allow_null=True, help_text=_("actual_cost / leads; null without leads."))
    roi = serializers.FloatField(read_only=True, allow_null=True,
                                 help_text=_("(revenue - actual_cost) / actual_cost; null when the cost is 0."))
    can_edit = serializers.SerializerMethodField()

    class Meta:
        model = Campaign
        fields = ["id", "name", "channel", "description", "currency", "budget", "actual_cost", "starts_on", "ends_on",
                  "target_tag", "target_view", "owner", "owner_name", "team", "created_at", "updated_at",
                  "members_count", "converted_count", "leads", "deals_won", "won_amount", "order_revenue", "revenue",
                  "conversion_rate", "cost_per_lead", "roi", "can_edit"]
        read_only_fields = ["owner", "team", "created_at", "updated_at"]

    def get_can_edit(self, campaign) -> bool:
        return policy.can_edit(self.context["request"].user, campaign)


class CampaignMemberSerializer(serializers.ModelSerializer):
    """A contact the campaign reached; `is_source`: the campaign is the contact's source (first touch)."""

    contact_name = serializers.CharField(source="contact.full_name", read_only=True)
    contact_email = serializers.CharField(source="contact.email", read_only=True)

    class Meta:
        model = CampaignMember
        fields = ["id", "contact", "contact_name", "contact_email", "status", "is_source", "added_at", "responded_at",
                  "converted_at"]
        read_only_fields = fields


class MemberStatusSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=MemberStatus.choices)


class AddMembersSerializer(serializers.Serializer):
    """Exactly one of: contact ids, a tag, a saved contacts view. Only contacts you can see are added."""

    contacts = serializers.ListField(child=serializers.IntegerField(), required=False, allow_empty=False)
    tag = serializers.PrimaryKeyRelatedField(queryset=Tag.objects.all(), required=False)
    saved_view = serializers.PrimaryKeyRelatedField(queryset=SavedView.objects.all(), required=False)

    def validate(self, attrs):
        if len(attrs) != 1:
            raise serializers.ValidationError(_("Give exactly one of contacts, tag or saved_view."))
        return attrs

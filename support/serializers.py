"""Serializers of the support API: the JSON shape out, and the form of the JSON in.

The rules of every write live in `support.services` (tickets, messages, canned replies) and `support.setup`
(queues, SLA policies); the viewsets of `support.api` call them with the validated data.
"""

from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from contacts.models import Contact, Tag
from crm.api import VisibleRelatedField
from crm.models import Team, User
from sales.models import Deal, Order
from support.configuration import can_change_canned_reply
from support.models import (
    AssignmentMode,
    Attachment,
    CannedReply,
    CsatResponse,
    MessageKind,
    Queue,
    SlaPolicy,
    SlaState,
    Ticket,
    TicketChannel,
    TicketMessage,
    TicketPriority,
    TicketStatus,
    TicketType,
)
from support.services import can_work

# --- Small shapes -------------------------------------------------------------------------------


class NamedSerializer(serializers.Serializer):
    """A related record as {id, name}."""

    id = serializers.IntegerField(read_only=True)
    name = serializers.CharField(read_only=True)


class PersonSerializer(serializers.Serializer):
    """A colleague as {id, name}."""

    id = serializers.IntegerField(read_only=True)
    name = serializers.CharField(source="full_name", read_only=True)


class ContactRefSerializer(serializers.Serializer):
    """The customer as {id, name}."""

    id = serializers.IntegerField(read_only=True)
    name = serializers.CharField(source="__str__", read_only=True)


# --- Queues -------------------------------------------------------------------------------------


class QueueSerializer(serializers.ModelSerializer):
    """A support queue of a team. Admins create and change queues; everyone else reads the ones they can see."""

    team = serializers.PrimaryKeyRelatedField(queryset=Team.objects.all())
    team_name = serializers.CharField(source="team.name", read_only=True)
    assignment_mode = serializers.ChoiceField(choices=AssignmentMode.choices, required=False)
    # Declared, so DRF adds no unique check of its own: the service hands the mark over from the previous default.
    is_default = serializers.BooleanField(required=False, help_text=_(
        "Web form and e-mail that name no queue land here; making a queue the default takes the mark from another."))

    class Meta:
        model = Queue
        fields = ["id", "name", "team", "team_name", "assignment_mode", "email", "is_default", "is_active",
                  "created_at", "updated_at"]
        read_only_fields = ["created_at", "updated_at"]
        validators = []  # the service says which constraint a queue breaks, keyed by field
        extra_kwargs = {"email": {"required": False}, "is_active": {"required": False}}


# --- SLA policies -------------------------------------------------------------------------------


class SlaPolicySerializer(serializers.ModelSerializer):
    """Targets in business minutes for one priority, optionally narrowed to a queue and/or a ticket type."""

    priority = serializers.ChoiceField(choices=TicketPriority.choices)
    ticket_type = serializers.ChoiceField(choices=[("", _("Any type")), *TicketType.choices], required=False,
                                          allow_blank=True, help_text=_("Empty: tickets of any type."))
    queue = serializers.PrimaryKeyRelatedField(queryset=Queue.objects.all(), required=False, allow_null=True,
                                               help_text=_("Empty: tickets of any queue."))

    class Meta:
        model = SlaPolicy
        fields = ["id", "name", "priority", "queue", "ticket_type", "first_response_minutes", "resolution_minutes",
                  "is_active", "created_at", "updated_at"]
        read_only_fields = ["created_at", "updated_at"]
        validators = []  # the service keys a broken constraint by field
        extra_kwargs = {"is_active": {"required": False}}


# --- Tickets ------------------------------------------------------------------------------------


class TicketSerializer(serializers.ModelSerializer):
    """A ticket as the API shows it (reads). Writes use `TicketCreateSerializer` and `TicketUpdateSerializer`."""

    contact = ContactRefSerializer(read_only=True)
    company = NamedSerializer(read_only=True, allow_null=True)
    queue = NamedSerializer(read_only=True)
    assignee = PersonSerializer(read_only=True, allow_null=True)
    tags = NamedSerializer(many=True, read_only=True)
    type = serializers.ChoiceField(choices=TicketType.choices, read_only=True)
    priority = serializers.ChoiceField(choices=TicketPriority.choices, read_only=True)
    status = serializers.ChoiceField(choices=TicketStatus.choices, read_only=True)
    channel = serializers.ChoiceField(choices=TicketChannel.choices, read_only=True)
    sla_state = serializers.ChoiceField(choices=SlaState.choices, read_only=True)
    csat = serializers.SerializerMethodField(help_text=_("The customer's rating (1–5), if they gave one."))
    can_work = serializers.SerializerMethodField(help_text=_("Whether you may change this ticket."))

    class Meta:
        model = Ticket
        fields = ["id", "number", "subject", "type", "priority", "status", "channel", "contact", "company", "order",
                  "deal", "queue", "team", "assignee", "tags", "sla_policy", "first_response_due", "resolution_due",
                  "sla_due_at", "sla_state", "first_responded_at", "solved_at", "closed_at", "reopened_count",
                  "merged_into", "last_activity_at", "created_at", "updated_at", "csat", "can_work"]
        read_only_fields = fields

    @extend_schema_field(serializers.IntegerField(allow_null=True))
    def get_csat(self, ticket) -> int | None:
        try:
            return ticket.csat.rating
        except CsatResponse.DoesNotExist:
            return None

    def get_can_work(self, ticket) -> bool:
        return can_work(self.context["request"].user, ticket)


class TicketCreateSerializer(serializers.Serializer):
    """A ticket typed in by an agent or sent by an integration (chat, social, API).

    Give the customer as `contact` (an id you can see) or as `email` / `phone` (and `name`): an existing contact
    with that address or number is used, otherwise one is created. `body` is the customer's first message.
    """

    contact = VisibleRelatedField(queryset=Contact.objects.all(), required=False, allow_null=True)
    email = serializers.CharField(max_length=254, required=False, allow_blank=True)
    phone = serializers.CharField(max_length=40, required=False, allow_blank=True)
    name = serializers.CharField(max_length=200, required=False, allow_blank=True)
    subject = serializers.CharField(max_length=250)
    body = serializers.CharField(required=False, allow_blank=True, default="",
                                 help_text=_("The customer's message, as plain text."))
    type = serializers.ChoiceField(choices=TicketType.choices, default=TicketType.INQUIRY)
    priority = serializers.ChoiceField(choices=TicketPriority.choices, default=TicketPriority.NORMAL)
    channel = serializers.ChoiceField(choices=TicketChannel.choices, default=TicketChannel.API)
    queue = VisibleRelatedField(queryset=Queue.objects.all(), required=False, allow_null=True,
                                help_text=_("Empty: the default queue."))
    assignee = serializers.PrimaryKeyRelatedField(queryset=User.objects.filter(is_active=True), required=False,
                                                  allow_null=True)
    order = VisibleRelatedField(queryset=Order.objects.all(), required=False, allow_null=True)
    deal = VisibleRelatedField(queryset=Deal.objects.all(), required=False, allow_null=True)
    tags = serializers.PrimaryKeyRelatedField(queryset=Tag.objects.all(), many=True, required=False)

    def validate(self, attrs):
        has_address = attrs.get("email") or attrs.get("phone")
        if attrs.get("contact") is not None and has_address:
            raise serializers.ValidationError({"contact": [_("Give a contact or an email/phone, not both.")]})
        if attrs.get("contact") is None and not has_address:
            raise serializers.ValidationError({"contact": [_("Give a contact, or the customer's email or phone.")]})
        return attrs


class TicketUpdateSerializer(serializers.Serializer):
    """The fields a PATCH changes: all in one step, or none when one of them is refused."""

    subject = serializers.CharField(max_length=250, required=False)
    type = serializers.ChoiceField(choices=TicketType.choices, required=False)
    priority = serializers.ChoiceField(choices=TicketPriority.choices, required=False)
    status = serializers.ChoiceField(choices=TicketStatus.choices, required=False)
    queue = VisibleRelatedField(queryset=Queue.objects.all(), required=False)
    assignee = serializers.PrimaryKeyRelatedField(queryset=User.objects.filter(is_active=True), required=False,
                                                  allow_null=True)
    order = VisibleRelatedField(queryset=Order.objects.all(), required=False, allow_null=True)
    deal = VisibleRelatedField(queryset=Deal.objects.all(), required=False, allow_null=True)
    tags = serializers.PrimaryKeyRelatedField(queryset=Tag.objects.all(), many=True, required=False)


class TicketMergeSerializer(serializers.Serializer):
    target = VisibleRelatedField(queryset=Ticket.objects.all(),
                                 help_text=_("The ticket this one is folded into (same customer)."))


# --- Messages -----------------------------------------------------------------------------------


class AttachmentSerializer(serializers.ModelSerializer):
    name = serializers.CharField(source="filename", read_only=True)
    url = serializers.SerializerMethodField(help_text=_("Where to download the file (same sign-in)."))

    class Meta:
        model = Attachment
        fields = ["id", "name", "size", "content_type", "url"]
        read_only_fields = fields

    def get_url(self, attachment) -> str:
        return reverse("ticket-attachment", kwargs={"pk": attachment.message.ticket_id,
                                                    "attachment_pk": attachment.pk})


class TicketMessageSerializer(serializers.ModelSerializer):
    """One message of a ticket's thread: the customer's, an agent's reply, or an internal note (`kind`)."""

    kind = serializers.ChoiceField(choices=MessageKind.choices, read_only=True)
    channel = serializers.ChoiceField(choices=TicketChannel.choices, read_only=True)
    author = PersonSerializer(read_only=True, allow_null=True)
    author_contact = ContactRefSerializer(read_only=True, allow_null=True)
    attachments = AttachmentSerializer(many=True, read_only=True)
    body_html = serializers.CharField(read_only=True, help_text=_("Sanitised HTML."))

    class Meta:
        model = TicketMessage
        fields = ["id", "ticket", "kind", "author", "author_contact", "channel", "body_html", "body_text",
                  "attachments", "created_at"]
        read_only_fields = fields


class TicketMessageCreateSerializer(serializers.Serializer):
    """A new message. `reply` (e-mailed to the customer) and `note` (internal) are an agent's; `customer` relays
    what the customer wrote on another channel (chat, social), as an integration does. Files go as multipart
    `attachments`."""

    kind = serializers.ChoiceField(choices=MessageKind.choices)
    body = serializers.CharField(required=False, allow_blank=True, default="",
                                 help_text=_("Markdown for replies and notes, plain text for customer messages."))
    channel = serializers.ChoiceField(choices=TicketChannel.choices, required=False,
                                      help_text=_("Customer messages only: where the customer wrote (default: api)."))
    status = serializers.ChoiceField(choices=TicketStatus.choices, required=False,
                                     help_text=_("Replies and notes only: move the ticket to this status too."))
    attachments = serializers.ListField(child=serializers.FileField(), required=False, default=list)

    def validate(self, attrs):
        customer = attrs["kind"] == MessageKind.CUSTOMER
        if customer and "status" in attrs:
            raise serializers.ValidationError({"status": [_("A customer message does not change the status.")]})
        if not customer and "channel" in attrs:
            raise serializers.ValidationError({"channel": [_("Replies and notes go out by e-mail; leave this out.")]})
        return attrs


# --- Canned replies -----------------------------------------------------------------------------


class CannedReplySerializer(serializers.ModelSerializer):
    """A reply an agent inserts with one click. Placeholders: {{ contact.first_name }}, {{ contact.full_name }},
    {{ ticket.number }}, {{ ticket.subject }}, {{ agent.first_name }}."""

    owner = PersonSerializer(read_only=True)
    shared = serializers.BooleanField(required=False, default=False)
    can_edit = serializers.SerializerMethodField()

    class Meta:
        model = CannedReply
        fields = ["id", "title", "body", "shared", "owner", "team", "can_edit", "created_at", "updated_at"]
        read_only_fields = ["team", "created_at", "updated_at"]

    def get_can_edit(self, reply) -> bool:
        return can_change_canned_reply(self.context["request"].user, reply)


class RenderQuerySerializer(serializers.Serializer):
    ticket = VisibleRelatedField(queryset=Ticket.objects.all(), help_text=_("The ticket the reply is for."))


class RenderedReplySerializer(serializers.Serializer):
    text = serializers.CharField(read_only=True)


# --- CSAT ---------------------------------------------------------------------------------------


class CsatTicketSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    number = serializers.IntegerField(read_only=True)
    subject = serializers.CharField(read_only=True)


class CsatResponseSerializer(serializers.ModelSerializer):
    ticket = CsatTicketSerializer(read_only=True)
    assignee = PersonSerializer(read_only=True, allow_null=True)

    class Meta:
        model = CsatResponse
        fields = ["id", "ticket", "rating", "comment", "team", "assignee", "created_at"]
        read_only_fields = fields


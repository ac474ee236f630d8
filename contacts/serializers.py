"""Serializers of the contacts API: companies, contacts (emails, phones, consent), the timeline, social profiles, tags.

They shape the JSON out and check the form of the JSON in; the rules of a write are
`contacts.services`', which the viewsets of `contacts.api` call with the validated data.
"""

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from contacts import services
from contacts.models import Company, Contact, Direction, Interaction, PhoneKind, Platform, SocialProfile, Tag
from contacts.normalise import display_phone
from crm import policy
from crm.api import VisibleRelatedField
from crm.models import User

# --- Fields shared by the serializers ---------------------------------------------------------


class NameListField(serializers.ListField):
    """A to-many relation shown as a list of one attribute (emails, tag names); written as a list of strings."""

    def __init__(self, *, attribute: str, **kwargs):
        self.attribute = attribute
        kwargs.setdefault("child", serializers.CharField(allow_blank=True, max_length=254))
        kwargs.setdefault("required", False)
        super().__init__(**kwargs)

    def to_representation(self, related):
        return [getattr(item, self.attribute) for item in related.all()]


class PhoneSerializer(serializers.Serializer):
    number = serializers.CharField(
        max_length=40, help_text=_("Any common form in (01712-345678, +880 1712 345678, Bengali digits); E.164 out.")
    )
    kind = serializers.ChoiceField(choices=PhoneKind.choices, default=PhoneKind.MOBILE)
    display = serializers.SerializerMethodField(help_text=_("The number as people write it."))

    def get_display(self, phone) -> str:
        return display_phone(phone.number)

    def validate(self, attrs):
        if "number" not in attrs:  # a PATCH skips missing fields, even inside a list
            raise serializers.ValidationError({"number": [_("Enter a phone number.")]})
        return attrs


class ChannelConsentSerializer(serializers.Serializer):
    opt_in = serializers.BooleanField()
    at = serializers.DateTimeField(read_only=True, allow_null=True, help_text=_("When the decision was recorded."))
    source = serializers.CharField(max_length=100, required=False, allow_blank=True,
                                   help_text=_("How consent was given or withdrawn."))


class ConsentSerializer(serializers.Serializer):
    """Consent per channel; written as `{"email": {"opt_in": true, "source": "web form"}}` (channels optional).

    A changed channel records when (`at`, read-only) and how (`source`); one sent back unchanged keeps its time.
    """

    email = ChannelConsentSerializer(required=False)
    sms = ChannelConsentSerializer(required=False)
    phone = ChannelConsentSerializer(required=False)

    def get_attribute(self, contact):
        return contact  # the state lives in the contact's `<channel>_opt_in*` columns

    def to_representation(self, contact):
        as_text = serializers.DateTimeField().to_representation
        out = {}
        for channel in services.CONSENT_CHANNELS:
            at = getattr(contact, f"{channel}_opt_in_at")
            out[channel] = {"opt_in": getattr(contact, f"{channel}_opt_in"), "at": as_text(at) if at else None,
                            "source": getattr(contact, f"{channel}_opt_in_source")}
        return out

    def to_internal_value(self, data):
        if isinstance(data, dict):
            unknown = sorted(set(data) - set(self.fields))
            if unknown:
                raise serializers.ValidationError(_("Unknown channel “%(channel)s”.") % {"channel": unknown[0]})
        values = super().to_internal_value(data)
        for channel, value in values.items():
            if "opt_in" not in value:  # a PATCH skips missing fields, even nested ones
                raise serializers.ValidationError(
                    _("Say whether the contact agrees to %(channel)s (opt_in).") % {"channel": channel}
                )
        return {channel: (value["opt_in"], value.get("source", "")) for channel, value in values.items()}


class OwnedSerializer(serializers.ModelSerializer):
    """Owner (writable: setting another owner on an update transfers the record), team, rights."""

    owner = serializers.PrimaryKeyRelatedField(
        queryset=User.objects.all(), required=False,
        help_text=_("Who owns the record. On create: yourself unless you are a manager or admin; "
                    "on update, a different owner transfers the record (and its team)."),
    )
    team = serializers.PrimaryKeyRelatedField(read_only=True)
    owner_name = serializers.CharField(source="owner.full_name", read_only=True)
    tags = NameListField(attribute="name", help_text=_("Tag names; on write, the record's tags become exactly these."))
    can_edit = serializers.SerializerMethodField()

    def get_can_edit(self, obj) -> bool:
        return policy.can_edit(self.context["request"].user, obj)


# --- Companies ----------------------------------------------------------------------------------


class CompanySerializer(OwnedSerializer):
    """A company; its `domain` comes from the website and is unique among companies outside the trash."""

    people_count = serializers.IntegerField(read_only=True, help_text=_("Contacts you can see at this company."))
    phone_display = serializers.SerializerMethodField()

    class Meta:
        model = Company
        fields = ["id", *services.COMPANY_FIELDS, "domain", "phone_display", "tags", "people_count",
                  "owner", "owner_name", "team", "created_at", "updated_at", "can_edit"]
        extra_kwargs = {"phone": {"help_text": _("Any common form in; stored and shown in E.164.")}}

    def get_phone_display(self, company) -> str:
        return display_phone(company.phone)


# --- Contacts -----------------------------------------------------------------------------------


class ContactSerializer(OwnedSerializer):
    """A contact with its emails, phones (E.164, any common form in), consent and tags."""

    emails = NameListField(
        attribute="email", help_text=_("Email addresses; the first is the primary one. On write, replaces the set."),
    )
    phones = PhoneSerializer(many=True, required=False,
                             help_text=_("Phone numbers; the first is the primary one. On write, replaces the set."))
    company = VisibleRelatedField(queryset=Company.objects.all(), allow_null=True, required=False)
    company_name = serializers.CharField(source="company.name", read_only=True, allow_null=True)
    consent = ConsentSerializer(required=False)
    allow_duplicate = serializers.BooleanField(
        write_only=True, default=False,
        help_text=_("Create or save even when another contact has one of these emails or phones."),
    )

    class Meta:
        model = Contact
        fields = ["id", "full_name", *services.CONTACT_FIELDS, "email", "phone", "emails", "phones", "company",
                  "company_name", "consent", "tags", "owner", "owner_name", "team", "last_interaction_at",
                  "score", "score_band", "score_change_7d", "created_at", "updated_at", "can_edit", "allow_duplicate"]

    def service_arguments(self) -> dict:
        """The validated input as keyword arguments of `create_contact`/`update_contact` (plus `owner`)."""
        data = dict(self.validated_data)
        if "phones" in data:
            data["phones"] = [(phone["number"], phone.get("kind", PhoneKind.MOBILE)) for phone in data["phones"]]
        return data


# --- The timeline -------------------------------------------------------------------------------


class InteractionSerializer(serializers.ModelSerializer):
    author_name = serializers.CharField(source="author.full_name", read_only=True, allow_null=True)
    contact_name = serializers.SerializerMethodField()

    class Meta:
        model = Interaction
        fields = ["id", "kind", "direction", "occurred_at", "subject", "body", "outcome", "author", "author_name",
                  "contact", "contact_name", "company", "link_type", "link_id", "link_label", "created_at"]
        read_only_fields = fields

    def get_contact_name(self, entry) -> str | None:
        return str(entry.contact) if entry.contact_id else None


class LogActivitySerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=[(kind.value, kind.label) for kind in services.LOGGABLE_KINDS])
    direction = serializers.ChoiceField(choices=Direction.choices, required=False, allow_blank=True, default="")
    occurred_at = serializers.DateTimeField(required=False, allow_null=True, default=None)
    subject = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    body = serializers.CharField(required=False, allow_blank=True, default="")
    outcome = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")


# --- Merging -----------------------------------------------------------------------------------


class MergeSerializer(serializers.Serializer):
    duplicate = VisibleRelatedField(queryset=Contact.objects.all(),
                                    help_text=_("The contact folded into this one (and then deleted)."))


# --- Social profiles ----------------------------------------------------------------------------


class SocialProfileSerializer(serializers.ModelSerializer):
    contact = VisibleRelatedField(queryset=Contact.objects.all())
    platform = serializers.ChoiceField(choices=Platform.choices)
    interests = serializers.ListField(
        child=serializers.CharField(max_length=60), write_only=True, required=False, default=list,
        help_text=_("Interests learned from the profile; they become the contact's tags, marked as social."),
    )

    class Meta:
        model = SocialProfile
        fields = ["id", "contact", "platform", "handle", "url", "followers", "created_at", "interests"]
        validators = []  # the service refuses a profile linked twice, with its own message


# --- Tags ---------------------------------------------------------------------------------------


class TagSerializer(serializers.ModelSerializer):
    class Meta:
        model = Tag
        fields = ["id", "name", "colour", "created_at"]


"""API of the contacts app: companies, contacts (with their timeline, merge and trash), social profiles, tags.

Viewsets parse input, call `contacts.services` and render; reads start from `visible_to`.
Lists sort with `?sort=` (the index-backed orders of `contacts.filters`); there is no `ordering`
or `search` parameter here: searching is `/api/v1/search/`.
"""

from django.db import transaction
from django.db.models import Count, IntegerField, OuterRef, Subquery, Value
from django.db.models.functions import Coalesce
from django.utils.translation import gettext_lazy as _
from django_filters import rest_framework as filters
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.generics import get_object_or_404
from rest_framework.response import Response

from contacts import services
from contacts.filters import COMPANY_SORTS, CONTACT_SORTS, CompanyFilter, ContactFilter
from contacts.models import (
    Company,
    Contact,
    Direction,
    Interaction,
    InteractionKind,
    PhoneKind,
    Platform,
    SocialProfile,
    Tag,
)
from contacts.normalise import display_phone
from crm import policy
from crm.api import OwnedViewSet, VisibleRelatedField
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
                  "created_at", "updated_at", "can_edit", "allow_duplicate"]

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


class InteractionFilter(filters.FilterSet):
    kind = filters.MultipleChoiceFilter(choices=InteractionKind.choices, label=_("Kind"))

    class Meta:
        model = Interaction
        fields = ["kind"]


_KIND_PARAMETER = OpenApiParameter(
    "kind", OpenApiTypes.STR, many=True, explode=True, enum=InteractionKind.values,
    description="Only entries of these kinds (repeat the parameter for several).",
)


class TimelineMixin:
    """`GET/POST <record>/interactions/`: the record's timeline, newest first, and logging an activity."""

    record_arg = None  # "contact" or "company": the keyword the services take the record by

    def timeline(self, record):
        raise NotImplementedError

    def _interactions(self, request):
        record = self.get_object()
        context = self.get_serializer_context()
        if request.method == "POST":
            serializer = LogActivitySerializer(data=request.data, context=context)
            serializer.is_valid(raise_exception=True)
            entry = services.log_activity(by=request.user, **{self.record_arg: record}, **serializer.validated_data)
            entry = Interaction.objects.select_related("author", "contact").get(pk=entry.pk)
            return Response(InteractionSerializer(entry, context=context).data, status=status.HTTP_201_CREATED)
        entries = InteractionFilter(request.query_params, queryset=self.timeline(record), request=request)
        if not entries.is_valid():
            raise serializers.ValidationError(entries.errors)
        page = self.paginate_queryset(entries.qs.select_related("author", "contact").order_by("-occurred_at", "-id"))
        return self.get_paginated_response(InteractionSerializer(page, many=True, context=context).data)


def timeline_schema(name: str):
    """The OpenAPI description of `<record>/interactions/` (GET the timeline, POST an activity)."""
    read = extend_schema(methods=["GET"], parameters=[_KIND_PARAMETER], responses=InteractionSerializer(many=True),
                         summary=f"The {name}'s timeline, newest first")
    write = extend_schema(methods=["POST"], request=LogActivitySerializer, responses={201: InteractionSerializer},
                          summary=f"Log a call, email, meeting, message or note on the {name}")
    return lambda view: read(write(view))


# --- Viewsets: companies and contacts -------------------------------------------------------------


def _list_schema(sorts: dict):
    keys = ", ".join(f"`{key}`" for key in sorts)
    return extend_schema(description=(
        f"Records you can see, newest first. Sort with `sort` ({keys}); there is no `ordering` or `search` "
        "parameter (search is `/api/v1/search/`). `count` is exact up to 10,000 and estimated above "
        "(`count_is_exact`)."
    ))


class RecordViewSet(TimelineMixin, OwnedViewSet):
    """Shared shape of contacts and companies: filters, soft delete, restore from the trash."""

    filter_backends = [filters.DjangoFilterBackend]
    select_related = ("owner", "team")
    #: the services for this model (staticmethods): create, update, transfer, delete, restore
    create_service = update_service = transfer_service = delete_service = restore_service = None
    #: actions that only need the record itself (no related rows for the serializer)
    plain_actions = ("interactions", "destroy", "update", "partial_update", "merge", "restore")

    def decorate(self, qs):
        """The related rows a serialized record needs, each loaded in one query for the whole page."""
        return qs.select_related(*self.select_related)

    def get_queryset(self):
        qs = super().get_queryset()
        return qs if self.action in self.plain_actions else self.decorate(qs)

    def reload(self, record):
        return self.decorate(self.model.all_objects.all()).get(pk=record.pk)

    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        record = self.create_service(by=request.user, **self.service_arguments(serializer))
        return Response(self.get_serializer(self.reload(record)).data, status=status.HTTP_201_CREATED)

    def update(self, request, *args, **kwargs):
        record = self.get_object()
        serializer = self.get_serializer(record, data=request.data, partial=kwargs.get("partial", False))
        serializer.is_valid(raise_exception=True)
        arguments = self.service_arguments(serializer)
        owner = arguments.pop("owner", None)
        name = self.record_arg
        with transaction.atomic():  # a refused transfer undoes the rest of the change
            if set(arguments) - {"allow_duplicate"}:
                record = self.update_service(by=request.user, **{name: record}, **arguments)
            if owner is not None and owner.pk != record.owner_id:
                record = self.transfer_service(by=request.user, **{name: record}, owner=owner)
        return Response(self.get_serializer(self.reload(record)).data)

    def destroy(self, request, *args, **kwargs):
        self.delete_service(by=request.user, **{self.record_arg: self.get_object()})
        return Response(status=status.HTTP_204_NO_CONTENT)

    def service_arguments(self, serializer) -> dict:
        return dict(serializer.validated_data)

    def _restore(self, request, pk):
        trashed = self.model.all_objects.visible_to(request.user).trashed()
        record = self.restore_service(by=request.user, **{self.record_arg: get_object_or_404(trashed, pk=pk)})
        return Response(self.get_serializer(self.reload(record)).data)


@extend_schema_view(list=_list_schema(COMPANY_SORTS))
class CompanyViewSet(RecordViewSet):
    """Companies. Deleting moves one to the trash (restorable for 30 days with `restore`)."""

    model = Company
    serializer_class = CompanySerializer
    filterset_class = CompanyFilter
    record_arg = "company"
    create_service = staticmethod(services.create_company)
    update_service = staticmethod(services.update_company)
    transfer_service = staticmethod(services.transfer_company)
    delete_service = staticmethod(services.delete_company)
    restore_service = staticmethod(services.restore_company)

    def people(self):
        """The contacts `people_count` counts: those the user can see."""
        return Contact.objects.visible_to(self.request.user).order_by()

    def decorate(self, qs):
        qs = super().decorate(qs).prefetch_related("tags")
        if self.action == "list":
            return qs  # counted per page in paginate_queryset, so the list's total does not pay for it
        people = self.people().filter(company=OuterRef("pk")).values("company").annotate(n=Count("pk")).values("n")
        return qs.annotate(people_count=Coalesce(Subquery(people, output_field=IntegerField()), Value(0)))

    def paginate_queryset(self, queryset):
        page = super().paginate_queryset(queryset)
        if page is not None:
            counts = dict(self.people().filter(company__in=[c.pk for c in page]).values_list("company")
                          .annotate(n=Count("pk")))
            for company in page:
                company.people_count = counts.get(company.pk, 0)
        return page

    def timeline(self, company):
        """Entries on the company and on its people (those the user can see)."""
        return Interaction.objects.visible_to(self.request.user).filter(company=company)

    @timeline_schema("company")
    @action(detail=True, methods=["get", "post"], filter_backends=[])
    def interactions(self, request, pk=None):
        return self._interactions(request)

    @extend_schema(request=None, responses=CompanySerializer, summary="Restore a company from the trash")
    @action(detail=True, methods=["post"], filter_backends=[])
    def restore(self, request, pk=None):
        return self._restore(request, pk)


class MergeSerializer(serializers.Serializer):
    duplicate = VisibleRelatedField(queryset=Contact.objects.all(),
                                    help_text=_("The contact folded into this one (and then deleted)."))


@extend_schema_view(list=_list_schema(CONTACT_SORTS))
class ContactViewSet(RecordViewSet):
    """Contacts. Deleting moves one to the trash (restorable for 30 days with `restore`)."""

    model = Contact
    serializer_class = ContactSerializer
    filterset_class = ContactFilter
    select_related = ("owner", "team", "company")
    record_arg = "contact"
    create_service = staticmethod(services.create_contact)
    update_service = staticmethod(services.update_contact)
    transfer_service = staticmethod(services.transfer_contact)
    delete_service = staticmethod(services.delete_contact)
    restore_service = staticmethod(services.restore_contact)

    def decorate(self, qs):
        return super().decorate(qs).prefetch_related("emails", "phones", "tags")

    def service_arguments(self, serializer) -> dict:
        return serializer.service_arguments()

    def timeline(self, contact):
        return Interaction.objects.filter(contact=contact)

    @timeline_schema("contact")
    @action(detail=True, methods=["get", "post"], filter_backends=[])
    def interactions(self, request, pk=None):
        return self._interactions(request)

    @extend_schema(request=MergeSerializer, responses=ContactSerializer,
                   summary="Merge a duplicate into this contact (managers and admins)")
    @action(detail=True, methods=["post"], filter_backends=[])
    def merge(self, request, pk=None):
        primary = self.get_object()
        serializer = MergeSerializer(data=request.data, context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        merged = services.merge_contacts(by=request.user, primary=primary, duplicate=serializer.validated_data["duplicate"])
        return Response(self.get_serializer(self.reload(merged)).data)

    @extend_schema(request=None, responses=ContactSerializer, summary="Restore a contact from the trash")
    @action(detail=True, methods=["post"], filter_backends=[])
    def restore(self, request, pk=None):
        return self._restore(request, pk)


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


class SocialProfileFilter(filters.FilterSet):
    contact = filters.NumberFilter(field_name="contact_id", label=_("Contact"))

    class Meta:
        model = SocialProfile
        fields = ["contact", "platform"]


class SocialProfileViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin,
                           mixins.DestroyModelMixin, viewsets.GenericViewSet):
    """Social profiles of the contacts you can see (`?contact=` for one contact's)."""

    serializer_class = SocialProfileSerializer
    filterset_class = SocialProfileFilter
    filter_backends = [filters.DjangoFilterBackend]

    def get_queryset(self):
        return SocialProfile.objects.visible_to(self.request.user).select_related("contact").order_by("-id")

    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        profile = services.add_social_profile(by=request.user, **serializer.validated_data)
        return Response(self.get_serializer(profile).data, status=status.HTTP_201_CREATED)

    def destroy(self, request, *args, **kwargs):
        services.remove_social_profile(by=request.user, profile=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)


# --- Tags ---------------------------------------------------------------------------------------


class TagSerializer(serializers.ModelSerializer):
    class Meta:
        model = Tag
        fields = ["id", "name", "colour", "created_at"]


class TagViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin,
                 mixins.UpdateModelMixin, viewsets.GenericViewSet):
    """The organisation's tags, by name. Everyone reads them; managers and admins create and change them."""

    serializer_class = TagSerializer
    queryset = Tag.objects.order_by("name", "id")
    filter_backends = []

    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        tag = services.save_tag(by=request.user, name=serializer.validated_data["name"],
                                colour=serializer.validated_data.get("colour", Tag._meta.get_field("colour").default))
        return Response(self.get_serializer(tag).data, status=status.HTTP_201_CREATED)

    def update(self, request, *args, **kwargs):
        tag = self.get_object()
        serializer = self.get_serializer(tag, data=request.data, partial=kwargs.get("partial", False))
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        tag = services.save_tag(by=request.user, tag=tag, name=data.get("name", tag.name),
                                colour=data.get("colour", tag.colour))
        return Response(self.get_serializer(tag).data)

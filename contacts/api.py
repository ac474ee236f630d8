"""API of the contacts app: companies, contacts (with their timeline, merge and trash), social profiles, tags.

Viewsets parse input (with the serializers of `contacts.serializers`), call `contacts.services` and
render; reads start from `visible_to`.
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
from contacts.models import Company, Contact, Interaction, InteractionKind, SocialProfile, Tag
from contacts.serializers import (
    CompanySerializer,
    ContactSerializer,
    InteractionSerializer,
    LogActivitySerializer,
    MergeSerializer,
    SocialProfileSerializer,
    TagSerializer,
)
from crm.api import OwnedViewSet

# --- The timeline -------------------------------------------------------------------------------


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

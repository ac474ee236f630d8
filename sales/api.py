"""API of the sales app: pipelines, stages, deals (with `move/`), products.

Viewsets parse input (with the serializers of `sales.serializers`), call `sales.services` and render;
deal reads start from `visible_to`. Pipelines, stages and products are organisation-wide: everyone
signed in reads them; admins change pipelines and stages, managers and admins the catalogue.
"""

from django.db import transaction
from django.db.models import Prefetch
from django.utils.translation import gettext as _
from django_filters import rest_framework as filters
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import exceptions, mixins, permissions, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from crm import policy
from crm.api import OwnedViewSet
from sales import services
from sales.filters import DEAL_SORTS, DealFilter
from sales.models import Deal, DealContact, Pipeline, Product, Stage
from sales.serializers import (
    DealSerializer,
    MoveDealSerializer,
    PipelineSerializer,
    ProductSerializer,
    ReorderStagesSerializer,
    StageSerializer,
)


class AdminWrites(permissions.BasePermission):
    """Everyone signed in reads; only admins write (pipelines and stages)."""

    def has_permission(self, request, view):
        return request.method in permissions.SAFE_METHODS or policy.is_admin(request.user)


class ArchivedFilter(filters.FilterSet):
    archived = filters.BooleanFilter(field_name="archived_at", lookup_expr="isnull", exclude=True,
                                     label="Archived (true) or active (false) only")


# --- Pipelines and stages -----------------------------------------------------------------------


class PipelineFilter(ArchivedFilter):
    class Meta:
        model = Pipeline
        fields = ["archived"]


class StageFilter(ArchivedFilter):
    class Meta:
        model = Stage
        fields = ["pipeline", "archived"]


class PipelineViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin,
                      mixins.UpdateModelMixin, viewsets.GenericViewSet):
    """Pipelines with their active stages, in order (`?archived=false` for the ones in use)."""

    serializer_class = PipelineSerializer
    permission_classes = [permissions.IsAuthenticated, AdminWrites]
    filter_backends = [filters.DjangoFilterBackend]
    filterset_class = PipelineFilter

    def get_queryset(self):
        active = Stage.objects.filter(archived_at__isnull=True).order_by("position")
        return Pipeline.objects.prefetch_related(Prefetch("stages", queryset=active, to_attr="active_stages")).order_by(
            "position", "id")

    def render(self, pipeline, code=status.HTTP_200_OK):
        return Response(self.get_serializer(self.get_queryset().get(pk=pipeline.pk)).data, status=code)

    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        pipeline = services.create_pipeline(
            by=request.user, name=data["name"], is_default=data.get("is_default", False),
            stages=[(s["name"], s.get("probability", 10)) for s in data.get("open_stages", [])],
            won_name=data.get("won_name", ""), lost_name=data.get("lost_name", ""),
        )
        return self.render(pipeline, status.HTTP_201_CREATED)

    def update(self, request, *args, **kwargs):
        pipeline = self.get_object()
        serializer = self.get_serializer(pipeline, data=request.data, partial=kwargs.get("partial", False))
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        stage_fields = sorted({"open_stages", "won_name", "lost_name"} & set(data))
        if stage_fields:  # nothing a client sends is silently dropped
            message = _("Change the stages of an existing pipeline through /api/v1/stages/.")
            raise exceptions.ValidationError({name: [message] for name in stage_fields})
        pipeline = services.update_pipeline(by=request.user, pipeline=pipeline, name=data.get("name"),
                                            is_default=data.get("is_default"))
        return self.render(pipeline)

    @extend_schema(request=None, responses=PipelineSerializer, summary="Archive a pipeline that has no open deal (admins)")
    @action(detail=True, methods=["post"], filter_backends=[])
    def archive(self, request, pk=None):
        return self.render(services.archive_pipeline(by=request.user, pipeline=self.get_object()))


class StageViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin,
                   mixins.UpdateModelMixin, viewsets.GenericViewSet):
    """Stages of the pipelines, in order (`?pipeline=` for one pipeline's). Stages are archived, never deleted."""

    serializer_class = StageSerializer
    permission_classes = [permissions.IsAuthenticated, AdminWrites]
    filter_backends = [filters.DjangoFilterBackend]
    filterset_class = StageFilter
    queryset = Stage.objects.order_by("pipeline__position", "pipeline_id", "position", "id")

    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        stage = services.save_stage(by=request.user, pipeline=data["pipeline"], name=data["name"],
                                    probability=data.get("probability"))
        return Response(self.get_serializer(stage).data, status=status.HTTP_201_CREATED)

    def update(self, request, *args, **kwargs):
        stage = self.get_object()
        serializer = self.get_serializer(stage, data=request.data, partial=kwargs.get("partial", False))
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        if "pipeline" in data and data["pipeline"].pk != stage.pipeline_id:
            raise exceptions.ValidationError({"pipeline": [_("A stage stays in its pipeline.")]})
        stage = services.save_stage(by=request.user, pipeline=stage.pipeline, stage=stage,
                                    name=data.get("name", stage.name), probability=data.get("probability"))
        return Response(self.get_serializer(stage).data)

    @extend_schema(request=None, responses=StageSerializer, summary="Archive a stage no deal is in (admins)")
    @action(detail=True, methods=["post"], filter_backends=[])
    def archive(self, request, pk=None):
        return Response(self.get_serializer(services.archive_stage(by=request.user, stage=self.get_object())).data)

    @extend_schema(request=ReorderStagesSerializer, responses=StageSerializer(many=True),
                   summary="Put a pipeline's active stages in a new order (admins)")
    @action(detail=False, methods=["post"], filter_backends=[], pagination_class=None)
    def reorder(self, request):
        serializer = ReorderStagesSerializer(data=request.data, context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        stages = services.reorder_stages(by=request.user, **serializer.validated_data)
        return Response(self.get_serializer(stages, many=True).data)


# --- Deals --------------------------------------------------------------------------------------


_SORT_KEYS = ", ".join(f"`{key}`" for key in DEAL_SORTS)


@extend_schema_view(list=extend_schema(description=(
    f"Deals you can see, newest first. Sort with `sort` ({_SORT_KEYS}). `count` is exact up to 10,000 "
    "and estimated above (`count_is_exact`)."
)))
class DealViewSet(OwnedViewSet):
    """Deals. `move/` changes the stage (a lost stage needs `lost_reason`); deleting one is for good."""

    model = Deal
    serializer_class = DealSerializer
    filterset_class = DealFilter
    filter_backends = [filters.DjangoFilterBackend]
    select_related = ("owner", "team", "pipeline", "stage", "company", "primary_contact")

    def get_queryset(self):
        links = DealContact.objects.select_related("contact").order_by("created_at", "id")
        return super().get_queryset().prefetch_related(Prefetch("contact_links", queryset=links), "lines")

    def reload(self, deal):
        return self.get_queryset().get(pk=deal.pk)

    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        lines = data.pop("lines", None)
        with transaction.atomic():
            deal = services.create_deal(by=request.user, **data)
            if lines:
                services.set_deal_lines(by=request.user, deal=deal, lines=lines)
        return Response(self.get_serializer(self.reload(deal)).data, status=status.HTTP_201_CREATED)

    def update(self, request, *args, **kwargs):
        deal = self.get_object()
        serializer = self.get_serializer(deal, data=request.data, partial=kwargs.get("partial", False))
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        pipeline, stage = data.pop("pipeline", None), data.pop("stage", None)
        lost_reason, lines, owner = data.pop("lost_reason", None), data.pop("lines", None), data.pop("owner", None)
        if pipeline is not None and pipeline.pk != deal.pipeline_id:
            raise exceptions.ValidationError({"pipeline": [_("A deal stays in its pipeline.")]})
        with transaction.atomic():  # a refused part undoes the rest of the change
            if lines is not None:
                services.set_deal_lines(by=request.user, deal=deal, lines=lines)
            if data:
                deal = services.update_deal(by=request.user, deal=deal, **data)
            moving = stage is not None and stage.pk != deal.stage_id
            if moving or (lost_reason is not None and lost_reason != deal.lost_reason):
                if not moving:
                    message = _("The lost reason is given when the deal moves to a lost stage.")
                    raise exceptions.ValidationError({"lost_reason": [message]})
                deal = services.move_deal(by=request.user, deal=deal, stage=stage, lost_reason=lost_reason or "")
            if owner is not None and owner.pk != deal.owner_id:
                deal = services.transfer_deal(by=request.user, deal=deal, owner=owner)
        return Response(self.get_serializer(self.reload(deal)).data)

    def destroy(self, request, *args, **kwargs):
        services.delete_deal(by=request.user, deal=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(request=MoveDealSerializer, responses=DealSerializer,
                   summary="Move a deal to another stage of its pipeline (a lost stage needs lost_reason)")
    @action(detail=True, methods=["post"], filter_backends=[])
    def move(self, request, pk=None):
        deal = self.get_object()
        serializer = MoveDealSerializer(data=request.data, context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        deal = services.move_deal(by=request.user, deal=deal, **serializer.validated_data)
        return Response(self.get_serializer(self.reload(deal)).data)


# --- Products -----------------------------------------------------------------------------------


class ProductFilter(filters.FilterSet):
    category = filters.CharFilter(field_name="category", lookup_expr="iexact", label="Category")

    class Meta:
        model = Product
        fields = ["active", "category"]


class ProductViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin,
                     mixins.UpdateModelMixin, viewsets.GenericViewSet):
    """The product catalogue, by name. Everyone reads it; managers and admins change it (products are
    deactivated, not deleted: deal lines point at them)."""

    serializer_class = ProductSerializer
    filter_backends = [filters.DjangoFilterBackend]
    filterset_class = ProductFilter
    queryset = Product.objects.prefetch_related("tags").order_by("name", "id")

    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        product = services.save_product(by=request.user, **serializer.validated_data)
        return Response(self.get_serializer(self.get_queryset().get(pk=product.pk)).data, status=status.HTTP_201_CREATED)

    def update(self, request, *args, **kwargs):
        product = self.get_object()
        serializer = self.get_serializer(product, data=request.data, partial=kwargs.get("partial", False))
        serializer.is_valid(raise_exception=True)
        product = services.save_product(by=request.user, product=product, **serializer.validated_data)
        return Response(self.get_serializer(self.get_queryset().get(pk=product.pk)).data)

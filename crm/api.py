"""The API shell: the visibility-scoped base viewset and the core endpoints (see crm.rest)."""

from django_filters import rest_framework as filters
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, serializers, status, viewsets
from rest_framework.response import Response

from crm import policy, services
from crm.models import SavedView, Team, User


class VisibleRelatedField(serializers.PrimaryKeyRelatedField):
    """A foreign key a client may only point at records it can see ("does not exist" otherwise)."""

    def get_queryset(self):
        request = self.context["request"]
        return super().get_queryset().visible_to(request.user)


class OwnedViewSet(viewsets.ModelViewSet):
    """Base viewset for owned records: reads start from `visible_to`, writes check the policy.

    Subclasses set `model`, `serializer_class` and the service calls (`perform_*`).
    """

    model = None
    select_related = ("owner", "team")

    def get_queryset(self):
        qs = self.model.objects.visible_to(self.request.user)
        if self.select_related:
            qs = qs.select_related(*self.select_related)
        return qs.order_by("-created_at", "-id")

    def get_object(self):
        obj = super().get_object()
        if self.request.method in ("PUT", "PATCH") and not policy.can_edit(self.request.user, obj):
            raise exceptions.PermissionDenied()
        if self.request.method == "DELETE" and not policy.can_delete(self.request.user, obj):
            raise exceptions.PermissionDenied()
        return obj


# --- Core endpoints ------------------------------------------------------------------------------


class UserSummarySerializer(serializers.ModelSerializer):
    class Meta:
        model = User
        fields = ["id", "full_name", "email", "role", "team", "is_active"]


class MeSerializer(serializers.ModelSerializer):
    managed_teams = serializers.SerializerMethodField()

    class Meta:
        model = User
        fields = ["id", "full_name", "email", "role", "team", "managed_teams", "language", "time_zone"]

    def get_managed_teams(self, user) -> list[int]:
        return sorted(user.managed_team_ids())


class TeamSerializer(serializers.ModelSerializer):
    class Meta:
        model = Team
        fields = ["id", "name", "kind"]


class MeViewSet(viewsets.ViewSet):
    @extend_schema(responses=MeSerializer)
    def list(self, request):
        return Response(MeSerializer(request.user).data)


class UserViewSet(viewsets.ReadOnlyModelViewSet):
    """Colleagues, for owner pickers and assignment (names and roles only)."""

    serializer_class = UserSummarySerializer
    queryset = User.objects.order_by("full_name", "id")
    filterset_fields = ["role", "team", "is_active"]
    search_fields = ["full_name", "email"]
    ordering_fields = ["full_name", "email"]


class TeamViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = TeamSerializer
    queryset = Team.objects.order_by("name")
    filterset_fields = ["kind"]


class SavedViewSerializer(serializers.ModelSerializer):
    owner = serializers.PrimaryKeyRelatedField(read_only=True)
    team = serializers.PrimaryKeyRelatedField(read_only=True)
    can_edit = serializers.SerializerMethodField()

    class Meta:
        model = SavedView
        fields = ["id", "name", "target", "query", "columns", "shared", "owner", "team", "created_at", "updated_at",
                  "can_edit"]
        read_only_fields = ["created_at", "updated_at"]

    def get_can_edit(self, view) -> bool:
        return policy.can_edit(self.context["request"].user, view)

    def validate_columns(self, value):
        if not isinstance(value, list) or not all(isinstance(c, str) for c in value):
            raise serializers.ValidationError("Give a list of column names.")
        return value


class SavedViewFilter(filters.FilterSet):
    class Meta:
        model = SavedView
        fields = ["target", "shared", "owner"]


class SavedViewViewSet(OwnedViewSet):
    model = SavedView
    serializer_class = SavedViewSerializer
    filterset_class = SavedViewFilter
    search_fields = ["name"]
    ordering_fields = ["name", "created_at", "updated_at"]

    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        view = services.create_saved_view(by=request.user, **serializer.validated_data)
        return Response(self.get_serializer(view).data, status=status.HTTP_201_CREATED)

    def update(self, request, *args, **kwargs):
        view = self.get_object()
        serializer = self.get_serializer(view, data=request.data, partial=kwargs.get("partial", False))
        serializer.is_valid(raise_exception=True)
        view = services.update_saved_view(by=request.user, view=view, **serializer.validated_data)
        return Response(self.get_serializer(view).data)

    def destroy(self, request, *args, **kwargs):
        services.delete_saved_view(by=request.user, view=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)



class ApiTokenScheme(OpenApiAuthenticationExtension):
    target_class = "crm.auth.ApiTokenAuthentication"
    name = "apiToken"

    def get_security_definition(self, auto_schema):
        return {"type": "apiKey", "in": "header", "name": "Authorization",
                "description": "Personal API token from your profile page: `Token smp_…`"}

"""REST API for notifications: (prefix, viewset, basename) rows that crm/urls.py registers.

A user reads only their own notifications; `read/` marks one read, `read-all/` every unread one.
"""

from django.utils.translation import gettext_lazy as _
from django_filters import rest_framework as filters
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import mixins, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from crm import notifications
from crm.models import Notification


class NotificationSerializer(serializers.ModelSerializer):
    is_read = serializers.SerializerMethodField()

    class Meta:
        model = Notification
        fields = ["id", "kind", "title", "body", "url", "created_at", "read_at", "is_read"]
        read_only_fields = fields

    def get_is_read(self, notification) -> bool:
        return notification.read_at is not None


class NotificationFilter(filters.FilterSet):
    unread = filters.BooleanFilter(field_name="read_at", lookup_expr="isnull", label=_("Unread (true) or read (false) only"))

    class Meta:
        model = Notification
        fields = ["unread", "kind"]


class NotificationViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Your notifications, newest first (`?unread=true` for the unread ones)."""

    serializer_class = NotificationSerializer
    filter_backends = [filters.DjangoFilterBackend]
    filterset_class = NotificationFilter

    def get_queryset(self):
        return Notification.objects.visible_to(self.request.user).order_by("-created_at", "-id")

    @extend_schema(request=None, responses=NotificationSerializer, summary="Mark a notification read")
    @action(detail=True, methods=["post"], filter_backends=[])
    def read(self, request, pk=None):
        notification = notifications.mark_read(user=request.user, notification=self.get_object())
        return Response(self.get_serializer(notification).data)

    @extend_schema(request=None, responses=inline_serializer("ReadAll", {"marked": serializers.IntegerField()}),
                   summary="Mark all your notifications read")
    @action(detail=False, methods=["post"], url_path="read-all", filter_backends=[], pagination_class=None)
    def read_all(self, request):
        return Response({"marked": notifications.mark_all_read(user=request.user)})


ROUTES = [("notifications", NotificationViewSet, "notification")]

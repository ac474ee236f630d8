"""REST API of the support desk: (prefix, viewset, basename) rows that crm/urls.py registers.

Reads start from `visible_to` (support agents: their queues' tickets and those assigned to them; sales reps: the
tickets of customers they can see, read-only; managers: their teams'). Writes go through `support.services` and
`support.configuration`. The API is also how chat and social integrations open tickets and relay what the
customer wrote (`channel` chat/social/api, messages of kind `customer`). Tickets are never deleted: they close.
"""

from django.core.validators import RegexValidator
from django.db import transaction
from django.db.models import Case, IntegerField, Q, Value, When
from django.http import FileResponse
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django_filters import rest_framework as filters
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import exceptions, mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from contacts.models import Contact
from crm.filters import ListFilterSet, SortFilter
from crm.models import Role, Team
from support import configuration, services
from support.models import (
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
from support.serializers import (
    CannedReplySerializer,
    CsatResponseSerializer,
    QueueSerializer,
    RenderedReplySerializer,
    RenderQuerySerializer,
    SlaPolicySerializer,
    TicketCreateSerializer,
    TicketMergeSerializer,
    TicketMessageCreateSerializer,
    TicketMessageSerializer,
    TicketSerializer,
    TicketUpdateSerializer,
)


def _keys(sorts) -> str:
    return ", ".join(f"`{key}`" for key in sorts)


def _check(serializer):
    """Validate; a field the endpoint does not take (or only shows) is an error, never silently dropped."""
    data = serializer.initial_data
    fields = serializer.fields
    unsettable = sorted(name for name in (data if isinstance(data, dict) else ())
                        if name not in fields or fields[name].read_only)
    if unsettable:
        raise exceptions.ValidationError({name: [_("This field cannot be set here.")] for name in unsettable})
    serializer.is_valid(raise_exception=True)
    return serializer


def _valid(serializer_class, view, data) -> dict:
    return dict(_check(serializer_class(data=data, context=view.get_serializer_context())).validated_data)


def _require_admin(user) -> None:
    if user.role != Role.ADMIN:
        raise exceptions.PermissionDenied(_("Only an admin can change the desk's set-up."))


# --- Queues -------------------------------------------------------------------------------------


class QueueFilter(filters.FilterSet):
    team = filters.ModelChoiceFilter(queryset=Team.objects.all(), label=gettext_lazy("Team"))
    is_active = filters.BooleanFilter(label=gettext_lazy("Active"))

    class Meta:
        model = Queue
        fields = ["team", "is_active"]


@extend_schema_view(list=extend_schema(description="Queues you can see: your team's and the teams you manage."))
class QueueViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin,
                   mixins.UpdateModelMixin, viewsets.GenericViewSet):
    """Support queues. Admins create and change them; a queue is closed (`is_active`), never deleted."""

    serializer_class = QueueSerializer
    filterset_class = QueueFilter
    filter_backends = [filters.DjangoFilterBackend]
    http_method_names = ["get", "post", "patch", "head", "options"]

    def get_queryset(self):
        return Queue.objects.visible_to(self.request.user).select_related("team").order_by("name", "id")

    def create(self, request, *args, **kwargs):
        _require_admin(request.user)
        serializer = self.get_serializer(data=request.data)
        _check(serializer)
        queue = configuration.save_queue(by=request.user, **serializer.validated_data)
        return Response(self.get_serializer(queue).data, status=status.HTTP_201_CREATED)

    def update(self, request, *args, **kwargs):
        queue = self.get_object()
        _require_admin(request.user)
        serializer = self.get_serializer(queue, data=request.data, partial=kwargs.get("partial", False))
        _check(serializer)
        fields = {name: getattr(queue, name) for name in ("name", "team", "assignment_mode", "email", "is_default",
                                                           "is_active")}
        queue = configuration.save_queue(by=request.user, queue=queue, **{**fields, **serializer.validated_data})
        return Response(self.get_serializer(queue).data)


# --- SLA policies -------------------------------------------------------------------------------


@extend_schema_view(list=extend_schema(description="Every SLA policy (targets in business minutes)."))
class SlaPolicyViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin,
                       mixins.UpdateModelMixin, viewsets.GenericViewSet):
    """SLA policies: every colleague reads them, admins write them. A policy is switched off (`is_active`), never
    deleted: tickets keep pointing at the one they were timed by."""

    serializer_class = SlaPolicySerializer
    filter_backends = [filters.DjangoFilterBackend]
    filterset_fields = ["priority", "queue", "ticket_type", "is_active"]
    http_method_names = ["get", "post", "patch", "head", "options"]

    def get_queryset(self):
        return SlaPolicy.objects.order_by("priority", "name", "id")

    def create(self, request, *args, **kwargs):
        _require_admin(request.user)
        serializer = self.get_serializer(data=request.data)
        _check(serializer)
        policy = configuration.save_sla_policy(by=request.user, **serializer.validated_data)
        return Response(self.get_serializer(policy).data, status=status.HTTP_201_CREATED)

    def update(self, request, *args, **kwargs):
        policy = self.get_object()
        _require_admin(request.user)
        serializer = self.get_serializer(policy, data=request.data, partial=kwargs.get("partial", False))
        _check(serializer)
        fields = {name: getattr(policy, name) for name in ("name", "priority", "queue", "ticket_type",
                                                            "first_response_minutes", "resolution_minutes", "is_active")}
        policy = configuration.save_sla_policy(by=request.user, policy=policy, **{**fields, **serializer.validated_data})
        return Response(self.get_serializer(policy).data)


# --- Tickets ------------------------------------------------------------------------------------

#: Priorities as numbers, so "most urgent first" is not alphabetical.
PRIORITY_RANK = Case(*(When(priority=value, then=Value(rank)) for rank, value in enumerate(TicketPriority.values)),
                     output_field=IntegerField())

#: sort key -> ORDER BY (the first is the default); the team/assignee indexes serve created and SLA due.
TICKET_SORTS = {
    "-created": ("-created_at", "-id"),
    "created": ("created_at", "id"),
    "sla_due": ("sla_due_at", "id"),
    "-sla_due": ("-sla_due_at", "-id"),
    "-last_activity": ("-last_activity_at", "-id"),
    "last_activity": ("last_activity_at", "id"),
    "-priority": (PRIORITY_RANK.desc(), "sla_due_at", "id"),
    "priority": (PRIORITY_RANK.asc(), "sla_due_at", "id"),
    "-number": ("-number",),
    "number": ("number",),
}
TICKET_SORT_LABELS = {
    "-created": gettext_lazy("Newest first"), "created": gettext_lazy("Oldest first"),
    "sla_due": gettext_lazy("SLA due soonest"), "-sla_due": gettext_lazy("SLA due latest"),
    "-last_activity": gettext_lazy("Recently active"), "last_activity": gettext_lazy("Least recently active"),
    "-priority": gettext_lazy("Most urgent first"), "priority": gettext_lazy("Least urgent first"),
    "-number": gettext_lazy("Highest number first"), "number": gettext_lazy("Lowest number first"),
}


class TicketFilter(ListFilterSet):
    status = filters.MultipleChoiceFilter(choices=TicketStatus.choices, label=gettext_lazy("Status"),
                                          help_text=gettext_lazy("Repeat for several: status=new&status=open."))
    priority = filters.ChoiceFilter(choices=TicketPriority.choices, label=gettext_lazy("Priority"))
    type = filters.ChoiceFilter(choices=TicketType.choices, label=gettext_lazy("Type"))
    channel = filters.ChoiceFilter(choices=TicketChannel.choices, label=gettext_lazy("Channel"))
    sla_state = filters.ChoiceFilter(choices=SlaState.choices, label=gettext_lazy("SLA"))
    queue = filters.ModelChoiceFilter(queryset=Queue.objects.none(), label=gettext_lazy("Queue"))
    contact = filters.ModelChoiceFilter(queryset=Contact.objects.none(), label=gettext_lazy("Contact"))
    assignee = filters.CharFilter(
        method="filter_assignee", label=gettext_lazy("Assignee"),
        help_text=gettext_lazy("A colleague's id, `me`, or `none` for unassigned tickets."),
        validators=[RegexValidator(r"^(me|none|\d+)$", gettext_lazy("Give an id, “me” or “none”."))])
    created_after = filters.IsoDateTimeFilter(field_name="created_at", lookup_expr="gte",
                                              label=gettext_lazy("Created from"))
    created_before = filters.IsoDateTimeFilter(field_name="created_at", lookup_expr="lt",
                                               label=gettext_lazy("Created before"))
    q = filters.CharFilter(method="filter_q", label=gettext_lazy("Number or subject"))
    sort = SortFilter(sorts=TICKET_SORTS, labels=TICKET_SORT_LABELS)

    class Meta:
        model = Ticket
        fields = ["status", "priority", "type", "channel", "sla_state", "queue", "contact", "assignee",
                  "created_after", "created_before", "q"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Only records the user can see are valid choices: an invisible id is "not a valid choice".
        if self.user is not None and self.user.is_authenticated:
            self.filters["queue"].queryset = Queue.objects.visible_to(self.user)
            self.filters["contact"].queryset = Contact.objects.visible_to(self.user)

    def filter_assignee(self, qs, name, value):
        if value == "me":
            return qs.filter(assignee_id=self.user.pk)
        if value == "none":
            return qs.filter(assignee__isnull=True)
        return qs.filter(assignee_id=int(value)) if value else qs

    def filter_q(self, qs, name, value):
        value = value.strip()
        number = value.lstrip("#")
        if number.isdigit():
            return qs.filter(Q(number=int(number)) | Q(subject__icontains=value))
        return qs.filter(subject__icontains=value) if value else qs

    @property
    def qs(self):
        qs = super().qs
        if not self.form.cleaned_data.get("sort"):
            qs = qs.order_by(*TICKET_SORTS["-created"])
        return qs


@extend_schema_view(
    list=extend_schema(description=(
        "Tickets you can see, newest first. Filter by `status` (repeatable), `priority`, `type`, `channel`, "
        "`queue`, `assignee` (an id, `me` or `none`), `contact`, `sla_state`, `created_after`/`created_before`, "
        f"`q` (number or subject); sort with `sort` ({_keys(TICKET_SORTS)}). `count` is exact up to 10,000 and "
        "estimated above (`count_is_exact`).")),
    create=extend_schema(request=TicketCreateSerializer, responses={201: TicketSerializer}),
    partial_update=extend_schema(request=TicketUpdateSerializer, responses=TicketSerializer),
)
class TicketViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Tickets. Agents, their managers and admins open and change them; sales reps read their customers' tickets.
    A PATCH changes fields, status and assignee in one step (all or nothing). Tickets are closed, never deleted."""

    serializer_class = TicketSerializer
    filterset_class = TicketFilter
    filter_backends = [filters.DjangoFilterBackend]
    http_method_names = ["get", "post", "patch", "head", "options"]

    def get_queryset(self):
        return (Ticket.objects.visible_to(self.request.user)
                .select_related("contact", "company", "queue", "assignee", "csat")
                .prefetch_related("tags").order_by(*TICKET_SORTS["-created"]))

    def reload(self, ticket):
        return self.get_queryset().get(pk=ticket.pk)

    def get_workable_object(self):
        """The ticket named in the URL (404 if invisible), 403 if the user may only read it."""
        ticket = self.get_object()
        if not services.can_work(self.request.user, ticket):
            raise exceptions.PermissionDenied(_("You can read this ticket but not change it."))
        return ticket

    def create(self, request, *args, **kwargs):
        if request.user.role == Role.SALES_REP:
            raise exceptions.PermissionDenied(_("Tickets are opened by the support desk."))
        data = _valid(TicketCreateSerializer, self, request.data)
        if data.get("queue") is None:
            queue = services.default_queue()
            if queue is None or not Queue.objects.visible_to(request.user).filter(pk=queue.pk).exists():
                raise exceptions.ValidationError({"queue": [_("Choose one of your queues.")]})
            data["queue"] = queue
        ticket = services.open_ticket(by=request.user, **data)
        return Response(self.get_serializer(self.reload(ticket)).data, status=status.HTTP_201_CREATED)

    def partial_update(self, request, *args, **kwargs):
        ticket = self.get_workable_object()
        data = _valid(TicketUpdateSerializer, self, request.data)
        new_status = data.pop("status", None)
        assign = "assignee" in data
        assignee = data.pop("assignee", None)
        tags = data.pop("tags", None)
        with transaction.atomic():
            if data or tags is not None:
                ticket = services.update_ticket(ticket=ticket, by=request.user, tags=tags, **data)
            if assign:
                ticket = services.assign_ticket(ticket=ticket, by=request.user, assignee=assignee)
            if new_status is not None:
                ticket = services.change_status(ticket=ticket, by=request.user, status=new_status)
        return Response(self.get_serializer(self.reload(ticket)).data)

    @extend_schema(request=TicketMergeSerializer, responses=TicketSerializer,
                   summary="Merge this ticket into another of the same customer (this one closes)")
    @action(detail=True, methods=["post"], filter_backends=[])
    def merge(self, request, pk=None):
        source = self.get_workable_object()
        serializer = TicketMergeSerializer(data=request.data, context=self.get_serializer_context())
        _check(serializer)
        target = services.merge_tickets(by=request.user, source=source, target=serializer.validated_data["target"])
        return Response(self.get_serializer(self.reload(target)).data)

    @extend_schema(responses={(200, "application/octet-stream"): OpenApiTypes.BINARY},
                   parameters=[OpenApiParameter("attachment_pk", OpenApiTypes.INT, OpenApiParameter.PATH)],
                   summary="Download a file attached to one of the ticket's messages")
    @action(detail=True, methods=["get"], url_path=r"attachments/(?P<attachment_pk>[0-9]+)", url_name="attachment",
            filter_backends=[], pagination_class=None)
    def attachment(self, request, pk=None, attachment_pk=None):
        attachment = get_object_or_404(Attachment, pk=attachment_pk, message__ticket=self.get_object())
        return FileResponse(attachment.file.open("rb"), as_attachment=True, filename=attachment.filename,
                            content_type=attachment.content_type)


# --- Messages -----------------------------------------------------------------------------------

_TICKET_PK = OpenApiParameter("id", OpenApiTypes.INT, OpenApiParameter.PATH, description="The ticket's id.")


@extend_schema_view(
    list=extend_schema(parameters=[_TICKET_PK], description=(
        "The ticket's conversation, oldest first: customer messages, replies and internal notes (`kind`).")),
    create=extend_schema(parameters=[_TICKET_PK], request={
        "application/json": TicketMessageCreateSerializer, "multipart/form-data": TicketMessageCreateSerializer},
        responses={201: TicketMessageSerializer}),
)
class TicketMessageViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    """Messages of one ticket (`tickets/{pk}/messages/`: `pk` is the ticket's id, so the route is checked like
    the ticket's own). `reply` and `note` are an agent's; `customer` relays what the customer wrote elsewhere."""

    serializer_class = TicketMessageSerializer
    filter_backends = []

    def ticket(self) -> Ticket:
        if not hasattr(self, "_ticket"):
            self._ticket = get_object_or_404(Ticket.objects.visible_to(self.request.user), pk=self.kwargs["pk"])
        return self._ticket

    def get_queryset(self):
        return (TicketMessage.objects.filter(ticket=self.ticket())
                .select_related("author", "author_contact").prefetch_related("attachments")
                .order_by("created_at", "id"))

    def create(self, request, *args, **kwargs):
        ticket = self.ticket()
        if not services.can_work(request.user, ticket):
            raise exceptions.PermissionDenied(_("You can read this ticket but not change it."))
        data = _valid(TicketMessageCreateSerializer, self, request.data)
        if data["kind"] == MessageKind.CUSTOMER:
            message = services.add_customer_message(ticket=ticket, body=data["body"], attachments=data["attachments"],
                                                    channel=data.get("channel", TicketChannel.API))
        else:
            message = services.add_reply(ticket=ticket, by=request.user, body=data["body"],
                                         internal=data["kind"] == MessageKind.NOTE, attachments=data["attachments"],
                                         status=data.get("status"))
        message = self.get_queryset().get(pk=message.pk)
        return Response(self.get_serializer(message).data, status=status.HTTP_201_CREATED)


# --- Canned replies -----------------------------------------------------------------------------


@extend_schema_view(list=extend_schema(description="Your canned replies and those shared with your team, by title."))
class CannedReplyViewSet(viewsets.ModelViewSet):
    """Canned replies. Yours to change; a shared one only its owner, the team's manager or an admin changes.
    `render/?ticket=<id>` fills the placeholders for a ticket."""

    serializer_class = CannedReplySerializer
    filter_backends = []
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]

    def get_queryset(self):
        return CannedReply.objects.visible_to(self.request.user).select_related("owner").order_by("title", "id")

    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        _check(serializer)
        reply = services.save_canned_reply(by=request.user, **serializer.validated_data)
        return Response(self.get_serializer(reply).data, status=status.HTTP_201_CREATED)

    def partial_update(self, request, *args, **kwargs):
        reply = self.get_object()
        serializer = self.get_serializer(reply, data=request.data, partial=True)
        _check(serializer)
        fields = {"title": reply.title, "body": reply.body, "shared": reply.shared, **serializer.validated_data}
        reply = services.save_canned_reply(by=request.user, reply=reply, **fields)
        return Response(self.get_serializer(reply).data)

    def destroy(self, request, *args, **kwargs):
        services.delete_canned_reply(by=request.user, reply=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(parameters=[RenderQuerySerializer], responses=RenderedReplySerializer,
                   summary="The reply's text with the placeholders filled in for a ticket")
    @action(detail=True, methods=["get"], filter_backends=[], pagination_class=None)
    def render(self, request, pk=None):
        reply = self.get_object()
        query = RenderQuerySerializer(data=request.query_params, context=self.get_serializer_context())
        query.is_valid(raise_exception=True)
        ticket = query.validated_data["ticket"]
        return Response({"text": services.render_canned_reply(reply, ticket=ticket, agent=request.user)})


# --- CSAT ---------------------------------------------------------------------------------------


class CsatFilter(filters.FilterSet):
    team = filters.ModelChoiceFilter(queryset=Team.objects.all(), label=gettext_lazy("Team"))
    rating = filters.NumberFilter(label=gettext_lazy("Rating"))
    ticket = filters.NumberFilter(field_name="ticket_id", label=gettext_lazy("Ticket"))
    created_after = filters.IsoDateTimeFilter(field_name="created_at", lookup_expr="gte",
                                              label=gettext_lazy("Answered from"))
    created_before = filters.IsoDateTimeFilter(field_name="created_at", lookup_expr="lt",
                                               label=gettext_lazy("Answered before"))

    class Meta:
        model = CsatResponse
        fields = ["team", "rating", "ticket", "created_after", "created_before"]


@extend_schema_view(list=extend_schema(description="Customers' ratings of the tickets you can see, newest first."))
class CsatViewSet(viewsets.ReadOnlyModelViewSet):
    """CSAT answers (read-only: customers give them on the ticket's public page)."""

    serializer_class = CsatResponseSerializer
    filterset_class = CsatFilter
    filter_backends = [filters.DjangoFilterBackend]

    def get_queryset(self):
        return (CsatResponse.objects.visible_to(self.request.user).select_related("ticket", "assignee")
                .order_by("-created_at", "-id"))


ROUTES = [
    ("queues", QueueViewSet, "queue"),
    ("sla-policies", SlaPolicyViewSet, "slapolicy"),
    ("tickets", TicketViewSet, "ticket"),
    (r"tickets/(?P<pk>[0-9]+)/messages", TicketMessageViewSet, "ticket-message"),
    ("canned-replies", CannedReplyViewSet, "cannedreply"),
    ("csat", CsatViewSet, "csat"),
]

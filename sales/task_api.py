"""REST API for tasks: (prefix, viewset, basename) rows that crm/urls.py registers.

Reads start from `visible_to`; writes go through `sales.task_services`. `owner` is the assignee.
"""

from django.db import transaction
from django.utils.translation import gettext_lazy as _
from django_filters import rest_framework as filters
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import serializers, status
from rest_framework.decorators import action
from rest_framework.response import Response

from contacts.models import Company, Contact
from crm.api import OwnedViewSet, VisibleRelatedField
from crm.filters import ListFilterSet, SortFilter, active_people
from crm.models import User
from crm.widgets import FastSelect
from sales import task_services as services
from sales.models import Deal, Task, TaskKind, TaskPriority

#: sort key -> ORDER BY; what `sort` accepts (the first is the default).
TASK_SORTS = {
    "due": ("due_at", "id"),
    "-due": ("-due_at", "-id"),
    "-created": ("-created_at", "-id"),
    "created": ("created_at", "id"),
    "-priority": ("-priority", "due_at", "id"),
}
TASK_SORT_LABELS = {
    "due": _("Due soonest"), "-due": _("Due latest"), "-created": _("Newest first"), "created": _("Oldest first"),
    "-priority": _("Most urgent first"),
}


class TaskFilter(ListFilterSet):
    owner = filters.ModelChoiceFilter(queryset=active_people, label=_("Assignee"), widget=FastSelect)
    assignee = filters.ModelChoiceFilter(field_name="owner", queryset=active_people, label=_("Assignee"),
                                         widget=FastSelect)
    done = filters.BooleanFilter(field_name="done_at", lookup_expr="isnull", exclude=True,
                                 label=_("Done (true) or open (false) only"))
    due_after = filters.IsoDateTimeFilter(field_name="due_at", lookup_expr="gte", label=_("Due from"))
    due_before = filters.IsoDateTimeFilter(field_name="due_at", lookup_expr="lt", label=_("Due before"))
    kind = filters.ChoiceFilter(choices=TaskKind.choices, label=_("Kind"))
    priority = filters.TypedChoiceFilter(choices=TaskPriority.choices, coerce=int, label=_("Priority"))
    contact = filters.ModelChoiceFilter(queryset=Contact.objects.none(), label=_("Contact"))
    company = filters.ModelChoiceFilter(queryset=Company.objects.none(), label=_("Company"))
    deal = filters.ModelChoiceFilter(queryset=Deal.objects.none(), label=_("Deal"))
    sort = SortFilter(sorts=TASK_SORTS, labels=TASK_SORT_LABELS)

    class Meta:
        model = Task
        fields = ["owner", "assignee", "done", "due_after", "due_before", "kind", "priority", "contact", "company",
                  "deal"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Only records the user can see are valid choices: an invisible id is "not a valid choice".
        if self.user is not None and self.user.is_authenticated:
            self.filters["contact"].queryset = Contact.objects.visible_to(self.user)
            self.filters["company"].queryset = Company.objects.visible_to(self.user)
            self.filters["deal"].queryset = Deal.objects.visible_to(self.user)

    @property
    def qs(self):
        qs = super().qs
        if not self.form.cleaned_data.get("sort"):
            qs = qs.order_by(*TASK_SORTS["due"])
        return qs


class TaskSerializer(serializers.ModelSerializer):
    """A task; `owner` is the assignee (yourself when left out). `remind_at` defaults to `due_at`."""

    owner = serializers.PrimaryKeyRelatedField(queryset=User.objects.filter(is_active=True), required=False,
                                               help_text=_("The assignee; yourself when left out."))
    owner_name = serializers.CharField(source="owner.full_name", read_only=True)
    contact = VisibleRelatedField(queryset=Contact.objects.all(), required=False, allow_null=True)
    company = VisibleRelatedField(queryset=Company.objects.all(), required=False, allow_null=True)
    deal = VisibleRelatedField(queryset=Deal.objects.all(), required=False, allow_null=True)
    ticket = serializers.IntegerField(source="ticket_id", read_only=True)
    done = serializers.BooleanField(source="is_done", read_only=True)
    is_overdue = serializers.BooleanField(read_only=True)

    class Meta:
        model = Task
        fields = ["id", "title", "kind", "priority", "due_at", "remind_at", "reminded_at", "done", "done_at",
                  "is_overdue", "note", "owner", "owner_name", "team", "contact", "company", "deal", "ticket",
                  "created_at", "updated_at"]
        read_only_fields = ["team", "reminded_at", "done_at", "created_at", "updated_at"]
        extra_kwargs = {"remind_at": {"required": False, "allow_null": True}, "note": {"required": False}}


@extend_schema_view(list=extend_schema(description=(
    "Tasks you can see, soonest due first. Filter by `owner` (or `assignee`), `done`, `due_after`/`due_before`, "
    "`kind`, `priority`, `contact`, `company`, `deal`; sort with `sort` (" + ", ".join(f"`{k}`" for k in TASK_SORTS)
    + "). `complete/` and `reopen/` change the done flag."
)))
class TaskViewSet(OwnedViewSet):
    """Tasks. The assignee is `owner`; giving a task to someone follows the same rules as records."""

    model = Task
    serializer_class = TaskSerializer
    filterset_class = TaskFilter
    filter_backends = [filters.DjangoFilterBackend]
    select_related = ("owner", "team")

    def reload(self, task):
        return self.get_queryset().get(pk=task.pk)

    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        task = services.create_task(by=request.user, **serializer.validated_data)
        return Response(self.get_serializer(self.reload(task)).data, status=status.HTTP_201_CREATED)

    def update(self, request, *args, **kwargs):
        task = self.get_object()
        serializer = self.get_serializer(task, data=request.data, partial=kwargs.get("partial", False))
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        owner = data.pop("owner", None)
        with transaction.atomic():
            task = services.update_task(by=request.user, task=task, owner=owner, **data)
        return Response(self.get_serializer(self.reload(task)).data)

    def destroy(self, request, *args, **kwargs):
        services.delete_task(by=request.user, task=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(request=None, responses=TaskSerializer, summary="Mark a task done")
    @action(detail=True, methods=["post"], filter_backends=[])
    def complete(self, request, pk=None):
        return Response(self.get_serializer(services.complete_task(by=request.user, task=self.get_object())).data)

    @extend_schema(request=None, responses=TaskSerializer, summary="Mark a done task open again")
    @action(detail=True, methods=["post"], filter_backends=[])
    def reopen(self, request, pk=None):
        return Response(self.get_serializer(services.reopen_task(by=request.user, task=self.get_object())).data)


ROUTES = [("tasks", TaskViewSet, "task")]

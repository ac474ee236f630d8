"""The ticket filters of the inbox (and the API, which may use the same FilterSet).

Fields: `status`, `priority`, `type`, `channel` (choices of the ticket model), `queue` (a queue id),
`assignee` (a user id, or "none" for unassigned), `q` (a ticket number, "123" or "#123", or words of the
subject) and `sort` (`sla_due_at`: SLA due soonest, the default, no-SLA tickets last; `-created_at`: newest
first; `-last_activity_at`: latest activity first; `priority`: most urgent first). The filtering itself is
`support.selectors.filter_tickets`, so the inbox and the API filter alike. Pass `user=` (or `request=`).
"""

from django.utils.translation import gettext_lazy as _
from django_filters import rest_framework as filters

from crm.filters import ListFilterSet
from crm.models import Role, User
from support.models import Queue, Ticket, TicketChannel, TicketPriority, TicketStatus, TicketType
from support.selectors import INBOX_SORTS, filter_tickets, served_team_ids

SORT_LABELS = {"sla_due_at": _("SLA due soonest"), "-created_at": _("Newest first"),
               "-last_activity_at": _("Latest activity first"), "priority": _("Most urgent first")}


class TicketFilter(ListFilterSet):
    status = filters.ChoiceFilter(choices=TicketStatus.choices, label=_("Status"), method="noop",
                                  empty_label=_("Any open status"))
    priority = filters.ChoiceFilter(choices=TicketPriority.choices, label=_("Priority"), method="noop",
                                    empty_label=_("Any"))
    type = filters.ChoiceFilter(choices=TicketType.choices, label=_("Type"), method="noop", empty_label=_("Any"))
    channel = filters.ChoiceFilter(choices=TicketChannel.choices, label=_("Channel"), method="noop",
                                   empty_label=_("Any"))
    queue = filters.ModelChoiceFilter(queryset=Queue.objects.order_by("name"), label=_("Queue"), method="noop",
                                      empty_label=_("Any"))
    assignee = filters.ChoiceFilter(choices=[], label=_("Assignee"), method="noop", empty_label=_("Anyone"))
    q = filters.CharFilter(label=_("Number or subject"), method="noop")
    sort = filters.ChoiceFilter(choices=list(SORT_LABELS.items()), label=_("Sort"), empty_label=None, method="noop")

    class Meta:
        model = Ticket
        fields = ["status", "priority", "type", "channel", "queue", "assignee", "q", "sort"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.filters["assignee"].extra["choices"] = self.assignee_choices

    def assignee_choices(self):
        """"Unassigned", then the agents and managers of the user's teams (everyone's for admins and reps)."""
        people = User.objects.filter(is_active=True, role__in=[Role.SUPPORT_AGENT, Role.MANAGER])
        teams = served_team_ids(self.user) if self.user is not None and self.user.is_authenticated else None
        if teams:
            people = people.filter(team_id__in=teams)
        return [("none", _("Unassigned")),
                *((str(pk), name or email) for pk, name, email in people.order_by("full_name", "id").values_list(
                    "pk", "full_name", "email"))]

    def noop(self, queryset, name, value):
        return queryset

    def filter_queryset(self, queryset):
        """All filters at once through the selector; then the chosen order."""
        data = {k: v for k, v in self.form.cleaned_data.items() if k != "sort"}
        queryset = filter_tickets(queryset, **data)
        return queryset.order_by(*INBOX_SORTS[self.form.cleaned_data.get("sort") or "sla_due_at"])

"""Forms of the support admin pages: they parse input only; the rules are in `support.configuration`."""

from zoneinfo import available_timezones

from django import forms
from django.utils.translation import gettext_lazy as _

from crm.models import Team, TeamKind
from support.models import AssignmentMode, Queue, TicketPriority, TicketType

#: Python weekday numbers in the order a Bangladeshi week is read (Sunday first).
WEEKDAYS = [
    (6, _("Sunday")), (0, _("Monday")), (1, _("Tuesday")), (2, _("Wednesday")), (3, _("Thursday")),
    (4, _("Friday")), (5, _("Saturday")),
]


def _time_input():
    return forms.TimeInput(attrs={"type": "time"}, format="%H:%M")


class SupportSettingsForm(forms.Form):
    time_zone = forms.ChoiceField(label=_("Time zone"))
    working_days = forms.TypedMultipleChoiceField(
        label=_("Working days"), choices=WEEKDAYS, coerce=int, widget=forms.CheckboxSelectMultiple,
        error_messages={"required": _("Choose at least one working day.")})
    day_starts = forms.TimeField(label=_("Day starts"), widget=_time_input())
    day_ends = forms.TimeField(label=_("Day ends"), widget=_time_input())
    auto_close_days = forms.IntegerField(
        label=_("Close solved tickets after (days)"), min_value=1, max_value=90,
        help_text=_("A solved ticket the customer does not answer within this many days is closed."))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["time_zone"].choices = [(name, name) for name in sorted(available_timezones())]

    @classmethod
    def for_settings(cls, settings, data=None):
        return cls(data, initial={"time_zone": settings.time_zone, "working_days": settings.working_days,
                                  "day_starts": settings.day_starts, "day_ends": settings.day_ends,
                                  "auto_close_days": settings.auto_close_days})


class HolidayForm(forms.Form):
    date = forms.DateField(label=_("Date"), widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"))
    name = forms.CharField(label=_("Name"), max_length=100)


class QueueForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=100)
    team = forms.ModelChoiceField(label=_("Team"), queryset=Team.objects.none(),
                                  help_text=_("The support team whose agents work this queue."))
    assignment_mode = forms.ChoiceField(label=_("Assignment"), choices=AssignmentMode.choices)
    email = forms.EmailField(label=_("Inbound e-mail address"), required=False,
                             help_text=_("Mail customers send to this address lands in this queue."))
    is_default = forms.BooleanField(label=_("Default queue"), required=False,
                                    help_text=_("Web form and e-mail that name no queue land here."))
    is_active = forms.BooleanField(label=_("Active"), required=False, initial=True)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["team"].queryset = Team.objects.filter(kind=TeamKind.SUPPORT).order_by("name")

    @classmethod
    def for_queue(cls, queue: Queue, data=None, **kwargs):
        return cls(data, initial={"name": queue.name, "team": queue.team_id, "assignment_mode": queue.assignment_mode,
                                  "email": queue.email, "is_default": queue.is_default,
                                  "is_active": queue.is_active}, **kwargs)


class SlaPolicyForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=100)
    priority = forms.ChoiceField(label=_("Priority"), choices=TicketPriority.choices)
    queue = forms.ModelChoiceField(label=_("Queue"), queryset=Queue.objects.none(), required=False,
                                   empty_label=_("Any queue"))
    ticket_type = forms.ChoiceField(label=_("Ticket type"), required=False,
                                    choices=[("", _("Any type")), *TicketType.choices])
    first_response_minutes = forms.IntegerField(
        label=_("First response within (business minutes)"), min_value=1,
        help_text=_("Counted in working hours only, e.g. 240 for four working hours."))
    resolution_minutes = forms.IntegerField(label=_("Resolution within (business minutes)"), min_value=1)
    is_active = forms.BooleanField(label=_("Active"), required=False, initial=True)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["queue"].queryset = Queue.objects.select_related(None).order_by("name")

    @classmethod
    def for_policy(cls, policy, data=None, **kwargs):
        return cls(data, initial={
            "name": policy.name, "priority": policy.priority, "queue": policy.queue_id,
            "ticket_type": policy.ticket_type, "first_response_minutes": policy.first_response_minutes,
            "resolution_minutes": policy.resolution_minutes, "is_active": policy.is_active}, **kwargs)

"""Forms of the task pages: parse input only; the rules live in `sales.task_services`.

Date-times are read in the active time zone (the user's, on a page).
"""

from django import forms
from django.utils.translation import gettext_lazy as _

from contacts.models import Company, Contact
from crm.models import User
from crm.widgets import FastSelect
from sales.models import Deal, TaskKind, TaskPriority


class LocalDateTimeInput(forms.DateTimeInput):
    input_type = "datetime-local"

    def __init__(self, attrs=None):
        super().__init__(attrs, format="%Y-%m-%dT%H:%M")


class QuickTaskForm(forms.Form):
    """The quick-add line of a tasks panel: what, when, which kind (prefixed: it shares a record page with others)."""

    prefix = "task"

    title = forms.CharField(label=_("Task"), max_length=200)
    due_at = forms.DateTimeField(label=_("Due"), widget=LocalDateTimeInput())
    kind = forms.ChoiceField(label=_("Kind"), choices=TaskKind.choices, initial=TaskKind.TODO)


class TaskForm(forms.Form):
    """A whole task. The linked contact, company and deal come from where it was created (hidden here)."""

    title = forms.CharField(label=_("Task"), max_length=200)
    kind = forms.ChoiceField(label=_("Kind"), choices=TaskKind.choices, initial=TaskKind.TODO)
    priority = forms.TypedChoiceField(label=_("Priority"), choices=TaskPriority.choices, coerce=int,
                                      initial=TaskPriority.NORMAL)
    due_at = forms.DateTimeField(label=_("Due"), widget=LocalDateTimeInput())
    remind_at = forms.DateTimeField(label=_("Remind me at"), required=False, widget=LocalDateTimeInput(),
                                    help_text=_("Leave empty to be reminded at the due time."))
    owner = forms.ModelChoiceField(label=_("Assignee"), queryset=User.objects.none(), required=False,
                                   empty_label=_("Me"), widget=FastSelect)
    note = forms.CharField(label=_("Note"), required=False, widget=forms.Textarea(attrs={"rows": 3}))
    contact = forms.ModelChoiceField(queryset=Contact.objects.none(), required=False, widget=forms.HiddenInput)
    company = forms.ModelChoiceField(queryset=Company.objects.none(), required=False, widget=forms.HiddenInput)
    deal = forms.ModelChoiceField(queryset=Deal.objects.none(), required=False, widget=forms.HiddenInput)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = User.objects.filter(is_active=True).order_by("full_name", "id")
        # Only records the user can see are valid links: another team's id is "not a valid choice".
        self.fields["contact"].queryset = Contact.objects.visible_to(user)
        self.fields["company"].queryset = Company.objects.visible_to(user)
        self.fields["deal"].queryset = Deal.objects.visible_to(user)


class AssigneeFilterForm(forms.Form):
    """My tasks: whose open tasks to show (managers look at their people's)."""

    assignee = forms.ModelChoiceField(label=_("Assignee"), queryset=User.objects.none(), required=False,
                                      empty_label=_("Me"), widget=FastSelect)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["assignee"].queryset = User.objects.filter(is_active=True).order_by("full_name", "id")

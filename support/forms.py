"""Forms of the agent pages: they parse and check input shapes; the rules are the services'."""

from django import forms
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from contacts.models import Tag
from crm.forms import IdListField
from crm.models import Role, User
from crm.widgets import FastSelect
from sales.forms import ContactPickerField
from support import services
from support.attachments import MAX_FILES
from support.models import Queue, Ticket, TicketChannel, TicketPriority, TicketStatus, TicketType
from support.selectors import served_team_ids

#: Channels an agent types a ticket in for (the others arrive by themselves).
AGENT_CHANNELS = [(c.value, c.label) for c in (TicketChannel.PHONE, TicketChannel.CHAT, TicketChannel.SOCIAL,
                                                 TicketChannel.EMAIL)]
#: "Reply and set …": the statuses a reply may move the ticket to.
REPLY_STATUSES = [("", _("Keep the status")), *[(s.value, s.label) for s in (
    TicketStatus.OPEN, TicketStatus.PENDING_CUSTOMER, TicketStatus.ON_HOLD, TicketStatus.SOLVED)]]


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several files in one input; the support attachments module checks their kinds and sizes."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", MultipleFileInput())
        kwargs.setdefault("required", False)
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        files = data if isinstance(data, list | tuple) else ([data] if data else [])
        if len(files) > MAX_FILES:
            raise forms.ValidationError(_("Attach at most %(count)s files.") % {"count": MAX_FILES})
        return [super(MultipleFileField, self).clean(f, initial) for f in files]


class ReplyForm(forms.Form):
    """A public reply or an internal note; Markdown is allowed."""

    body = forms.CharField(label=_("Message"), required=False, strip=False, max_length=50_000,
                           widget=forms.Textarea(attrs={"rows": 6}),
                           help_text=_("Markdown is allowed: **bold**, *italic*, lists, links."))
    internal = forms.BooleanField(label=_("Internal note (only the team sees it)"), required=False)
    status = forms.ChoiceField(label=_("And set the status to"), choices=REPLY_STATUSES, required=False)
    attachments = MultipleFileField(label=_("Attachments"))

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("auto_id", "reply_%s")
        super().__init__(*args, **kwargs)


class TicketFieldsForm(forms.Form):
    """The ticket's side panel: status, priority, type, queue, assignee, tags, linked order (all optional:
    a field left out of the POST keeps its value; `tags_shown` says the tag list was on the form, so none
    ticked means "no tags")."""

    status = forms.ChoiceField(label=_("Status"), choices=TicketStatus.choices, required=False)
    priority = forms.ChoiceField(label=_("Priority"), choices=TicketPriority.choices, required=False)
    type = forms.ChoiceField(label=_("Type"), choices=TicketType.choices, required=False)
    queue = forms.ModelChoiceField(label=_("Queue"), queryset=Queue.objects.none(), required=False, empty_label="—")
    assignee = forms.ModelChoiceField(label=_("Assignee"), queryset=User.objects.none(), required=False,
                                      empty_label=_("Nobody (unassigned)"), widget=FastSelect)
    tags = forms.ModelMultipleChoiceField(label=_("Tags"), queryset=Tag.objects.all(), required=False,
                                          widget=forms.SelectMultiple(attrs={"size": 4}))
    order = forms.ModelChoiceField(label=_("Linked order"), queryset=Queue.objects.none(), required=False,
                                   empty_label=_("No order"))

    def __init__(self, *args, ticket: Ticket, user: User, **kwargs):
        from sales.models import Order

        kwargs.setdefault("auto_id", "fields_%s")
        super().__init__(*args, **kwargs)
        self.fields["queue"].queryset = Queue.objects.filter(Q(is_active=True) | Q(pk=ticket.queue_id)).order_by("name")
        self.fields["assignee"].queryset = services.assignable_agents(ticket.team)
        self.fields["order"].queryset = Order.objects.visible_to(user).filter(
            contact_id=ticket.contact_id).order_by("-ordered_at", "-id")

    def changes(self) -> dict:
        """The submitted fields only (a select left out of the POST is not a change)."""
        shown = set(self.data) | ({"tags"} if "tags_shown" in self.data else set())
        return {name: value for name, value in self.cleaned_data.items() if name in shown}


class MergeForm(forms.Form):
    target = forms.ModelChoiceField(label=_("Merge into"), queryset=Ticket.objects.none(),
                                    empty_label=_("Choose a ticket of this customer…"))

    def __init__(self, *args, candidates, **kwargs):
        kwargs.setdefault("auto_id", "merge_%s")
        super().__init__(*args, **kwargs)
        self.fields["target"].queryset = Ticket.objects.filter(pk__in=[t.pk for t in candidates]).order_by(
            "-created_at", "-id")


class NewTicketForm(forms.Form):
    """A ticket an agent opens for a caller: an existing contact, or the caller's email/phone/name."""

    contact = None  # set in __init__ (needs the user)
    email = forms.EmailField(label=_("Email"), required=False)
    phone = forms.CharField(label=_("Phone"), required=False, max_length=30)
    name = forms.CharField(label=_("Name"), required=False, max_length=200)
    channel = forms.ChoiceField(label=_("Channel"), choices=AGENT_CHANNELS, initial=TicketChannel.PHONE)
    type = forms.ChoiceField(label=_("Type"), choices=TicketType.choices, initial=TicketType.INQUIRY)
    priority = forms.ChoiceField(label=_("Priority"), choices=TicketPriority.choices, initial=TicketPriority.NORMAL)
    queue = forms.ModelChoiceField(label=_("Queue"), queryset=Queue.objects.none(), required=False,
                                   empty_label=_("The default queue"))
    subject = forms.CharField(label=_("Subject"), max_length=250)
    body = forms.CharField(label=_("What the customer said"), required=False, max_length=50_000,
                           widget=forms.Textarea(attrs={"rows": 6}))

    def __init__(self, *args, user: User, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields = {"contact": ContactPickerField(
            user=user, help_text=_("Start typing a name or an email; or leave empty and give the caller's "
                                   "email, phone and name below.")), **self.fields}
        queues = Queue.objects.filter(is_active=True).select_related("team").order_by("name")
        self.fields["queue"].queryset = queues

    def clean(self):
        data = super().clean()
        if not data.get("contact") and not data.get("email") and not data.get("phone") and not self.errors.get(
                "contact"):
            self.add_error("contact", _("Choose a contact, or give the caller's email or phone."))
        return data


class BulkForm(forms.Form):
    ACTIONS = [("", _("Choose an action…")), ("assign", _("Assign to")), ("close", _("Close"))]

    ids = IdListField(error_messages={"required": _("Choose at least one ticket."),
                                      "invalid": _("Choose tickets from the list.")})
    action = forms.ChoiceField(label=_("Action"), choices=ACTIONS)
    assignee = forms.ModelChoiceField(label=_("Agent"), queryset=User.objects.none(), required=False,
                                      empty_label=_("Choose the agent…"), widget=FastSelect)

    def __init__(self, *args, user: User, **kwargs):
        kwargs.setdefault("auto_id", "bulk_%s")
        super().__init__(*args, **kwargs)
        teams = served_team_ids(user)
        people = User.objects.filter(is_active=True, role__in=[Role.SUPPORT_AGENT, Role.MANAGER])
        if teams is not None:
            people = people.filter(team_id__in=teams)
        self.fields["assignee"].queryset = people.order_by("full_name", "id")

    def clean(self):
        data = super().clean()
        if data.get("action") == "assign" and not data.get("assignee"):
            self.add_error("assignee", _("Choose the agent."))
        return data

"""Forms of the core pages. They parse and validate input; services apply the rules."""

import zoneinfo

from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from crm.models import OrgSettings, Role, SavedView, Team, User

TIME_ZONES = [("", _("Organisation default"))] + [(tz, tz) for tz in sorted(zoneinfo.available_timezones())]
LANGUAGE_CHOICES = [("", _("Organisation default"))] + list(settings.LANGUAGES)


class IdListField(forms.Field):
    """The ticked rows of a list (bulk actions): their ids, in order, once each. Lists word the errors
    for their records through `error_messages`."""

    widget = forms.MultipleHiddenInput
    default_error_messages = {
        "required": _("Choose at least one row."),
        "invalid": _("Choose rows from the list."),
    }

    def to_python(self, value):
        if not value:
            return []
        try:
            return list(dict.fromkeys(int(v) for v in value))
        except (TypeError, ValueError):
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid") from None


class ProfileForm(forms.Form):
    full_name = forms.CharField(label=_("Full name"), max_length=150)
    language = forms.ChoiceField(label=_("Language"), choices=LANGUAGE_CHOICES, required=False)
    time_zone = forms.ChoiceField(label=_("Time zone"), choices=TIME_ZONES, required=False)


class UserForm(forms.Form):
    email = forms.EmailField(label=_("Email"))
    full_name = forms.CharField(label=_("Full name"), max_length=150)
    role = forms.ChoiceField(label=_("Role"), choices=Role.choices)
    team = forms.ModelChoiceField(label=_("Team"), queryset=Team.objects.all(), required=False)
    managed_teams = forms.ModelMultipleChoiceField(
        label=_("Manages teams"), queryset=Team.objects.all(), required=False,
        help_text=_("Managers only: they see and edit every record of these teams."),
        widget=forms.CheckboxSelectMultiple,
    )
    language = forms.ChoiceField(label=_("Language"), choices=LANGUAGE_CHOICES, required=False)
    time_zone = forms.ChoiceField(label=_("Time zone"), choices=TIME_ZONES, required=False)

    def __init__(self, *args, editing: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        if editing:
            self.fields["email"].disabled = True


class ReassignForm(forms.Form):
    to_user = forms.ModelChoiceField(label=_("Give their records to"), queryset=User.objects.filter(is_active=True))


class TeamForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=100)
    kind = forms.ChoiceField(label=_("Kind"), choices=Team._meta.get_field("kind").choices)


class OrgSettingsForm(forms.ModelForm):
    class Meta:
        model = OrgSettings
        fields = ["name", "default_currency", "sharing_default", "require_mfa_for_all"]
        widgets = {"sharing_default": forms.RadioSelect}

    def clean_default_currency(self):
        value = self.cleaned_data["default_currency"].strip().upper()
        if len(value) != 3 or not value.isalpha():
            raise forms.ValidationError(_("Use a three-letter ISO 4217 code, e.g. BDT."))
        return value


class SavedViewForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=80)
    target = forms.ChoiceField(label=_("List"), choices=SavedView.Target.choices)
    query = forms.CharField(label=_("Filters"), max_length=2000, required=False,
                            help_text=_("The list's query string, e.g. stage=lead&city=Dhaka"))
    shared = forms.BooleanField(label=_("Share with my team"), required=False)


class ApiTokenForm(forms.Form):
    name = forms.CharField(label=_("Token name"), max_length=80, help_text=_("Where it is used, e.g. “Shop sync”."))


class AuditFilterForm(forms.Form):
    model = forms.ChoiceField(label=_("Record type"), required=False)
    user = forms.ModelChoiceField(label=_("Changed by"), queryset=User.objects.all(), required=False)
    label = forms.ChoiceField(
        label=_("Change"), required=False,
        choices=[("", _("Any")), ("insert", _("Created")), ("update", _("Updated")), ("delete", _("Deleted"))],
    )
    record = forms.CharField(label=_("Record id"), required=False, max_length=20)
    since = forms.DateField(label=_("From"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    until = forms.DateField(label=_("To"), required=False, widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, *args, model_choices=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["model"].choices = [("", _("Any"))] + list(model_choices)

"""The scoring rule form: one set of parameter inputs; the kind says which of them count."""

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from contacts.models import InteractionKind, Tag
from sales.models import RuleKind, ScoringSettings
from sales.scoring.rules import FIELDS
from sales.scoring.services import clean_rule

#: Which inputs each kind reads (the page shows only those; without JavaScript all are shown, labelled).
KIND_PARAMS = {
    RuleKind.FIELD_EQUALS: ("field", "value"),
    RuleKind.FIELD_CONTAINS: ("field", "value"),
    RuleKind.FIELD_IN: ("field", "values"),
    RuleKind.FIELD_IS_SET: ("field",),
    RuleKind.TAG_PRESENT: ("tag",),
    RuleKind.INTERACTION_COUNT: ("interaction_kind", "days", "min_count", "per_occurrence", "cap"),
    RuleKind.WEB_VISITS: ("pattern", "days", "min_count", "per_occurrence", "cap"),
    RuleKind.ORDERS_COUNT: ("days", "min_count", "per_occurrence", "cap"),
    RuleKind.DAYS_SINCE_INTERACTION: ("days",),
    RuleKind.TOTAL_SPEND: ("min_total",),
    RuleKind.OPEN_COMPLAINTS: ("min_count", "per_occurrence", "cap"),  # registered by the support app
}
_PARAM_NAMES = {"interaction_kind": "kind"}  # form input -> params key


class RuleForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=150)
    kind = forms.ChoiceField(label=_("Kind"), choices=[(k, label) for k, label in RuleKind.choices if k in KIND_PARAMS])
    points = forms.IntegerField(label=_("Points"), min_value=-100, max_value=100,
                                help_text=_("From -100 to 100; negative points lower the score."))
    active = forms.BooleanField(label=_("Active"), required=False, initial=True)
    field = forms.ChoiceField(label=_("Field"), required=False,
                              choices=[("", "—")] + [(key, f.label) for key, f in FIELDS.items()])
    value = forms.CharField(label=_("Value"), required=False, max_length=200)
    values = forms.CharField(label=_("Values"), required=False, max_length=1000,
                             help_text=_("Separate values with commas."))
    tag = forms.ModelChoiceField(label=_("Tag"), required=False, queryset=Tag.objects.order_by("name"))
    interaction_kind = forms.ChoiceField(label=_("Interaction kind"), required=False,
                                         choices=[("", _("Any kind"))] + list(InteractionKind.choices))
    pattern = forms.CharField(label=_("Page address contains"), required=False, max_length=200,
                              help_text=_("e.g. /pricing"))
    days = forms.IntegerField(label=_("In the last (days)"), required=False, min_value=1, max_value=3650)
    min_count = forms.IntegerField(label=_("At least (times)"), required=False, min_value=1)
    per_occurrence = forms.BooleanField(label=_("Points for each time (up to a cap)"), required=False)
    cap = forms.IntegerField(label=_("Cap"), required=False, min_value=1, max_value=100)
    min_total = forms.DecimalField(label=_("Total spend above"), required=False, min_value=0, decimal_places=2,
                                   max_digits=14)

    def __init__(self, *args, rule=None, **kwargs):
        if rule is not None and "initial" not in kwargs:
            initial = {"name": rule.name, "kind": rule.kind, "points": rule.points, "active": rule.active}
            for key, value in rule.params.items():
                name = {v: k for k, v in _PARAM_NAMES.items()}.get(key, key)
                initial[name] = ", ".join(value) if isinstance(value, list) else value
            kwargs["initial"] = initial
        super().__init__(*args, **kwargs)

    def params(self) -> dict:
        data = self.cleaned_data
        params = {}
        for name in KIND_PARAMS.get(data.get("kind"), ()):
            value = data.get(name)
            if name == "tag":
                value = value.pk if value else None
            if value in (None, "") or (name == "per_occurrence" and not value):
                continue
            params[_PARAM_NAMES.get(name, name)] = str(value) if name == "min_total" else value
        return params

    def clean(self):
        data = super().clean()
        if self.errors:
            return data
        try:
            data["rule"] = clean_rule(name=data["name"], kind=data["kind"], params=self.params(), points=data["points"])
        except ValidationError as exc:
            for key, messages in exc.message_dict.items():
                name = key.removeprefix("params.")
                name = {v: k for k, v in _PARAM_NAMES.items()}.get(name, name)
                self.add_error(name if name in self.fields else None, messages)
        return data


class ScoringSettingsForm(forms.ModelForm):
    class Meta:
        model = ScoringSettings
        fields = ["hot_threshold", "warm_threshold", "half_life_days"]

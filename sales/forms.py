"""Forms of the sales pages: parse input only; the rules live in `sales.services`."""

import re
from urllib.parse import urlencode

from django import forms
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from crm.models import Role, Team, TeamKind, User
from sales.models import Stage

MONTH = re.compile(r"^(\d{4})-(\d{2})$")


class BoardFilterForm(forms.Form):
    """The board's filters (GET): owner, team, expected close month."""

    owner = forms.ModelChoiceField(label=_("Owner"), queryset=User.objects.none(), required=False, empty_label=_("Anyone"))
    team = forms.ModelChoiceField(label=_("Team"), queryset=Team.objects.none(), required=False, empty_label=_("Any team"))
    close = forms.CharField(label=_("Close month"), required=False, widget=forms.DateInput(attrs={"type": "month"}))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = User.objects.filter(
            is_active=True, role__in=[Role.ADMIN, Role.MANAGER, Role.SALES_REP]).order_by("full_name", "id")
        self.fields["team"].queryset = Team.objects.filter(kind=TeamKind.SALES).order_by("name", "id")

    def clean_close(self):
        value = (self.cleaned_data.get("close") or "").strip()
        if not value:
            return None
        match = MONTH.match(value)
        if not match or not 1 <= int(match.group(2)) <= 12:
            raise forms.ValidationError(_("Choose a month such as 2026-03."))
        return int(match.group(1)), int(match.group(2))

    def to_q(self) -> Q | None:
        """The deals the valid filters keep (None: no filter); call after is_valid()."""
        data = getattr(self, "cleaned_data", {})
        q = Q()
        if data.get("owner"):
            q &= Q(owner=data["owner"])
        if data.get("team"):
            q &= Q(team=data["team"])
        if data.get("close"):
            year, month = data["close"]
            q &= Q(expected_close__year=year, expected_close__month=month)
        return q if q else None

    def querystring(self) -> str:
        """The valid filters as a query string (for "load more" and the move's response)."""
        data = getattr(self, "cleaned_data", {})
        pairs = []
        if data.get("owner"):
            pairs.append(("owner", data["owner"].pk))
        if data.get("team"):
            pairs.append(("team", data["team"].pk))
        if data.get("close"):
            pairs.append(("close", "{:04d}-{:02d}".format(*data["close"])))
        return urlencode(pairs)


class QuickDealForm(forms.Form):
    """The quick-add card at the top of the board's first column."""

    title = forms.CharField(label=_("Title"), max_length=200)
    amount = forms.CharField(label=_("Amount"), required=False, max_length=30,
                             widget=forms.TextInput(attrs={"inputmode": "decimal"}))


class MoveForm(forms.Form):
    """Move a deal to another stage of its pipeline (a lost stage needs a reason: the service says so)."""

    stage = forms.ModelChoiceField(label=_("Stage"), queryset=Stage.objects.none(), empty_label=None)
    lost_reason = forms.CharField(label=_("Lost reason"), required=False, max_length=300,
                                  help_text=_("Needed when the deal is lost."))

    def __init__(self, *args, deal, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["stage"].queryset = Stage.objects.filter(pipeline_id=deal.pipeline_id, archived_at__isnull=True)
        self.fields["stage"].initial = deal.stage_id
        self.fields["lost_reason"].initial = deal.lost_reason

"""Pages of lead scoring: the admins' rules page (settings, preview, recompute with progress) and the
score panel on a contact page."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path
from django.utils.translation import gettext as _
from django.views import View

from contacts.models import Contact
from crm.views import AdminPageMixin, OwnedObjectMixin, form_errors_from
from sales.models import RunStatus, ScoreRun, ScoringRule, ScoringSettings
from sales.scoring import engine, selectors, services
from sales.scoring.forms import KIND_PARAMS, RuleForm, ScoringSettingsForm


class ContactScorePanel(OwnedObjectMixin, View):
    """The contact page's score panel: the score, its reasons and a 30-day sparkline."""

    model = Contact

    def get(self, request, pk):
        score = selectors.contact_score(self.get_object())
        context = {"contact": score.contact, "score": score}
        if request.htmx:
            return render(request, "sales/scoring/score_panel.html", context)
        return render(request, "sales/scoring/score_page.html", context)


def _rules_context(**extra) -> dict:
    page = selectors.rules_page()
    run = page["runs"][0] if page["runs"] else None
    return {**page, "run": run, "polling": run is not None and run.status in (RunStatus.QUEUED, RunStatus.RUNNING),
            "bands": engine.band_counts(), **extra}


class RulesView(AdminPageMixin, View):
    def get(self, request):
        form = ScoringSettingsForm(instance=ScoringSettings.load())
        return render(request, "sales/scoring/rules.html", _rules_context(settings_form=form))

    def post(self, request):
        form = ScoringSettingsForm(request.POST, instance=ScoringSettings.load())
        if form.is_valid():
            try:
                services.update_settings(by=request.user, **form.cleaned_data)
            except ValidationError as exc:
                form_errors_from(form, exc)
            else:
                messages.success(request, _("Scoring settings saved; scores are being recomputed."))
                return redirect("sales:scoring")
        return render(request, "sales/scoring/rules.html", _rules_context(settings_form=form), status=400)


class RuleFormView(AdminPageMixin, View):
    def rule(self):
        return get_object_or_404(ScoringRule, pk=self.kwargs["rule_pk"]) if "rule_pk" in self.kwargs else None

    def get(self, request, **kwargs):
        rule = self.rule()
        return render(request, "sales/scoring/rule_form.html",
                      {"form": RuleForm(rule=rule), "rule": rule, "kind_params": KIND_PARAMS})

    def post(self, request, **kwargs):
        rule = self.rule()
        form = RuleForm(request.POST)
        if form.is_valid():
            fields = form.cleaned_data["rule"]
            try:
                services.save_rule(by=request.user, rule=rule, active=form.cleaned_data["active"], **fields)
            except ValidationError as exc:
                form_errors_from(form, exc)
            else:
                messages.success(request, _("Rule saved; scores are being recomputed."))
                return redirect("sales:scoring")
        return render(request, "sales/scoring/rule_form.html",
                      {"form": form, "rule": rule, "kind_params": KIND_PARAMS}, status=400)


class RulePreviewView(AdminPageMixin, View):
    """What the rule on the form would do, before it is saved (htmx, as the admin types)."""

    def post(self, request, **kwargs):
        replacing = get_object_or_404(ScoringRule, pk=kwargs["rule_pk"]) if "rule_pk" in kwargs else None
        form = RuleForm(request.POST)
        preview = None
        if form.is_valid():
            candidate = ScoringRule(pk=0, **form.cleaned_data["rule"])
            preview = engine.preview(candidate, replacing=replacing)
        return render(request, "sales/scoring/preview.html", {"form": form, "preview": preview,
                                                               "bands": engine.band_counts()})


class RuleDeleteView(AdminPageMixin, View):
    def post(self, request, rule_pk):
        services.delete_rule(by=request.user, rule=get_object_or_404(ScoringRule, pk=rule_pk))
        messages.success(request, _("Rule deleted; scores are being recomputed."))
        return redirect("sales:scoring")


class RecomputeView(AdminPageMixin, View):
    def post(self, request):
        services.request_recompute(by=request.user, reason="manual")
        messages.success(request, _("A full recompute is on its way."))
        return redirect("sales:scoring")


class RunView(AdminPageMixin, View):
    """A run's progress (the rules page polls it while the run is queued or running)."""

    def get(self, request, run_pk):
        run = get_object_or_404(ScoreRun, pk=run_pk)
        return render(request, "sales/scoring/run.html", {"run": run, "polling": run.status in
                                                          (RunStatus.QUEUED, RunStatus.RUNNING)})


urlpatterns = [
    path("contacts/<int:pk>/score/", ContactScorePanel.as_view(), name="contact_score"),
    path("scoring/", RulesView.as_view(), name="scoring"),
    path("scoring/rules/new/", RuleFormView.as_view(), name="scoring_rule_create"),
    path("scoring/rules/preview/", RulePreviewView.as_view(), name="scoring_rule_preview_new"),
    path("scoring/rules/<int:rule_pk>/", RuleFormView.as_view(), name="scoring_rule"),
    path("scoring/rules/<int:rule_pk>/preview/", RulePreviewView.as_view(), name="scoring_rule_preview"),
    path("scoring/rules/<int:rule_pk>/delete/", RuleDeleteView.as_view(), name="scoring_rule_delete"),
    path("scoring/recompute/", RecomputeView.as_view(), name="scoring_recompute"),
    path("scoring/runs/<int:run_pk>/", RunView.as_view(), name="scoring_run"),
]

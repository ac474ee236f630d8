"""Admin pages for pipelines and their stages: add, rename, reorder, make default, archive.

Pipelines and stages are organisation-wide: routes name them `pipeline_pk` / `stage_pk`, never `pk`.
"""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Count, Q
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views import View

from crm.views import AdminPageMixin, form_errors_from
from sales import services
from sales.forms import NewPipelineForm, PipelineForm, StageArchiveForm, StageForm
from sales.models import Pipeline, Stage
from sales.pipeline_admin import archive_stage_moving_deals, move_stage


class PipelineListView(AdminPageMixin, View):
    """/sales/admin/pipelines/: every pipeline; POST adds one."""

    template = "sales/admin/pipelines.html"

    def render_page(self, request, form=None, status=200):
        pipelines = Pipeline.objects.annotate(
            stage_count=Count("stages", filter=Q(stages__archived_at__isnull=True), distinct=True),
            open_deals=Count("deals", filter=Q(deals__closed_at__isnull=True), distinct=True),
        ).order_by("archived_at", "position", "id")
        return render(request, self.template, {"pipelines": pipelines, "form": form or NewPipelineForm()},
                      status=status)

    def get(self, request):
        return self.render_page(request)

    def post(self, request):
        form = NewPipelineForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            try:
                pipeline = services.create_pipeline(by=request.user, name=data["name"], stages=data["stages"],
                                                    is_default=data["is_default"])
            except ValidationError as exc:
                form_errors_from(form, exc)
            else:
                messages.success(request, _("Pipeline “%(name)s” added.") % {"name": pipeline.name})
                return redirect("sales:admin_pipeline", pipeline_pk=pipeline.pk)
        return self.render_page(request, form, status=400)


class PipelineMixin(AdminPageMixin):
    def get_pipeline(self) -> Pipeline:
        return get_object_or_404(Pipeline, pk=self.kwargs["pipeline_pk"])

    def get_stage(self, pipeline) -> Stage:
        return get_object_or_404(Stage, pk=self.kwargs["stage_pk"], pipeline=pipeline)

    def render_page(self, pipeline, *, status=200, pipeline_form=None, stage_form=None, stage_errors=None,
                    archive_errors=None, pipeline_errors=()):
        stages = list(Stage.objects.filter(pipeline=pipeline).annotate(deal_count=Count("deals"))
                      .order_by("archived_at", "position"))
        for stage in stages:
            stage.edit_form = (stage_errors or {}).get(stage.pk) or StageForm(
                initial={"name": stage.name, "probability": stage.probability}, auto_id=f"stage{stage.pk}_%s")
            stage.archive_form = (archive_errors or {}).get(stage.pk) or StageArchiveForm(stage=stage)
        active = [s for s in stages if s.archived_at is None]
        return render(self.request, "sales/admin/pipeline.html", {
            "pipeline": pipeline, "stages": active, "archived_stages": [s for s in stages if s.archived_at],
            "pipeline_form": pipeline_form or PipelineForm(initial={"name": pipeline.name,
                                                                    "is_default": pipeline.is_default}),
            "stage_form": stage_form or StageForm(auto_id="new_stage_%s"),
            "pipeline_errors": pipeline_errors,
        }, status=status)

    def done(self, pipeline, message):
        messages.success(self.request, message)
        return redirect("sales:admin_pipeline", pipeline_pk=pipeline.pk)


class PipelineView(PipelineMixin, View):
    """/sales/admin/pipelines/<pipeline_pk>/: its stages; POST renames it or makes it the default."""

    def get(self, request, pipeline_pk):
        return self.render_page(self.get_pipeline())

    def post(self, request, pipeline_pk):
        pipeline = self.get_pipeline()
        form = PipelineForm(request.POST)
        if form.is_valid():
            try:
                services.update_pipeline(by=request.user, pipeline=pipeline, name=form.cleaned_data["name"],
                                         is_default=True if form.cleaned_data["is_default"] else None)
            except ValidationError as exc:
                form_errors_from(form, exc)
            else:
                return self.done(pipeline, _("Pipeline saved."))
        pipeline.refresh_from_db()
        return self.render_page(pipeline, pipeline_form=form, status=400)


class PipelineArchiveView(PipelineMixin, View):
    def post(self, request, pipeline_pk):
        pipeline = self.get_pipeline()
        try:
            services.archive_pipeline(by=request.user, pipeline=pipeline)
        except ValidationError as exc:
            return self.render_page(pipeline, pipeline_errors=exc.messages, status=400)
        messages.success(request, _("Pipeline “%(name)s” archived.") % {"name": pipeline.name})
        return redirect("sales:admin_pipelines")


class StageCreateView(PipelineMixin, View):
    def post(self, request, pipeline_pk):
        pipeline = self.get_pipeline()
        form = StageForm(request.POST, auto_id="new_stage_%s")
        if form.is_valid():
            try:
                stage = services.save_stage(by=request.user, pipeline=pipeline, **form.cleaned_data)
            except ValidationError as exc:
                form_errors_from(form, exc)
            else:
                return self.done(pipeline, _("Stage “%(name)s” added.") % {"name": stage.name})
        return self.render_page(pipeline, stage_form=form, status=400)


class StageView(PipelineMixin, View):
    """POST a stage's new name and probability."""

    def post(self, request, pipeline_pk, stage_pk):
        pipeline = self.get_pipeline()
        stage = self.get_stage(pipeline)
        form = StageForm(request.POST, auto_id=f"stage{stage.pk}_%s")
        if form.is_valid():
            try:
                services.save_stage(by=request.user, pipeline=pipeline, stage=stage, **form.cleaned_data)
            except ValidationError as exc:
                form_errors_from(form, exc)
            else:
                return self.done(pipeline, _("Stage saved."))
        return self.render_page(pipeline, stage_errors={stage.pk: form}, status=400)


class StageMoveView(PipelineMixin, View):
    """POST direction=up|down: move a stage one place (works without JavaScript)."""

    def post(self, request, pipeline_pk, stage_pk):
        pipeline = self.get_pipeline()
        stage = self.get_stage(pipeline)
        offset = {"up": -1, "down": 1}.get(request.POST.get("direction"))
        if offset is None:
            return self.render_page(pipeline, pipeline_errors=[_("Choose up or down.")], status=400)
        try:
            move_stage(by=request.user, stage=stage, offset=offset)
        except ValidationError as exc:
            return self.render_page(pipeline, pipeline_errors=exc.messages, status=400)
        return redirect(reverse("sales:admin_pipeline", kwargs={"pipeline_pk": pipeline.pk}) + "#stages")


class StageArchiveView(PipelineMixin, View):
    """POST (move_to): archive a stage, first moving its deals to another open stage."""

    def post(self, request, pipeline_pk, stage_pk):
        pipeline = self.get_pipeline()
        stage = self.get_stage(pipeline)
        form = StageArchiveForm(request.POST, stage=stage)
        if form.is_valid():
            try:
                outcome = archive_stage_moving_deals(by=request.user, stage=stage,
                                                     move_to=form.cleaned_data["move_to"])
            except ValidationError as exc:
                form_errors_from(form, exc)
            else:
                text = _("Stage “%(name)s” archived.") % {"name": stage.name}
                if outcome["moved"]:
                    text += " " + _("%(n)s deals moved to %(stage)s.") % {
                        "n": outcome["moved"], "stage": form.cleaned_data["move_to"].name}
                return self.done(pipeline, text)
        return self.render_page(pipeline, archive_errors={stage.pk: form}, status=400)

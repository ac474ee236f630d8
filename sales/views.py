"""Pages of the sales app: the board of a pipeline (with its moves, quick-add, "load more") and the deal page."""

from decimal import Decimal, InvalidOperation

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views import View

from crm import audit, policy
from crm.models import Role
from crm.templatetags.crm import money, number
from crm.views import OwnedObjectMixin, PageMixin, form_errors_from
from sales import services
from sales.forms import BoardFilterForm, MoveForm, QuickDealForm
from sales.models import Deal, Pipeline, Stage
from sales.selectors import board_columns, column_cards, column_totals, open_deals

PER_COLUMN = 25  # cards per column on the first screen, and per "load more"
SALES_ROLES = {Role.ADMIN, Role.MANAGER, Role.SALES_REP}


def active_pipelines():
    return Pipeline.objects.filter(archived_at__isnull=True).order_by("position", "id")


def parse_after(value: str) -> tuple[Decimal, int] | None:
    """"amount_id" (the last card shown) -> (Decimal, int); None when absent or malformed."""
    amount, _sep, pk = (value or "").partition("_")
    try:
        return Decimal(amount), int(pk)
    except (InvalidOperation, ValueError):
        return None


class BoardMixin(PageMixin):
    roles = SALES_ROLES

    def get_pipeline(self, pk=None) -> Pipeline | None:
        """The pipeline asked for (404 if unknown or archived), or the default one; keeps the list for the switcher."""
        self.pipelines = list(active_pipelines())
        if pk is not None:
            for pipeline in self.pipelines:
                if pipeline.pk == pk:
                    return pipeline
            raise Http404
        return next((p for p in self.pipelines if p.is_default), self.pipelines[0] if self.pipelines else None)

    def filter_form(self, data) -> BoardFilterForm:
        form = BoardFilterForm(data)
        form.is_valid()
        return form

    def board_context(self, pipeline, filter_form, *, quick_form=None) -> dict:
        columns = board_columns(user=self.request.user, pipeline=pipeline, per_column=PER_COLUMN,
                                filters=filter_form.to_q()) if pipeline else []
        return {
            "pipeline": pipeline,
            "pipelines": self.pipelines,
            "columns": columns,
            "filter_form": filter_form,
            "filter_qs": filter_form.querystring(),
            "quick_form": quick_form or QuickDealForm(),
            "per_column": PER_COLUMN,
        }

    def render_board(self, pipeline, filter_form, *, quick_form=None, status=200):
        context = self.board_context(pipeline, filter_form, quick_form=quick_form)
        template = "sales/partials/board.html" if self.request.htmx else "sales/board.html"
        return render(self.request, template, context, status=status)


class BoardView(BoardMixin, View):
    """/sales/ (the default pipeline) and /sales/pipelines/<pk>/: the kanban board."""

    def get(self, request, pipeline_pk=None):
        return self.render_board(self.get_pipeline(pipeline_pk), self.filter_form(request.GET))


class QuickAddView(BoardMixin, View):
    """POST a title and an amount: a new deal in the pipeline's first open stage."""

    def post(self, request, pipeline_pk):
        pipeline = self.get_pipeline(pipeline_pk)
        filter_form = self.filter_form(request.GET)
        form = QuickDealForm(request.POST)
        if form.is_valid():
            try:
                deal = services.create_deal(by=request.user, pipeline=pipeline, title=form.cleaned_data["title"],
                                            amount=form.cleaned_data["amount"])
            except ValidationError as exc:
                form_errors_from(form, exc)
            else:
                if request.htmx:  # the new card shows on the board it answers
                    return self.render_board(pipeline, filter_form)
                messages.success(request, _("Deal “%(title)s” added.") % {"title": deal.title})
                return redirect("sales:pipeline", pipeline_pk=pipeline.pk)
        return self.render_board(pipeline, filter_form, quick_form=form, status=400)


class ColumnMoreView(BoardMixin, View):
    """GET the next cards of one column ("load more"), with the board's filters."""

    def get(self, request, pipeline_pk, stage_pk):
        pipeline = self.get_pipeline(pipeline_pk)
        stage = get_object_or_404(Stage, pk=stage_pk, pipeline=pipeline, archived_at__isnull=True)
        filter_form = self.filter_form(request.GET)
        after = parse_after(request.GET.get("after", ""))
        cards, has_more = column_cards(user=request.user, stage=stage, filters=filter_form.to_q(), after=after,
                                       limit=PER_COLUMN)
        return render(request, "sales/partials/column_cards.html", {
            "pipeline": pipeline, "stage": stage, "cards": cards, "has_more": has_more,
            "filter_qs": filter_form.querystring(),
        })


class DealPage(OwnedObjectMixin):
    model = Deal

    def get_queryset(self):
        return super().get_queryset().select_related("pipeline", "stage", "company", "primary_contact")

    def page_context(self, deal, *, move_form=None, tab="overview", details_form=None, contacts_form=None,
                     lines_form=None, lines_errors=()) -> dict:
        """The deal page; an edit panel shows its form when one is given (open, or with its errors)."""
        from contacts.record_views import company_suggestions
        from sales.forms import DealContactForm, contact_suggestions

        user = self.request.user
        can_edit = policy.can_edit(user, deal)
        context = {
            "details_form": details_form,
            "contacts_form": (contacts_form or DealContactForm(user=user)) if can_edit else None,
            "lines_form": lines_form,
            "lines_errors": lines_errors,
            "company_suggestions": company_suggestions(user) if details_form else (),
            "contact_suggestions": contact_suggestions(user) if can_edit else (),
            "deal": deal,
            "can_edit": can_edit,
            "move_form": (move_form or MoveForm(deal=deal)) if can_edit else None,
            "stage_changes": deal.stage_changes.select_related("from_stage", "to_stage", "by").order_by("-at", "-id"),
            "deal_contacts": deal.contact_links.select_related("contact").order_by("contact__last_name", "id"),
            "lines": deal.lines.select_related("product"),
            "tab": tab,
        }
        if tab == "history":
            context["history"] = audit.history_for(deal)
        return context


class DealDetailView(DealPage, View):
    """/sales/deals/<pk>/: the deal, its stage form, stage history, contacts, lines; ?tab=history for its changes."""

    def get(self, request, pk):
        deal = self.get_object()
        tab = "history" if request.GET.get("tab") == "history" else "overview"
        panel = request.GET.get("part")
        if request.htmx and panel in ("details", "contacts", "lines"):  # an edit panel's "Cancel"
            return render(request, f"sales/partials/deal_{panel}.html", self.page_context(deal))
        if request.htmx and request.GET.get("part") == "tab":
            return render(request, "sales/partials/deal_tab.html", self.page_context(deal, tab=tab))
        return render(request, "sales/deal_detail.html", self.page_context(deal, tab=tab))


class MoveView(DealPage, View):
    """POST stage (+ lost_reason): move the deal. JSON for the board's drag and drop, a page for the stage form."""

    def wants_json(self) -> bool:
        return "application/json" in self.request.headers.get("Accept", "")

    def post(self, request, pk):
        deal = self.get_object()  # 404 when invisible
        if not policy.can_edit(request.user, deal):
            raise PermissionDenied
        form = MoveForm(request.POST, deal=deal)
        if form.is_valid():
            try:
                services.move_deal(deal=deal, stage=form.cleaned_data["stage"], by=request.user,
                                   lost_reason=form.cleaned_data["lost_reason"])
            except ValidationError as exc:
                form_errors_from(form, exc)
        if form.errors:
            if self.wants_json():
                errors = {field: [e["message"] for e in errs] for field, errs in form.errors.get_json_data().items()}
                return JsonResponse({"errors": errors}, status=400)
            deal.refresh_from_db()
            return render(request, "sales/deal_detail.html", self.page_context(deal, move_form=form), status=400)
        if self.wants_json():
            return JsonResponse({"ok": True, "stage": deal.stage_id, "columns": self.column_figures(deal)})
        messages.success(request, _("Moved to %(stage)s.") % {"stage": deal.stage.name})
        return redirect(reverse("sales:deal", args=[deal.pk]))

    def column_figures(self, deal) -> dict:
        """Every column's count and total after the move, with the board's filters (one query)."""
        filter_form = BoardFilterForm(self.request.POST)
        filter_form.is_valid()
        totals = column_totals(open_deals(user=self.request.user, pipeline_id=deal.pipeline_id,
                                          filters=filter_form.to_q()))
        stage_ids = Stage.objects.filter(pipeline_id=deal.pipeline_id, archived_at__isnull=True).values_list("pk", flat=True)
        figures = {}
        for stage_id in stage_ids:
            count, total = totals.get(stage_id, (0, Decimal("0.00")))
            figures[str(stage_id)] = {"count": number(count), "total": money(total)}
        return figures

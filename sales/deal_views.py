"""Deal pages beyond the board: the list with its bulk actions, the forecast, the deal page's edit panels,
the new-deal form and the deals panels of contact and company pages.

`pk` names a deal, except in `contact_deals` (a contact) and `company_deals` (a company).
"""

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views import View
from django_htmx.http import push_url

from contacts.models import Company, Contact
from contacts.record_views import company_suggestions
from crm import policy
from crm.listing import bulk_summary
from crm.models import Role
from crm.views import PageMixin, form_errors_from
from sales import services
from sales.deal_bulk import bulk_update_deals
from sales.deal_edit import save_deal_details
from sales.filters import DEAL_SORT_LABELS
from sales.forecast import forecast
from sales.forms import (
    DealBulkForm,
    DealContactForm,
    DealFieldsForm,
    DealLineFormSet,
    ForecastFilterForm,
    NewDealForm,
    contact_suggestions,
)
from sales.models import Stage
from sales.selectors import deal_list, record_deals
from sales.views import SALES_ROLES, DealPage

# --- The deal list ---------------------------------------------------------------------------------

#: The list's columns: (label, sort key a click applies first, or "").
LIST_COLUMNS = [
    (_("Title"), ""), (_("Company"), ""), (_("Stage"), ""), (_("Amount"), "-amount"),
    (_("Expected close"), "expected_close"), (_("Owner"), ""), (_("Updated"), "-updated"),
]


class DealListView(PageMixin, View):
    """/sales/deals/: every deal the user sees, with the board's filters and more; bulk actions for sellers."""

    roles = SALES_ROLES
    template = "sales/deals/list.html"

    def get(self, request):
        return self.respond(request, deal_list(user=request.user, params=request.GET,
                                               page_number=request.GET.get("page")))

    def url(self, params: QueryDict | None = None) -> str:
        query = params.urlencode() if params else ""
        return reverse("sales:deals") + (f"?{query}" if query else "")

    def headers(self, result) -> list[dict]:
        current, out = result.sort, []
        for label, sort in LIST_COLUMNS:
            header = {"label": label, "url": "", "aria_sort": ""}
            if sort:
                plain = sort.lstrip("-")
                if current.lstrip("-") == plain:
                    header["aria_sort"] = "descending" if current.startswith("-") else "ascending"
                    target = plain if current.startswith("-") else f"-{plain}"
                else:
                    target = sort
                params = result.params.copy()
                params["sort"] = target
                header["url"] = self.url(params)
            out.append(header)
        return out

    def context(self, request, result, **extra) -> dict:
        form = result.filterset.form
        for field in form.fields.values():
            if hasattr(field, "empty_label") and field.empty_label is not None:
                field.empty_label = _("Any")
        form.fields["sort"].choices = list(DEAL_SORT_LABELS.items())
        # Stage names repeat across pipelines ("Won"): name the pipeline too (one joined query for the options).
        form.fields["stage"].queryset = (Stage.objects.filter(archived_at__isnull=True).select_related("pipeline")
                                         .order_by("pipeline__position", "pipeline_id", "position"))
        form.fields["stage"].label_from_instance = lambda s: f"{s.pipeline.name} · {s.name}"
        for name in ("expected_close_after", "expected_close_before"):
            form.fields[name].widget.input_type = "date"
        context = {
            "result": result,
            "list_url": reverse("sales:deals"),
            "clear_url": reverse("sales:deals"),
            "filters": [form[name] for name in ("pipeline", "stage", "status", "owner", "team",
                                                "expected_close_after", "expected_close_before", "sort")],
            "hidden_filters": [(key, value) for key in ("company", "contact") for value in result.params.getlist(key)],
            "headers": self.headers(result),
            "can_bulk": request.user.role != Role.SUPPORT_AGENT,
            "selected_ids": set(),
        }
        if context["can_bulk"]:
            context["bulk_form"] = DealBulkForm(user=request.user, initial={"query": result.params.urlencode()})
        context.update(extra)
        return context

    def respond(self, request, result, *, status=None, full_page=False, **extra):
        context = self.context(request, result, **extra)
        status = status or (200 if result.is_valid else 400)
        if request.htmx and not request.htmx.history_restore_request and not full_page:
            response = render(request, "sales/deals/results.html", context, status=status)
            params = result.params.copy()
            if result.page is not None and result.page.number > 1:
                params["page"] = str(result.page.number)
            push_url(response, self.url(params))
        else:
            response = render(request, self.template, context, status=status)
        patch_vary_headers(response, ("HX-Request",))
        return response


class DealBulkView(PageMixin, View):
    """POST: one action on the ticked deals, after a confirmation (a dialog with JS, a page without)."""

    roles = SALES_ROLES

    def post(self, request):
        form = DealBulkForm(request.POST, user=request.user)
        if form.is_valid() and form.cleaned_data["confirmed"]:
            data = form.cleaned_data
            try:
                outcome = bulk_update_deals(by=request.user, ids=data["ids"], action=data["action"],
                                            owner=data["owner"], stage=data["stage"], lost_reason=data["lost_reason"])
            except ValidationError as exc:
                form_errors_from(form, exc)
            else:
                messages.success(request, self.summary(data["action"], outcome))
                return redirect(self.back(form))
        return self.list_page(request, form)

    @staticmethod
    def summary(action: str, outcome: dict) -> str:
        done, skipped = outcome["done"], outcome["skipped"]
        if action == "delete":
            text = ngettext("%(n)s deal deleted", "%(n)s deals deleted", done) % {"n": done}
        else:
            text = ngettext("%(n)s deal updated", "%(n)s deals updated", done) % {"n": done}
        return bulk_summary(text, skipped)

    @staticmethod
    def query(form) -> QueryDict:
        return QueryDict(form.cleaned_data.get("query") if hasattr(form, "cleaned_data") and form.cleaned_data.get(
            "query") else form.data.get("query", ""))

    def back(self, form) -> str:
        query = self.query(form).urlencode()
        return reverse("sales:deals") + (f"?{query}" if query else "")

    def confirmation(self, form) -> dict:
        data = form.cleaned_data
        details = {
            "assign": lambda: _("New owner: %(name)s") % {"name": data["owner"]},
            "stage": lambda: _("New stage: %(stage)s (%(pipeline)s); deals of other pipelines are skipped.")
            % {"stage": data["stage"].name, "pipeline": data["stage"].pipeline.name},
            "delete": lambda: _("Deleted deals cannot be restored; their history stays in the audit log."),
        }
        return {"count": len(data["ids"]), "action": form.action_label(), "detail": details[data["action"]](),
                "data": data, "back": self.back(form)}

    def list_page(self, request, form):
        """The list again: with the form's errors (400), or asking to confirm a valid action (200)."""
        params = self.query(form)
        page = DealListView()
        page.setup(request)
        result = deal_list(user=request.user, params=params, page_number=params.get("page"))
        confirm = self.confirmation(form) if form.is_valid() else None
        selected = {int(v) for v in form.data.getlist("ids") if v.isdigit()}
        return page.respond(request, result, status=200 if confirm else 400, full_page=True, bulk_form=form,
                            bulk_confirm=confirm, selected_ids=selected)


# --- Forecast --------------------------------------------------------------------------------------


class ForecastView(PageMixin, View):
    """/sales/forecast/: the weighted open pipeline by expected close month and owner."""

    roles = SALES_ROLES

    def get(self, request):
        form = ForecastFilterForm(request.GET)
        valid = form.is_valid()
        result = forecast(user=request.user, **form.ids()) if valid else None
        return render(request, "sales/forecast.html", {"form": form, "forecast": result},
                      status=200 if valid else 400)


# --- The deal page's edit panels -------------------------------------------------------------------


class DealPanelMixin(DealPage):
    """An inline panel of the deal page: its fragment for htmx, the whole page (with the panel open) without."""

    panel = ""

    def editable_deal(self):
        deal = self.get_object()  # 404 when invisible
        if not policy.can_edit(self.request.user, deal):
            raise PermissionDenied
        return deal

    def answer(self, deal, *, status=200, **forms):
        """The panel (a form when one is given, else the saved panel) for htmx; the deal page otherwise."""
        context = self.page_context(deal, **forms)
        if self.request.htmx:
            template = f"sales/partials/deal_{self.panel}{'_form' if forms.get(f'{self.panel}_form') else ''}.html"
            if self.panel == "contacts":
                template = "sales/partials/deal_contacts.html"
            context["oob_header"] = status == 200 and not forms
            return render(self.request, template, context, status=status)
        return render(self.request, "sales/deal_detail.html", context, status=status)


class DealEditView(DealPanelMixin, View):
    """GET the details form, POST it: the deal's fields and its owner."""

    panel = "details"

    def form(self, deal, data=None):
        return DealFieldsForm(data, user=self.request.user, deal=deal,
                              with_owner=policy.can_transfer(self.request.user, deal))

    def get(self, request, pk):
        deal = self.editable_deal()
        return self.answer(deal, details_form=self.form(deal))

    def post(self, request, pk):
        deal = self.editable_deal()
        form = self.form(deal, request.POST)
        if form.is_valid():
            try:
                save_deal_details(by=request.user, deal=deal, owner=form.cleaned_data.get("owner"),
                                  **form.deal_values())
            except ValidationError as exc:
                form_errors_from(form, exc)
        if form.errors:
            deal = self.get_object()
            return self.answer(deal, details_form=form, status=400)
        if not request.htmx:
            messages.success(request, _("The deal is saved."))
            return redirect("sales:deal", pk=deal.pk)
        return self.answer(self.get_object())


class DealContactsView(DealPanelMixin, View):
    """POST a contact and a role: put them on the deal (or change their role)."""

    panel = "contacts"

    def post(self, request, pk):
        deal = self.editable_deal()
        form = DealContactForm(request.POST, user=request.user)
        if form.is_valid():
            try:
                services.add_deal_contact(by=request.user, deal=deal, contact=form.cleaned_data["contact"],
                                          role=form.cleaned_data["role"])
            except ValidationError as exc:
                form_errors_from(form, exc)
        if form.errors:
            return self.answer(deal, contacts_form=form, status=400)
        if not request.htmx:
            return redirect(reverse("sales:deal", args=[deal.pk]) + "#deal-contacts")
        return self.answer(deal)


class DealContactRemoveView(DealPanelMixin, View):
    """POST contact=<id>: take that person off the deal."""

    panel = "contacts"

    def post(self, request, pk):
        deal = self.editable_deal()
        link = get_object_or_404(deal.contact_links.select_related("contact"), contact_id=request.POST.get("contact")
                                 if str(request.POST.get("contact", "")).isdigit() else 0)
        services.remove_deal_contact(by=request.user, deal=deal, contact=link.contact)
        if not request.htmx:
            return redirect(reverse("sales:deal", args=[deal.pk]) + "#deal-contacts")
        return self.answer(deal)


class DealLinesView(DealPanelMixin, View):
    """GET the lines form, POST it: replace the deal's lines (its amount becomes their total)."""

    panel = "lines"

    def initial(self, deal) -> list[dict]:
        return [{"product": line.product_id, "description": line.description, "quantity": line.quantity.normalize(),
                 "unit_price": line.unit_price, "discount": line.discount.normalize()}
                for line in deal.lines.all()]

    def get(self, request, pk):
        deal = self.editable_deal()
        return self.answer(deal, lines_form=DealLineFormSet(initial=self.initial(deal), prefix="lines"))

    def post(self, request, pk):
        deal = self.editable_deal()
        formset = DealLineFormSet(request.POST, prefix="lines")
        errors = []
        if formset.is_valid():
            kept = [f for f in formset.forms if not f.cleaned_data.get("DELETE") and not f.is_blank]
            try:
                services.set_deal_lines(by=request.user, deal=deal, lines=[f.line() for f in kept])
            except ValidationError as exc:
                for key, messages_ in exc.message_dict.items():
                    index = key.partition(".")[2]
                    if key.startswith("lines.") and index.isdigit() and int(index) < len(kept):
                        kept[int(index)].add_error(None, messages_)
                    else:
                        errors.extend(messages_)
        if not formset.is_valid() or errors or any(f.errors for f in formset.forms):
            deal = self.get_object()
            return self.answer(deal, lines_form=formset, lines_errors=errors, status=400)
        if not request.htmx:
            messages.success(request, _("The lines are saved."))
            return redirect(reverse("sales:deal", args=[deal.pk]) + "#deal-lines")
        return self.answer(self.get_object())


# --- New deal (from a contact or company page) -----------------------------------------------------


class DealCreateView(PageMixin, View):
    """/sales/deals/new/?contact=<id> or ?company=<id>: a deal prefilled with them; then its page."""

    roles = SALES_ROLES
    template = "sales/deals/new.html"

    def prefill(self, request) -> dict:
        initial = {}
        contact_id, company_id = request.GET.get("contact", ""), request.GET.get("company", "")
        if contact_id.isdigit():
            contact = Contact.objects.visible_to(request.user).select_related("company").filter(pk=contact_id).first()
            if contact is not None:
                initial["primary_contact"] = contact
                if contact.company_id and Company.objects.visible_to(request.user).filter(pk=contact.company_id).exists():
                    initial["company"] = contact.company
        if company_id.isdigit():
            company = Company.objects.visible_to(request.user).filter(pk=company_id).first()
            if company is not None:
                initial["company"] = company
        return initial

    def render_form(self, request, form, status=200):
        return render(request, self.template, {
            "form": form, "company_suggestions": company_suggestions(request.user),
            "contact_suggestions": contact_suggestions(request.user),
        }, status=status)

    def get(self, request):
        return self.render_form(request, NewDealForm(user=request.user, initial=self.prefill(request)))

    def post(self, request):
        form = NewDealForm(request.POST, user=request.user)
        if form.is_valid():
            try:
                deal = services.create_deal(by=request.user, **form.deal_values())
            except ValidationError as exc:
                form_errors_from(form, exc)
            else:
                messages.success(request, _("Deal “%(title)s” added.") % {"title": deal.title})
                return redirect("sales:deal", pk=deal.pk)
        return self.render_form(request, form, status=400)


# --- Deals panels of contact and company pages -----------------------------------------------------


class _RecordDealsView(PageMixin, View):
    model = None
    record = ""

    def get(self, request, pk):
        obj = get_object_or_404(self.model.objects.visible_to(request.user), pk=pk)
        deals, open_count, closed_count = record_deals(user=request.user, **{f"{self.record}_id": obj.pk})
        context = {
            "obj": obj, "record": self.record, "deals": deals, "open_count": open_count,
            "closed_count": closed_count,
            "can_add": request.user.role in SALES_ROLES,
            "add_url": reverse("sales:deal_new") + f"?{self.record}={obj.pk}",
            "list_url": reverse("sales:deals") + f"?{self.record}={obj.pk}",
        }
        template = "sales/partials/record_deals.html" if request.htmx else "sales/deals/record_deals_page.html"
        return render(request, template, context)


class ContactDealsView(_RecordDealsView):
    model, record = Contact, "contact"


class CompanyDealsView(_RecordDealsView):
    model, record = Company, "company"



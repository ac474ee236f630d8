"""Contact and company lists: filters, columns, saved views, bulk actions, exports; and the trash.

Every list is a GET form: the URL holds the whole view (filters, sort, columns, page size), so it
can be bookmarked, shared and saved. With htmx the results swap in place and the URL follows;
without JavaScript the same form reloads the page.
"""

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views import View
from django_htmx.http import push_url

from contacts import exports, selectors, services
from contacts.models import LifecycleStage, Tag
from crm import services as crm_services
from crm.forms import IdListField
from crm.listing import bulk_summary
from crm.models import Role, User
from crm.views import PageMixin, form_errors_from
from crm.widgets import FastSelect

# --- Forms -----------------------------------------------------------------------------------------


class SaveViewForm(forms.Form):
    """"Save this view": a name and whether the team sees it; the list's query and columns come along."""

    name = forms.CharField(label=gettext_lazy("Name"), max_length=80)
    shared = forms.BooleanField(label=gettext_lazy("Share with my team"), required=False)
    query = forms.CharField(required=False, max_length=2000, widget=forms.HiddenInput)
    cols = forms.MultipleChoiceField(required=False, widget=forms.MultipleHiddenInput)

    def __init__(self, *args, kind: selectors.ListKind, **kwargs):
        kwargs.setdefault("auto_id", "save_view_%s")
        super().__init__(*args, **kwargs)
        self.fields["cols"].choices = [(key, column.label) for key, column in kind.columns.items()]


class BulkActionForm(forms.Form):
    ACTIONS = [
        ("assign", gettext_lazy("Assign owner")),
        ("tag", gettext_lazy("Add tag")),
        ("stage", gettext_lazy("Change lifecycle stage")),
        ("delete", gettext_lazy("Move to trash")),
    ]

    ids = IdListField(error_messages={"required": gettext_lazy("Choose at least one contact."),
                                      "invalid": gettext_lazy("Choose contacts from the list.")})
    action = forms.ChoiceField(label=gettext_lazy("Action"), choices=[("", gettext_lazy("Choose an action…")), *ACTIONS])
    owner = forms.ModelChoiceField(label=gettext_lazy("New owner"), queryset=User.objects.none(), required=False,
                                   empty_label=gettext_lazy("Choose the new owner…"), widget=FastSelect)
    tag = forms.CharField(label=gettext_lazy("Tag"), max_length=60, required=False,
                          widget=forms.TextInput(attrs={"list": "bulk-tag-names", "autocomplete": "off"}),
                          help_text=gettext_lazy("An existing tag or a new name."))
    stage = forms.ChoiceField(label=gettext_lazy("Lifecycle stage"), required=False,
                              choices=[("", gettext_lazy("Choose a stage…")), *LifecycleStage.choices])
    query = forms.CharField(required=False, max_length=4000, widget=forms.HiddenInput)
    confirmed = forms.BooleanField(required=False, widget=forms.HiddenInput)

    NEEDS = {
        "assign": ("owner", gettext_lazy("Choose the new owner.")),
        "tag": ("tag", gettext_lazy("Choose a tag or type a new one.")),
        "stage": ("stage", gettext_lazy("Choose a lifecycle stage.")),
    }

    def __init__(self, *args, user: User, **kwargs):
        kwargs.setdefault("auto_id", "bulk_%s")  # the filter form beside it has its own "owner", "tag"…
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = selectors.assignable_owners(user)

    def clean(self):
        data = super().clean()
        name, message = self.NEEDS.get(data.get("action"), (None, None))
        value = data.get(name) if name else None
        if name and name not in self.errors and (value is None or not str(value).strip()):
            self.add_error(name, message)
        return data

    def action_label(self) -> str:
        return str(dict(self.ACTIONS).get(self.cleaned_data["action"], ""))


def _style_filters(form) -> None:
    """Date pickers, tick lists for choices of many, "Any" for no choice (widgets only: the FilterSet parses)."""
    for field in form.fields.values():
        if isinstance(field, forms.DateField):
            field.widget = forms.DateInput(attrs={"type": "date"})
        elif isinstance(field, forms.MultipleChoiceField | forms.ModelMultipleChoiceField):
            field.widget = forms.CheckboxSelectMultiple(choices=field.choices)
        elif isinstance(field, forms.ModelChoiceField):
            field.empty_label = _("Any")
        elif isinstance(field, forms.NullBooleanField):
            field.widget.choices = [("", _("Any")), ("true", _("Yes")), ("false", _("No"))]
        elif isinstance(field, forms.ChoiceField) and field.choices and field.choices[0][0] == "":
            field.choices = [("", _("Any")), *field.choices[1:]]


# --- Lists -----------------------------------------------------------------------------------------


class _ListView(PageMixin, View):
    kind: selectors.ListKind
    template = ""
    rows_template = ""
    url_name = ""
    export_url_name = ""

    def select(self, user, params):
        raise NotImplementedError

    def get(self, request):
        return self.respond(request, self.select(request.user, request.GET))

    def post(self, request):
        """Save this view under a name (and maybe for the team), then show it."""
        form = SaveViewForm(request.POST, kind=self.kind)
        if form.is_valid():
            data = form.cleaned_data
            try:
                view = crm_services.create_saved_view(
                    by=request.user, name=data["name"], target=self.kind.target,
                    query=selectors.filter_query(selectors.list_params(QueryDict(data["query"]), self.kind)),
                    columns=data["cols"], shared=data["shared"],
                )
            except ValidationError as exc:
                form_errors_from(form, exc)
            else:
                messages.success(request, _("View “%(name)s” is saved.") % {"name": view.name})
                return redirect(self.url(selectors.saved_view_url_params(view)))
        params = QueryDict(request.POST.get("query", ""), mutable=True)
        params.setlist("cols", request.POST.getlist("cols"))
        return self.respond(request, self.select(request.user, params), status=400, save_form=form, full_page=True)

    def url(self, params: QueryDict | None = None) -> str:
        query = params.urlencode() if params else ""
        return reverse(self.url_name) + (f"?{query}" if query else "")

    def context(self, request, result: selectors.ListResult, **extra) -> dict:
        user = request.user
        _style_filters(result.filterset.form)
        saved_views = selectors.saved_views_for(user=user, kind=self.kind)
        for view in saved_views:
            view.apply_url = self.url(selectors.saved_view_url_params(view))
        current = request.GET.get("view", "")
        clear = QueryDict(mutable=True)
        for key in selectors.LIST_OPTION_PARAMS:
            if key in result.params:
                clear.setlist(key, result.params.getlist(key))
        form = result.filterset.form
        shown = set(self.kind.main_filters) | set(self.kind.more_filters) | {"sort"}
        context = {
            "result": result,
            "kind": self.kind.target,
            "list_url": reverse(self.url_name),
            "export_url": reverse(self.export_url_name),
            "clear_url": self.url(clear),
            "main_filters": [form[name] for name in self.kind.main_filters],
            "more_filters": [form[name] for name in self.kind.more_filters],
            "more_filters_open": any(form[name].value() not in (None, "", []) for name in self.kind.more_filters),
            "hidden_filters": [(key, value) for key in result.params if key not in shown
                               and key not in selectors.LIST_OPTION_PARAMS for value in result.params.getlist(key)],
            "headers": self.headers(result),
            "rows_template": self.rows_template,
            "saved_views": saved_views,
            "current_view": next((v for v in saved_views if str(v.pk) == current), None),
            "save_form": SaveViewForm(kind=self.kind),
            "can_create": user.role != Role.SUPPORT_AGENT,
            "can_bulk": False,
            "selected_ids": set(),
            "error_slots": self.error_slots(result),
        }
        context["other_errors"] = context["error_slots"][-1][1]
        context.update(extra)
        return context

    def headers(self, result: selectors.ListResult) -> list[dict]:
        """Column headings; those with a sort link to it (and to its opposite once it is on)."""
        current, out = result.sort, []
        for column in result.columns:
            header = {"column": column, "url": "", "aria_sort": ""}
            if column.sort:
                plain = column.sort.lstrip("-")
                if current.lstrip("-") == plain:
                    header["aria_sort"] = "descending" if current.startswith("-") else "ascending"
                    target = plain if current.startswith("-") else f"-{plain}"
                else:
                    target = column.sort
                params = result.params.copy()
                params["sort"] = target
                header["url"] = self.url(params)
            out.append(header)
        return out

    def error_slots(self, result: selectors.ListResult) -> list[tuple[str, list]]:
        """(element id, errors) for each filter and option: what an htmx answer swaps in beside the fields."""
        form, shown = result.filterset.form, (*self.kind.main_filters, *self.kind.more_filters, "sort")
        slots = [(f"ferr-{name}", form[name].errors) for name in shown]
        slots += [(f"ferr-{name}", result.options[name].errors) for name in result.options.fields]
        other = [e for name in form.fields if name not in shown for e in form[name].errors]
        return [*slots, ("ferr-other", other)]

    def respond(self, request, result, *, status=None, full_page=False, **extra):
        context = self.context(request, result, **extra)
        if request.htmx and not request.htmx.history_restore_request and not full_page:
            # base.html tells htmx to swap 400 answers, so the fragment's field errors show in place.
            response = render(request, "contacts/partials/list_results_swap.html", context,
                              status=status or (200 if result.is_valid else 400))
            params = result.params.copy()
            if result.page is not None and result.page.number > 1:
                params["page"] = str(result.page.number)
            push_url(response, self.url(params))
        else:
            response = render(request, self.template, context, status=status or (200 if result.is_valid else 400))
        patch_vary_headers(response, ("HX-Request",))
        return response


class ContactListView(_ListView):
    kind = selectors.CONTACTS
    template = "contacts/contact_list.html"
    rows_template = "contacts/partials/list_contact_rows.html"
    url_name = "contacts:index"
    export_url_name = "contacts:export"

    def select(self, user, params):
        return selectors.contact_list(user=user, params=params, page_number=params.get("page"))

    def context(self, request, result, **extra):
        context = super().context(request, result, **extra)
        if "company" in result.params:
            name = selectors.visible_company_name(user=request.user, pk=result.params["company"])
            without = result.params.copy()
            without.pop("company")
            context["company_filter"] = {"name": name or _("a company you cannot see"), "clear_url": self.url(without)}
        if request.user.role != Role.SUPPORT_AGENT:
            query = result.params.urlencode()
            context.setdefault("bulk_form", BulkActionForm(user=request.user, initial={"query": query}))
            context["can_bulk"] = True
            context["tag_names"] = Tag.objects.order_by("name").values_list("name", flat=True)[:500]
        return context


class CompanyListView(_ListView):
    kind = selectors.COMPANIES
    template = "contacts/company_list.html"
    rows_template = "contacts/partials/list_company_rows.html"
    url_name = "contacts:companies"
    export_url_name = "contacts:company_export"

    def select(self, user, params):
        return selectors.company_list(user=user, params=params, page_number=params.get("page"))


# --- Exports ---------------------------------------------------------------------------------------


class _ExportView(PageMixin, View):
    list_view: type[_ListView]

    def read(self, user, params):
        raise NotImplementedError

    WRITERS = {"csv": exports.csv_response, "xlsx": exports.xlsx_response}

    def get(self, request):
        write = self.WRITERS.get(request.GET.get("format", "csv"))
        if write is None:
            raise Http404
        try:
            data = self.read(request.user, request.GET)
        except selectors.InvalidListParams as exc:
            page = self.list_view()
            page.setup(request)
            return page.respond(request, exc.result, status=400, full_page=True)
        return write(data)


class ContactExportView(_ExportView):
    list_view = ContactListView

    def read(self, user, params):
        return selectors.contact_export(user=user, params=params)


class CompanyExportView(_ExportView):
    list_view = CompanyListView

    def read(self, user, params):
        return selectors.company_export(user=user, params=params)


# --- Bulk actions ------------------------------------------------------------------------------------


class ContactBulkView(PageMixin, View):
    """Apply one action to the ticked contacts, after a confirmation (a dialog with JS, a page without)."""

    def post(self, request):
        form = BulkActionForm(request.POST, user=request.user)
        if form.is_valid() and form.cleaned_data["confirmed"]:
            data = form.cleaned_data
            try:
                outcome = services.bulk_update_contacts(
                    by=request.user, ids=data["ids"], action=data["action"], owner=data["owner"],
                    tag=data["tag"].strip() or None, stage=data["stage"],
                )
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
            text = ngettext("%(n)s contact moved to the trash", "%(n)s contacts moved to the trash", done) % {"n": done}
        else:
            text = ngettext("%(n)s contact updated", "%(n)s contacts updated", done) % {"n": done}
        return bulk_summary(text, skipped)

    @staticmethod
    def back(form) -> str:
        params = selectors.list_params(QueryDict(form.cleaned_data.get("query") or form.data.get("query", "")),
                                       selectors.CONTACTS)
        query = params.urlencode()
        return reverse("contacts:index") + (f"?{query}" if query else "")

    def confirmation(self, form) -> dict:
        data = form.cleaned_data
        details = {
            "assign": lambda: _("New owner: %(name)s") % {"name": data["owner"]},
            "tag": lambda: _("Tag: %(name)s") % {"name": data["tag"].strip()},
            "stage": lambda: _("New lifecycle stage: %(stage)s") % {"stage": LifecycleStage(data["stage"]).label},
            "delete": lambda: _("They stay in the trash for %(days)s days; you can restore them from there.")
            % {"days": selectors.TRASH_DAYS},
        }
        return {"count": len(data["ids"]), "action": form.action_label(), "detail": details[data["action"]](),
                "data": data, "back": self.back(form)}

    def list_page(self, request, form):
        """The list again: with the form's errors (400), or asking to confirm a valid action (200)."""
        params = QueryDict(form.data.get("query", ""))
        page = ContactListView()
        page.setup(request)
        result = selectors.contact_list(user=request.user, params=params, page_number=params.get("page"))
        confirm = self.confirmation(form) if form.is_valid() else None
        selected = set()
        for value in form.data.getlist("ids"):
            if value.isdigit():
                selected.add(int(value))
        response = page.respond(request, result, status=200 if confirm else 400, full_page=True, bulk_form=form,
                                bulk_confirm=confirm, selected_ids=selected)
        return response


# --- Trash ---------------------------------------------------------------------------------------------


class TrashView(PageMixin, View):
    template = "contacts/trash.html"

    def get(self, request):
        return self.render_trash(request, request.GET.get("kind", "contacts"))

    def render_trash(self, request, kind, *, errors=None, status=200):
        if kind not in selectors.TRASH_KINDS:
            kind = "contacts"
        result = selectors.trash_list(user=request.user, kind=kind, page_number=request.GET.get("page"))
        for record in result.page.object_list:
            record.restore_errors = (errors or {}).get(record.pk, [])
        return render(request, self.template, {"result": result, "kind": kind, "trash_days": selectors.TRASH_DAYS},
                      status=status)


class RestoreView(PageMixin, View):
    KINDS = {"contact": "contacts", "company": "companies"}

    def post(self, request, kind, pk):
        record = selectors.restorable_record(user=request.user, kind=kind, pk=pk)
        if record is None:
            raise Http404
        restore = services.restore_contact if kind == "contact" else services.restore_company
        try:
            restore(by=request.user, **{kind: record})  # PermissionDenied (403) when they may see but not restore it
        except ValidationError as exc:
            return TrashView().render_trash(request, self.KINDS[kind], errors={record.pk: exc.messages}, status=400)
        messages.success(request, _("“%(name)s” is restored.") % {"name": record})
        return redirect(reverse("contacts:trash") + f"?kind={self.KINDS[kind]}")

"""Pages of orders and invoices: lists, record pages, forms, the CSV import with its progress, the printable
invoice, and the panels other pages load lazily (a contact's or company's orders, a deal's order and invoices).

`pk` always names the record of the route name's prefix: `order*` an Order, `invoice*` an Invoice,
`deal_*` a Deal, `contact_orders` a Contact, `company_orders` a Company. Rules live in `sales.orders`
and `sales.invoices`; these parse, call and render.
"""

import uuid
from urllib.parse import urlencode

from celery.result import AsyncResult
from django import forms
from django.contrib import messages
from django.core import signing
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Prefetch
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views import View

from contacts.models import Company, Contact
from crm import policy
from crm.listing import CappedPaginator
from crm.models import OrgSettings, Role
from crm.views import OwnedObjectMixin, PageMixin, form_errors_from
from sales import invoices, order_import, orders
from sales.forms import ContactPickerField, contact_suggestions
from sales.models import Deal, Invoice, InvoiceStatus, Order, OrderChannel, OrderStatus, Payment, PaymentMethod
from sales.order_api import InvoiceFilter, OrderFilter

WRITER_ROLES = {Role.ADMIN, Role.MANAGER, Role.SALES_REP}
PAGE_SIZE = 50
PANEL_SIZE = 10
IMPORT_SALT = "sales.order-import"
IMPORT_KEEP_SECONDS = 24 * 3600


def import_token(task_id: str, user_id: int) -> str:
    """The import's address: its task id, signed with its uploader (nobody else can open its progress)."""
    return signing.dumps([task_id, user_id], salt=IMPORT_SALT)


def _panel(request, template: str, context: dict):
    """A lazily loaded panel: the fragment for htmx, the same fragment inside a small page without JS."""
    if request.htmx:
        return render(request, template, context)
    return render(request, "sales/orders/panel_page.html", {**context, "panel_template": template})


# --- Forms ----------------------------------------------------------------------------------------


class LineForm(forms.Form):
    description = forms.CharField(label=gettext_lazy("Item"), max_length=300, required=False)
    sku = forms.CharField(label=gettext_lazy("SKU"), max_length=64, required=False)
    quantity = forms.CharField(label=gettext_lazy("Quantity"), max_length=20, required=False, initial="1",
                               widget=forms.TextInput(attrs={"inputmode": "decimal", "size": 6}))
    unit_price = forms.CharField(label=gettext_lazy("Unit price"), max_length=30, required=False,
                                 widget=forms.TextInput(attrs={"inputmode": "decimal", "size": 10}))
    discount = forms.CharField(label=gettext_lazy("Discount (%)"), max_length=10, required=False,
                               widget=forms.TextInput(attrs={"inputmode": "decimal", "size": 5}))

    def is_blank(self) -> bool:
        data = getattr(self, "cleaned_data", {})
        return not any(data.get(name) for name in ("description", "sku", "unit_price"))


LineFormSet = forms.formset_factory(LineForm, extra=4, max_num=50, absolute_max=50)


class OrderForm(forms.Form):
    """A purchase recorded by hand (phone or store orders, mostly); lines below it."""

    channel = forms.ChoiceField(label=gettext_lazy("Channel"), choices=OrderChannel.choices, initial=OrderChannel.PHONE)
    status = forms.ChoiceField(label=gettext_lazy("Status"), choices=OrderStatus.choices, initial=OrderStatus.PENDING)
    external_ref = forms.CharField(label=gettext_lazy("Order number"), max_length=64, required=False)
    ordered_at = forms.DateTimeField(label=gettext_lazy("Ordered"), required=False,
                                     widget=forms.DateTimeInput(attrs={"type": "datetime-local"}))
    currency = forms.CharField(label=gettext_lazy("Currency"), max_length=3, required=False,
                               help_text=gettext_lazy("Empty means the organisation's currency."))
    shipping = forms.CharField(label=gettext_lazy("Shipping"), max_length=30, required=False)
    tax = forms.CharField(label=gettext_lazy("Tax"), max_length=30, required=False)
    note = forms.CharField(label=gettext_lazy("Note"), required=False, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, user, current: Contact | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields = {"contact": ContactPickerField(user=user, current=current), **self.fields}


class StatusForm(forms.Form):
    status = forms.ChoiceField(label=gettext_lazy("New status"), choices=())

    def __init__(self, *args, order, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["status"].choices = orders.allowed_statuses(order)


class InvoiceForm(forms.Form):
    issued_on = forms.DateField(label=gettext_lazy("Issued"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    due_on = forms.DateField(label=gettext_lazy("Due"), required=False, widget=forms.DateInput(attrs={"type": "date"}),
                             help_text=gettext_lazy("Empty: %(days)s days after the issue date.")
                             % {"days": invoices.DEFAULT_TERMS_DAYS})
    tax = forms.CharField(label=gettext_lazy("Tax"), max_length=30, required=False,
                          help_text=gettext_lazy("Empty: the order's tax, or none."))
    note = forms.CharField(label=gettext_lazy("Note"), required=False, widget=forms.Textarea(attrs={"rows": 2}))


class PaymentForm(forms.Form):
    amount = forms.CharField(label=gettext_lazy("Amount"), max_length=30,
                             widget=forms.TextInput(attrs={"inputmode": "decimal"}))
    paid_on = forms.DateField(label=gettext_lazy("Paid on"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    method = forms.ChoiceField(label=gettext_lazy("Method"), choices=PaymentMethod.choices, initial=PaymentMethod.BANK)
    reference = forms.CharField(label=gettext_lazy("Reference"), max_length=100, required=False)


class ImportForm(forms.Form):
    file = forms.FileField(label=gettext_lazy("CSV file"), help_text=gettext_lazy(
        "One row per order line; the first row names the columns. Up to 5 MB."),
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,text/csv"}))

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > order_import.MAX_FILE_BYTES:
            raise forms.ValidationError(_("Upload at most 5 MB; split a larger file, or use manage.py import_orders."))
        data = b"".join(upload.chunks())
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise forms.ValidationError(_("Save the file as CSV in UTF-8.")) from None
        try:
            order_import.read_rows(text)  # the header is checked now, the rows by the import
        except ValidationError as exc:
            raise forms.ValidationError(exc.messages) from None
        return text


# --- Lists ----------------------------------------------------------------------------------------


class ListPage(PageMixin, View):
    """A filtered, sorted, paginated list of visible records (a fixed number of queries whatever the page size)."""

    model = filterset_class = template = None
    related = ("owner", "contact", "company")
    #: filters drawn as fields; the others (a contact, company, deal: too many to list) ride along hidden
    shown = ("status", "owner", "team", "sort")

    def get(self, request):
        queryset = self.model.objects.visible_to(request.user).select_related(*self.related)
        filterset = self.filterset_class(request.GET, queryset=queryset, user=request.user)
        valid = filterset.is_valid()
        rows = filterset.qs if valid else queryset.none()
        page = CappedPaginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
        params = request.GET.copy()
        params.pop("page", None)
        form = filterset.form
        hidden = [(name, request.GET[name]) for name in form.fields if name not in self.shown and request.GET.get(name)]
        return render(request, self.template, {
            "filter_form": form, "filter_fields": [form[name] for name in self.shown], "hidden_filters": hidden,
            "page": page, "rows": page.object_list, "params": params,
            "can_write": request.user.role in WRITER_ROLES,
        }, status=200 if valid else 400)


class OrderListView(ListPage):
    """/sales/orders/: orders with filters (status, channel, dates, owner, customer) and one `sort`."""

    model, filterset_class, template = Order, OrderFilter, "sales/orders/list.html"
    shown = ("status", "channel", "ordered_after", "ordered_before", "owner", "team", "sort")


class InvoiceListView(ListPage):
    """/sales/invoices/: invoices with filters (status, dates, owner, customer) and one `sort`."""

    model, filterset_class, template = Invoice, InvoiceFilter, "sales/invoices/list.html"
    shown = ("status", "issued_after", "issued_before", "due_before", "number", "owner", "team", "sort")


# --- Orders ---------------------------------------------------------------------------------------


def _lines_from(formset) -> list[dict]:
    return [{k: v for k, v in form.cleaned_data.items() if v not in ("", None)}
            for form in formset.forms if form.is_valid() and not form.is_blank()]


def _line_errors(formset, exc: ValidationError, form) -> None:
    """Put a service's `lines.<i>` errors on the i-th filled line form, the rest on the order form."""
    filled = [f for f in formset.forms if f.is_valid() and not f.is_blank()]
    rest = {}
    for key, errors in exc.message_dict.items():
        if key.startswith("lines.") and int(key.split(".")[1]) < len(filled):
            filled[int(key.split(".")[1])].add_error(None, errors)
        elif key == "lines":
            formset._non_form_errors = formset.error_class(errors)
        else:
            rest[key] = errors
    if rest:
        form_errors_from(form, ValidationError(rest))


class OrderCreateView(PageMixin, View):
    """/sales/orders/new/: record an order by hand (?contact=<id> preselects the buyer)."""

    roles = WRITER_ROLES

    def render_form(self, form, formset, status=200):
        return render(self.request, "sales/orders/new.html", {
            "form": form, "formset": formset, "contact_suggestions": contact_suggestions(self.request.user)},
            status=status)

    def get(self, request):
        contact_id = request.GET.get("contact", "")
        current = Contact.objects.visible_to(request.user).filter(pk=contact_id).first() if contact_id.isdigit() else None
        form = OrderForm(user=request.user, current=current, initial={"contact": current} if current else {})
        return self.render_form(form, LineFormSet(prefix="lines"))

    def post(self, request):
        form = OrderForm(request.POST, user=request.user)
        formset = LineFormSet(request.POST, prefix="lines")
        if form.is_valid() and formset.is_valid():
            data = form.cleaned_data
            try:
                order = orders.create_order(
                    by=request.user, contact=data["contact"], channel=data["channel"], status=data["status"],
                    external_ref=data["external_ref"], ordered_at=data["ordered_at"], currency=data["currency"],
                    shipping=data["shipping"], tax=data["tax"], note=data["note"], lines=_lines_from(formset))
            except ValidationError as exc:
                _line_errors(formset, exc, form)
            else:
                messages.success(request, _("%(order)s is recorded.") % {"order": order})
                return redirect("sales:order", pk=order.pk)
        return self.render_form(form, formset, status=400)


class OrderPage(OwnedObjectMixin):
    model = Order

    def get_queryset(self):
        return super().get_queryset().select_related("contact", "company", "deal")

    def page_context(self, order, *, status_form=None) -> dict:
        can_edit = policy.can_edit(self.request.user, order)
        return {
            "order": order,
            "lines": order.lines.select_related("product"),
            "invoices": Invoice.objects.visible_to(self.request.user).filter(order=order).order_by("-issued_on", "-id"),
            "can_edit": can_edit,
            "status_form": (status_form or StatusForm(order=order)) if can_edit and orders.allowed_statuses(order) else None,
        }


class OrderDetailView(OrderPage, View):
    """/sales/orders/<pk>/: the order, its lines and totals, its status form and its invoices."""

    def get(self, request, pk):
        return render(request, "sales/orders/detail.html", self.page_context(self.get_object()))


class OrderStatusView(OrderPage, View):
    """POST status: move the order on (the service says which moves are allowed)."""

    def post(self, request, pk):
        order = self.get_editable_object()
        form = StatusForm(request.POST, order=order)
        if form.is_valid():
            try:
                orders.set_order_status(by=request.user, order=order, status=form.cleaned_data["status"])
            except ValidationError as exc:
                form_errors_from(form, exc)
            else:
                messages.success(request, _("The order is now %(status)s.") % {"status": order.get_status_display()})
                return redirect("sales:order", pk=order.pk)
        return render(request, "sales/orders/detail.html", self.page_context(order, status_form=form), status=400)


class DealOrderCreateView(PageMixin, View):
    """POST /sales/deals/<pk>/order/: the won deal's order, in one click."""

    roles = WRITER_ROLES

    def post(self, request, pk):
        deal = get_object_or_404(Deal.objects.visible_to(request.user), pk=pk)
        try:
            order = orders.order_from_deal(by=request.user, deal=deal)
        except ValidationError as exc:
            for message in exc.messages:
                messages.error(request, message)
            return redirect("sales:deal", pk=deal.pk)
        messages.success(request, _("%(order)s is created from the deal.") % {"order": order})
        return redirect("sales:order", pk=order.pk)


# --- Import ---------------------------------------------------------------------------------------


class OrderImportView(PageMixin, View):
    """/sales/orders/import/: upload a CSV of order lines; the import runs in the background."""

    roles = WRITER_ROLES

    def get(self, request):
        return render(request, "sales/orders/import.html", {"form": ImportForm(), "columns": order_import.COLUMNS})

    def post(self, request):
        form = ImportForm(request.POST, request.FILES)
        if not form.is_valid():
            return render(request, "sales/orders/import.html", {"form": form, "columns": order_import.COLUMNS},
                          status=400)
        from sales.tasks import import_orders

        task_id = str(uuid.uuid4())
        import_orders.apply_async(args=[request.user.pk, form.cleaned_data["file"]], task_id=task_id)
        return redirect("sales:order_import_progress", token=import_token(task_id, request.user.pk))


class OrderImportProgressView(PageMixin, View):
    """/sales/orders/import/<token>/: progress (htmx polls it every second), then the report of rows not imported.

    The token is the task id signed with its uploader: anyone else gets 404. The report is the task's result
    (kept CELERY_RESULT_EXPIRES); the orders themselves are in PostgreSQL from the moment each is imported.
    """

    roles = WRITER_ROLES

    def get(self, request, token):
        try:
            task_id, user_id = signing.loads(token, salt=IMPORT_SALT, max_age=IMPORT_KEEP_SECONDS)
        except (signing.BadSignature, ValueError, TypeError):
            raise Http404 from None
        if user_id != request.user.pk:
            raise Http404
        result = AsyncResult(str(task_id))
        state, info = result.state, result.info
        context = {"token": token, "state": state, "running": state in ("PENDING", "STARTED", "PROGRESS", "RETRY"),
                   "progress": info if state == "PROGRESS" and isinstance(info, dict) else None,
                   "report": info if state == "SUCCESS" and isinstance(info, dict) else None,
                   "failed": state in ("FAILURE", "REVOKED")}
        template = "sales/orders/import_progress.html" if request.htmx else "sales/orders/import_status.html"
        return render(request, template, context)


# --- Invoices -------------------------------------------------------------------------------------


class InvoicePage(OwnedObjectMixin):
    model = Invoice

    def get_queryset(self):
        payments = Payment.objects.select_related("recorded_by").order_by("paid_on", "id")
        return (super().get_queryset().select_related("contact", "company", "deal", "order")
                .prefetch_related(Prefetch("payments", queryset=payments)))

    def page_context(self, invoice, *, payment_form=None) -> dict:
        can_edit = policy.can_edit(self.request.user, invoice) and self.request.user.role in WRITER_ROLES
        takes_payments = invoice.status not in (InvoiceStatus.VOID, InvoiceStatus.PAID)
        return {
            "invoice": invoice,
            "lines": invoice.lines.select_related("product"),
            "payments": invoice.payments.all(),
            "can_edit": can_edit,
            "payment_form": (payment_form or PaymentForm(initial={"amount": invoice.balance}))
            if can_edit and takes_payments else None,
        }


class InvoiceDetailView(InvoicePage, View):
    """/sales/invoices/<pk>/: the invoice, its lines, payments and balance, and its actions."""

    def get(self, request, pk):
        return render(request, "sales/invoices/detail.html", self.page_context(self.get_object()))


class InvoicePrintView(InvoicePage, View):
    """/sales/invoices/<pk>/print/: a clean page to print (or save as PDF from the browser)."""

    def get(self, request, pk):
        return render(request, "sales/invoices/print.html", {**self.page_context(self.get_object()),
                                                             "org": OrgSettings.load()})


class InvoiceActionView(InvoicePage, View):
    """POST /send/ or /void/: move the invoice on; a refusal shows as a message on its page."""

    action = None

    def post(self, request, pk):
        invoice = self.get_object()
        try:
            if self.action == "send":
                invoices.send_invoice(by=request.user, invoice=invoice)
                messages.success(request, _("Invoice %(number)s is marked as sent.") % {"number": invoice.number})
            else:
                invoices.void_invoice(by=request.user, invoice=invoice)
                messages.success(request, _("Invoice %(number)s is void; its number stays.") % {"number": invoice.number})
        except ValidationError as exc:
            for message in exc.messages:
                messages.error(request, message)
        return redirect("sales:invoice", pk=invoice.pk)


class InvoicePayView(InvoicePage, View):
    """POST amount, paid_on, method, reference: record a payment."""

    def post(self, request, pk):
        invoice = self.get_object()
        form = PaymentForm(request.POST)
        if form.is_valid():
            try:
                invoices.record_payment(by=request.user, invoice=invoice, **form.cleaned_data)
            except ValidationError as exc:
                form_errors_from(form, exc)
            else:
                messages.success(request, _("The payment is recorded."))
                return redirect("sales:invoice", pk=invoice.pk)
        invoice.refresh_from_db()
        return render(request, "sales/invoices/detail.html", self.page_context(invoice, payment_form=form), status=400)


class InvoiceCreateView(PageMixin, View):
    """GET a form, POST to bill a deal (/deals/<pk>/invoices/new/) or an order (/orders/<pk>/invoices/new/)."""

    roles = WRITER_ROLES
    source_model = None

    def get_source(self, pk):
        return get_object_or_404(self.source_model.objects.visible_to(self.request.user), pk=pk)

    def render_form(self, source, form, status=200):
        kind = "deal" if self.source_model is Deal else "order"
        return render(self.request, "sales/invoices/new.html", {"source": source, "kind": kind, "form": form},
                      status=status)

    def get(self, request, pk):
        source = self.get_source(pk)
        if not policy.can_edit(request.user, source):
            raise PermissionDenied
        return self.render_form(source, InvoiceForm(initial={"issued_on": timezone.localdate()}))

    def post(self, request, pk):
        source = self.get_source(pk)
        form = InvoiceForm(request.POST)
        if form.is_valid():
            kind = "deal" if self.source_model is Deal else "order"
            try:
                invoice = invoices.create_invoice(by=request.user, **{kind: source}, **form.cleaned_data)
            except ValidationError as exc:
                form_errors_from(form, exc)
            else:
                messages.success(request, _("Invoice %(number)s is created as a draft.") % {"number": invoice.number})
                return redirect("sales:invoice", pk=invoice.pk)
        return self.render_form(source, form, status=400)


class DealInvoiceCreateView(InvoiceCreateView):
    source_model = Deal


class OrderInvoiceCreateView(InvoiceCreateView):
    source_model = Order


# --- Panels ---------------------------------------------------------------------------------------


class CustomerOrdersPanel(PageMixin, View):
    """The orders panel of a contact or company page: the latest orders, and unpaid invoices."""

    customer_model = None
    field = None

    def get(self, request, pk):
        customer = get_object_or_404(self.customer_model.objects.visible_to(request.user), pk=pk)
        visible = Order.objects.visible_to(request.user).filter(**{self.field: customer})
        latest = list(visible.order_by("-ordered_at", "-id")[:PANEL_SIZE + 1])
        unpaid = (Invoice.objects.visible_to(request.user).filter(**{self.field: customer})
                  .filter(status__in=[InvoiceStatus.SENT, InvoiceStatus.OVERDUE]).order_by("due_on", "id")[:PANEL_SIZE])
        context = {
            "customer": customer, "orders": latest[:PANEL_SIZE], "has_more": len(latest) > PANEL_SIZE,
            "unpaid": unpaid, "list_url": reverse("sales:orders") + "?" + urlencode({self.field: customer.pk}),
            "add_url": (reverse("sales:order_new") + f"?contact={customer.pk}") if (
                self.customer_model is Contact and request.user.role in WRITER_ROLES) else "",
        }
        return _panel(request, "sales/orders/panel.html", context)


class ContactOrdersPanel(CustomerOrdersPanel):
    customer_model, field = Contact, "contact"


class CompanyOrdersPanel(CustomerOrdersPanel):
    customer_model, field = Company, "company"


class DealCommercePanel(PageMixin, View):
    """/sales/deals/<pk>/commerce/: the deal's order and invoices, with "Create order" (won, none yet) and
    "Create invoice" for those who may change the deal."""

    def get(self, request, pk):
        deal = get_object_or_404(Deal.objects.visible_to(request.user), pk=pk)
        can_edit = policy.can_edit(request.user, deal) and request.user.role in WRITER_ROLES
        order = Order.objects.visible_to(request.user).filter(deal=deal).first()
        has_order = order is not None or Order.objects.filter(deal=deal).exists()
        context = {
            "deal": deal, "order": order,
            "invoices": Invoice.objects.visible_to(request.user).filter(deal=deal).order_by("-issued_on", "-id"),
            "can_order": can_edit and deal.won_at is not None and not has_order,
            "can_invoice": can_edit,
        }
        return _panel(request, "sales/orders/deal_commerce.html", context)


urlpatterns = [
    path("orders/", OrderListView.as_view(), name="orders"),
    path("orders/new/", OrderCreateView.as_view(), name="order_new"),
    path("orders/import/", OrderImportView.as_view(), name="order_import"),
    path("orders/import/<str:token>/", OrderImportProgressView.as_view(), name="order_import_progress"),
    path("orders/<int:pk>/", OrderDetailView.as_view(), name="order"),
    path("orders/<int:pk>/status/", OrderStatusView.as_view(), name="order_status"),
    path("orders/<int:pk>/invoices/new/", OrderInvoiceCreateView.as_view(), name="order_invoice_new"),
    path("invoices/", InvoiceListView.as_view(), name="invoices"),
    path("invoices/<int:pk>/", InvoiceDetailView.as_view(), name="invoice"),
    path("invoices/<int:pk>/print/", InvoicePrintView.as_view(), name="invoice_print"),
    path("invoices/<int:pk>/send/", InvoiceActionView.as_view(action="send"), name="invoice_send"),
    path("invoices/<int:pk>/void/", InvoiceActionView.as_view(action="void"), name="invoice_void"),
    path("invoices/<int:pk>/pay/", InvoicePayView.as_view(), name="invoice_pay"),
    path("deals/<int:pk>/order/", DealOrderCreateView.as_view(), name="deal_order_new"),
    path("deals/<int:pk>/invoices/new/", DealInvoiceCreateView.as_view(), name="deal_invoice_new"),
    path("deals/<int:pk>/commerce/", DealCommercePanel.as_view(), name="deal_commerce"),
    path("contacts/<int:pk>/orders/", ContactOrdersPanel.as_view(), name="contact_orders"),
    path("companies/<int:pk>/orders/", CompanyOrdersPanel.as_view(), name="company_orders"),
]

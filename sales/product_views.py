"""The product catalogue in the browser: everyone reads it, managers and admins change it.

Products are organisation-wide (like pipelines), so their id is `product_pk`, not `pk` (see sales/urls.py).
"""

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Q
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views import View

from crm.models import Role
from crm.views import PageMixin, form_errors_from
from sales.models import Product
from sales.services import save_product

EDITORS = {Role.ADMIN, Role.MANAGER}
PAGE_SIZE = 50


class ProductFilterForm(forms.Form):
    q = forms.CharField(label=gettext_lazy("Name or SKU"), required=False, max_length=100)
    category = forms.CharField(label=gettext_lazy("Category"), required=False, max_length=100)
    state = forms.ChoiceField(label=gettext_lazy("Show"), required=False, choices=[
        ("active", gettext_lazy("Active products")), ("inactive", gettext_lazy("Inactive products")),
        ("all", gettext_lazy("All products"))])


class ProductForm(forms.Form):
    sku = forms.CharField(label=gettext_lazy("SKU"), max_length=64)
    name = forms.CharField(label=gettext_lazy("Name"), max_length=200)
    category = forms.CharField(label=gettext_lazy("Category"), max_length=100, required=False)
    unit_price = forms.DecimalField(label=gettext_lazy("Unit price"), min_value=0, max_digits=14, decimal_places=2)
    currency = forms.CharField(label=gettext_lazy("Currency"), max_length=3, required=False,
                               help_text=gettext_lazy("Three letters; empty means the organisation's currency."))
    active = forms.BooleanField(label=gettext_lazy("Active (can be sold)"), required=False, initial=True)
    tags = forms.CharField(label=gettext_lazy("Interest tags"), required=False, max_length=500,
                           help_text=gettext_lazy("Separate tags with commas; contacts with the same tags are "
                                                  "interested in this product."))

    def tag_names(self) -> list[str]:
        return [t for t in (part.strip() for part in self.cleaned_data["tags"].split(",")) if t]


class ProductListView(PageMixin, View):
    def get(self, request):
        form = ProductFilterForm(request.GET or None)
        products = Product.objects.prefetch_related("tags").order_by("name", "id")
        data = form.cleaned_data if form.is_valid() else {}
        state = data.get("state") or "active"
        if state != "all":
            products = products.filter(active=state == "active")
        if q := (data.get("q") or "").strip():
            products = products.filter(Q(name__icontains=q) | Q(sku__icontains=q))
        if category := (data.get("category") or "").strip():
            products = products.filter(category__iexact=category)
        page = Paginator(products, PAGE_SIZE).get_page(request.GET.get("page"))
        params = request.GET.copy()
        params.pop("page", None)
        return render(request, "sales/products/list.html", {
            "form": form, "page": page, "rows": page.object_list, "params": params,
            "can_edit": request.user.role in EDITORS,
        })


class ProductFormView(PageMixin, View):
    roles = EDITORS

    def product(self):
        return get_object_or_404(Product, pk=self.kwargs["product_pk"]) if "product_pk" in self.kwargs else None

    def get(self, request, **kwargs):
        product = self.product()
        initial = {"active": True}
        if product is not None:
            initial = {"sku": product.sku, "name": product.name, "category": product.category,
                       "unit_price": product.unit_price, "currency": product.currency, "active": product.active,
                       "tags": ", ".join(t.name for t in product.tags.order_by("name"))}
        return render(request, "sales/products/form.html", {"form": ProductForm(initial=initial), "product": product})

    def post(self, request, **kwargs):
        product = self.product()
        form = ProductForm(request.POST)
        if form.is_valid():
            fields = {k: v for k, v in form.cleaned_data.items() if k != "tags"}
            try:
                saved = save_product(by=request.user, product=product, tags=form.tag_names(), **fields)
            except ValidationError as exc:
                form_errors_from(form, exc)
            else:
                messages.success(request, _("Product %(name)s saved.") % {"name": saved.name})
                return redirect("sales:products")
        return render(request, "sales/products/form.html", {"form": form, "product": product}, status=400)


urlpatterns = [
    path("products/", ProductListView.as_view(), name="products"),
    path("products/new/", ProductFormView.as_view(), name="product_create"),
    path("products/<int:product_pk>/", ProductFormView.as_view(), name="product"),
]

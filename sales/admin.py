"""Django admin for support staff: a read-mostly view of the sales tables (the app's pages do the writes)."""

from django.contrib import admin

from sales.models import Deal, DealContact, DealLine, Pipeline, Product, Stage, StageChange


class StageInline(admin.TabularInline):
    model = Stage
    extra = 0
    fields = ["position", "name", "probability", "is_won", "is_lost", "archived_at"]
    readonly_fields = ["archived_at"]


@admin.register(Pipeline)
class PipelineAdmin(admin.ModelAdmin):
    list_display = ["name", "is_default", "position", "archived_at"]
    inlines = [StageInline]


class DealContactInline(admin.TabularInline):
    model = DealContact
    extra = 0
    raw_id_fields = ["contact"]


class DealLineInline(admin.TabularInline):
    model = DealLine
    extra = 0
    raw_id_fields = ["product"]


@admin.register(Deal)
class DealAdmin(admin.ModelAdmin):
    list_display = ["title", "pipeline", "stage", "amount", "currency", "owner", "team", "closed_at"]
    list_filter = ["pipeline", "team"]
    search_fields = ["title"]
    raw_id_fields = ["company", "primary_contact", "owner"]
    readonly_fields = ["won_at", "lost_at", "closed_at", "created_at", "updated_at"]
    inlines = [DealContactInline, DealLineInline]


@admin.register(StageChange)
class StageChangeAdmin(admin.ModelAdmin):
    list_display = ["deal", "from_stage", "to_stage", "by", "at"]
    raw_id_fields = ["deal"]

    def has_change_permission(self, request, obj=None):
        return False  # stage history is append-only


@admin.register(Product)
class ProductAdmin(admin.ModelAdmin):
    list_display = ["sku", "name", "category", "unit_price", "currency", "active"]
    list_filter = ["active", "category"]
    search_fields = ["sku", "name"]

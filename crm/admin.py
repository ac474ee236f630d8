from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin

from crm.models import ApiToken, OrgSettings, OutboxMessage, SavedView, Team, User, WorkerHeartbeat


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    ordering = ["full_name"]
    list_display = ["email", "full_name", "role", "team", "is_active", "is_staff"]
    list_filter = ["role", "team", "is_active", "is_staff"]
    search_fields = ["email", "full_name"]
    fieldsets = [
        (None, {"fields": ["email", "password"]}),
        ("Profile", {"fields": ["full_name", "role", "team", "language", "time_zone"]}),
        ("Access", {"fields": ["is_active", "is_staff", "is_superuser", "groups", "user_permissions"]}),
    ]
    add_fieldsets = [(None, {"classes": ["wide"], "fields": ["email", "full_name", "role", "password1", "password2"]})]


@admin.register(Team)
class TeamAdmin(admin.ModelAdmin):
    list_display = ["name", "kind"]


admin.site.register(OrgSettings)
admin.site.register(SavedView)
admin.site.register(ApiToken, list_display=["name", "user", "created_at", "last_used_at", "revoked_at"])
admin.site.register(OutboxMessage, list_display=["job", "created_at", "published_at", "attempts", "done_at"])
admin.site.register(WorkerHeartbeat, list_display=["hostname", "seen_at"])

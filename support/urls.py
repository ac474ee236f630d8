"""Pages of the support app: agent pages (views), the public customer pages (public_views), admin pages."""

from django.urls import path

from support import admin_views, canned_views, public_views, views

app_name = "support"
urlpatterns = [
    *views.urlpatterns,
    *public_views.urlpatterns,
    *admin_views.urlpatterns,
    *canned_views.urlpatterns,
]

__all__ = ["path"]

from django.conf import settings
from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerSplitView
from rest_framework.routers import DefaultRouter

from contacts import api as contacts_api
from contacts import import_api
from crm import api, notification_api, notification_views, search, views
from sales import api as sales_api
from sales import campaign_api, order_api, task_api
from sales.scoring import api as scoring_api
from support import api as support_api


class Router(DefaultRouter):
    include_format_suffixes = False  # JSON only: no `.json` twin of every route


router = Router()
router.register("me", api.MeViewSet, basename="me")
router.register("users", api.UserViewSet, basename="user")
router.register("teams", api.TeamViewSet, basename="team")
router.register("saved-views", api.SavedViewViewSet, basename="savedview")
router.register("companies", contacts_api.CompanyViewSet, basename="company")
router.register("contacts", contacts_api.ContactViewSet, basename="contact")
router.register("social-profiles", contacts_api.SocialProfileViewSet, basename="socialprofile")
router.register("tags", contacts_api.TagViewSet, basename="tag")
router.register("pipelines", sales_api.PipelineViewSet, basename="pipeline")
router.register("stages", sales_api.StageViewSet, basename="stage")
router.register("deals", sales_api.DealViewSet, basename="deal")
router.register("products", sales_api.ProductViewSet, basename="product")
for prefix, viewset, basename in [*order_api.ROUTES, *task_api.ROUTES, *campaign_api.ROUTES, *notification_api.ROUTES,
                                  *scoring_api.ROUTES, *support_api.ROUTES]:
    router.register(prefix, viewset, basename=basename)
router.register("imports", import_api.ImportViewSet, basename="import")
router.register("search", search.SearchViewSet, basename="search")

urlpatterns = [
    path("", views.HomeView.as_view(), name="home"),
    path("healthz", views.healthz, name="healthz"),
    path("search/", search.SearchView.as_view(), name="search"),
    path("accounts/", include("allauth.urls")),
    path("i18n/setlang/", views.set_language, name="set_language"),
    path("profile/", views.ProfileView.as_view(), name="profile"),
    path("notifications/", include(notification_views.urlpatterns)),
    path("profile/tokens/", views.ApiTokenCreateView.as_view(), name="api_token_create"),
    path("profile/tokens/<int:pk>/revoke/", views.ApiTokenRevokeView.as_view(), name="api_token_revoke"),
    path("views/", views.SavedViewListView.as_view(), name="saved_views"),
    path("views/new/", views.SavedViewCreateView.as_view(), name="saved_view_create"),
    path("views/<int:pk>/", views.SavedViewDetailView.as_view(), name="saved_view"),
    path("views/<int:pk>/delete/", views.SavedViewDeleteView.as_view(), name="saved_view_delete"),
    path("settings/users/", views.UserListView.as_view(), name="admin_users"),
    path("settings/users/new/", views.UserCreateView.as_view(), name="admin_user_create"),
    path("settings/users/<int:pk>/", views.UserEditView.as_view(), name="admin_user"),
    path("settings/users/<int:pk>/<slug:action>/", views.UserActionView.as_view(), name="admin_user_action"),
    path("settings/teams/", views.TeamListView.as_view(), name="admin_teams"),
    path("settings/teams/<int:pk>/", views.TeamEditView.as_view(), name="admin_team"),
    path("settings/organisation/", views.OrgSettingsView.as_view(), name="admin_org"),
    path("settings/audit/", views.AuditLogView.as_view(), name="admin_audit"),
    path("contacts/", include("contacts.urls")),
    path("sales/", include("sales.urls")),
    path("support/", include("support.urls")),
    path("analytics/", include("analytics.urls")),
    path("api/v1/contacts/<int:pk>/score/", scoring_api.ContactScoreView.as_view(), name="contact-score"),
    path("api/v1/scoring/recompute/", scoring_api.ScoreRunViewSet.as_view({"post": "recompute"}), name="scoring-recompute"),
    path("api/v1/", include(router.urls)),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="schema"), name="api_docs"),
    path("api/redoc/", SpectacularRedocView.as_view(url_name="schema"), name="api_redoc"),
    path("django-admin/", admin.site.urls),
]

if settings.DEBUG:
    from django.contrib.staticfiles.urls import staticfiles_urlpatterns

    urlpatterns += staticfiles_urlpatterns()

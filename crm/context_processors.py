from django.conf import settings
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext_lazy as _

from crm.models import Role

# (label, url name, roles that see it); later apps fill in their pages behind these names.
NAV = [
    (_("Home"), "home", None),
    (_("Contacts"), "contacts:index", None),
    (_("Companies"), "contacts:companies", None),
    (_("Deals"), "sales:index", {Role.ADMIN, Role.MANAGER, Role.SALES_REP}),
    (_("Forecast"), "sales:forecast", {Role.ADMIN, Role.MANAGER, Role.SALES_REP}),
    (_("Orders"), "sales:orders", None),
    (_("Invoices"), "sales:invoices", {Role.ADMIN, Role.MANAGER, Role.SALES_REP}),
    (_("Products"), "sales:products", {Role.ADMIN, Role.MANAGER, Role.SALES_REP}),
    (_("Tasks"), "sales:tasks", {Role.ADMIN, Role.MANAGER, Role.SALES_REP}),
    (_("Campaigns"), "sales:campaigns", {Role.ADMIN, Role.MANAGER, Role.SALES_REP}),
    (_("Tickets"), "support:index", {Role.ADMIN, Role.MANAGER, Role.SUPPORT_AGENT}),
    (_("Support queues"), "support:queues_overview", {Role.ADMIN, Role.MANAGER}),
    (_("Canned replies"), "support:canned_replies", {Role.ADMIN, Role.MANAGER, Role.SUPPORT_AGENT}),
    (_("Dashboards"), "analytics:index", {Role.ADMIN, Role.MANAGER}),
    (_("Saved views"), "saved_views", None),
]
ADMIN_NAV = [
    (_("Users"), "admin_users"),
    (_("Teams"), "admin_teams"),
    (_("Organisation"), "admin_org"),
    (_("Audit log"), "admin_audit"),
    (_("Pipelines"), "sales:admin_pipelines"),
    (_("Lead scoring"), "sales:scoring"),
    (_("Support desk"), "support:admin_settings"),
    (_("Queues"), "support:admin_queues"),
    (_("SLA policies"), "support:admin_sla"),
]


def _mark_active(items: list[dict], path: str) -> None:
    """Light the one item whose URL is the longest prefix of the path ("/" only on itself)."""
    matches = [item for item in items if (path == item["url"] if item["url"] == "/" else path.startswith(item["url"]))]
    if matches:
        max(matches, key=lambda item: len(item["url"]))["active"] = True


def shell(request):
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"LANGUAGES": settings.LANGUAGES}
    path = request.path
    nav = []
    for label, name, roles in NAV:
        if roles is None or user.role in roles:
            try:
                url = reverse(name)
            except NoReverseMatch:  # the app has not built this page yet
                continue
            nav.append({"label": label, "url": url, "active": False})
    admin_nav = []
    if user.role == Role.ADMIN:
        for label, name in ADMIN_NAV:
            try:
                admin_nav.append({"label": label, "url": reverse(name), "active": False})
            except NoReverseMatch:
                continue
    _mark_active(nav + admin_nav, path)  # one item lit in both: /sales/scoring/ is Lead scoring, not Deals
    return {"nav": nav, "admin_nav": admin_nav, "org": user.org(),
            "LANGUAGES": settings.LANGUAGES}

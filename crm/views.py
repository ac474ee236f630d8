"""Core pages: home, profile and API tokens, saved views, admin pages, health."""

from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.http import Http404, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views import View
from django.views.decorators.http import require_POST
from django.views.i18n import set_language as django_set_language

from crm import audit, policy, services
from crm.forms import (
    ApiTokenForm,
    AuditFilterForm,
    OrgSettingsForm,
    ProfileForm,
    ReassignForm,
    SavedViewForm,
    TeamForm,
    UserForm,
)
from crm.models import OrgSettings, Role, SavedView, Team, User, WorkerHeartbeat


def form_errors_from(form, exc: ValidationError) -> None:
    """Put a service's field-keyed errors on the form, so the user sees them beside their input."""
    if hasattr(exc, "error_dict"):
        for field, errors in exc.message_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, exc.messages)


def safe_next(request, target: str, default: str) -> str:
    """Where to send the user after a POST: `target` if it is on this site, else `default`."""
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()},
                                                   require_https=request.is_secure()):
        return target
    return default


# --- Base page mixins ----------------------------------------------------------------------------


class PageMixin(LoginRequiredMixin):
    """A signed-in page. `roles` narrows it to some roles (others get 403: a feature they lack)."""

    roles: set[str] | None = None

    def dispatch(self, request, *args, **kwargs):
        if not request.user.is_authenticated:
            return self.handle_no_permission()
        if self.roles is not None and request.user.role not in self.roles:
            raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)


class AdminPageMixin(PageMixin):
    roles = {Role.ADMIN}


class OwnedObjectMixin(PageMixin):
    """A page about one owned record: found through `visible_to`, so an invisible record is a 404."""

    model = None

    def get_queryset(self):
        return self.model.objects.visible_to(self.request.user).select_related("owner", "team")

    def get_object(self):
        return get_object_or_404(self.get_queryset(), pk=self.kwargs["pk"])

    def get_editable_object(self):
        obj = self.get_object()
        if not policy.can_edit(self.request.user, obj):
            raise PermissionDenied
        return obj


# --- Home and profile ------------------------------------------------------------------------------


class HomeView(PageMixin, View):
    def get(self, request):
        return render(request, "crm/home.html", {"role_label": Role(request.user.role).label})


class ProfileView(PageMixin, View):
    template = "crm/profile.html"

    def context(self, request, form=None, token_form=None, new_key=None):
        from allauth.mfa.models import Authenticator

        return {
            "form": form or ProfileForm(initial={"full_name": request.user.full_name,
                                                 "language": request.user.language,
                                                 "time_zone": request.user.time_zone}),
            "token_form": token_form or ApiTokenForm(),
            "tokens": request.user.api_tokens.all(),
            "new_key": new_key,
            "has_mfa": Authenticator.objects.filter(user=request.user, type=Authenticator.Type.TOTP).exists(),
        }

    def get(self, request):
        return render(request, self.template, self.context(request))

    def post(self, request):
        form = ProfileForm(request.POST)
        if form.is_valid():
            try:
                services.update_profile(user=request.user, **form.cleaned_data)
            except ValidationError as exc:
                form_errors_from(form, exc)
            else:
                messages.success(request, _("Your profile is saved."))
                return redirect("profile")
        return render(request, self.template, self.context(request, form=form), status=400)


class ApiTokenCreateView(PageMixin, View):
    def post(self, request):
        form = ApiTokenForm(request.POST)
        if form.is_valid():
            try:
                token, key = services.create_api_token(user=request.user, name=form.cleaned_data["name"])
            except ValidationError as exc:
                form_errors_from(form, exc)
            else:
                page = ProfileView()
                return render(request, page.template, page.context(request, new_key=key), status=201)
        page = ProfileView()
        return render(request, page.template, page.context(request, token_form=form), status=400)


class ApiTokenRevokeView(PageMixin, View):
    def post(self, request, pk):
        token = get_object_or_404(request.user.api_tokens, pk=pk)
        services.revoke_api_token(by=request.user, token=token)
        messages.success(request, _("Token “%(name)s” is revoked.") % {"name": token.name})
        return redirect("profile")


@require_POST
def set_language(request):
    """Switch the language; a signed-in user keeps the choice on every device."""
    lang = request.POST.get("language", "")
    if request.user.is_authenticated and lang in dict(User._meta.get_field("language").choices):
        request.user.language = lang
        request.user.save(update_fields=["language"])
    return django_set_language(request)


# --- Saved views ----------------------------------------------------------------------------------


class SavedViewListView(PageMixin, View):
    def get(self, request):
        views = SavedView.objects.visible_to(request.user).select_related("owner").order_by("target", "name")
        mine = [v for v in views if v.owner_id == request.user.pk]
        shared = [v for v in views if v.owner_id != request.user.pk]
        return render(request, "crm/saved_views.html", {"mine": mine, "shared": shared, "form": SavedViewForm()})


class SavedViewCreateView(PageMixin, View):
    def post(self, request):
        form = SavedViewForm(request.POST)
        if form.is_valid():
            try:
                view = services.create_saved_view(by=request.user, **form.cleaned_data)
            except ValidationError as exc:
                form_errors_from(form, exc)
            else:
                messages.success(request, _("View “%(name)s” is saved.") % {"name": view.name})
                return redirect("saved_view", pk=view.pk)
        views = SavedView.objects.visible_to(request.user).select_related("owner").order_by("target", "name")
        return render(request, "crm/saved_views.html", {
            "mine": [v for v in views if v.owner_id == request.user.pk],
            "shared": [v for v in views if v.owner_id != request.user.pk],
            "form": form,
        }, status=400)


class SavedViewDetailView(OwnedObjectMixin, View):
    model = SavedView

    def get(self, request, pk):
        view = self.get_object()
        form = SavedViewForm(initial={"name": view.name, "target": view.target, "query": view.query,
                                      "shared": view.shared})
        return render(request, "crm/saved_view.html", self.context(view, form))

    def context(self, view, form):
        user = self.request.user
        return {"view": view, "form": form, "can_edit": policy.can_edit(user, view),
                "can_delete": policy.can_delete(user, view), "history": audit.history_for(view)}

    def post(self, request, pk):
        view = self.get_editable_object()
        form = SavedViewForm(request.POST)
        if form.is_valid():
            try:
                services.update_saved_view(by=request.user, view=view, **form.cleaned_data)
            except ValidationError as exc:
                form_errors_from(form, exc)
            else:
                messages.success(request, _("View “%(name)s” is saved.") % {"name": view.name})
                return redirect("saved_view", pk=view.pk)
        view.refresh_from_db()
        return render(request, "crm/saved_view.html", self.context(view, form), status=400)


class SavedViewDeleteView(OwnedObjectMixin, View):
    model = SavedView

    def post(self, request, pk):
        view = self.get_object()
        services.delete_saved_view(by=request.user, view=view)
        messages.success(request, _("View “%(name)s” is deleted.") % {"name": view.name})
        return redirect("saved_views")


# --- Admin: users ------------------------------------------------------------------------------------


class UserListView(AdminPageMixin, View):
    def get(self, request):
        users = User.objects.select_related("team").order_by("-is_active", "full_name")
        role, team, state = request.GET.get("role", ""), request.GET.get("team", ""), request.GET.get("state", "")
        q = request.GET.get("q", "").strip()
        if role in Role.values:
            users = users.filter(role=role)
        if team.isdigit():
            users = users.filter(team_id=int(team))
        if state == "active":
            users = users.filter(is_active=True)
        elif state == "inactive":
            users = users.filter(is_active=False)
        if q:
            from django.db.models import Q

            users = users.filter(Q(full_name__icontains=q) | Q(email__icontains=q))
        return render(request, "crm/admin/users.html", {
            "users": users[:500], "roles": Role.choices, "teams": Team.objects.all(),
            "filters": {"role": role, "team": team, "state": state, "q": q},
        })


class UserCreateView(AdminPageMixin, View):
    def get(self, request):
        return render(request, "crm/admin/user_form.html", {"form": UserForm()})

    def post(self, request):
        form = UserForm(request.POST)
        if form.is_valid():
            try:
                user = services.invite_user(by=request.user, **form.cleaned_data)
            except ValidationError as exc:
                form_errors_from(form, exc)
            else:
                messages.success(request, _("%(name)s is invited; an email with a link to choose a password is on its way.")
                                 % {"name": user.full_name})
                return redirect("admin_user", pk=user.pk)
        return render(request, "crm/admin/user_form.html", {"form": form}, status=400)


class UserEditView(AdminPageMixin, View):
    def context(self, user, form):
        return {"subject": user, "form": form, "reassign_form": ReassignForm(),
                "history": audit.history_for(user), "tokens": user.api_tokens.all()}

    def get(self, request, pk):
        user = get_object_or_404(User, pk=pk)
        form = UserForm(editing=True, initial={
            "email": user.email, "full_name": user.full_name, "role": user.role, "team": user.team,
            "managed_teams": list(user.managed_teams.all()), "language": user.language, "time_zone": user.time_zone})
        return render(request, "crm/admin/user_form.html", self.context(user, form))

    def post(self, request, pk):
        user = get_object_or_404(User, pk=pk)
        form = UserForm(request.POST, editing=True, initial={"email": user.email})
        if form.is_valid():
            data = dict(form.cleaned_data)
            data.pop("email")
            try:
                services.update_user(by=request.user, user=user, **data)
            except ValidationError as exc:
                form_errors_from(form, exc)
            else:
                messages.success(request, _("%(name)s is saved.") % {"name": user.full_name})
                return redirect("admin_user", pk=user.pk)
        user.refresh_from_db()
        return render(request, "crm/admin/user_form.html", self.context(user, form), status=400)


class UserActionView(AdminPageMixin, View):
    """Deactivate, reactivate, reset password, reassign records: POST-only actions on one user."""

    def post(self, request, pk, action):
        user = get_object_or_404(User, pk=pk)
        try:
            if action == "deactivate":
                services.deactivate_user(by=request.user, user=user)
                messages.success(request, _("%(name)s can no longer sign in. Their records stay.") % {"name": user})
            elif action == "reactivate":
                services.reactivate_user(by=request.user, user=user)
                messages.success(request, _("%(name)s can sign in again.") % {"name": user})
            elif action == "reset-password":
                services.send_password_reset(by=request.user, user=user)
                messages.success(request, _("A password reset link is on its way to %(email)s.") % {"email": user.email})
            elif action == "reassign":
                form = ReassignForm(request.POST)
                if not form.is_valid():
                    raise ValidationError(form.errors.get_json_data() and {
                        k: [e["message"] for e in v] for k, v in form.errors.get_json_data().items()})
                counts = services.reassign_records(by=request.user, from_user=user, to_user=form.cleaned_data["to_user"])
                total = sum(counts.values())
                messages.success(request, _("%(count)s records moved to %(name)s.") % {
                    "count": total, "name": form.cleaned_data["to_user"]})
            else:
                raise Http404
        except ValidationError as exc:
            for message in exc.messages:
                messages.error(request, message)
        return redirect("admin_user", pk=user.pk)


# --- Admin: teams and org ---------------------------------------------------------------------------


class TeamListView(AdminPageMixin, View):
    def get(self, request):
        from django.db.models import Count

        teams = Team.objects.annotate(member_count=Count("members", distinct=True)).prefetch_related("managers")
        return render(request, "crm/admin/teams.html", {"teams": teams, "form": TeamForm()})

    def post(self, request):
        form = TeamForm(request.POST)
        if form.is_valid():
            try:
                services.save_team(by=request.user, **form.cleaned_data)
            except ValidationError as exc:
                form_errors_from(form, exc)
            else:
                messages.success(request, _("Team “%(name)s” is saved.") % {"name": form.cleaned_data["name"]})
                return redirect("admin_teams")
        from django.db.models import Count

        teams = Team.objects.annotate(member_count=Count("members", distinct=True)).prefetch_related("managers")
        return render(request, "crm/admin/teams.html", {"teams": teams, "form": form}, status=400)


class TeamEditView(AdminPageMixin, View):
    def get(self, request, pk):
        team = get_object_or_404(Team, pk=pk)
        form = TeamForm(initial={"name": team.name, "kind": team.kind})
        return render(request, "crm/admin/team_form.html", {"team": team, "form": form,
                                                             "history": audit.history_for(team)})

    def post(self, request, pk):
        team = get_object_or_404(Team, pk=pk)
        form = TeamForm(request.POST)
        if form.is_valid():
            try:
                services.save_team(by=request.user, team=team, **form.cleaned_data)
            except ValidationError as exc:
                form_errors_from(form, exc)
            else:
                messages.success(request, _("Team “%(name)s” is saved.") % {"name": team.name})
                return redirect("admin_teams")
        team.refresh_from_db()
        return render(request, "crm/admin/team_form.html", {"team": team, "form": form,
                                                             "history": audit.history_for(team)}, status=400)


class OrgSettingsView(AdminPageMixin, View):
    def get(self, request):
        org = OrgSettings.load()
        return render(request, "crm/admin/org.html", {"form": OrgSettingsForm(instance=org),
                                                       "history": audit.history_for(org)})

    def post(self, request):
        org = OrgSettings.load()
        form = OrgSettingsForm(request.POST, instance=OrgSettings.load())
        if form.is_valid():
            try:
                services.update_org_settings(by=request.user, **form.cleaned_data)
            except ValidationError as exc:
                form_errors_from(form, exc)
            else:
                messages.success(request, _("Organisation settings are saved."))
                return redirect("admin_org")
        return render(request, "crm/admin/org.html", {"form": form, "history": audit.history_for(org)}, status=400)


class AuditLogView(AdminPageMixin, View):
    PAGE = 50

    def get(self, request):
        form = AuditFilterForm(request.GET or None, model_choices=audit.tracked_models())
        filters = form.cleaned_data if form.is_valid() else {}
        try:
            page = max(1, int(request.GET.get("page", "1")))
        except ValueError:
            page = 1
        entries, has_next = audit.audit_log(
            **{k: v for k, v in filters.items() if v not in (None, "")},
            offset=(page - 1) * self.PAGE, limit=self.PAGE,
        )
        query = request.GET.copy()
        query.pop("page", None)
        return render(request, "crm/admin/audit.html", {
            "form": form, "entries": entries, "page": page, "has_next": has_next, "query": query.urlencode()})


# --- Operations -------------------------------------------------------------------------------------


def healthz(request):
    """Database, Redis and the newest Celery worker heartbeat; 503 when one of them is down."""
    from django.conf import settings
    from django.core.cache import cache

    status = {}
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        status["database"] = "ok"
    except Exception as exc:  # report, don't crash: this page exists for outages
        status["database"] = f"error: {type(exc).__name__}"
    try:
        cache.set("healthz", "1", 10)
        status["redis"] = "ok" if cache.get("healthz") == "1" else "error: no answer"
    except Exception as exc:
        status["redis"] = f"error: {type(exc).__name__}"
    heartbeat = None
    if status["database"] == "ok":
        heartbeat = WorkerHeartbeat.objects.order_by("-seen_at").first()
    if heartbeat is None:
        status["worker"] = "error: no heartbeat yet"
    else:
        age = (timezone.now() - heartbeat.seen_at).total_seconds()
        fresh = age <= settings.WORKER_HEARTBEAT_STALE_AFTER.total_seconds()
        status["worker"] = "ok" if fresh else "error: stale"
        status["worker_heartbeat"] = {"hostname": heartbeat.hostname, "seen_at": heartbeat.seen_at.isoformat(),
                                      "age_seconds": round(age, 1)}
    healthy = all(not str(v).startswith("error") for k, v in status.items() if k != "worker_heartbeat")
    return JsonResponse({"status": "ok" if healthy else "error", **status}, status=200 if healthy else 503)


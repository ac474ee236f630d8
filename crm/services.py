"""Writes with rules for users, teams, org settings, saved views and API tokens."""

from django.apps import apps
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from crm import outbox, policy
from crm.models import (
    ApiToken,
    OrgSettings,
    OwnedModel,
    Role,
    SavedView,
    Team,
    TeamKind,
    TeamManager,
    User,
    WorkerHeartbeat,
)


def _require_admin(by: User) -> None:
    if not policy.is_admin(by):
        raise PermissionDenied(_("Only an admin can do this."))


def owned_models() -> list[type[OwnedModel]]:
    """Every concrete model with an owner and a team."""
    return [m for m in apps.get_models() if issubclass(m, OwnedModel) and not m._meta.abstract]


# --- Users --------------------------------------------------------------------------------------


def _check_team_for_role(*, role: str, team: Team | None) -> None:
    if team is None:
        return
    if role == Role.SUPPORT_AGENT and team.kind != TeamKind.SUPPORT:
        raise ValidationError({"team": _("A support agent belongs to a support team.")})
    if role == Role.SALES_REP and team.kind != TeamKind.SALES:
        raise ValidationError({"team": _("A sales rep belongs to a sales team.")})


@transaction.atomic
def invite_user(
    *,
    by: User,
    email: str,
    full_name: str,
    role: str,
    team: Team | None = None,
    managed_teams=(),
    language: str = "",
    time_zone: str = "",
) -> User:
    """Create a user without a password and email them a link to choose one."""
    _require_admin(by)
    email = User.objects.normalize_email(email).strip().lower()
    if User.objects.filter(email__iexact=email).exists():
        raise ValidationError({"email": _("A user with this email already exists.")})
    _check_team_for_role(role=role, team=team)
    user = User(email=email, full_name=full_name.strip(), role=role, team=team, language=language, time_zone=time_zone)
    user.set_unusable_password()
    user.full_clean(exclude=["password"])
    user.save()
    set_managed_teams(by=by, user=user, teams=managed_teams)
    outbox.enqueue("crm.send_password_email", user_id=user.pk, purpose="invite")
    return user


@transaction.atomic
def update_user(
    *,
    by: User,
    user: User,
    full_name: str,
    role: str,
    team: Team | None,
    managed_teams=(),
    language: str = "",
    time_zone: str = "",
) -> User:
    """Change a user's name, role, team and managed teams.

    A new team moves the user's records with them, so their team follows the owner.
    The last active admin cannot lose the admin role.
    """
    _require_admin(by)
    if user.role == Role.ADMIN and role != Role.ADMIN and _is_last_admin(user):
        raise ValidationError({"role": _("This is the last active admin; make someone else admin first.")})
    _check_team_for_role(role=role, team=team)
    team_changed = user.team_id != (team.pk if team else None)
    user.full_name, user.role, user.team = full_name.strip(), role, team
    user.language, user.time_zone = language, time_zone
    user.full_clean(exclude=["password"])
    user.save()
    set_managed_teams(by=by, user=user, teams=managed_teams if role == Role.MANAGER else ())
    if team_changed:
        _move_records_to_owner_team(owner=user)
    return user


def _is_last_admin(user: User) -> bool:
    return not User.objects.filter(role=Role.ADMIN, is_active=True).exclude(pk=user.pk).exists()


def set_managed_teams(*, by: User, user: User, teams) -> None:
    """Make `user` the manager of exactly `teams` (managers only)."""
    _require_admin(by)
    team_ids = {t.pk for t in teams}
    if team_ids and user.role != Role.MANAGER:
        raise ValidationError({"managed_teams": _("Only a manager can manage teams.")})
    TeamManager.objects.filter(user=user).exclude(team_id__in=team_ids).delete()
    existing = set(TeamManager.objects.filter(user=user).values_list("team_id", flat=True))
    TeamManager.objects.bulk_create([TeamManager(user=user, team_id=t) for t in sorted(team_ids - existing)])
    user.__dict__.pop("_managed_team_ids", None)


def _move_records_to_owner_team(*, owner: User) -> int:
    moved = 0
    for model in owned_models():
        moved += model._base_manager.filter(owner=owner).exclude(team_id=owner.team_id).update(
            team_id=owner.team_id, updated_at=timezone.now()
        )
    return moved


@transaction.atomic
def deactivate_user(*, by: User, user: User) -> User:
    """Stop a user signing in (sessions and API tokens end at once); their records stay."""
    _require_admin(by)
    if user.pk == by.pk:
        raise ValidationError({"user": _("You cannot deactivate yourself.")})
    if user.role == Role.ADMIN and _is_last_admin(user):
        raise ValidationError({"user": _("This is the last active admin.")})
    user.is_active = False
    user.save(update_fields=["is_active"])
    user.api_tokens.active().update(revoked_at=timezone.now())
    return user


@transaction.atomic
def reactivate_user(*, by: User, user: User) -> User:
    _require_admin(by)
    user.is_active = True
    user.save(update_fields=["is_active"])
    return user


@transaction.atomic
def reassign_records(*, by: User, from_user: User, to_user: User) -> dict[str, int]:
    """Give every record owned by `from_user` to `to_user` (and to their team); counts per kind."""
    _require_admin(by)
    if from_user.pk == to_user.pk:
        raise ValidationError({"to_user": _("Choose another user.")})
    if not to_user.is_active:
        raise ValidationError({"to_user": _("Choose an active user.")})
    counts = {}
    now = timezone.now()
    for model in owned_models():
        n = model._base_manager.filter(owner=from_user).update(owner=to_user, team_id=to_user.team_id, updated_at=now)
        if n:
            counts[str(model._meta.verbose_name_plural)] = n
    return counts


@transaction.atomic
def send_password_reset(*, by: User, user: User) -> None:
    """Email the user a link to set a new password (an admin's "reset password")."""
    _require_admin(by)
    if not user.is_active:
        raise ValidationError({"user": _("Reactivate the user first.")})
    outbox.enqueue("crm.send_password_email", user_id=user.pk, purpose="reset")


@outbox.job("crm.send_password_email")
def _send_password_email(*, user_id: int, purpose: str) -> None:
    from allauth.account.forms import default_token_generator
    from allauth.account.utils import user_pk_to_url_str
    from django.conf import settings
    from django.core.mail import send_mail
    from django.template.loader import render_to_string
    from django.urls import reverse
    from django.utils import translation

    user = User.objects.get(pk=user_id)
    path = reverse(
        "account_reset_password_from_key",
        kwargs={"uidb36": user_pk_to_url_str(user), "key": default_token_generator.make_token(user)},
    )
    base = settings.SITE_URL.rstrip("/")
    with translation.override(user.language or settings.LANGUAGE_CODE):
        context = {"user": user, "url": base + path, "org": OrgSettings.load(), "purpose": purpose}
        subject = render_to_string("crm/email/password_subject.txt", context).strip()
        body = render_to_string("crm/email/password_body.txt", context)
    send_mail(subject, body, None, [user.email])
    if purpose == "invite":
        User.objects.filter(pk=user_id).update(invitation_sent_at=timezone.now())


@transaction.atomic
def update_profile(*, user: User, full_name: str, language: str, time_zone: str) -> User:
    """A user's own name, language and time zone."""
    user.full_name, user.language, user.time_zone = full_name.strip(), language, time_zone
    user.full_clean(exclude=["password"])
    user.save(update_fields=["full_name", "language", "time_zone"])
    return user


# --- Teams and org ------------------------------------------------------------------------------


@transaction.atomic
def save_team(*, by: User, name: str, kind: str, team: Team | None = None) -> Team:
    _require_admin(by)
    clash = Team.objects.filter(name__iexact=name.strip())
    if team is not None:
        clash = clash.exclude(pk=team.pk)
        if kind != team.kind and team.members.exists():
            raise ValidationError({"kind": _("Move this team's members out before changing its kind.")})
    if clash.exists():
        raise ValidationError({"name": _("A team with this name already exists.")})
    team = team or Team()
    team.name, team.kind = name.strip(), kind
    team.full_clean(validate_constraints=False)
    team.save()
    return team


@transaction.atomic
def update_org_settings(*, by: User, **fields) -> OrgSettings:
    _require_admin(by)
    org = OrgSettings.load()
    for name, value in fields.items():
        setattr(org, name, value)
    org.full_clean()
    org.save()
    return org


# --- Owned records ------------------------------------------------------------------------------


def assign_owner(obj: OwnedModel, owner: User) -> None:
    """Set the owner and, with it, the team (the invariant `visible_to` relies on)."""
    obj.owner, obj.team_id = owner, owner.team_id


def new_owner(*, by: User, owner: User | None) -> User:
    """Who owns a record `by` creates: themselves, or (managers, admins) someone they may assign to."""
    if owner is None or owner.pk == by.pk:
        return by
    if not owner.is_active:
        raise ValidationError({"owner": _("Choose an active user.")})
    if by.role == Role.ADMIN:
        return owner
    if by.role == Role.MANAGER and owner.team_id in by.managed_team_ids():
        return owner
    raise ValidationError({"owner": _("You can only give records to people in the teams you manage.")})


def transfer_target(*, by: User, owner: User) -> User:
    """Who `by` may hand a record to: a rep, an active teammate; managers and admins, as for new records."""
    if by.role != Role.SALES_REP:
        return new_owner(by=by, owner=owner)
    if not owner.is_active or owner.team_id != by.team_id or by.team_id is None:
        raise ValidationError({"owner": _("Choose an active member of your team.")})
    return owner


@transaction.atomic
def create_saved_view(
    *, by: User, name: str, target: str, query: str = "", columns=(), shared: bool = False
) -> SavedView:
    """Save a list's filters under a name, for oneself or shared with one's team."""
    view = SavedView(name=name.strip(), target=target, query=query.lstrip("?"), columns=list(columns), shared=shared)
    assign_owner(view, by)
    view.created_by = by
    if shared and by.team_id is None:
        raise ValidationError({"shared": _("You are in no team to share with.")})
    view.full_clean()
    view.save()
    return view


@transaction.atomic
def update_saved_view(*, by: User, view: SavedView, **fields) -> SavedView:
    if not policy.can_edit(by, view):
        raise PermissionDenied(_("You cannot change this view."))
    for name in ("name", "target", "query", "columns", "shared"):
        if name in fields:
            setattr(view, name, fields[name])
    view.name, view.query = view.name.strip(), view.query.lstrip("?")
    if view.shared and view.team_id is None:
        raise ValidationError({"shared": _("The owner is in no team to share with.")})
    view.full_clean()
    view.save()
    return view


@transaction.atomic
def delete_saved_view(*, by: User, view: SavedView) -> None:
    if not policy.can_delete(by, view):
        raise PermissionDenied(_("You cannot delete this view."))
    view.delete()


# --- API tokens ---------------------------------------------------------------------------------


@transaction.atomic
def create_api_token(*, user: User, name: str) -> tuple[ApiToken, str]:
    """Create a personal API token; the returned key is shown once and never stored."""
    name = name.strip()
    if not name:
        raise ValidationError({"name": _("Name the token after where it is used.")})
    if user.api_tokens.active().filter(name__iexact=name).exists():
        raise ValidationError({"name": _("You already have a token with this name.")})
    key, lookup, key_hash = ApiToken.new_key()
    token = ApiToken.objects.create(user=user, name=name, lookup=lookup, key_hash=key_hash)
    return token, key


@transaction.atomic
def revoke_api_token(*, by: User, token: ApiToken) -> ApiToken:
    if token.user_id != by.pk and not policy.is_admin(by):
        raise PermissionDenied(_("You cannot revoke this token."))
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
    return token


# --- Operations ---------------------------------------------------------------------------------


def record_heartbeat(*, hostname: str) -> None:
    WorkerHeartbeat.objects.update_or_create(hostname=hostname, defaults={"seen_at": timezone.now()})

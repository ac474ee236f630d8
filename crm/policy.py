"""Editing rights: role x relation to the record. Visibility (reading) lives in crm.visibility.

Views and viewsets call these after loading the record through `visible_to`, so a record
the user cannot see is already a 404; these answer "may this user change what they see".
"""

from django.db.models import Q

from crm.models import Role, Sharing
from crm.visibility import can_see


def _manages(user, obj) -> bool:
    return user.role == Role.MANAGER and obj.team_id is not None and obj.team_id in user.managed_team_ids()


def can_edit(user, obj) -> bool:
    if not can_see(user, obj):
        return False
    if user.role == Role.ADMIN:
        return True
    if user.role == Role.SUPPORT_AGENT and getattr(obj, "read_only_for_agents", False):
        return False
    if obj.owner_id == user.pk or _manages(user, obj):
        return True
    return (
        getattr(obj, "team_members_edit", False)
        and user.team_id is not None
        and obj.team_id == user.team_id
        and user.org().sharing_default == Sharing.TEAM
    )


def can_delete(user, obj) -> bool:
    if not can_see(user, obj):
        return False
    if user.role == Role.ADMIN:
        return True
    if user.role == Role.SUPPORT_AGENT and getattr(obj, "read_only_for_agents", False):
        return False
    return obj.owner_id == user.pk or _manages(user, obj)


def can_transfer(user, obj) -> bool:
    """Change a record's owner (and so its team): the owner, a manager of its team, or an admin."""
    return can_delete(user, obj)


def is_admin(user) -> bool:
    return bool(user and user.is_authenticated and user.is_active and user.role == Role.ADMIN)


def deletable_filter(user, model):
    """`can_delete` (and `can_transfer`) as a WHERE condition over `model` (None: no restriction, admins)."""
    if user.role == Role.ADMIN:
        return None
    if user.role == Role.SUPPORT_AGENT and getattr(model, "read_only_for_agents", False):
        return Q(pk__in=[])
    condition = Q(owner_id=user.pk)
    if user.role == Role.MANAGER and user.managed_team_ids():
        condition |= Q(team_id__in=sorted(user.managed_team_ids()))
    return condition


def editable_filter(user, model):
    """`can_edit` as a WHERE condition over `model`, for bulk actions (None: no restriction, admins).

    Combine with `visible_to`: it narrows what the user sees to what they may change.
    """
    condition = deletable_filter(user, model)
    if condition is None or (user.role == Role.SUPPORT_AGENT and getattr(model, "read_only_for_agents", False)):
        return condition
    if getattr(model, "team_members_edit", False) and user.team_id and user.org().sharing_default == Sharing.TEAM:
        condition |= Q(team_id=user.team_id)
    return condition

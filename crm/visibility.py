"""Who sees which owned records: the rules of ARCHITECTURE.md, in one place.

| role          | sees                                                                  |
| admin         | everything                                                            |
| manager       | records of the teams they manage, their own, and (sharing "team") their team's |
| sales rep     | their own; their team's when the org shares records with the team      |
| support agent | as a rep for owned records; apps widen it for tickets they serve       |

Services keep `record.team` equal to the owner's team, so "own records" lie inside the
user's team and the condition is almost always a plain `team_id IN (...)`: one index
range scan, newest first, instead of an `owner OR team` bitmap and a sort over the team.
"""

from collections.abc import Callable

from django.db.models import Q

from crm.models import Role, Sharing

#: Grants that widen what a user sees beyond the owned-record rule, by model label ("contacts.Contact"):
#: the support app registers "contacts, companies, orders and deals linked to a ticket the user serves" here
#: (apps depend downward, so crm cannot import support). Each returns a Q over that model, or None.
_widenings: dict[str, list[Callable]] = {}


def widen(label: str, condition: Callable) -> None:
    """Let `condition(user) -> Q | None` add records of model `label` to what `user` sees (read-only unless
    the policy says otherwise)."""
    hooks = _widenings.setdefault(label, [])
    if condition not in hooks:
        hooks.append(condition)


def _widened(user, model) -> Q | None:
    extra = None
    for hook in _widenings.get(model._meta.label, ()) if model is not None else ():
        condition = hook(user)
        if condition is not None:
            extra = condition if extra is None else extra | condition
    return extra


def visible_team_ids(user) -> frozenset[int]:
    """Teams whose records `user` sees in full (empty for admins, who see all)."""
    teams = set()
    if user.role == Role.MANAGER:
        teams |= user.managed_team_ids()
    if user.team_id and user.org().sharing_default == Sharing.TEAM:
        teams.add(user.team_id)
    return frozenset(teams)


def visibility_filter(user, model=None) -> Q | None:
    """The WHERE condition for records `user` may see; None means no restriction (admin)."""
    if user is None or not user.is_authenticated or not user.is_active:
        return Q(pk__in=[])
    if user.role == Role.ADMIN:
        return None
    teams = visible_team_ids(user)
    if not teams:
        condition = Q(owner_id=user.pk)
    else:
        condition = Q(team_id=next(iter(teams))) if len(teams) == 1 else Q(team_id__in=sorted(teams))
        if user.team_id not in teams:  # own records carry the owner's team
            condition |= Q(owner_id=user.pk)
    extra = _widened(user, model)
    return condition if extra is None else condition | extra


def can_see(user, obj) -> bool:
    """The same rule as `visibility_filter`, for one loaded record."""
    if user is None or not user.is_authenticated or not user.is_active:
        return False
    if user.role == Role.ADMIN:
        return True
    if obj.owner_id == user.pk or obj.team_id in visible_team_ids(user):
        return True
    extra = _widened(user, type(obj))
    return extra is not None and type(obj)._base_manager.filter(extra, pk=obj.pk).exists()

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

from django.db.models import Q

from crm.models import Role, Sharing


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
        return Q(owner_id=user.pk)
    by_team = Q(team_id=next(iter(teams))) if len(teams) == 1 else Q(team_id__in=sorted(teams))
    if user.team_id in teams:
        return by_team  # own records carry the owner's team
    return by_team | Q(owner_id=user.pk)


def can_see(user, obj) -> bool:
    """The same rule as `visibility_filter`, for one loaded record."""
    if user is None or not user.is_authenticated or not user.is_active:
        return False
    if user.role == Role.ADMIN:
        return True
    return obj.owner_id == user.pk or obj.team_id in visible_team_ids(user)

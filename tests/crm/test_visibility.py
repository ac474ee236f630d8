"""visible_to and the policy for every role, plus the EXPLAIN guard on the base list query."""

import pytest
from django.db import connection
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from crm import policy
from crm.models import OrgSettings, Role, SavedView, Sharing, TeamKind, User
from crm.visibility import can_see
from tests.factories import SavedViewFactory, TeamFactory, UserFactory
from tests.visibility import DEFAULT_SEES


def visible_names(world, record):
    return {name for name, user in world.principals().items()
            if user is not None and SavedView.objects.visible_to(user).filter(pk=record.pk).exists()}


def test_each_role_sees_a_team_record_as_the_rules_say(world):
    record = SavedViewFactory(owner=world.rep_a)
    assert visible_names(world, record) == DEFAULT_SEES


def test_private_sharing_hides_teammates_records_from_reps_but_not_managers(world):
    OrgSettings.objects.filter(pk=1).update(sharing_default=Sharing.PRIVATE)
    record = SavedViewFactory(owner=world.rep_a)
    world.rep_b.__dict__.pop("_org", None)
    assert visible_names(world, record) == {"rep_a", "manager1", "admin"}


def test_manager_sees_records_of_every_team_they_manage(world):
    world.manager1.managed_teams.add(world.team2)
    world.manager1.__dict__.pop("_managed_team_ids", None)
    record = SavedViewFactory(owner=world.rep_c)
    assert SavedView.objects.visible_to(world.manager1).filter(pk=record.pk).exists()


def test_manager_sees_own_records_outside_the_teams_they_manage(world):
    outsider_team = TeamFactory()
    manager = UserFactory(role=Role.MANAGER, team=outsider_team, managed_teams=[world.team1])
    OrgSettings.objects.filter(pk=1).update(sharing_default=Sharing.PRIVATE)
    own = SavedViewFactory(owner=manager)
    colleague = SavedViewFactory(owner=UserFactory(team=outsider_team))
    visible = set(SavedView.objects.visible_to(manager).values_list("pk", flat=True))
    assert own.pk in visible and colleague.pk not in visible


def test_personal_views_stay_with_their_owner(world):
    record = SavedViewFactory(owner=world.rep_a, shared=False)
    assert visible_names(world, record) == {"rep_a"}


def test_inactive_user_sees_nothing(world):
    SavedViewFactory(owner=world.rep_a)
    world.rep_b.is_active = False
    assert not SavedView.objects.visible_to(world.rep_b).exists()


def test_policy_lets_owner_and_manager_edit_but_not_teammate_or_agent(world):
    record = SavedViewFactory(owner=world.rep_a)
    assert policy.can_edit(world.rep_a, record)
    assert policy.can_edit(world.manager1, record)
    assert policy.can_edit(world.admin, record)
    assert not policy.can_edit(world.rep_b, record)  # a shared view is changed by its owner
    assert not policy.can_edit(world.manager2, record)
    assert not policy.can_delete(world.rep_b, record)
    assert not policy.can_delete(world.agent1, record)


def test_agents_never_edit_records_marked_read_only_for_them(world):
    record = SavedViewFactory(owner=world.agent1)
    record.read_only_for_agents = True
    assert not policy.can_edit(world.agent1, record)
    assert policy.can_edit(world.admin, record)


# --- the rule as a pure-Python oracle, over random organisations (AC-3) ---------------------------

@pytest.mark.django_db
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                  HealthCheck.too_slow])
@given(
    sharing=st.sampled_from([Sharing.TEAM, Sharing.PRIVATE]),
    roles=st.lists(st.sampled_from(list(Role)), min_size=2, max_size=6),
    teams_of=st.lists(st.integers(min_value=-1, max_value=2), min_size=6, max_size=6),
    managed=st.lists(st.sets(st.integers(min_value=0, max_value=2), max_size=2), min_size=6, max_size=6),
)
def test_visible_to_matches_the_oracle_on_random_orgs(sharing, roles, teams_of, managed):
    SavedView.objects.all().delete()
    User.objects.all().delete()
    from crm.models import Team

    Team.objects.all().delete()
    OrgSettings.load()
    OrgSettings.objects.filter(pk=1).update(sharing_default=sharing)
    teams = [TeamFactory(kind=TeamKind.SALES) for _ in range(3)]
    users = []
    for i, role in enumerate(roles):
        team = teams[teams_of[i]] if teams_of[i] >= 0 else None
        users.append(UserFactory(role=role, team=team,
                                 managed_teams=[teams[t] for t in managed[i]] if role == Role.MANAGER else []))
    records = [SavedViewFactory(owner=owner) for owner in users]

    def oracle(user, record):
        if user.role == Role.ADMIN or record.owner_id == user.pk:
            return True
        owner_team = record.owner.team_id
        if user.role == Role.MANAGER and owner_team in {t.pk for t in user.managed_teams.all()}:
            return True
        return sharing == Sharing.TEAM and user.team_id is not None and owner_team == user.team_id

    for user in users:
        user = User.objects.get(pk=user.pk)
        got = set(SavedView.objects.visible_to(user).values_list("pk", flat=True))
        want = {r.pk for r in records if oracle(user, r)}
        assert got == want, (user.role, user.team_id)
        assert all(can_see(user, r) == (r.pk in want) for r in records)


# --- EXPLAIN: the common list query must be an index scan, not a scan + sort of the team -------

def test_team_list_query_uses_the_team_index(world):
    with connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO crm_savedview (owner_id, team_id, created_by_id, created_at, updated_at, name, target,
                                       query, columns, shared)
            SELECT CASE WHEN g %% 2 = 0 THEN %s ELSE %s END, CASE WHEN g %% 2 = 0 THEN %s ELSE %s END, NULL,
                   now() - (g || ' minutes')::interval, now(), 'v' || g, 'contacts', '', '[]', true
            FROM generate_series(1, 20000) AS g
            """,
            [world.rep_a.pk, world.rep_c.pk, world.team1.pk, world.team2.pk],
        )
        cursor.execute("ANALYZE crm_savedview")
    for user in (world.rep_a, world.manager1):
        qs = SavedView.objects.visible_to(user).select_related("owner").order_by("-created_at", "-id")[:50]
        plan = qs.explain()
        assert "Seq Scan on crm_savedview" not in plan, plan
        assert "Sort" not in plan, plan
        assert "crm_savedview_team_recent" in plan, plan


@pytest.mark.parametrize("sharing", [Sharing.TEAM, Sharing.PRIVATE])
def test_filter_forms_of_the_policy_agree_with_can_edit_and_can_delete(world, sharing, monkeypatch):
    """Bulk actions use the WHERE forms; on every visible record they must answer as the checks do."""
    OrgSettings.objects.filter(pk=1).update(sharing_default=sharing)
    monkeypatch.setattr(SavedView, "team_members_edit", True)  # exercise the team clause too
    records = [SavedViewFactory(owner=owner) for owner in (world.rep_a, world.rep_b, world.rep_c, world.manager1)]
    for user in filter(None, world.principals().values()):
        user = User.objects.get(pk=user.pk)
        for as_filter, as_check in ((policy.editable_filter, policy.can_edit), (policy.deletable_filter, policy.can_delete)):
            condition = as_filter(user, SavedView)
            visible = SavedView.objects.visible_to(user).filter(pk__in=[r.pk for r in records])
            got = set((visible if condition is None else visible.filter(condition)).values_list("pk", flat=True))
            want = {r.pk for r in records if can_see(user, r) and as_check(user, r)}
            assert got == want, (user.email, sharing, as_filter.__name__)

"""Shared fixtures: an organisation with every kind of principal (see tests/visibility.py)."""

from dataclasses import dataclass

import pytest
from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret
from django.core.cache import cache

from crm.models import OrgSettings, Role, TeamKind, User
from tests.background import worker  # noqa: F401 (a fixture for tests that need a real Celery worker)
from tests.factories import TeamFactory, UserFactory


def clear_own_cache() -> None:
    """Delete this pytest worker's cache keys only: `cache.clear()` is FLUSHDB, which would also wipe the other
    xdist worker's keys (and Celery results) in the shared Redis database mid-test."""
    client = cache._cache.get_client(write=True)
    prefix = cache.make_key("")
    keys = list(client.scan_iter(match=f"{prefix}*", count=1000))
    if keys:
        client.delete(*keys)


@pytest.fixture(autouse=True)
def _clean_cache():
    clear_own_cache()  # rate limits and throttles start fresh for every test
    yield


@dataclass
class World:
    """Two sales teams and a support team; the record under test is usually owned by `rep_a`."""

    team1: object
    team2: object
    support1: object
    rep_a: User  # owner, team 1
    rep_b: User  # teammate of rep_a
    rep_c: User  # team 2
    manager1: User  # manages team 1
    manager2: User  # manages team 2
    agent1: User  # support team
    admin: User

    def principals(self) -> dict[str, User | None]:
        return {
            "anonymous": None, "rep_a": self.rep_a, "rep_b": self.rep_b, "rep_c": self.rep_c,
            "manager1": self.manager1, "manager2": self.manager2, "agent1": self.agent1, "admin": self.admin,
        }


def activate_totp(user: User) -> str:
    secret = generate_totp_secret()
    TOTP.activate(user, secret)
    user.__dict__.pop("_has_mfa", None)
    return secret


@pytest.fixture
def world(db) -> World:
    OrgSettings.load()
    team1 = TeamFactory(name="Dhaka Sales")
    team2 = TeamFactory(name="Chattogram Sales")
    support1 = TeamFactory(name="Customer Care", kind=TeamKind.SUPPORT)
    admin = UserFactory(role=Role.ADMIN, email="admin@example.com", full_name="Admin")
    activate_totp(admin)  # admins must have two-factor sign-in to use the app
    return World(
        team1=team1, team2=team2, support1=support1,
        rep_a=UserFactory(team=team1, email="a@example.com", full_name="রহিম উদ্দিন"),
        rep_b=UserFactory(team=team1, email="b@example.com", full_name="Nusrat Jahan"),
        rep_c=UserFactory(team=team2, email="c@example.com", full_name="Karim Ahmed"),
        manager1=UserFactory(role=Role.MANAGER, team=team1, email="m1@example.com", managed_teams=[team1]),
        manager2=UserFactory(role=Role.MANAGER, team=team2, email="m2@example.com", managed_teams=[team2]),
        agent1=UserFactory(role=Role.SUPPORT_AGENT, team=support1, email="s1@example.com"),
        admin=admin,
    )


@pytest.fixture
def client_for(client):
    """Return a function giving a test client signed in as `user` (None: anonymous)."""
    from django.test import Client

    def make(user):
        c = Client()
        if user is not None:
            c.force_login(user)
        return c

    return make

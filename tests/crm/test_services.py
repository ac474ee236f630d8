"""Service rules for users, teams, org settings, saved views and tokens."""

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError

from crm import outbox, services
from crm.models import ApiToken, OutboxMessage, Role, SavedView, User
from tests.factories import SavedViewFactory, TeamFactory, UserFactory


def test_invite_creates_user_without_password_and_queues_the_email(world):
    user = services.invite_user(by=world.admin, email=" New.Person@Example.com ", full_name="সুমি আক্তার",
                                role=Role.SALES_REP, team=world.team1)
    assert user.email == "new.person@example.com"
    assert not user.has_usable_password()
    message = OutboxMessage.objects.get(job="crm.send_password_email")
    assert message.kwargs == {"user_id": user.pk, "purpose": "invite"}
    assert outbox.run(message.pk)
    assert len(mail.outbox) == 1 and "/accounts/password/reset/key/" in mail.outbox[0].body
    user.refresh_from_db()
    assert user.invitation_sent_at is not None


def test_invite_rejects_duplicate_email_case_insensitively(world):
    with pytest.raises(ValidationError) as err:
        services.invite_user(by=world.admin, email="A@EXAMPLE.COM", full_name="X", role=Role.SALES_REP)
    assert "email" in err.value.message_dict
    assert User.objects.filter(email__iexact="a@example.com").count() == 1


def test_only_admins_invite(world):
    with pytest.raises(PermissionDenied):
        services.invite_user(by=world.manager1, email="x@example.com", full_name="X", role=Role.SALES_REP)


def test_support_agent_must_join_a_support_team(world):
    with pytest.raises(ValidationError) as err:
        services.invite_user(by=world.admin, email="x@example.com", full_name="X", role=Role.SUPPORT_AGENT,
                             team=world.team1)
    assert "team" in err.value.message_dict
    assert not User.objects.filter(email="x@example.com").exists()


def test_changing_team_moves_the_users_records_along(world):
    view = SavedViewFactory(owner=world.rep_a)
    services.update_user(by=world.admin, user=world.rep_a, full_name=world.rep_a.full_name, role=Role.SALES_REP,
                         team=world.team2)
    view.refresh_from_db()
    assert view.team_id == world.team2.pk
    assert SavedView.objects.visible_to(world.rep_c).filter(pk=view.pk).exists()
    assert not SavedView.objects.visible_to(User.objects.get(pk=world.rep_b.pk)).filter(pk=view.pk).exists()


def test_last_admin_cannot_be_demoted_or_deactivated(world):
    with pytest.raises(ValidationError):
        services.update_user(by=world.admin, user=world.admin, full_name="A", role=Role.MANAGER, team=None)
    other = UserFactory(role=Role.ADMIN)
    with pytest.raises(ValidationError):
        services.deactivate_user(by=other, user=other)  # not yourself
    services.deactivate_user(by=other, user=world.admin)
    with pytest.raises(ValidationError):  # `other` is now the last active admin
        services.update_user(by=other, user=other, full_name="O", role=Role.MANAGER, team=None)


def test_only_managers_manage_teams(world):
    with pytest.raises(ValidationError) as err:
        services.set_managed_teams(by=world.admin, user=world.rep_a, teams=[world.team1])
    assert "managed_teams" in err.value.message_dict


def test_deactivating_revokes_tokens_and_keeps_records(world):
    view = SavedViewFactory(owner=world.rep_a)
    token, _key = services.create_api_token(user=world.rep_a, name="Shop sync")
    services.deactivate_user(by=world.admin, user=world.rep_a)
    token.refresh_from_db()
    assert token.revoked_at is not None
    assert SavedView.objects.filter(pk=view.pk).exists()


def test_reassign_moves_every_record_to_the_new_owner_and_team(world):
    views = SavedViewFactory.create_batch(3, owner=world.rep_a)
    counts = services.reassign_records(by=world.admin, from_user=world.rep_a, to_user=world.rep_c)
    assert sum(counts.values()) == 3
    assert set(SavedView.objects.filter(pk__in=[v.pk for v in views]).values_list("owner_id", "team_id")) == {
        (world.rep_c.pk, world.team2.pk)}


def test_reassign_refuses_an_inactive_target(world):
    world.rep_c.is_active = False
    world.rep_c.save()
    with pytest.raises(ValidationError) as err:
        services.reassign_records(by=world.admin, from_user=world.rep_a, to_user=world.rep_c)
    assert "to_user" in err.value.message_dict


def test_saved_view_takes_the_owners_team_and_cannot_be_shared_without_one(world):
    view = services.create_saved_view(by=world.rep_a, name=" Hot leads ", target="contacts", query="?stage=sql",
                                      shared=True)
    assert (view.name, view.query, view.team_id) == ("Hot leads", "stage=sql", world.team1.pk)
    loner = UserFactory(team=None)
    with pytest.raises(ValidationError) as err:
        services.create_saved_view(by=loner, name="Mine", target="contacts", shared=True)
    assert "shared" in err.value.message_dict


def test_teammate_cannot_change_a_shared_view(world):
    view = SavedViewFactory(owner=world.rep_a)
    with pytest.raises(PermissionDenied):
        services.update_saved_view(by=world.rep_b, view=view, name="Mine now")
    view.refresh_from_db()
    assert view.name != "Mine now"


def test_api_token_key_is_shown_once_and_only_its_hash_is_stored(world):
    token, key = services.create_api_token(user=world.rep_a, name="Shop sync")
    assert key.startswith(f"smp_{token.lookup}_")
    stored = ApiToken.objects.get(pk=token.pk)
    assert key not in (stored.key_hash, stored.lookup) and len(stored.key_hash) == 64
    with pytest.raises(ValidationError):
        services.create_api_token(user=world.rep_a, name="shop SYNC")


def test_team_names_are_unique_ignoring_case(world):
    with pytest.raises(ValidationError) as err:
        services.save_team(by=world.admin, name="dhaka sales", kind="sales")
    assert "name" in err.value.message_dict


def test_team_kind_cannot_change_while_it_has_members(world):
    with pytest.raises(ValidationError):
        services.save_team(by=world.admin, team=world.team1, name="Dhaka Sales", kind="support")
    empty = TeamFactory()
    assert services.save_team(by=world.admin, team=empty, name="Renamed", kind="support").kind == "support"

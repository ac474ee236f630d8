"""Scoring rules and settings (admins only, checked parameters, versions), recompute requests, the rescore
wake-up after commit (coalesced, nothing on rollback) and a real worker picking up a contact's change."""

from datetime import timedelta
from unittest import mock

import pytest
from django.core.cache import cache
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from contacts import services as contact_services
from contacts.models import Contact
from sales.models import ScoreRun, ScoringRule, ScoringSettings
from sales.scoring import services
from tests.background import wait_for
from tests.factories import make_contact


def director_rule(by, **overrides):
    fields = {"name": "Directors", "kind": "field_contains", "params": {"field": "job_title", "value": "director"},
              "points": 20, **overrides}
    return services.save_rule(by=by, **fields)


def test_only_admins_change_rules(world):
    for user in (world.rep_a, world.manager1, world.agent1):
        with pytest.raises(PermissionDenied):
            director_rule(user)
    assert not ScoringRule.objects.exists()


@pytest.mark.parametrize(("overrides", "field"), [
    ({"kind": "nonsense"}, "kind"),
    ({"params": {"field": "password", "value": "x"}}, "params.field"),
    ({"params": {"field": "job_title"}}, "params.value"),
    ({"kind": "field_in", "params": {"field": "lifecycle_stage", "values": ["lead", "boss"]}}, "params.values"),
    ({"kind": "web_visits", "params": {"pattern": "/pricing", "days": 0}}, "params.days"),
    ({"kind": "tag_present", "params": {"tag": 999999}}, "params.tag"),
    ({"points": 101}, "points"),
    ({"points": 0}, "points"),
    ({"name": "  "}, "name"),
])
def test_bad_rules_are_refused_field_by_field(world, overrides, field):
    with pytest.raises(ValidationError) as exc:
        director_rule(world.admin, **overrides)
    assert field in exc.value.message_dict
    assert not ScoringRule.objects.exists()


def test_open_complaints_is_offered_once_the_support_desk_is_installed(world):
    rule = director_rule(world.admin, kind="open_complaints", params={"per_occurrence": True, "cap": 30}, points=-15)
    assert rule.params == {"per_occurrence": True, "cap": 30}


def test_changing_a_rule_bumps_its_version_and_the_rulesets(world):
    rule = director_rule(world.admin)
    before = ScoringSettings.load().version
    services.save_rule(by=world.admin, rule=rule, name="Directors", kind="field_contains",
                       params={"field": "job_title", "value": "director"}, points=25)
    rule.refresh_from_db()
    assert (rule.version, rule.points) == (2, 25)
    assert ScoringSettings.load().version == before + 1


def test_saving_an_unchanged_rule_changes_nothing(world):
    rule = director_rule(world.admin)
    version = ScoringSettings.load().version
    director_rule(world.admin, rule=rule)
    rule.refresh_from_db()
    assert rule.version == 1 and ScoringSettings.load().version == version


def test_a_rule_change_queues_one_full_recompute_after_commit(world, django_capture_on_commit_callbacks):
    with mock.patch("sales.tasks.recompute_scores.apply_async") as apply_async:
        apply_async.return_value.id = "task-1"
        with django_capture_on_commit_callbacks(execute=True):
            director_rule(world.admin)
            director_rule(world.admin, name="Managers", params={"field": "job_title", "value": "manager"})
    assert apply_async.call_count == 1  # two edits, one queued run
    run = ScoreRun.objects.get()
    assert (run.status, run.task_id) == ("queued", "task-1")


def test_a_queued_run_whose_message_was_lost_is_sent_again(world, django_capture_on_commit_callbacks):
    stale = ScoreRun.objects.create(reason="lost")
    ScoreRun.objects.filter(pk=stale.pk).update(created_at=timezone.now() - timedelta(hours=1))
    with mock.patch("sales.tasks.recompute_scores.apply_async") as apply_async, \
            django_capture_on_commit_callbacks(execute=True):
        assert services.request_recompute(by=None, reason="nightly").pk == stale.pk
    apply_async.assert_called_once_with(kwargs={"run_id": stale.pk})


def test_settings_need_warm_below_hot(world):
    with pytest.raises(ValidationError) as exc:
        services.update_settings(by=world.admin, hot_threshold=40, warm_threshold=50, half_life_days=30)
    assert "warm_threshold" in exc.value.message_dict
    assert ScoringSettings.load().hot_threshold == 70


def test_contact_changes_wake_one_rescore_after_commit(world, django_capture_on_commit_callbacks):
    contact = make_contact(world.rep_a, first_name="Karim")
    cache.delete("scoring:rescore-pending")
    with mock.patch("sales.tasks.rescore_dirty_contacts.apply_async") as apply_async, \
            django_capture_on_commit_callbacks(execute=True):
        for city in ("Dhaka", "Sylhet", "Khulna"):
            contact_services.update_contact(by=world.rep_a, contact=contact, city=city)
        contact_services.log_activity(by=world.rep_a, contact=contact, kind="call", body="Called")
    assert apply_async.call_count == 1
    apply_async.assert_called_with(countdown=services.COALESCE_SECONDS)


def test_a_rolled_back_change_wakes_nothing(world, django_capture_on_commit_callbacks):
    contact = make_contact(world.rep_a, first_name="Karim")
    cache.delete("scoring:rescore-pending")
    with mock.patch("sales.tasks.rescore_dirty_contacts.apply_async") as apply_async, \
            django_capture_on_commit_callbacks(execute=True) as callbacks:
        with pytest.raises(RuntimeError), transaction.atomic():
            contact_services.update_contact(by=world.rep_a, contact=contact, city="Rangpur")
            raise RuntimeError
        assert callbacks == []
    apply_async.assert_not_called()


def test_a_real_worker_rescores_a_changed_contact(worker, world):
    ScoringRule.objects.create(name="Sylhet", kind="field_equals", points=35, params={"field": "city", "value": "Sylhet"})
    contact = make_contact(world.rep_a, first_name="Worker", city="Dhaka")
    cache.delete("scoring:rescore-pending")
    contact_services.update_contact(by=world.rep_a, contact=contact, city="Sylhet")
    assert wait_for(lambda: Contact.objects.get(pk=contact.pk).score == 35, 60)
    assert Contact.objects.get(pk=contact.pk).score_band == "cold"


@pytest.mark.parametrize("write", ["tag", "bulk_stage"])
def test_bulk_writes_to_contacts_wake_one_rescore_after_commit(world, django_capture_on_commit_callbacks, write):
    """Tags and bulk actions write with bulk_create/update (no post_save): the contacts app's signal wakes it."""
    contact = make_contact(world.rep_a, first_name="Karim")
    cache.delete("scoring:rescore-pending")
    with mock.patch("sales.tasks.rescore_dirty_contacts.apply_async") as apply_async, \
            django_capture_on_commit_callbacks(execute=True):
        if write == "tag":
            contact_services.add_tags(by=world.rep_a, obj=contact, tags=["VIP"])
        else:
            contact_services.bulk_update_contacts(by=world.rep_a, ids=[contact.pk], action="stage", stage="customer")
    assert apply_async.call_count == 1

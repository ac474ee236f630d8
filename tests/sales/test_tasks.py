"""Task services: creating, changing, completing, assigning; reminders fired with a fixed clock."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from crm.models import Notification
from sales import task_services as services
from sales.models import Task
from tests.factories import make_company, make_contact
from tests.sales.helpers import new_deal

NOW = datetime(2026, 3, 10, 9, 0, tzinfo=ZoneInfo("Asia/Dhaka"))


def new_task(world, **fields):
    fields.setdefault("title", "Call about the Eid order")
    fields.setdefault("due_at", NOW + timedelta(hours=2))
    return services.create_task(by=fields.pop("by", world.rep_a), **fields)


def test_create_task_is_owned_by_its_creator_and_reminds_when_due(world):
    task = new_task(world)
    assert (task.owner, task.team, task.created_by) == (world.rep_a, world.team1, world.rep_a)
    assert task.remind_at == task.due_at and task.reminded_at is None


def test_title_and_due_time_are_required(world):
    with pytest.raises(ValidationError) as exc:
        services.create_task(by=world.rep_a, title="  ", due_at=None)
    assert set(exc.value.message_dict) == {"title", "due_at"}
    assert not Task.objects.exists()


def test_manager_assigns_a_task_to_their_rep_and_the_rep_is_told(world):
    task = new_task(world, by=world.manager1, owner=world.rep_b)
    assert task.owner == world.rep_b
    assert Notification.objects.get(recipient=world.rep_b).url == f"/sales/tasks/{task.pk}/"


def test_rep_cannot_create_a_task_for_someone_else(world):
    with pytest.raises(ValidationError) as exc:
        new_task(world, owner=world.rep_b)
    assert "owner" in exc.value.message_dict


def test_linked_records_must_be_visible(world, pipeline):
    theirs = make_contact(world.rep_c)
    with pytest.raises(ValidationError) as exc:
        new_task(world, contact=theirs, company=make_company(world.rep_c),
                 deal=new_deal(world, pipeline, by=world.rep_c))
    assert set(exc.value.message_dict) == {"contact", "company", "deal"}
    assert not Task.objects.exists()


def test_task_links_a_visible_contact_company_and_deal(world, pipeline):
    contact, company, deal = make_contact(world.rep_b), make_company(world.rep_a), new_deal(world, pipeline)
    task = new_task(world, contact=contact, company=company, deal=deal)
    assert (task.contact, task.company, task.deal) == (contact, company, deal)


def test_moving_the_due_time_moves_the_reminder_and_rearms_it(world):
    task = new_task(world)
    Task.objects.filter(pk=task.pk).update(reminded_at=NOW)
    task.refresh_from_db()
    later = task.due_at + timedelta(days=1)
    task = services.update_task(by=world.rep_a, task=task, due_at=later)
    assert task.remind_at == later and task.reminded_at is None


def test_explicit_reminder_time_is_kept_when_due_time_moves(world):
    task = new_task(world)
    early = task.due_at - timedelta(hours=1)
    task = services.update_task(by=world.rep_a, task=task, due_at=task.due_at + timedelta(hours=3), remind_at=early)
    assert task.remind_at == early


def test_teammate_edits_but_rep_of_another_team_cannot(world):
    task = new_task(world)
    services.update_task(by=world.rep_b, task=task, title="Renamed")
    with pytest.raises(PermissionDenied):
        services.update_task(by=world.rep_c, task=task, title="Nope")


def test_reassigning_follows_transfer_rules_and_notifies(world):
    task = new_task(world)
    services.update_task(by=world.rep_a, task=task, owner=world.rep_b)
    assert task.owner == world.rep_b and Notification.objects.filter(recipient=world.rep_b).count() == 1
    with pytest.raises(ValidationError):
        services.update_task(by=world.manager1, task=task, owner=world.rep_c)


def test_complete_and_reopen(world):
    task = new_task(world)
    services.complete_task(by=world.rep_a, task=task)
    done_at = task.done_at
    assert done_at is not None
    services.complete_task(by=world.rep_a, task=task)
    assert task.done_at == done_at
    services.reopen_task(by=world.rep_a, task=task)
    assert task.done_at is None


def test_only_owner_manager_or_admin_deletes(world):
    task = new_task(world)
    with pytest.raises(PermissionDenied):
        services.delete_task(by=world.rep_b, task=task)
    services.delete_task(by=world.manager1, task=task)
    assert not Task.objects.exists()


def test_unknown_field_is_refused(world):
    with pytest.raises(TypeError):
        services.update_task(by=world.rep_a, task=new_task(world), colour="red")


# --- Reminders --------------------------------------------------------------------------------------


def test_due_reminder_becomes_one_notification_with_an_email(world):
    task = new_task(world, due_at=NOW - timedelta(minutes=1))
    new_task(world, title="Later", due_at=NOW + timedelta(hours=1))
    assert services.fire_due_reminders(now=NOW) == 1
    notification = Notification.objects.get(recipient=world.rep_a, kind="task_reminder")
    assert notification.email_wanted and notification.emailed_at is None
    assert notification.dedupe_key == f"task-reminder:{task.pk}:2026-03-10T02:59:00+00:00"
    assert "Call about the Eid order" in notification.title
    task.refresh_from_db()
    assert task.reminded_at == NOW


def test_firing_again_sends_nothing_new(world):
    new_task(world, due_at=NOW - timedelta(minutes=1))
    assert services.fire_due_reminders(now=NOW) == 1
    assert services.fire_due_reminders(now=NOW + timedelta(minutes=1)) == 0
    assert Notification.objects.count() == 1


def test_done_tasks_are_not_reminded(world):
    task = new_task(world, due_at=NOW - timedelta(minutes=1))
    services.complete_task(by=world.rep_a, task=task)
    assert services.fire_due_reminders(now=NOW) == 0


def test_reminder_fires_again_after_it_is_moved(world):
    task = new_task(world, due_at=NOW - timedelta(minutes=1))
    services.fire_due_reminders(now=NOW)
    task.refresh_from_db()
    services.update_task(by=world.rep_a, task=task, due_at=NOW + timedelta(minutes=5))
    assert services.fire_due_reminders(now=NOW + timedelta(minutes=10)) == 1
    assert Notification.objects.filter(kind="task_reminder").count() == 2


def test_reminder_text_is_in_the_assignees_language_and_time_zone(world):
    world.rep_a.language, world.rep_a.time_zone = "bn", "Asia/Dhaka"
    world.rep_a.save()
    new_task(world, due_at=NOW - timedelta(minutes=1))
    services.fire_due_reminders(now=NOW)
    body = Notification.objects.get().body
    assert "০৮:৫৯" in body or "৮:৫৯" in body, body


def test_reminders_fire_in_batches_with_a_fixed_number_of_queries(world, django_assert_num_queries):
    for i in range(5):
        new_task(world, title=f"Task {i}", due_at=NOW - timedelta(minutes=i + 1))
    # per batch (2, 2, then 1, which ends the loop): savepoint, claim, insert, update, release
    with django_assert_num_queries(3 * 5):
        assert services.fire_due_reminders(now=NOW, batch_size=2) == 5
    assert Notification.objects.count() == 5


def test_inactive_assignee_gets_no_reminder_but_the_task_is_marked(world):
    new_task(world, due_at=NOW - timedelta(minutes=1))
    world.rep_a.is_active = False
    world.rep_a.save()
    assert services.fire_due_reminders(now=NOW) == 1
    assert not Notification.objects.exists()
    assert Task.objects.get().reminded_at == NOW


def test_task_sections_split_by_the_users_day(world, settings):
    tz = ZoneInfo("Asia/Dhaka")
    now = datetime(2026, 3, 10, 20, 0, tzinfo=tz)
    overdue = new_task(world, title="Overdue", due_at=now - timedelta(hours=1))
    today = new_task(world, title="Tonight", due_at=now + timedelta(hours=3))  # 23:00 Dhaka
    upcoming = new_task(world, title="Tomorrow", due_at=now + timedelta(hours=5))  # 01:00 next day
    with timezone.override(tz):
        sections = services.task_sections(user=world.rep_a, assignee=world.rep_a, now=now)
    assert [t.pk for t in sections["overdue"]] == [overdue.pk]
    assert [t.pk for t in sections["today"]] == [today.pk]
    assert [t.pk for t in sections["upcoming"]] == [upcoming.pk]
    with timezone.override(ZoneInfo("UTC")):  # 23:00 Dhaka is 17:00 UTC, 01:00 Dhaka is 19:00 UTC: both today
        sections = services.task_sections(user=world.rep_a, assignee=world.rep_a, now=now)
    assert [t.pk for t in sections["today"]] == [today.pk, upcoming.pk]

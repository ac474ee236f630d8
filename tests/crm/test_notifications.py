"""Notifications: writing them once, reading one's own, the bell, e-mails, assignment, the reminder worker."""

from datetime import timedelta

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from contacts import services as contact_services
from crm import notifications
from crm.models import Notification
from sales import services as sales_services
from sales import task_services
from tests.background import wait_for
from tests.factories import make_company, make_contact
from tests.visibility import assert_visibility

LIST = "/api/v1/notifications/"


@pytest.fixture
def pipeline(world):
    return sales_services.create_pipeline(by=world.admin, name="E-commerce B2B", stages=[("Lead", 10)])


def note(user, **fields):
    fields.setdefault("kind", "test")
    fields.setdefault("title", "Something happened")
    return notifications.notify(recipient=user, **fields)


# --- Services -----------------------------------------------------------------------------------------


def test_notify_once_per_dedupe_key(world):
    assert note(world.rep_a, dedupe_key="k1") is not None
    assert note(world.rep_a, dedupe_key="k1") is None
    assert Notification.objects.count() == 1


def test_mark_read_and_mark_all_read(world):
    first, _second = note(world.rep_a), note(world.rep_a)
    note(world.rep_b)
    notifications.mark_read(user=world.rep_a, notification=first)
    assert notifications.unread_count(world.rep_a) == 1
    assert notifications.mark_all_read(user=world.rep_a) == 1
    assert notifications.unread_count(world.rep_a) == 0
    assert notifications.unread_count(world.rep_b) == 1


def test_cannot_mark_someone_elses_read(world):
    from django.http import Http404

    with pytest.raises(Http404):
        notifications.mark_read(user=world.rep_b, notification=note(world.rep_a))


def test_emails_go_out_once_in_the_recipients_language(world):
    world.rep_a.language = "bn"
    world.rep_a.save()
    note(world.rep_a, email=True, url="/sales/tasks/1/")
    note(world.rep_b, email=False)
    assert notifications.send_pending_emails() == {"sent": 1, "failed": 0, "skipped": 0}
    assert notifications.send_pending_emails() == {"sent": 0, "failed": 0, "skipped": 0}
    assert len(mail.outbox) == 1 and mail.outbox[0].to == [world.rep_a.email]
    assert "/sales/tasks/1/" in mail.outbox[0].body
    notification = Notification.objects.get(recipient=world.rep_a)
    assert notification.emailed_at is not None and notification.email_attempts == 1


def test_inactive_users_get_no_email(world):
    note(world.rep_a, email=True)
    world.rep_a.is_active = False
    world.rep_a.save()
    assert notifications.send_pending_emails()["skipped"] == 1
    assert not mail.outbox and notifications.send_pending_emails()["skipped"] == 0


def test_failed_email_counts_an_attempt_and_is_retried(world, monkeypatch):
    def broken(self, messages):
        raise OSError("mail server down")

    monkeypatch.setattr("django.core.mail.backends.locmem.EmailBackend.send_messages", broken)
    note(world.rep_a, email=True)
    assert notifications.send_pending_emails()["failed"] == 1
    notification = Notification.objects.get()
    assert notification.emailed_at is None and notification.email_attempts == 1


# --- Assignment --------------------------------------------------------------------------------------------


def test_assigning_a_contact_to_someone_else_notifies_them(world):
    contact = make_contact(world.rep_a)
    assert not Notification.objects.exists()  # creating one's own record notifies no one
    contact_services.transfer_contact(by=world.rep_a, contact=contact, owner=world.rep_b)
    n = Notification.objects.get(recipient=world.rep_b)
    assert n.kind == "assigned" and n.url == reverse("contacts:contact", args=[contact.pk])


def test_creating_for_someone_else_notifies_them(world, pipeline):
    contact_services.create_company(by=world.manager1, owner=world.rep_a, name="Aarong")
    contact_services.create_contact(by=world.manager1, owner=world.rep_a, first_name="Rahim")
    sales_services.create_deal(by=world.manager1, owner=world.rep_a, pipeline=pipeline, title="Big order")
    assert Notification.objects.filter(recipient=world.rep_a, kind="assigned").count() == 3


def test_transfer_company_and_deal_notify(world, pipeline):
    company = make_company(world.rep_a)
    contact_services.transfer_company(by=world.manager1, company=company, owner=world.rep_b)
    deal = sales_services.create_deal(by=world.rep_a, pipeline=pipeline, title="Deal")
    sales_services.transfer_deal(by=world.rep_a, deal=deal, owner=world.rep_b)
    assert Notification.objects.filter(recipient=world.rep_b).count() == 2


def test_bulk_assignment_sends_one_summary(world):
    ids = [make_contact(world.rep_a).pk for _ in range(4)]
    contact_services.bulk_update_contacts(by=world.manager1, ids=ids, action="assign", owner=world.rep_b)
    n = Notification.objects.get(recipient=world.rep_b)
    assert n.kind == "assigned_many" and "4" in n.title


def test_assigning_to_oneself_notifies_no_one(world):
    contact = make_contact(world.rep_a)
    contact_services.transfer_contact(by=world.manager1, contact=contact, owner=world.manager1)
    assert not Notification.objects.exists()


# --- API ------------------------------------------------------------------------------------------------


def test_api_lists_only_ones_own(world, client_for):
    mine, theirs = note(world.rep_a), note(world.rep_b)
    for user in (world.rep_a, world.admin, world.manager1):
        ids = [r["id"] for r in client_for(user).get(LIST).json()["results"]]
        assert (mine.pk in ids) is (user == world.rep_a) and theirs.pk not in ids


def test_api_detail_is_the_recipients_alone(world, client_for):
    assert_visibility(world, client_for, f"{LIST}{note(world.rep_a).pk}/", sees={"rep_a"}, api=True)


def test_api_mark_read_and_all(world, client_for):
    first = note(world.rep_a)
    note(world.rep_a)
    client = client_for(world.rep_a)
    assert client_for(world.rep_b).post(f"{LIST}{first.pk}/read/").status_code == 404
    assert client.post(f"{LIST}{first.pk}/read/").json()["is_read"] is True
    assert [r["id"] for r in client.get(LIST, {"unread": "true"}).json()["results"]] != [first.pk]
    assert client.post(f"{LIST}read-all/").json() == {"marked": 1}
    assert client.get(LIST, {"unread": "true"}).json()["count"] == 0


def test_api_list_runs_the_same_queries_for_any_page_size(world, client_for, django_assert_num_queries):
    for i in range(8):
        note(world.rep_a, title=f"N{i}")
    client = client_for(world.rep_a)
    client.get(LIST)
    with django_assert_num_queries(5):  # session, user, org settings, count, page
        assert len(client.get(LIST, {"page_size": 3}).json()["results"]) == 3
    with django_assert_num_queries(5):
        assert len(client.get(LIST, {"page_size": 50}).json()["results"]) == 8


# --- Pages ----------------------------------------------------------------------------------------------


def test_every_page_has_the_bell_and_pays_no_query_for_it(world, client_for):
    body = client_for(world.rep_a).get(reverse("home")).content.decode()
    assert reverse("notification_bell") in body and reverse("notification_count") in body


def test_bell_count_shows_the_unread_count(world, client_for):
    note(world.rep_a)
    note(world.rep_a)
    note(world.rep_b)
    body = client_for(world.rep_a).get(reverse("notification_count"), HTTP_HX_REQUEST="true").content.decode()
    assert 'class="badge bell-count">2<' in body


def test_bell_dropdown_lists_unread(world, client_for):
    note(world.rep_a, title="Unread one")
    read = note(world.rep_a, title="Read one")
    notifications.mark_read(user=world.rep_a, notification=read)
    body = client_for(world.rep_a).get(reverse("notification_bell"), HTTP_HX_REQUEST="true").content.decode()
    assert "Unread one" in body and "Read one" not in body


def test_read_page_marks_and_goes_to_the_link(world, client_for):
    n = note(world.rep_a, url="/sales/tasks/")
    assert client_for(world.rep_b).post(reverse("notification_read", args=[n.pk])).status_code == 404
    response = client_for(world.rep_a).post(reverse("notification_read", args=[n.pk]), {"go": "1"})
    assert response["Location"] == "/sales/tasks/"
    n.refresh_from_db()
    assert n.read_at is not None


def test_read_visibility_for_every_role(world, client_for):
    n = note(world.rep_a)
    assert_visibility(world, client_for, reverse("notification_read", args=[n.pk]), method="post", data={},
                      sees={"rep_a"}, allowed=302)


def test_read_all_page(world, client_for):
    note(world.rep_a)
    response = client_for(world.rep_a).post(reverse("notifications_read_all"))
    assert response.status_code == 302 and not Notification.objects.unread().exists()


def test_list_page_shows_ones_own(world, client_for):
    note(world.rep_a, title="For A")
    note(world.rep_b, title="For B")
    body = client_for(world.rep_a).get(reverse("notifications")).content.decode()
    assert "For A" in body and "For B" not in body


def test_list_page_runs_the_same_queries_for_any_number(world, client_for, django_assert_num_queries):
    client = client_for(world.rep_a)
    for i in range(3):
        note(world.rep_a, title=f"N{i}")
    client.get(reverse("notifications"))
    with django_assert_num_queries(4):  # session, user, org settings, the page
        client.get(reverse("notifications"))
    for i in range(8):
        note(world.rep_a, title=f"M{i}")
    with django_assert_num_queries(4):
        client.get(reverse("notifications"))


def test_the_bells_count_is_cached_between_pages(world, client_for, django_assert_num_queries):
    note(world.rep_a)
    client = client_for(world.rep_a)
    client.get(reverse("notification_count"))
    with django_assert_num_queries(0):
        assert notifications.unread_count(world.rep_a) == 1
    note(world.rep_a)  # a new notification forgets the cached count
    assert 'bell-count">2<' in client.get(reverse("notification_count")).content.decode()


# --- The reminder, end to end with a real worker -------------------------------------------------------


def test_a_due_reminder_becomes_a_notification_through_the_worker(worker, world):
    from sales.tasks import send_task_reminders

    task = task_services.create_task(by=world.rep_a, title="Call Karim", due_at=timezone.now() - timedelta(minutes=1))
    send_task_reminders.apply_async()
    assert wait_for(lambda: Notification.objects.filter(recipient=world.rep_a, kind="task_reminder").exists(), 60)
    task.refresh_from_db()
    assert task.reminded_at is not None
    # the reminder's e-mail is enqueued after commit and sent by the same worker
    assert wait_for(lambda: Notification.objects.filter(emailed_at__isnull=False).exists(), 60)

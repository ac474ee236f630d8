"""The tasks API: visibility, filters, sort, writes through the services, constant queries."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from sales import task_services as services
from sales.models import Task
from tests.factories import make_company, make_contact
from tests.sales.helpers import new_deal
from tests.visibility import assert_visibility

LIST = "/api/v1/tasks/"


def task_url(task, action=""):
    return f"/api/v1/tasks/{task.pk}/{action + '/' if action else ''}"


def new_task(world, **fields):
    fields.setdefault("title", "Call Rahim")
    fields.setdefault("due_at", timezone.now() + timedelta(days=2))
    return services.create_task(by=fields.pop("by", world.rep_a), **fields)


def ids(response):
    assert response.status_code == 200, response.content
    return [row["id"] for row in response.json()["results"]]


def test_routes_are_registered():
    assert reverse("task-list") == LIST


def test_task_detail_visibility_for_every_role(world, client_for):
    assert_visibility(world, client_for, task_url(new_task(world)), api=True)


def test_complete_visibility_for_every_role(world, client_for):
    assert_visibility(world, client_for, task_url(new_task(world), "complete"), method="post", data={}, api=True)


@pytest.mark.parametrize(("name", "sees"), [
    ("rep_a", True), ("rep_b", True), ("manager1", True), ("admin", True), ("rep_c", False), ("manager2", False),
    ("agent1", False),
])
def test_list_shows_only_visible_tasks(world, client_for, name, sees):
    task = new_task(world)
    assert (task.pk in ids(client_for(getattr(world, name)).get(LIST))) is sees


def test_invisible_task_cannot_be_changed_or_deleted(world, client_for):
    task = new_task(world)
    client = client_for(world.rep_c)
    assert client.patch(task_url(task), {"title": "x"}, content_type="application/json").status_code == 404
    assert client.delete(task_url(task)).status_code == 404
    assert Task.objects.get().title == "Call Rahim"


def test_create_defaults_owner_and_reminder(world, client_for):
    response = client_for(world.rep_a).post(LIST, {"title": "Email quote", "kind": "email",
                                                   "due_at": "2026-04-01T10:00:00+06:00"},
                                            content_type="application/json")
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["owner"] == world.rep_a.pk and body["remind_at"] == body["due_at"] and body["done"] is False


def test_create_with_an_invisible_contact_is_a_field_error(world, client_for):
    response = client_for(world.rep_a).post(LIST, {"title": "x", "due_at": "2026-04-01T10:00:00Z",
                                                   "contact": make_contact(world.rep_c).pk},
                                            content_type="application/json")
    assert response.status_code == 400 and "contact" in response.json()["errors"]
    assert not Task.objects.exists()


def test_rep_cannot_assign_to_someone_else(world, client_for):
    response = client_for(world.rep_a).post(LIST, {"title": "x", "due_at": "2026-04-01T10:00:00Z",
                                                   "owner": world.rep_b.pk}, content_type="application/json")
    assert response.status_code == 400 and "owner" in response.json()["errors"]


def test_patch_owner_reassigns(world, client_for):
    task = new_task(world)
    response = client_for(world.manager1).patch(task_url(task), {"owner": world.rep_b.pk},
                                                content_type="application/json")
    assert response.status_code == 200 and response.json()["owner"] == world.rep_b.pk


def test_complete_and_reopen(world, client_for):
    task = new_task(world)
    client = client_for(world.rep_b)
    assert client.post(task_url(task, "complete")).json()["done"] is True
    assert client.post(task_url(task, "reopen")).json()["done"] is False


def test_teammate_cannot_delete(world, client_for):
    task = new_task(world)
    assert client_for(world.rep_b).delete(task_url(task)).status_code == 403
    assert client_for(world.rep_a).delete(task_url(task)).status_code == 204


def test_filters(world, client_for, pipeline):
    now = timezone.now()
    contact, company, deal = make_contact(world.rep_a), make_company(world.rep_a), new_deal(world, pipeline)
    call = new_task(world, kind="call", due_at=now + timedelta(days=1), contact=contact)
    mail = new_task(world, kind="email", due_at=now + timedelta(days=3), company=company, deal=deal)
    other = new_task(world, by=world.rep_b, due_at=now + timedelta(days=5))
    services.complete_task(by=world.rep_b, task=other)
    client = client_for(world.manager1)
    assert ids(client.get(LIST, {"kind": "call"})) == [call.pk]
    assert ids(client.get(LIST, {"contact": contact.pk})) == [call.pk]
    assert ids(client.get(LIST, {"company": company.pk})) == [mail.pk]
    assert ids(client.get(LIST, {"deal": deal.pk})) == [mail.pk]
    assert ids(client.get(LIST, {"owner": world.rep_b.pk})) == [other.pk]
    assert ids(client.get(LIST, {"assignee": world.rep_a.pk})) == [call.pk, mail.pk]
    assert ids(client.get(LIST, {"done": "true"})) == [other.pk]
    assert ids(client.get(LIST, {"done": "false"})) == [call.pk, mail.pk]
    window = {"due_after": (now + timedelta(days=2)).isoformat(), "due_before": (now + timedelta(days=4)).isoformat()}
    assert ids(client.get(LIST, window)) == [mail.pk]
    assert ids(client.get(LIST, {"sort": "-due"})) == [other.pk, mail.pk, call.pk]


def test_filter_by_another_teams_contact_is_a_field_error(world, client_for):
    response = client_for(world.rep_a).get(LIST, {"contact": make_contact(world.rep_c).pk})
    assert response.status_code == 400 and "contact" in response.json()["errors"]


def test_unknown_sort_is_a_field_error(world, client_for):
    response = client_for(world.rep_a).get(LIST, {"sort": "colour"})
    assert response.status_code == 400 and "sort" in response.json()["errors"]


def test_list_runs_the_same_queries_for_any_page_size(world, client_for, django_assert_num_queries):
    for i in range(8):
        new_task(world, title=f"T{i}", contact=make_contact(world.rep_a))
    client = client_for(world.manager1)
    client.get(LIST)  # warm: a first request's caches
    # session, user, org settings, managed teams, count, page
    with django_assert_num_queries(6):
        assert len(client.get(LIST, {"page_size": 3}).json()["results"]) == 3
    with django_assert_num_queries(6):
        assert len(client.get(LIST, {"page_size": 50}).json()["results"]) == 8

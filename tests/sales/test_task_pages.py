"""Task pages: My tasks, a task's page, quick-complete in place and without JS, the record panels."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from crm.models import Notification
from sales import task_services as services
from sales.models import Task
from tests.factories import make_company, make_contact
from tests.sales.helpers import new_deal
from tests.visibility import assert_visibility

HTMX = {"HTTP_HX_REQUEST": "true"}


def new_task(world, **fields):
    fields.setdefault("title", "Call Rahim")
    fields.setdefault("due_at", timezone.now() + timedelta(days=2))
    return services.create_task(by=fields.pop("by", world.rep_a), **fields)


# --- Visibility of every page with an id ------------------------------------------------------------


def test_task_page_visibility_for_every_role(world, client_for):
    assert_visibility(world, client_for, reverse("sales:task", args=[new_task(world).pk]))


@pytest.mark.parametrize("name", ["task_complete", "task_reopen"])
def test_task_state_changes_visibility_for_every_role(world, client_for, name):
    task = new_task(world)
    # those who see it may change it (302 back), the rest get 404
    assert_visibility(world, client_for, reverse(f"sales:{name}", args=[task.pk]), method="post", data={},
                      allowed=302)


def test_task_delete_is_404_for_those_who_cannot_see_it(world, client_for):
    task = new_task(world)
    url = reverse("sales:task_delete", args=[task.pk])
    for user in (world.rep_c, world.manager2, world.agent1):
        assert client_for(user).post(url).status_code == 404
    assert client_for(world.rep_b).post(url).status_code == 403
    assert client_for(world.rep_a).post(url).status_code == 302
    assert not Task.objects.exists()


def test_contact_panel_visibility_for_every_role(world, client_for):
    contact = make_contact(world.rep_a)
    assert_visibility(world, client_for, reverse("sales:contact_tasks", args=[contact.pk]))


def test_company_panel_visibility_for_every_role(world, client_for):
    company = make_company(world.rep_a)
    assert_visibility(world, client_for, reverse("sales:company_tasks", args=[company.pk]))


def test_deal_panel_visibility_for_every_role(world, client_for, pipeline):
    deal = new_deal(world, pipeline)
    assert_visibility(world, client_for, reverse("sales:deal_tasks", args=[deal.pk]))


def test_panel_quick_add_is_404_for_an_invisible_record(world, client_for):
    contact = make_contact(world.rep_a)
    response = client_for(world.rep_c).post(reverse("sales:contact_tasks", args=[contact.pk]),
                                            {"task-title": "x", "task-due_at": "2026-04-01T10:00", "task-kind": "call"})
    assert response.status_code == 404 and not Task.objects.exists()


# --- My tasks ---------------------------------------------------------------------------------------


def test_my_tasks_splits_overdue_today_and_upcoming_in_the_users_time_zone(world, client_for):
    world.rep_a.time_zone = "Asia/Dhaka"
    world.rep_a.save()
    now = timezone.now()
    overdue = new_task(world, title="Overdue one", due_at=now - timedelta(hours=1))
    upcoming = new_task(world, title="Next week", due_at=now + timedelta(days=7))
    new_task(world, title="Colleague's", by=world.rep_b)
    response = client_for(world.rep_a).get(reverse("sales:tasks"))
    assert response.status_code == 200
    sections = response.context["sections"]
    assert [t.pk for t in sections["overdue"]] == [overdue.pk]
    assert [t.pk for t in sections["upcoming"]] == [upcoming.pk]
    assert "Colleague's" not in response.content.decode()


def test_my_tasks_of_a_colleague_shows_only_what_the_viewer_can_see(world, client_for):
    new_task(world, title="Team one task")
    mine = client_for(world.manager1).get(reverse("sales:tasks"), {"assignee": world.rep_a.pk})
    assert "Team one task" in mine.content.decode()
    theirs = client_for(world.manager2).get(reverse("sales:tasks"), {"assignee": world.rep_a.pk})
    assert "Team one task" not in theirs.content.decode()


def test_my_tasks_is_signed_in_only(client):
    assert client.get(reverse("sales:tasks")).status_code == 302


def test_my_tasks_runs_the_same_queries_for_any_number_of_tasks(world, client_for, pipeline,
                                                                  django_assert_num_queries):
    contact, company, deal = make_contact(world.rep_a), make_company(world.rep_a), new_deal(world, pipeline)
    now = timezone.now()

    def add(n):
        for i in range(n):
            new_task(world, title=f"T{i}", due_at=now + timedelta(days=i - 1), contact=contact, company=company,
                     deal=deal)

    client = client_for(world.rep_a)
    add(3)
    client.get(reverse("sales:tasks"))  # warm a first request's caches
    # session, user, org settings, the assignee choices, overdue, today, upcoming
    with django_assert_num_queries(6):
        client.get(reverse("sales:tasks"))
    add(8)
    with django_assert_num_queries(6):
        client.get(reverse("sales:tasks"))


# --- Quick-complete -------------------------------------------------------------------------------------


def test_quick_complete_in_place_returns_the_row(world, client_for):
    task = new_task(world)
    response = client_for(world.rep_a).post(reverse("sales:task_complete", args=[task.pk]), **HTMX)
    assert response.status_code == 200
    assert f'id="task-{task.pk}"' in response.content.decode()
    assert reverse("sales:task_reopen", args=[task.pk]) in response.content.decode()
    task.refresh_from_db()
    assert task.is_done


def test_quick_complete_without_js_redirects_back(world, client_for):
    task = new_task(world)
    response = client_for(world.rep_a).post(reverse("sales:task_complete", args=[task.pk]),
                                            {"next": "/sales/tasks/?assignee="})
    assert response.status_code == 302 and response["Location"] == "/sales/tasks/?assignee="
    evil = client_for(world.rep_a).post(reverse("sales:task_reopen", args=[task.pk]), {"next": "https://evil.example/"})
    assert evil["Location"] == reverse("sales:tasks")


def test_teammate_of_another_team_cannot_complete(world, client_for):
    task = new_task(world)
    assert client_for(world.rep_c).post(reverse("sales:task_complete", args=[task.pk])).status_code == 404
    task.refresh_from_db()
    assert not task.is_done


# --- Task form ---------------------------------------------------------------------------------------


def test_create_task_from_the_form(world, client_for):
    response = client_for(world.manager1).post(reverse("sales:task_create"), {
        "title": "Visit showroom", "kind": "meeting", "priority": 3, "due_at": "2026-04-01T10:00",
        "owner": world.rep_a.pk, "note": "",
    })
    assert response.status_code == 302
    task = Task.objects.get()
    assert (task.owner, task.kind, task.priority) == (world.rep_a, "meeting", 3)
    assert Notification.objects.filter(recipient=world.rep_a, kind="assigned").exists()


def test_form_errors_are_field_errors_and_nothing_is_saved(world, client_for):
    response = client_for(world.rep_a).post(reverse("sales:task_create"), {
        "title": "", "kind": "call", "priority": 2, "due_at": "not a date", "owner": world.rep_b.pk,
    })
    assert response.status_code == 400
    assert {"title", "due_at"} <= set(response.context["form"].errors)
    assert not Task.objects.exists()


def test_form_refuses_a_contact_of_another_team(world, client_for):
    response = client_for(world.rep_a).post(reverse("sales:task_create"), {
        "title": "Sneaky", "kind": "call", "priority": 2, "due_at": "2026-04-01T10:00",
        "contact": make_contact(world.rep_c).pk,
    })
    assert response.status_code == 400 and "contact" in response.context["form"].errors
    assert not Task.objects.exists()


def test_due_time_is_read_in_the_users_time_zone(world, client_for):
    world.rep_a.time_zone = "Asia/Dhaka"
    world.rep_a.save()
    client_for(world.rep_a).post(reverse("sales:task_create"), {
        "title": "Dhaka time", "kind": "call", "priority": 2, "due_at": "2026-04-01T10:00"})
    assert Task.objects.get().due_at.isoformat() == "2026-04-01T04:00:00+00:00"


def test_edit_task_page_saves_changes(world, client_for):
    task = new_task(world)
    response = client_for(world.rep_b).post(reverse("sales:task", args=[task.pk]), {
        "title": "Renamed", "kind": "email", "priority": 4, "due_at": "2026-05-01T09:00", "owner": world.rep_a.pk,
    })
    assert response.status_code == 302
    task.refresh_from_db()
    assert (task.title, task.kind, task.priority) == ("Renamed", "email", 4)


# --- Panels ------------------------------------------------------------------------------------------


def test_panel_lists_the_records_open_tasks_as_a_fragment_for_htmx(world, client_for):
    contact = make_contact(world.rep_a)
    new_task(world, title="About this contact", contact=contact)
    new_task(world, title="Unrelated")
    response = client_for(world.rep_b).get(reverse("sales:contact_tasks", args=[contact.pk]), **HTMX)
    body = response.content.decode()
    assert body.startswith('<section class="card related-panel tasks-panel" id="tasks-panel"')
    assert "About this contact" in body and "Unrelated" not in body


def test_panel_without_js_is_a_full_page(world, client_for):
    company = make_company(world.rep_a)
    response = client_for(world.rep_a).get(reverse("sales:company_tasks", args=[company.pk]))
    assert "<html" in response.content.decode() and 'id="tasks-panel"' in response.content.decode()


def test_panel_quick_add_in_place(world, client_for, pipeline):
    deal = new_deal(world, pipeline)
    response = client_for(world.rep_a).post(reverse("sales:deal_tasks", args=[deal.pk]),
                                            {"task-title": "Send proposal", "task-due_at": "2026-04-01T10:00",
                                             "task-kind": "email"}, **HTMX)
    assert response.status_code == 200 and "Send proposal" in response.content.decode()
    assert Task.objects.get().deal == deal


def test_panel_quick_add_without_js_redirects_to_the_record(world, client_for):
    contact = make_contact(world.rep_a)
    response = client_for(world.rep_a).post(reverse("sales:contact_tasks", args=[contact.pk]),
                                            {"task-title": "Call", "task-due_at": "2026-04-01T10:00", "task-kind": "call"})
    assert response.status_code == 302 and response["Location"] == reverse("contacts:contact", args=[contact.pk])


def test_panel_quick_add_with_errors_shows_them(world, client_for):
    contact = make_contact(world.rep_a)
    response = client_for(world.rep_a).post(reverse("sales:contact_tasks", args=[contact.pk]),
                                            {"task-title": "", "task-due_at": "", "task-kind": "call"}, **HTMX)
    assert response.status_code == 400 and "field-error" in response.content.decode()
    assert not Task.objects.exists()


def test_contact_page_loads_the_tasks_panel(world, client_for):
    contact = make_contact(world.rep_a)
    body = client_for(world.rep_a).get(reverse("contacts:contact", args=[contact.pk])).content.decode()
    assert reverse("sales:contact_tasks", args=[contact.pk]) in body

"""Who sees a ticket's page and who may change it: every role against one ticket of desk.customer (a contact of
rep_a, sales team 1) in queue1 (support team 1). Invisible is 404; visible but read-only answers POSTs with 403."""

import pytest
from django.urls import reverse

from support.models import Ticket
from tests.factories import make_ticket

READ_AND_WRITE = ("admin", "support_manager", "agent1", "agent1b", "outside_assignee")
READ_ONLY = ("rep_a", "rep_b", "manager1")
NOTHING = ("agent2", "rep_c", "manager2")


@pytest.fixture
def ticket(desk):
    ticket = make_ticket(desk.queue1, contact=desk.customer, subject="Parcel never came")
    return ticket


@pytest.fixture
def principals(desk, ticket):
    from crm.models import Role
    from tests.factories import UserFactory

    w = desk.world
    outsider = UserFactory(role=Role.SUPPORT_AGENT, team=desk.support2, email="outside@example.com")
    Ticket.objects.filter(pk=ticket.pk).update(assignee=outsider)  # e.g. assigned, then moved to another team
    return {
        "admin": w.admin, "support_manager": desk.support_manager, "agent1": desk.agent1, "agent1b": desk.agent1b,
        "outside_assignee": outsider, "rep_a": w.rep_a, "rep_b": w.rep_b, "manager1": w.manager1,
        "agent2": desk.agent2, "rep_c": w.rep_c, "manager2": w.manager2,
    }


def _statuses(client_for, principals, method, url, data=None):
    return {name: getattr(client_for(user), method)(url, data or {}).status_code for name, user in principals.items()}


def test_ticket_page_is_visible_to_those_who_serve_or_own_the_customer(client_for, principals, ticket):
    seen = _statuses(client_for, principals, "get", reverse("support:ticket", args=[ticket.pk]))
    assert {n: s for n, s in seen.items() if s == 200}.keys() == set(READ_AND_WRITE + READ_ONLY)
    assert all(seen[name] == 404 for name in NOTHING)


def test_anonymous_visitors_are_sent_to_sign_in(client_for, ticket):
    response = client_for(None).get(reverse("support:ticket", args=[ticket.pk]))
    assert response.status_code == 302


@pytest.mark.parametrize("route,data", [
    ("support:ticket_reply", {"body": "Hello"}),
    ("support:ticket_fields", {"priority": "high"}),
    ("support:ticket_merge", {"target": "0"}),
])
def test_posts_are_refused_to_readers_and_hidden_from_outsiders(client_for, principals, ticket, route, data):
    url = reverse(route, args=[ticket.pk])
    seen = _statuses(client_for, {n: principals[n] for n in READ_ONLY + NOTHING}, "post", url, data)
    assert all(seen[name] == 403 for name in READ_ONLY), seen
    assert all(seen[name] == 404 for name in NOTHING), seen
    assert not ticket.messages.filter(body_text="Hello").exists()
    ticket.refresh_from_db()
    assert ticket.priority == "normal"


def test_canned_text_is_only_for_those_who_may_reply(client_for, principals, ticket):
    url = reverse("support:ticket_canned", args=[ticket.pk])
    seen = _statuses(client_for, {n: principals[n] for n in ("rep_a", "manager1", "agent2")}, "get", url)
    assert seen == {"rep_a": 403, "manager1": 403, "agent2": 404}


def test_readers_see_no_reply_box_or_controls(client_for, principals, ticket):
    html = client_for(principals["rep_a"]).get(reverse("support:ticket", args=[ticket.pk])).content.decode()
    assert 'id="reply-form"' not in html and "ticket_fields" not in html
    assert reverse("support:ticket_reply", args=[ticket.pk]) not in html
    assert "Parcel never came" in html


def test_workers_get_the_reply_box_and_controls(client_for, principals, ticket):
    for name in READ_AND_WRITE:
        html = client_for(principals[name]).get(reverse("support:ticket", args=[ticket.pk])).content.decode()
        assert 'id="reply-form"' in html, name
        assert reverse("support:ticket_fields", args=[ticket.pk]) in html, name


def test_the_outside_assignee_may_reply(client_for, principals, ticket):
    response = client_for(principals["outside_assignee"]).post(
        reverse("support:ticket_reply", args=[ticket.pk]), {"body": "On it"})
    assert response.status_code == 302
    assert ticket.messages.filter(kind="reply", author=principals["outside_assignee"]).exists()


def test_thread_partial_follows_the_page_visibility(client_for, principals, ticket):
    url = reverse("support:ticket_thread", args=[ticket.pk])
    seen = _statuses(client_for, {n: principals[n] for n in ("agent1", "rep_a", "agent2", "rep_c")}, "get", url)
    assert seen == {"agent1": 200, "rep_a": 200, "agent2": 404, "rep_c": 404}


def test_contact_tickets_panel_is_404_for_a_contact_the_user_cannot_see(client_for, principals, desk, ticket):
    url = reverse("support:contact_tickets", args=[desk.customer.pk])
    assert client_for(principals["rep_c"]).get(url).status_code == 404
    assert client_for(principals["rep_a"]).get(url).status_code == 200


def test_inbox_lists_only_visible_tickets(client_for, principals, desk, ticket):
    other = make_ticket(desk.queue2, contact=desk.customer, subject="Invoice twice")
    html = client_for(principals["agent2"]).get(reverse("support:index") + "?view=all").content.decode()
    assert "Invoice twice" in html and "Parcel never came" not in html
    html = client_for(principals["rep_c"]).get(reverse("support:index") + "?view=all").content.decode()
    assert "Invoice twice" not in html and "Parcel never came" not in html
    html = client_for(principals["rep_a"]).get(reverse("support:index") + "?view=all").content.decode()
    assert "Invoice twice" in html and "Parcel never came" in html
    assert other.pk

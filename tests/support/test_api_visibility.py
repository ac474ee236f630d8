"""Who sees what through the support API: every endpoint against every kind of user.

The ticket under test sits in support team 1's queue, for a customer owned by `rep_a` (sales team 1). Those who
serve the queue work it; sales reps and managers who see the customer read it (writes: 403); everyone else gets
404, never 403, so ids do not leak.
"""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from support import services
from tests.factories import make_ticket

#: role -> what a GET of the ticket (and of everything hanging off it) answers
READ = {"agent1": 200, "agent1b": 200, "support_manager": 200, "admin": 200, "rep_a": 200, "rep_b": 200,
        "manager1": 200, "agent2": 404, "rep_c": 404, "manager2": 404}
#: role -> what a write on the ticket answers (readers who may not change it: 403)
WRITE = {**READ, "rep_a": 403, "rep_b": 403, "manager1": 403}


def user(desk, name):
    return getattr(desk, name, None) or getattr(desk.world, name)


@pytest.fixture
def ticket(desk):
    return make_ticket(desk.queue1, contact=desk.customer, subject="Saree arrived torn")


def ok(expected, status):
    return status == expected or (expected == 200 and status == 201)


@pytest.mark.parametrize("name", sorted(READ))
def test_ticket_detail(desk, client_for, ticket, name):
    assert client_for(user(desk, name)).get(f"/api/v1/tickets/{ticket.pk}/").status_code == READ[name]


@pytest.mark.parametrize("name", sorted(READ))
def test_ticket_list(desk, client_for, ticket, name):
    response = client_for(user(desk, name)).get("/api/v1/tickets/")
    assert response.status_code == 200
    listed = [row["id"] for row in response.json()["results"]]
    assert (ticket.pk in listed) is (READ[name] == 200)


@pytest.mark.parametrize("name", sorted(WRITE))
def test_ticket_patch(desk, client_for, ticket, name):
    response = client_for(user(desk, name)).patch(f"/api/v1/tickets/{ticket.pk}/", {"priority": "high"},
                                                  content_type="application/json")
    assert response.status_code == WRITE[name], response.content
    ticket.refresh_from_db()
    assert (ticket.priority == "high") is (WRITE[name] == 200)


@pytest.mark.parametrize("name", sorted(READ))
def test_message_list(desk, client_for, ticket, name):
    assert client_for(user(desk, name)).get(f"/api/v1/tickets/{ticket.pk}/messages/").status_code == READ[name]


@pytest.mark.parametrize("name", sorted(WRITE))
def test_message_post_note(desk, client_for, ticket, name):
    response = client_for(user(desk, name)).post(f"/api/v1/tickets/{ticket.pk}/messages/",
                                                 {"kind": "note", "body": "Checked the courier"},
                                                 content_type="application/json")
    assert ok(WRITE[name], response.status_code), response.content
    assert ticket.messages.filter(kind="note").exists() is (WRITE[name] == 200)


@pytest.mark.parametrize("name", sorted(WRITE))
def test_customer_message_post(desk, client_for, ticket, name):
    response = client_for(user(desk, name)).post(f"/api/v1/tickets/{ticket.pk}/messages/",
                                                 {"kind": "customer", "body": "Any news?", "channel": "chat"},
                                                 content_type="application/json")
    assert ok(WRITE[name], response.status_code), response.content


@pytest.mark.parametrize("name", sorted(WRITE))
def test_merge(desk, client_for, ticket, name):
    other = make_ticket(desk.queue1, contact=desk.customer, subject="Torn saree (again)")
    response = client_for(user(desk, name)).post(f"/api/v1/tickets/{other.pk}/merge/", {"target": ticket.pk},
                                                 content_type="application/json")
    # A reader names a target they can see but not change: the service refuses (403).
    assert response.status_code == WRITE[name], response.content


@pytest.mark.parametrize("name", sorted(READ))
def test_attachment_download(desk, client_for, ticket, name):
    message = services.add_reply(ticket=ticket, by=desk.agent1, body="Label attached", attachments=[
        SimpleUploadedFile("label.txt", b"AWB 123", content_type="text/plain")])
    attachment = message.attachments.get()
    response = client_for(user(desk, name)).get(f"/api/v1/tickets/{ticket.pk}/attachments/{attachment.pk}/")
    assert response.status_code == READ[name]
    if READ[name] == 200:
        assert b"".join(response.streaming_content) == b"AWB 123"


def test_attachment_of_another_ticket_is_not_found_through_a_visible_one(desk, client_for, ticket):
    hidden = make_ticket(desk.queue2, contact=desk.customer, subject="Refund")
    message = services.add_reply(ticket=hidden, by=desk.agent2, body="x", attachments=[("a.txt", "text/plain", b"x")])
    url = f"/api/v1/tickets/{ticket.pk}/attachments/{message.attachments.get().pk}/"
    assert client_for(desk.agent1).get(url).status_code == 404


@pytest.mark.parametrize("name", sorted(READ))
def test_csat_list(desk, client_for, ticket, name):
    solved = services.change_status(ticket=ticket, by=desk.agent1, status="solved")
    answer = services.record_csat(ticket=solved, rating=4, comment="Quick")
    response = client_for(user(desk, name)).get("/api/v1/csat/")
    assert response.status_code == 200
    assert (answer.pk in [row["id"] for row in response.json()["results"]]) is (READ[name] == 200)
    assert client_for(user(desk, name)).get(f"/api/v1/csat/{answer.pk}/").status_code == READ[name]


@pytest.mark.parametrize(("name", "sees"), [
    ("agent1", True), ("support_manager", True), ("admin", True), ("agent2", False), ("rep_a", False),
    ("rep_c", False),
])
def test_queue_visibility(desk, client_for, name, sees):
    client = client_for(user(desk, name))
    listed = [row["id"] for row in client.get("/api/v1/queues/").json()["results"]]
    assert (desk.queue1.pk in listed) is sees
    assert client.get(f"/api/v1/queues/{desk.queue1.pk}/").status_code == (200 if sees else 404)


@pytest.mark.parametrize(("name", "status"), [("agent1", 403), ("support_manager", 403), ("rep_a", 404)])
def test_only_admins_change_queues(desk, client_for, name, status):
    response = client_for(user(desk, name)).patch(f"/api/v1/queues/{desk.queue1.pk}/", {"name": "Renamed"},
                                                  content_type="application/json")
    assert response.status_code == status
    desk.queue1.refresh_from_db()
    assert desk.queue1.name == "Orders & delivery"


@pytest.mark.parametrize("name", ["agent1", "support_manager", "rep_a", "manager1"])
def test_only_admins_create_queues(desk, client_for, name):
    response = client_for(user(desk, name)).post("/api/v1/queues/", {"name": "Returns", "team": desk.support2.pk},
                                                 content_type="application/json")
    assert response.status_code == 403


@pytest.mark.parametrize("name", ["agent1", "agent2", "rep_c", "manager2", "admin"])
def test_every_colleague_reads_sla_policies(desk, client_for, name):
    response = client_for(user(desk, name)).get("/api/v1/sla-policies/")
    assert response.status_code == 200 and response.json()["count"] == 4


@pytest.mark.parametrize("name", ["agent1", "support_manager", "rep_a"])
def test_only_admins_write_sla_policies(desk, client_for, name):
    response = client_for(user(desk, name)).post("/api/v1/sla-policies/", {
        "name": "VIP", "priority": "urgent", "queue": desk.queue1.pk, "first_response_minutes": 10,
        "resolution_minutes": 60}, content_type="application/json")
    assert response.status_code == 403


def test_reps_cannot_open_tickets(desk, client_for):
    response = client_for(desk.world.rep_a).post("/api/v1/tickets/", {
        "contact": desk.customer.pk, "subject": "x", "queue": desk.queue1.pk}, content_type="application/json")
    assert response.status_code == 403


def test_anonymous_gets_nothing(desk, client_for, ticket):
    for url in ("/api/v1/tickets/", f"/api/v1/tickets/{ticket.pk}/", f"/api/v1/tickets/{ticket.pk}/messages/",
                "/api/v1/queues/", "/api/v1/sla-policies/", "/api/v1/canned-replies/", "/api/v1/csat/"):
        assert client_for(None).get(url).status_code in (401, 403), url


# --- Canned replies -----------------------------------------------------------------------------


@pytest.fixture
def shared_reply(desk):
    return services.save_canned_reply(by=desk.agent1, title="Courier delay", body="Sorry!", shared=True)


@pytest.mark.parametrize(("name", "read", "write"), [
    ("agent1", 200, 200), ("agent1b", 200, 403), ("support_manager", 200, 200),
    ("admin", 200, 200),
    ("agent2", 404, 404), ("rep_c", 404, 404), ("rep_a", 404, 404),
])
def test_shared_canned_reply(desk, client_for, shared_reply, name, read, write):
    client = client_for(user(desk, name))
    url = f"/api/v1/canned-replies/{shared_reply.pk}/"
    assert client.get(url).status_code == read
    assert client.patch(url, {"title": "Late courier"}, content_type="application/json").status_code == write
    shared_reply.refresh_from_db()
    assert (shared_reply.title == "Late courier") is (write == 200)


def test_private_canned_reply_is_its_owners_only(desk, client_for):
    reply = services.save_canned_reply(by=desk.agent1, title="Mine", body="Hello")
    assert client_for(desk.agent1b).get(f"/api/v1/canned-replies/{reply.pk}/").status_code == 404
    assert client_for(desk.agent1b).delete(f"/api/v1/canned-replies/{reply.pk}/").status_code == 404
    assert client_for(desk.agent1).get(f"/api/v1/canned-replies/{reply.pk}/").status_code == 200


def test_teammate_cannot_delete_a_shared_reply(desk, client_for, shared_reply):
    assert client_for(desk.agent1b).delete(f"/api/v1/canned-replies/{shared_reply.pk}/").status_code == 403
    assert client_for(desk.agent1).delete(f"/api/v1/canned-replies/{shared_reply.pk}/").status_code == 204


@pytest.mark.parametrize(("name", "status"), [("agent1", 200), ("agent2", 400), ("rep_c", 404)])
def test_render_needs_a_visible_ticket(desk, client_for, ticket, shared_reply, name, status):
    """agent2 cannot see the ticket (a field error); rep_c cannot even see the reply (404)."""
    client = client_for(user(desk, name))
    if name == "agent2":
        shared_reply = services.save_canned_reply(by=desk.agent2, title="Mine", body="Hi")
    response = client.get(f"/api/v1/canned-replies/{shared_reply.pk}/render/", {"ticket": ticket.pk})
    assert response.status_code == status
    if status == 400:
        assert "ticket" in response.json()["errors"]


# --- Every id-taking route of this API and of the canned pages, as the leak matrix walks them ----------------


def test_every_support_route_with_an_id_hides_other_teams_records(desk, client_for, ticket, shared_reply):
    """What tests/test_leaks.py checks for the whole site, for the routes added here: GET and POST as users of
    other teams answer 404 (or 405 for a method the route does not have)."""
    from django.urls import reverse

    message = services.add_reply(ticket=ticket, by=desk.agent1, body="x", attachments=[("a.txt", "text/plain", b"x")])
    solved = services.change_status(ticket=ticket, by=desk.agent1, status="solved")
    answer = services.record_csat(ticket=solved, rating=3)
    routes = {
        "ticket-detail": {"pk": ticket.pk}, "ticket-merge": {"pk": ticket.pk},
        "ticket-message-list": {"pk": ticket.pk},
        "ticket-attachment": {"pk": ticket.pk, "attachment_pk": message.attachments.get().pk},
        "cannedreply-detail": {"pk": shared_reply.pk}, "cannedreply-render": {"pk": shared_reply.pk},
        "support:canned_reply": {"pk": shared_reply.pk}, "support:canned_reply_delete": {"pk": shared_reply.pk},
        "csat-detail": {"pk": answer.pk}, "queue-detail": {"pk": desk.queue1.pk},
    }
    leaks = []
    for user in (desk.world.rep_c, desk.agent2, desk.world.manager2):
        client = client_for(user)
        for name, kwargs in routes.items():
            for method in ("get", "post", "patch", "delete"):
                status = getattr(client, method)(reverse(name, kwargs=kwargs)).status_code
                if status not in (404, 405):
                    leaks.append(f"{user.email} {method.upper()} {name}: {status}")
    assert not leaks, "\n".join(leaks)

"""The support API: opening tickets, one-step PATCH, messages, merge, SLA policies, queues, canned replies, CSAT,
filters, sorts, pagination and constant query counts."""

from datetime import UTC, datetime, timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from contacts.models import Contact
from support import services
from support.models import CannedReply, Queue, SlaPolicy, Ticket, TicketMessage
from tests.factories import make_company, make_contact, make_ticket

TICKETS = "/api/v1/tickets/"
JSON = {"content_type": "application/json"}


def url(ticket, action=""):
    return f"{TICKETS}{ticket.pk}/{action + '/' if action else ''}"


def ids(response):
    assert response.status_code == 200, response.content
    return [row["id"] for row in response.json()["results"]]


@pytest.fixture
def ticket(desk):
    return make_ticket(desk.queue1, contact=desk.customer, subject="Saree arrived torn")


def test_routes_are_registered():
    assert reverse("ticket-list") == TICKETS
    assert reverse("ticket-message-list", kwargs={"pk": 7}) == "/api/v1/tickets/7/messages/"
    assert reverse("cannedreply-render", kwargs={"pk": 7}) == "/api/v1/canned-replies/7/render/"
    assert reverse("ticket-attachment", kwargs={"pk": 7, "attachment_pk": 3}) == "/api/v1/tickets/7/attachments/3/"


# --- Opening tickets ----------------------------------------------------------------------------


def test_open_with_an_unknown_email_creates_the_customer(desk, client_for):
    response = client_for(desk.agent1).post(TICKETS, {
        "email": "new.buyer@example.com", "name": "Farzana Akter", "subject": "Wrong size", "body": "I got an XL.",
        "channel": "chat", "priority": "high"}, **JSON)
    assert response.status_code == 201, response.content
    body = response.json()
    contact = Contact.objects.get(pk=body["contact"]["id"])
    assert (contact.first_name, contact.last_name, contact.email) == ("Farzana", "Akter", "new.buyer@example.com")
    assert (body["channel"], body["priority"], body["queue"]["id"]) == ("chat", "high", desk.queue1.pk)
    assert body["sla_state"] == "ok" and body["first_response_due"]
    assert TicketMessage.objects.get(ticket_id=body["id"]).body_text == "I got an XL."


def test_open_with_an_existing_email_reuses_the_contact(desk, client_for):
    response = client_for(desk.agent1).post(TICKETS, {"email": "sakib@example.com", "subject": "Late"}, **JSON)
    assert response.status_code == 201 and response.json()["contact"]["id"] == desk.customer.pk


def test_open_with_a_contact_one_cannot_see_is_a_field_error(desk, client_for):
    hidden = make_contact(desk.world.rep_c, first_name="Hidden")
    response = client_for(desk.agent1).post(TICKETS, {"contact": hidden.pk, "subject": "x"}, **JSON)
    assert response.status_code == 400 and list(response.json()["errors"]) == ["contact"]
    assert not Ticket.objects.exists()


def test_open_without_a_customer_is_a_field_error(desk, client_for):
    response = client_for(desk.agent1).post(TICKETS, {"subject": "x"}, **JSON)
    assert response.status_code == 400 and "contact" in response.json()["errors"]


def test_open_into_another_teams_queue_is_a_field_error(desk, client_for):
    response = client_for(desk.agent1).post(TICKETS, {"email": "x@example.com", "subject": "x",
                                                      "queue": desk.queue2.pk}, **JSON)
    assert response.status_code == 400 and "queue" in response.json()["errors"]


def test_agent_of_a_team_without_the_default_queue_must_choose_one(desk, client_for):
    response = client_for(desk.agent2).post(TICKETS, {"email": "x@example.com", "subject": "x"}, **JSON)
    assert response.status_code == 400 and "queue" in response.json()["errors"]
    response = client_for(desk.agent2).post(TICKETS, {"email": "x@example.com", "subject": "x",
                                                      "queue": desk.queue2.pk}, **JSON)
    assert response.status_code == 201 and response.json()["team"] == desk.support2.pk


def test_open_with_tags_and_a_bad_type(desk, client_for):
    from contacts.models import Tag

    tag = Tag.objects.create(name="Eid rush")
    client = client_for(desk.agent1)
    bad = client.post(TICKETS, {"email": "sakib@example.com", "subject": "x", "type": "rant"}, **JSON)
    assert bad.status_code == 400 and list(bad.json()["errors"]) == ["type"]
    assert not Ticket.objects.exists()
    good = client.post(TICKETS, {"email": "sakib@example.com", "subject": "x", "type": "complaint",
                                 "tags": [tag.pk]}, **JSON)
    assert good.status_code == 201 and good.json()["tags"] == [{"id": tag.pk, "name": "Eid rush"}]


def test_delete_is_not_allowed(desk, client_for, ticket):
    assert client_for(desk.world.admin).delete(url(ticket)).status_code == 405
    assert Ticket.objects.filter(pk=ticket.pk).exists()


# --- PATCH ----------------------------------------------------------------------------------------


def test_patch_to_waiting_for_the_customer_pauses_the_clock(desk, client_for, ticket):
    response = client_for(desk.agent1).patch(url(ticket), {"status": "pending_customer"}, **JSON)
    assert response.status_code == 200, response.content
    assert (response.json()["status"], response.json()["sla_state"]) == ("pending_customer", "paused")


def test_patch_fields_status_and_assignee_in_one_step(desk, client_for, ticket):
    response = client_for(desk.agent1).patch(url(ticket), {
        "subject": "Torn saree, order 1042", "priority": "urgent", "type": "complaint", "assignee": desk.agent1b.pk,
        "status": "on_hold"}, **JSON)
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["subject"], body["priority"], body["type"], body["status"]) == (
        "Torn saree, order 1042", "urgent", "complaint", "on_hold")
    assert body["assignee"] == {"id": desk.agent1b.pk, "name": desk.agent1b.full_name}
    assert body["sla_policy"] == SlaPolicy.objects.get(priority="urgent").pk


def test_bad_priority_changes_nothing(desk, client_for, ticket):
    response = client_for(desk.agent1).patch(url(ticket), {"priority": "asap", "subject": "Changed",
                                                           "status": "on_hold"}, **JSON)
    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["priority"]
    ticket.refresh_from_db()
    assert (ticket.priority, ticket.subject, ticket.status) == ("normal", "Saree arrived torn", "new")


def test_a_refused_assignee_rolls_back_the_other_changes(desk, client_for, ticket):
    response = client_for(desk.agent1).patch(url(ticket), {"subject": "Changed", "assignee": desk.agent2.pk}, **JSON)
    assert response.status_code == 400 and list(response.json()["errors"]) == ["assignee"]
    ticket.refresh_from_db()
    assert ticket.subject == "Saree arrived torn" and ticket.assignee_id is None


def test_patch_of_a_field_that_cannot_change_is_refused(desk, client_for, ticket):
    other = make_contact(desk.world.rep_a, first_name="Other")
    response = client_for(desk.world.admin).patch(url(ticket), {"contact": other.pk, "subject": "New"}, **JSON)
    assert response.status_code == 400 and list(response.json()["errors"]) == ["contact"]
    ticket.refresh_from_db()
    assert ticket.contact == desk.customer and ticket.subject == "Saree arrived torn"


def test_patch_a_closed_ticket_is_a_status_error(desk, client_for, ticket):
    services.change_status(ticket=ticket, by=desk.agent1, status="closed")
    response = client_for(desk.agent1).patch(url(ticket), {"status": "open"}, **JSON)
    assert response.status_code == 400 and "status" in response.json()["errors"]


def test_unassign(desk, client_for, ticket):
    services.assign_ticket(ticket=ticket, by=desk.agent1, assignee=desk.agent1)
    response = client_for(desk.agent1).patch(url(ticket), {"assignee": None}, **JSON)
    assert response.status_code == 200 and response.json()["assignee"] is None


# --- Messages -----------------------------------------------------------------------------------


def test_reply_records_the_first_response(desk, client_for, ticket):
    response = client_for(desk.agent1).post(url(ticket, "messages"), {"kind": "reply", "body": "**Sorry!**"}, **JSON)
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["kind"] == "reply" and body["author"]["id"] == desk.agent1.pk
    assert body["body_html"] == "<p><strong>Sorry!</strong></p>"
    ticket.refresh_from_db()
    assert ticket.first_responded_at is not None and ticket.status == "open"


def test_note_stays_internal_and_keeps_the_clock(desk, client_for, ticket):
    response = client_for(desk.agent1).post(url(ticket, "messages"), {"kind": "note", "body": "Courier called"},
                                            **JSON)
    assert response.status_code == 201 and response.json()["kind"] == "note"
    ticket.refresh_from_db()
    assert ticket.first_responded_at is None


def test_reply_with_status(desk, client_for, ticket):
    response = client_for(desk.agent1).post(url(ticket, "messages"), {
        "kind": "reply", "body": "Which size?", "status": "pending_customer"}, **JSON)
    assert response.status_code == 201
    ticket.refresh_from_db()
    assert (ticket.status, ticket.sla_state) == ("pending_customer", "paused")


def test_customer_message_from_an_integration_reopens_a_solved_ticket(desk, client_for, ticket):
    services.change_status(ticket=ticket, by=desk.agent1, status="solved")
    response = client_for(desk.agent1).post(url(ticket, "messages"), {
        "kind": "customer", "body": "Still torn <script>x</script>", "channel": "social"}, **JSON)
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["kind"], body["channel"], body["author"]) == ("customer", "social", None)
    assert body["author_contact"]["id"] == desk.customer.pk and "<script>" not in body["body_html"]
    ticket.refresh_from_db()
    assert (ticket.status, ticket.reopened_count, ticket.solved_at) == ("open", 1, None)


def test_empty_message_is_a_body_error(desk, client_for, ticket):
    response = client_for(desk.agent1).post(url(ticket, "messages"), {"kind": "reply", "body": " "}, **JSON)
    assert response.status_code == 400 and list(response.json()["errors"]) == ["body"]


def test_unknown_kind_is_a_field_error(desk, client_for, ticket):
    response = client_for(desk.agent1).post(url(ticket, "messages"), {"kind": "sms", "body": "x"}, **JSON)
    assert response.status_code == 400 and list(response.json()["errors"]) == ["kind"]


def test_reply_with_attachments_as_multipart(desk, client_for, ticket):
    files = [SimpleUploadedFile("label.pdf", b"%PDF-1.4 label", content_type="application/pdf"),
             SimpleUploadedFile("list.csv", b"sku,qty\nS1,2\n", content_type="text/csv")]
    response = client_for(desk.agent1).post(url(ticket, "messages"), {"kind": "reply", "body": "Attached",
                                                                       "attachments": files})
    assert response.status_code == 201, response.content
    attachments = response.json()["attachments"]
    assert [(a["name"], a["size"], a["content_type"]) for a in attachments] == [
        ("label.pdf", 14, "application/pdf"), ("list.csv", 13, "text/csv")]
    download = client_for(desk.agent1).get(attachments[0]["url"])
    assert download.status_code == 200 and b"".join(download.streaming_content) == b"%PDF-1.4 label"
    assert "attachment" in download["Content-Disposition"]


def test_a_disguised_attachment_stores_nothing(desk, client_for, ticket):
    fake = SimpleUploadedFile("invoice.pdf", b"MZ\x90\x00 not a pdf", content_type="application/pdf")
    response = client_for(desk.agent1).post(url(ticket, "messages"), {"kind": "reply", "body": "x",
                                                                       "attachments": [fake]})
    assert response.status_code == 400 and list(response.json()["errors"]) == ["attachments"]
    assert not ticket.messages.filter(kind="reply").exists()


def test_thread_lists_every_kind_oldest_first(desk, client_for, ticket):
    services.add_reply(ticket=ticket, by=desk.agent1, body="Reply")
    services.add_reply(ticket=ticket, by=desk.agent1, body="Note", internal=True)
    rows = client_for(desk.world.rep_a).get(url(ticket, "messages")).json()["results"]
    assert [row["kind"] for row in rows] == ["customer", "reply", "note"]


# --- Merge --------------------------------------------------------------------------------------


def test_merge_moves_the_messages_and_closes_the_duplicate(desk, client_for, ticket):
    duplicate = make_ticket(desk.queue1, contact=desk.customer, subject="Torn saree", body="Hello again")
    response = client_for(desk.agent1).post(url(duplicate, "merge"), {"target": ticket.pk}, **JSON)
    assert response.status_code == 200, response.content
    assert response.json()["id"] == ticket.pk
    duplicate.refresh_from_db()
    assert (duplicate.status, duplicate.merged_into_id) == ("closed", ticket.pk)
    assert ticket.messages.filter(body_text="Hello again").exists()


def test_merge_into_another_customers_ticket_is_a_target_error(desk, client_for, ticket):
    other = make_ticket(desk.queue1, email="someone@example.com")
    response = client_for(desk.agent1).post(url(other, "merge"), {"target": ticket.pk}, **JSON)
    assert response.status_code == 400 and list(response.json()["errors"]) == ["target"]


def test_merge_into_an_invisible_ticket_is_a_target_error(desk, client_for, ticket):
    hidden = make_ticket(desk.queue2, contact=desk.customer)
    response = client_for(desk.agent1).post(url(ticket, "merge"), {"target": hidden.pk}, **JSON)
    assert response.status_code == 400 and list(response.json()["errors"]) == ["target"]


# --- Filters, sorts, pagination, queries --------------------------------------------------------


def test_filters(desk, client_for):
    now = datetime(2026, 3, 1, 4, 0, tzinfo=UTC)
    a = make_ticket(desk.queue1, contact=desk.customer, subject="Torn saree", priority="high", channel="chat", now=now)
    b = make_ticket(desk.queue1, email="b@example.com", subject="Refund", type="request",
                    now=now + timedelta(days=2))
    c = make_ticket(desk.queue1, email="c@example.com", subject="Late parcel", assignee=desk.agent1,
                    now=now + timedelta(days=4))
    services.change_status(ticket=b, by=desk.agent1, status="on_hold", now=now + timedelta(days=2, hours=1))
    client = client_for(desk.agent1)
    assert ids(client.get(TICKETS, {"status": ["new", "on_hold"]})) == [b.pk, a.pk]
    assert ids(client.get(TICKETS, {"priority": "high"})) == [a.pk]
    assert ids(client.get(TICKETS, {"type": "request"})) == [b.pk]
    assert ids(client.get(TICKETS, {"channel": "chat"})) == [a.pk]
    assert ids(client.get(TICKETS, {"assignee": "me"})) == [c.pk]
    assert ids(client.get(TICKETS, {"assignee": str(desk.agent1.pk)})) == [c.pk]
    assert ids(client.get(TICKETS, {"assignee": "none"})) == [b.pk, a.pk]
    assert ids(client.get(TICKETS, {"contact": desk.customer.pk})) == [a.pk]
    assert ids(client.get(TICKETS, {"sla_state": "paused"})) == [b.pk]
    assert ids(client.get(TICKETS, {"queue": desk.queue1.pk})) == [c.pk, b.pk, a.pk]
    assert ids(client.get(TICKETS, {"q": "refund"})) == [b.pk]
    assert ids(client.get(TICKETS, {"q": f"#{a.number}"})) == [a.pk]
    window = {"created_after": (now + timedelta(days=1)).isoformat(),
              "created_before": (now + timedelta(days=3)).isoformat()}
    assert ids(client.get(TICKETS, window)) == [b.pk]


def test_sorts(desk, client_for):
    now = datetime(2026, 3, 1, 4, 0, tzinfo=UTC)
    low = make_ticket(desk.queue1, email="a@example.com", priority="low", now=now)
    urgent = make_ticket(desk.queue1, email="b@example.com", priority="urgent", now=now + timedelta(hours=1))
    normal = make_ticket(desk.queue1, email="c@example.com", priority="normal", now=now + timedelta(hours=2))
    client = client_for(desk.agent1)
    assert ids(client.get(TICKETS)) == [normal.pk, urgent.pk, low.pk]
    assert ids(client.get(TICKETS, {"sort": "created"})) == [low.pk, urgent.pk, normal.pk]
    assert ids(client.get(TICKETS, {"sort": "-priority"})) == [urgent.pk, normal.pk, low.pk]
    assert ids(client.get(TICKETS, {"sort": "priority"})) == [low.pk, normal.pk, urgent.pk]
    assert ids(client.get(TICKETS, {"sort": "sla_due"})) == [urgent.pk, normal.pk, low.pk]
    assert ids(client.get(TICKETS, {"sort": "number"})) == [low.pk, urgent.pk, normal.pk]
    assert ids(client.get(TICKETS, {"sort": "-last_activity"})) == [normal.pk, urgent.pk, low.pk]


@pytest.mark.parametrize("query", [{"sort": "colour"}, {"assignee": "someone"}, {"status": "lost"},
                                   {"queue": "999999"}])
def test_bad_filters_are_field_errors(desk, client_for, query):
    response = client_for(desk.agent1).get(TICKETS, query)
    assert response.status_code == 400 and list(response.json()["errors"]) == list(query)


def test_filter_by_another_teams_queue_is_a_field_error(desk, client_for):
    response = client_for(desk.agent1).get(TICKETS, {"queue": desk.queue2.pk})
    assert response.status_code == 400 and "queue" in response.json()["errors"]


def test_pagination(desk, client_for):
    made = [make_ticket(desk.queue1, email=f"p{i}@example.com") for i in range(5)]
    client = client_for(desk.agent1)
    first = client.get(TICKETS, {"page_size": 2}).json()
    assert (first["count"], first["count_is_exact"], len(first["results"])) == (5, True, 2)
    last = client.get(TICKETS, {"page_size": 2, "page": 3}).json()
    assert last["next"] is None and [row["id"] for row in last["results"]] == [made[0].pk]


def _tickets(desk, count):
    from contacts.models import Tag

    tag = Tag.objects.create(name="VIP")
    company = make_company(desk.world.rep_a, name="Aarong")
    for i in range(count):
        customer = make_contact(desk.world.rep_a, first_name=f"Buyer {i}", company=company)
        t = make_ticket(desk.queue1, contact=customer, assignee=desk.agent1b, tags=[tag])
        if i % 2:
            t = services.change_status(ticket=t, by=desk.agent1, status="solved")
            services.record_csat(ticket=t, rating=5)
            services.add_reply(ticket=t, by=desk.agent1, body="Done", attachments=[("a.txt", "text/plain", b"x")])


@pytest.mark.parametrize(("name", "queries"), [
    # session, user, org settings, count, page, tags
    ("agent1", 6),
    # + managed teams (with their kinds: whether they manage a support team, for contact visibility)
    ("support_manager", 7),
    ("world.manager1", 7),
])
def test_ticket_list_runs_the_same_queries_for_any_size(desk, client_for, django_assert_num_queries, name, queries):
    user = getattr(desk.world, name.split(".")[1]) if name.startswith("world.") else getattr(desk, name)
    _tickets(desk, 15)
    client = client_for(user)
    client.get(TICKETS)
    with django_assert_num_queries(queries):
        assert len(client.get(TICKETS, {"page_size": 3}).json()["results"]) == 3
    with django_assert_num_queries(queries):
        assert len(client.get(TICKETS, {"page_size": 50}).json()["results"]) >= 15


def test_message_list_runs_the_same_queries_for_any_size(desk, client_for, ticket, django_assert_num_queries):
    for i in range(15):
        services.add_reply(ticket=ticket, by=desk.agent1, body=f"Reply {i}", internal=bool(i % 2),
                           attachments=[("a.txt", "text/plain", b"x")])
    client = client_for(desk.agent1)
    client.get(url(ticket, "messages"))
    # session, user, org settings, ticket, count, page, attachments
    with django_assert_num_queries(7):
        assert len(client.get(url(ticket, "messages"), {"page_size": 3}).json()["results"]) == 3
    with django_assert_num_queries(7):
        assert len(client.get(url(ticket, "messages"), {"page_size": 50}).json()["results"]) == 16


def test_csat_list_runs_the_same_queries_for_any_size(desk, client_for, django_assert_num_queries):
    _tickets(desk, 30)
    client = client_for(desk.agent1)
    client.get("/api/v1/csat/")
    # session, user, org settings, count, page
    with django_assert_num_queries(5):
        assert len(client.get("/api/v1/csat/", {"page_size": 3}).json()["results"]) == 3
    with django_assert_num_queries(5):
        assert len(client.get("/api/v1/csat/", {"page_size": 50}).json()["results"]) == 15


def test_canned_reply_list_runs_the_same_queries_for_any_size(desk, client_for, django_assert_num_queries):
    for i in range(15):
        services.save_canned_reply(by=desk.agent1b if i % 2 else desk.agent1, title=f"R{i:02}", body="x", shared=True)
    client = client_for(desk.agent1)
    client.get("/api/v1/canned-replies/")
    # session, user, org settings, count, page
    with django_assert_num_queries(5):
        assert len(client.get("/api/v1/canned-replies/", {"page_size": 3}).json()["results"]) == 3
    with django_assert_num_queries(5):
        assert len(client.get("/api/v1/canned-replies/", {"page_size": 50}).json()["results"]) == 15


def test_queue_and_policy_lists_run_the_same_queries_for_any_size(desk, client_for, django_assert_num_queries):
    from tests.factories import make_queue

    for i in range(14):
        make_queue(desk.world.support1, name=f"Queue {i:02}")
    client = client_for(desk.world.admin)
    client.get("/api/v1/queues/")
    # session, user, org settings, count, page
    for size, rows in ((3, 3), (50, 16)):
        with django_assert_num_queries(5):
            assert len(client.get("/api/v1/queues/", {"page_size": size}).json()["results"]) == rows
    with django_assert_num_queries(5):
        assert len(client.get("/api/v1/sla-policies/").json()["results"]) == 4


# --- CSAT ---------------------------------------------------------------------------------------


def test_csat_filters_and_ticket_rating(desk, client_for):
    day = datetime(2026, 3, 1, 4, 0, tzinfo=UTC)
    answers = {}
    for rating, queue in ((5, desk.queue1), (2, desk.queue1), (4, desk.queue2)):
        t = make_ticket(queue, contact=desk.customer)
        t = services.change_status(ticket=t, by=desk.world.admin, status="solved")
        answers[rating] = services.record_csat(ticket=t, rating=rating, now=day + timedelta(days=rating))
    client = client_for(desk.world.admin)
    assert ids(client.get("/api/v1/csat/")) == [answers[5].pk, answers[4].pk, answers[2].pk]
    assert ids(client.get("/api/v1/csat/", {"rating": 2})) == [answers[2].pk]
    assert ids(client.get("/api/v1/csat/", {"team": desk.support2.pk})) == [answers[4].pk]
    assert ids(client.get("/api/v1/csat/", {"ticket": answers[5].ticket_id})) == [answers[5].pk]
    window = {"created_after": (day + timedelta(days=3)).isoformat(),
              "created_before": (day + timedelta(days=5)).isoformat()}
    assert ids(client.get("/api/v1/csat/", window)) == [answers[4].pk]
    assert client.get(url(answers[2].ticket)).json()["csat"] == 2


# --- Canned replies -----------------------------------------------------------------------------


def test_canned_reply_crud(desk, client_for):
    client = client_for(desk.agent1)
    created = client.post("/api/v1/canned-replies/", {"title": "Courier", "body": "Sorry!", "shared": True}, **JSON)
    assert created.status_code == 201, created.content
    body = created.json()
    assert (body["team"], body["owner"]["id"], body["can_edit"]) == (desk.world.support1.pk, desk.agent1.pk, True)
    changed = client.patch(f"/api/v1/canned-replies/{body['id']}/", {"body": "So sorry!"}, **JSON)
    assert changed.status_code == 200 and changed.json()["title"] == "Courier"
    assert CannedReply.objects.get().body == "So sorry!"
    assert client.delete(f"/api/v1/canned-replies/{body['id']}/").status_code == 204
    assert not CannedReply.objects.exists()


def test_canned_reply_without_a_title_is_a_field_error(desk, client_for):
    response = client_for(desk.agent1).post("/api/v1/canned-replies/", {"title": " ", "body": "x"}, **JSON)
    assert response.status_code == 400 and list(response.json()["errors"]) == ["title"]


def test_render_fills_the_placeholders(desk, client_for, ticket):
    reply = services.save_canned_reply(by=desk.agent1, title="Hello", body=(
        "Hi {{ contact.first_name }} ({{contact.full_name}}), about #{{ ticket.number }} “{{ ticket.subject }}”. "
        "{{ agent.first_name }} {{ agent.shoe_size }}"))
    response = client_for(desk.agent1).get(f"/api/v1/canned-replies/{reply.pk}/render/", {"ticket": ticket.pk})
    assert response.status_code == 200
    assert response.json() == {"text": f"Hi Sakib (Sakib Hasan), about #{ticket.number} “Saree arrived torn”. "
                                       f"{desk.agent1.get_short_name()} {{{{ agent.shoe_size }}}}"}


def test_render_without_a_ticket_is_a_field_error(desk, client_for):
    reply = services.save_canned_reply(by=desk.agent1, title="Hello", body="Hi")
    response = client_for(desk.agent1).get(f"/api/v1/canned-replies/{reply.pk}/render/")
    assert response.status_code == 400 and list(response.json()["errors"]) == ["ticket"]


# --- Queues and SLA policies (admin) ------------------------------------------------------------


def test_admin_creates_a_default_queue_and_takes_the_mark(desk, client_for):
    response = client_for(desk.world.admin).post("/api/v1/queues/", {
        "name": "Returns", "team": desk.support2.pk, "assignment_mode": "round_robin", "email": "Returns@Shop.com.bd",
        "is_default": True}, **JSON)
    assert response.status_code == 201, response.content
    assert response.json()["email"] == "returns@shop.com.bd"
    assert Queue.objects.get(is_default=True).name == "Returns"


@pytest.mark.parametrize(("data", "field"), [
    ({"name": "orders & DELIVERY"}, "name"),
    ({"name": "Sales queue", "team": "sales"}, "team"),
    ({"name": "Returns", "assignment_mode": "random"}, "assignment_mode"),
    ({"name": "Returns", "email": "not-an-address"}, "email"),
    ({"name": "Returns", "is_default": True, "is_active": False}, "is_active"),
])
def test_queue_errors_are_keyed_by_field(desk, client_for, data, field):
    team = desk.world.team1 if data.get("team") == "sales" else desk.support2
    response = client_for(desk.world.admin).post("/api/v1/queues/", {**data, "team": team.pk}, **JSON)
    assert response.status_code == 400 and list(response.json()["errors"]) == [field]
    assert Queue.objects.count() == 2


def test_a_queue_with_tickets_keeps_its_team(desk, client_for, ticket):
    response = client_for(desk.world.admin).patch(f"/api/v1/queues/{desk.queue1.pk}/", {"team": desk.support2.pk},
                                                  **JSON)
    assert response.status_code == 400 and list(response.json()["errors"]) == ["team"]


def test_admin_renames_a_queue(desk, client_for):
    response = client_for(desk.world.admin).patch(f"/api/v1/queues/{desk.queue1.pk}/", {"name": "Orders"}, **JSON)
    assert response.status_code == 200 and response.json()["is_default"] is True
    desk.queue1.refresh_from_db()
    assert desk.queue1.name == "Orders"


def test_admin_creates_a_queue_policy(desk, client_for):
    response = client_for(desk.world.admin).post("/api/v1/sla-policies/", {
        "name": "VIP urgent", "priority": "urgent", "queue": desk.queue1.pk, "ticket_type": "complaint",
        "first_response_minutes": 10, "resolution_minutes": 60}, **JSON)
    assert response.status_code == 201, response.content
    assert SlaPolicy.objects.get(name="VIP urgent").queue == desk.queue1


@pytest.mark.parametrize(("data", "field"), [
    ({"first_response_minutes": 60, "resolution_minutes": 30}, "resolution_minutes"),
    ({"priority": "high"}, "priority"),  # the fixture's active "High priority" covers (high, any queue, any type)
    ({"priority": "asap"}, "priority"),
    ({"first_response_minutes": 0}, "first_response_minutes"),
])
def test_policy_errors_are_keyed_by_field(desk, client_for, data, field):
    payload = {"name": "New", "priority": "low", "queue": desk.queue1.pk, "first_response_minutes": 30,
               "resolution_minutes": 120, **data}
    if data.get("priority") == "high":
        payload["queue"] = None
    response = client_for(desk.world.admin).post("/api/v1/sla-policies/", payload, **JSON)
    assert response.status_code == 400 and list(response.json()["errors"]) == [field]
    assert SlaPolicy.objects.count() == 4


def test_switching_a_policy_off_frees_its_scope(desk, client_for):
    policy = SlaPolicy.objects.get(priority="high")
    client = client_for(desk.world.admin)
    assert client.patch(f"/api/v1/sla-policies/{policy.pk}/", {"is_active": False}, **JSON).status_code == 200
    response = client.post("/api/v1/sla-policies/", {"name": "High v2", "priority": "high",
                                                      "first_response_minutes": 30, "resolution_minutes": 300}, **JSON)
    assert response.status_code == 201, response.content

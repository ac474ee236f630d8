"""The ticket page: thread, reply and internal note (htmx and plain POST), errors kept beside the field, canned
replies, inline field changes, merging, the customer 360 panel."""


import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from support import selectors, services
from support.models import CannedReply, MessageKind, Ticket, TicketStatus
from tests.factories import make_ticket

HTMX = {"HTTP_HX_REQUEST": "true"}
QUERIES_TICKET_PAGE = 20  # session, user, org; ticket, tags; thread (2); 360 (7); merge, canned, form choices (5)


@pytest.fixture
def ticket(desk):
    return make_ticket(desk.queue1, contact=desk.customer, subject="Parcel never came", body="Where is it?")


def url(name, ticket):
    return reverse(name, args=[ticket.pk])


def test_the_page_shows_the_thread_with_notes_set_apart(client_for, desk, ticket):
    services.add_reply(ticket=ticket, by=desk.agent1, body="Checked with **courier**", internal=True)
    services.add_reply(ticket=ticket, by=desk.agent1, body="We are on it")
    html = client_for(desk.agent1).get(url("support:ticket", ticket)).content.decode()
    assert "Where is it?" in html and "We are on it" in html
    assert 'class="message message-note"' in html and "<strong>courier</strong>" in html
    assert 'class="message message-reply"' in html and 'class="message message-customer"' in html


def test_a_reply_through_htmx_answers_the_conversation_with_an_empty_box(client_for, desk, ticket):
    response = client_for(desk.agent1).post(url("support:ticket_reply", ticket), {"body": "Sorry, **Sakib**!"}, **HTMX)
    assert response.status_code == 200 and response["HX-Trigger"] == "ticket-replied"
    html = response.content.decode()
    assert 'id="conversation"' in html and "<strong>Sakib</strong>" in html
    assert "Sorry, **Sakib**!</textarea>" not in html  # the box is cleared
    message = ticket.messages.get(kind=MessageKind.REPLY)
    assert message.author == desk.agent1


def test_a_plain_post_replies_and_redirects_to_the_ticket(client_for, desk, ticket):
    response = client_for(desk.agent1).post(url("support:ticket_reply", ticket), {"body": "Hello"})
    assert response.status_code == 302 and response["Location"] == url("support:ticket", ticket)
    assert ticket.messages.filter(kind=MessageKind.REPLY, body_text="Hello").exists()


def test_an_internal_note_is_recorded_as_a_note(client_for, desk, ticket):
    client_for(desk.agent1).post(url("support:ticket_reply", ticket), {"body": "Call back at 5", "internal": "on"},
                                 **HTMX)
    assert ticket.messages.get(body_text="Call back at 5").kind == MessageKind.NOTE


def test_reply_can_set_the_status_in_the_same_step(client_for, desk, ticket):
    client_for(desk.agent1).post(url("support:ticket_reply", ticket), {"body": "Please send a photo",
                                                                       "status": "pending_customer"})
    ticket.refresh_from_db()
    assert ticket.status == TicketStatus.PENDING_CUSTOMER


def test_an_empty_reply_is_an_error_beside_the_field(client_for, desk, ticket):
    response = client_for(desk.agent1).post(url("support:ticket_reply", ticket), {"body": "  "}, **HTMX)
    assert response.status_code == 400
    assert 'class="field-error"' in response.content.decode() and "Write a message." in response.content.decode()
    assert not ticket.messages.exclude(kind=MessageKind.CUSTOMER).exists()


def test_a_bad_attachment_keeps_the_text_in_the_box(client_for, desk, ticket):
    bad = SimpleUploadedFile("invoice.pdf", b"MZ not a pdf", content_type="application/pdf")
    response = client_for(desk.agent1).post(url("support:ticket_reply", ticket),
                                            {"body": "See the attached", "attachments": [bad]}, **HTMX)
    assert response.status_code == 400
    html = response.content.decode()
    assert "does not look like a .pdf file" in html and "See the attached</textarea>" in html
    assert not ticket.messages.exclude(kind=MessageKind.CUSTOMER).exists()


def test_a_reply_carries_its_attachments(client_for, desk, ticket):
    pdf = SimpleUploadedFile("label.pdf", b"%PDF-1.4 hello", content_type="application/pdf")
    client_for(desk.agent1).post(url("support:ticket_reply", ticket), {"body": "Label attached", "attachments": [pdf]})
    message = ticket.messages.get(kind=MessageKind.REPLY)
    assert [a.filename for a in message.attachments.all()] == ["label.pdf"]


def test_without_js_a_bad_reply_renders_the_page_with_the_text_kept(client_for, desk, ticket):
    response = client_for(desk.agent1).post(url("support:ticket_reply", ticket), {"body": "", "status": "bogus"})
    assert response.status_code == 400
    assert "Select a valid choice" in response.content.decode()


def test_the_canned_picker_fills_the_box_after_what_was_typed(client_for, desk, ticket):
    canned = CannedReply.objects.create(title="Thanks", body="Dear {{ contact.first_name }}, ticket "
                                        "#{{ ticket.number }} is in hand.", owner=desk.agent1)
    response = client_for(desk.agent1).get(url("support:ticket_canned", ticket),
                                           {"reply": canned.pk, "body": "Hello"}, **HTMX)
    html = response.content.decode()
    assert response.status_code == 200 and 'id="reply-body-field"' in html
    assert f"Hello\n\nDear Sakib, ticket #{ticket.number} is in hand.</textarea>" in html


def test_someone_elses_private_canned_reply_is_404(client_for, desk, ticket):
    canned = CannedReply.objects.create(title="Mine", body="x", owner=desk.agent1b)
    response = client_for(desk.agent1).get(url("support:ticket_canned", ticket), {"reply": canned.pk})
    assert response.status_code == 404


def test_the_page_lists_visible_canned_replies(client_for, desk, ticket):
    CannedReply.objects.create(title="Courier delay", body="x", owner=desk.agent1)
    CannedReply.objects.create(title="Private of b", body="x", owner=desk.agent1b)
    html = client_for(desk.agent1).get(url("support:ticket", ticket)).content.decode()
    assert "Courier delay" in html and "Private of b" not in html


def test_fields_change_inline_through_the_services(client_for, desk, ticket):
    response = client_for(desk.agent1).post(url("support:ticket_fields", ticket), {
        "priority": "urgent", "assignee": desk.agent1b.pk, "status": "on_hold"}, **HTMX)
    assert response.status_code == 200 and 'id="ticket-fields"' in response.content.decode()
    ticket.refresh_from_db()
    assert (ticket.priority, ticket.assignee, ticket.status) == ("urgent", desk.agent1b, TicketStatus.ON_HOLD)
    assert ticket.sla_policy.priority == "urgent"


def test_an_assignee_outside_the_team_is_not_a_choice(client_for, desk, ticket):
    response = client_for(desk.agent1).post(url("support:ticket_fields", ticket), {"assignee": desk.agent2.pk}, **HTMX)
    assert response.status_code == 400 and "Select a valid choice" in response.content.decode()
    ticket.refresh_from_db()
    assert ticket.assignee is None


def test_a_refused_status_changes_nothing_else(client_for, desk, ticket):
    services.change_status(ticket=ticket, by=desk.agent1, status=TicketStatus.OPEN)
    response = client_for(desk.agent1).post(url("support:ticket_fields", ticket),
                                            {"priority": "high", "status": "new"}, **HTMX)
    assert response.status_code == 400 and "cannot go back to new" in response.content.decode()
    ticket.refresh_from_db()
    assert ticket.priority == "normal"


def test_tags_can_be_cleared(client_for, desk, ticket):
    from contacts.models import Tag

    tag = Tag.objects.create(name="Fragile")
    client_for(desk.agent1).post(url("support:ticket_fields", ticket), {"tags": [tag.pk], "tags_shown": "1"})
    assert list(ticket.tags.all()) == [tag]
    client_for(desk.agent1).post(url("support:ticket_fields", ticket), {"tags_shown": "1"})
    assert not ticket.tags.exists()


def test_merge_offers_the_customers_other_open_tickets_and_merges(client_for, desk, ticket):
    target = make_ticket(desk.queue1, contact=desk.customer, subject="Same parcel again")
    other_customer = make_ticket(desk.queue1, email="someone@example.com", subject="Not theirs")
    html = client_for(desk.agent1).get(url("support:ticket", ticket)).content.decode()
    assert "Same parcel again" in html and "Not theirs" not in html
    response = client_for(desk.agent1).post(url("support:ticket_merge", ticket), {"target": target.pk})
    assert response.status_code == 302 and response["Location"] == url("support:ticket", target)
    ticket.refresh_from_db()
    assert ticket.merged_into == target and ticket.status == TicketStatus.CLOSED
    assert target.messages.filter(body_text="Where is it?").exists()
    assert other_customer.pk


def test_merge_into_another_customers_ticket_is_a_field_error(client_for, desk, ticket):
    other = make_ticket(desk.queue1, email="someone@example.com", subject="Not theirs")
    make_ticket(desk.queue1, contact=desk.customer, subject="A real duplicate")
    response = client_for(desk.agent1).post(url("support:ticket_merge", ticket), {"target": other.pk}, **HTMX)
    assert response.status_code == 400 and "Select a valid choice" in response.content.decode()
    ticket.refresh_from_db()
    assert ticket.merged_into is None


def test_customer_360_shows_details_orders_deals_tickets_and_an_empty_suggestions_slot(client_for, desk, ticket):
    from contacts.models import Tag
    from sales import orders as order_services

    desk.customer.tags.add(Tag.objects.create(name="Cricket gear"))
    order_services.create_order(by=desk.world.rep_a, contact=desk.customer,
                                lines=[{"description": "Bat", "quantity": "1", "unit_price": "2500"}])
    past = make_ticket(desk.queue1, contact=desk.customer, subject="Old question")
    html = client_for(desk.agent1).get(url("support:ticket", ticket)).content.decode()
    assert "sakib@example.com" in html and "Cricket gear" in html and "Old question" in html
    assert "2,500.00" in html
    assert 'id="suggestions"' in html and "No suggestions yet" in html
    assert past.pk


def test_suggestions_come_from_registered_providers(monkeypatch, desk):
    monkeypatch.setattr(selectors, "SUGGESTION_PROVIDERS", [lambda contact, user: [f"Helmet for {contact.first_name}"]])
    assert selectors.suggestions_for(desk.customer, desk.agent1) == ["Helmet for Sakib"]


def test_suggestions_default_to_none(desk):
    assert selectors.suggestions_for(desk.customer, desk.agent1) == []


def test_customer_360_hides_a_contact_the_user_cannot_see(desk, ticket):
    assert selectors.customer_360(contact=desk.customer, user=desk.world.rep_c) is None


def test_the_page_runs_a_fixed_number_of_queries(client_for, desk, ticket, django_assert_num_queries):
    services.add_reply(ticket=ticket, by=desk.agent1, body="Reply", internal=True)
    make_ticket(desk.queue1, contact=desk.customer, subject="Another")
    client = client_for(desk.agent1)
    client.get(url("support:ticket", ticket))  # the session settles on the first request
    with django_assert_num_queries(QUERIES_TICKET_PAGE):
        client.get(url("support:ticket", ticket))
    for i in range(10):
        services.add_reply(ticket=ticket, by=desk.agent1, body=f"More {i}")
        make_ticket(desk.queue1, contact=desk.customer, subject=f"Another {i}")
    with django_assert_num_queries(QUERIES_TICKET_PAGE):
        client.get(url("support:ticket", ticket))


def test_a_rep_reads_the_ticket_page_without_controls(client_for, desk, ticket):
    response = client_for(desk.world.rep_a).get(url("support:ticket", ticket))
    assert response.status_code == 200
    assert "You can read this ticket but not change it." in response.content.decode()


def test_closed_ticket_has_no_reply_box(client_for, desk, ticket):
    services.change_status(ticket=ticket, by=desk.agent1, status=TicketStatus.CLOSED)
    html = client_for(desk.agent1).get(url("support:ticket", ticket)).content.decode()
    assert 'id="reply-form"' not in html
    assert Ticket.objects.get(pk=ticket.pk).status == TicketStatus.CLOSED


def test_moving_to_another_teams_queue_with_the_whole_form_drops_the_assignee(client_for, desk, ticket):
    services.assign_ticket(ticket=ticket, by=desk.agent1, assignee=desk.agent1)
    ticket.refresh_from_db()
    response = client_for(desk.agent1).post(url("support:ticket_fields", ticket), {
        "status": ticket.status, "priority": "normal", "type": "inquiry", "queue": desk.queue2.pk,
        "assignee": desk.agent1.pk, "tags_shown": "1"}, **HTMX)
    assert response.status_code == 204 and response["HX-Redirect"] == reverse("support:index")  # no longer theirs
    ticket.refresh_from_db()
    assert (ticket.queue, ticket.team, ticket.assignee) == (desk.queue2, desk.support2, None)


def test_the_ticket_page_shows_the_customers_rating(client_for, desk, ticket):
    ticket = services.change_status(ticket=ticket, by=desk.agent1, status=TicketStatus.SOLVED)
    services.record_csat(ticket=ticket, rating=2, comment="Courier was late")
    page = client_for(desk.support_manager).get(url("support:ticket", ticket)).content.decode()
    assert "Customer rating: 2 of 5" in page and "Courier was late" in page

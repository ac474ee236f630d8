"""The customer's pages, no login: the web form, the follow page, the CSAT rating."""

from datetime import timedelta

import pytest
from django.core import mail as outbox
from django.core import signing
from django.urls import reverse

from support import csat, mail
from support.models import CsatResponse, Ticket, TicketChannel, TicketStatus
from support.services import add_reply, change_status, open_ticket

NEW = "support:public_new"


@pytest.fixture(autouse=True)
def _public_settings(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    settings.SITE_URL = "https://desk.shop.example.com"


def form_data(**overrides) -> dict:
    data = {"name": "Nusrat Jahan", "email": "nusrat@example.org", "phone": "", "type": "complaint",
            "subject": "Wrong size delivered", "message": "I ordered M and got XL.", "order_number": "SO-1042",
            "website": ""}
    data.update(overrides)
    return data


@pytest.fixture
def post_committed(client, monkeypatch, django_capture_on_commit_callbacks):
    """Post, then run what the request enqueued on commit in-process (the confirmation, as a worker would)."""
    monkeypatch.setattr("support.tasks.send_ticket_confirmation.delay",
                        lambda ticket_id: mail.send_confirmation(ticket_id=ticket_id))

    def post(url, data):
        with django_capture_on_commit_callbacks(execute=True):
            return client.post(url, data)

    return post


# --- The web form ---------------------------------------------------------------------------------


def test_form_page_uses_the_public_layout(client, desk):
    page = client.get(reverse(NEW)).content.decode()
    assert 'name="subject"' in page and 'name="website"' in page
    assert 'class="sidebar"' not in page and 'aria-hidden="true"' in page


def test_form_opens_a_ticket_and_mails_the_follow_link(desk, post_committed):
    response = post_committed(reverse(NEW), form_data())
    assert response.status_code == 302 and response.url == reverse("support:public_thanks")
    ticket = Ticket.objects.get()
    assert ticket.channel == TicketChannel.WEB_FORM and ticket.type == "complaint"
    assert ticket.contact.email == "nusrat@example.org" and ticket.queue == desk.queue1
    assert "Order number: SO-1042" in ticket.messages.get().body_text
    follow = "https://desk.shop.example.com" + reverse("support:public_ticket", args=[ticket.public_token])
    assert len(outbox.outbox) == 1 and follow in outbox.outbox[0].body


def test_thank_you_page_shows_number_and_follow_link(client, desk):
    client.post(reverse(NEW), form_data())
    ticket = Ticket.objects.get()
    page = client.get(reverse("support:public_thanks")).content.decode()
    assert f"#{ticket.number}" in page and f"/support/t/{ticket.public_token}/" in page


def test_form_keeps_an_attachment(client, desk):
    from django.core.files.uploadedfile import SimpleUploadedFile

    upload = SimpleUploadedFile("photo.png", b"\x89PNG\r\n\x1a\n" + b"0" * 32, content_type="image/png")
    client.post(reverse(NEW), {**form_data(), "attachments": [upload]})
    assert Ticket.objects.get().messages.get().attachments.get().filename == "photo.png"


def test_refused_attachment_is_a_field_error_and_nothing_is_created(client, desk):
    from django.core.files.uploadedfile import SimpleUploadedFile

    upload = SimpleUploadedFile("setup.exe", b"MZ" + b"0" * 32, content_type="application/octet-stream")
    response = client.post(reverse(NEW), {**form_data(), "attachments": [upload]})
    assert response.status_code == 400 and "setup.exe" in response.content.decode()
    assert not Ticket.objects.exists()


def test_honeypot_answers_as_if_fine_and_creates_nothing(desk, post_committed):
    response = post_committed(reverse(NEW), form_data(website="http://cheap-pills.example"))
    assert response.status_code == 302
    assert not Ticket.objects.exists() and not outbox.outbox


def test_bad_email_is_shown_and_nothing_is_created(client, desk):
    response = client.post(reverse(NEW), form_data(email="not-an-address"))
    assert response.status_code == 400 and "Enter a valid email address." in response.content.decode()
    assert "Wrong size delivered" in response.content.decode()  # what was typed stays in the form
    assert not Ticket.objects.exists()


def test_empty_message_is_shown_and_nothing_is_created(client, desk):
    response = client.post(reverse(NEW), form_data(message="   "))
    assert response.status_code == 400 and "This field is required." in response.content.decode()
    assert not Ticket.objects.exists()


def test_twenty_first_post_in_an_hour_is_refused(client, desk):
    for _attempt in range(20):
        assert client.post(reverse(NEW), form_data(email="bad")).status_code == 400
    response = client.post(reverse(NEW), form_data())
    assert response.status_code == 429 and not Ticket.objects.exists()


def test_rate_limit_counts_per_client_address(client, desk):
    for _attempt in range(21):
        client.post(reverse(NEW), form_data(email="bad"), REMOTE_ADDR="203.0.113.9")
    assert client.post(reverse(NEW), form_data(), REMOTE_ADDR="203.0.113.10").status_code == 302


# --- The follow page ------------------------------------------------------------------------------


@pytest.fixture
def ticket(desk):
    return open_ticket(subject="Parcel not delivered", body="Where is my kurta?", contact=desk.customer,
                       queue=desk.queue1)


def follow(ticket) -> str:
    return reverse("support:public_ticket", args=[ticket.public_token])


def test_follow_page_shows_replies_but_never_internal_notes(client, ticket, desk):
    add_reply(ticket=ticket, by=desk.agent1, body="It ships today.")
    add_reply(ticket=ticket, by=desk.agent1, body="Customer is rude, careful.", internal=True)
    page = client.get(follow(ticket)).content.decode()
    assert "Where is my kurta?" in page and "It ships today." in page
    assert "careful" not in page


def test_follow_page_with_a_bad_token_is_not_found(client, ticket):
    assert client.get(reverse("support:public_ticket", args=["not-a-token"])).status_code == 404


def test_customer_reply_reopens_a_solved_ticket(client, ticket, desk):
    change_status(ticket=ticket, by=desk.agent1, status=TicketStatus.SOLVED)
    response = client.post(follow(ticket), {"body": "Still not here."})
    assert response.status_code == 302
    ticket.refresh_from_db()
    assert ticket.status == TicketStatus.OPEN and ticket.reopened_count == 1
    assert ticket.messages.filter(body_text="Still not here.", channel=TicketChannel.WEB_FORM).exists()


def test_empty_customer_reply_is_refused(client, ticket):
    response = client.post(follow(ticket), {"body": ""})
    assert response.status_code == 400 and ticket.messages.count() == 1


def test_closed_ticket_offers_no_reply_form(client, ticket, desk):
    change_status(ticket=ticket, by=desk.agent1, status=TicketStatus.CLOSED)
    page = client.get(follow(ticket)).content.decode()
    assert 'name="body"' not in page and "closed" in page
    assert client.post(follow(ticket), {"body": "Hello?"}).status_code == 400 and ticket.messages.count() == 1


# --- CSAT -----------------------------------------------------------------------------------------


@pytest.fixture
def solved(ticket, desk):
    return change_status(ticket=ticket, by=desk.agent1, status=TicketStatus.SOLVED)


def rate_url(ticket) -> str:
    return reverse("support:csat", args=[csat.make_csat_token(ticket)])


def test_customer_rates_a_solved_ticket(client, solved):
    response = client.post(rate_url(solved), {"rating": "4", "comment": "Quick and kind."})
    assert response.status_code == 200
    answer = CsatResponse.objects.get(ticket=solved)
    assert answer.rating == 4 and answer.comment == "Quick and kind." and answer.team_id == solved.team_id


def test_second_rating_is_refused_and_changes_nothing(client, solved):
    client.post(rate_url(solved), {"rating": "5"})
    response = client.post(rate_url(solved), {"rating": "1", "comment": "changed my mind"})
    assert "already been rated" in response.content.decode()
    assert CsatResponse.objects.get(ticket=solved).rating == 5
    assert "already been rated" in client.get(rate_url(solved)).content.decode()


def test_rating_outside_one_to_five_is_a_field_error(client, solved):
    response = client.post(rate_url(solved), {"rating": "9"})
    assert response.status_code == 400 and not CsatResponse.objects.exists()


def test_forged_csat_token_is_not_found(client, solved):
    token = csat.make_csat_token(solved)
    forged = token[:-3] + ("AAA" if not token.endswith("AAA") else "BBB")
    assert client.get(reverse("support:csat", args=[forged])).status_code == 404
    assert client.post(reverse("support:csat", args=[forged]), {"rating": "5"}).status_code == 404


def test_token_of_one_ticket_cannot_rate_another(client, solved, desk):
    other = change_status(ticket=open_ticket(subject="Other", body="x", contact=desk.customer, queue=desk.queue1),
                          by=desk.agent1, status=TicketStatus.SOLVED)
    # Signed with our key, but naming the other ticket with this ticket's token digest: refused.
    swapped = signing.dumps([other.pk, csat.token_digest(solved)], salt=csat.SALT, compress=True)
    assert client.post(reverse("support:csat", args=[swapped]), {"rating": "1"}).status_code == 404
    # A token signed for another purpose (another salt) is refused too.
    other_salt = signing.dumps([other.pk, csat.token_digest(other)], salt="something.else", compress=True)
    assert client.get(reverse("support:csat", args=[other_salt])).status_code == 404
    assert not CsatResponse.objects.exists()


def test_csat_token_expires(solved):
    token = csat.make_csat_token(solved)
    assert csat.ticket_for_csat_token(token) == solved
    with pytest.raises(signing.SignatureExpired):
        csat.ticket_for_csat_token(token, max_age=timedelta(seconds=-1))


def test_unsolved_ticket_cannot_be_rated_yet(client, ticket):
    response = client.post(rate_url(ticket), {"rating": "5"})
    assert response.status_code == 400 and "not solved yet" in response.content.decode()
    assert not CsatResponse.objects.exists()

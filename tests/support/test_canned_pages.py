"""The canned-replies pages: list with the new-reply form, edit, read-only view of a colleague's shared reply,
delete; invisible replies answer 404, visible ones one may not change 403 to a POST."""

import pytest
from django.urls import reverse

from support import services
from support.models import CannedReply

LIST = reverse("support:canned_replies")
#: session, user, org settings, the replies with their owners
QUERIES = 4


def page(reply, delete=False):
    return reverse("support:canned_reply_delete" if delete else "support:canned_reply", args=[reply.pk])


@pytest.fixture
def shared(desk):
    return services.save_canned_reply(by=desk.agent1, title="Courier delay", body="Sorry, {{ contact.first_name }}!",
                                      shared=True)


def test_list_shows_mine_and_my_teams_shared_replies(desk, client_for, shared):
    mine = services.save_canned_reply(by=desk.agent1b, title="My own greeting", body="Hello")
    private = services.save_canned_reply(by=desk.agent1, title="Private draft", body="x")
    other_team = services.save_canned_reply(by=desk.agent2, title="Billing refund", body="x", shared=True)
    response = client_for(desk.agent1b).get(LIST)
    assert response.status_code == 200
    body = response.content.decode()
    assert mine.title in body and shared.title in body
    assert private.title not in body and other_team.title not in body
    assert [r.pk for r in response.context["mine"]] == [mine.pk]
    assert [r.pk for r in response.context["shared"]] == [shared.pk]


def test_list_explains_the_placeholders(desk, client_for):
    body = client_for(desk.agent1).get(LIST).content.decode()
    for code in ("{{ contact.first_name }}", "{{ contact.full_name }}", "{{ ticket.number }}", "{{ ticket.subject }}",
                 "{{ agent.first_name }}"):
        assert code in body


def test_create_a_shared_reply(desk, client_for):
    response = client_for(desk.agent1).post(LIST, {"title": "Refund steps", "body": "First…", "shared": "on"})
    assert response.status_code == 302 and response["Location"] == LIST
    reply = CannedReply.objects.get()
    assert (reply.title, reply.owner, reply.shared, reply.team) == ("Refund steps", desk.agent1, True,
                                                                    desk.world.support1)


def test_create_without_a_title_keeps_what_was_typed(desk, client_for):
    response = client_for(desk.agent1).post(LIST, {"title": "", "body": "Keep me"})
    assert response.status_code == 400
    assert response.context["form"].errors["title"] and "Keep me" in response.content.decode()
    assert not CannedReply.objects.exists()


def test_sharing_without_a_team_is_a_field_error(desk, client_for):
    response = client_for(desk.world.admin).post(LIST, {"title": "x", "body": "y", "shared": "on"})
    assert response.status_code == 400 and response.context["form"].errors["shared"]


def test_owner_edits_their_reply(desk, client_for, shared):
    client = client_for(desk.agent1)
    assert b'name="title"' in client.get(page(shared)).content
    response = client.post(page(shared), {"title": "Courier is late", "body": "Sorry!", "shared": "on"})
    assert response.status_code == 302
    shared.refresh_from_db()
    assert (shared.title, shared.body) == ("Courier is late", "Sorry!")


def test_teammate_reads_a_shared_reply_but_cannot_change_it(desk, client_for, shared):
    client = client_for(desk.agent1b)
    response = client.get(page(shared))
    assert response.status_code == 200
    assert response.context["can_change"] is False and b'name="title"' not in response.content
    assert b"Sorry, {{ contact.first_name }}!" in response.content
    assert client.post(page(shared), {"title": "Mine now", "body": "x"}).status_code == 403
    assert client.post(page(shared, delete=True)).status_code == 403
    shared.refresh_from_db()
    assert shared.title == "Courier delay"


def test_the_teams_manager_may_change_a_shared_reply(desk, client_for, shared):
    response = client_for(desk.support_manager).post(page(shared), {"title": "Edited", "body": "x", "shared": "on"})
    assert response.status_code == 302
    shared.refresh_from_db()
    assert shared.title == "Edited" and shared.owner == desk.agent1


@pytest.mark.parametrize("name", ["agent2", "rep_c", "rep_a"])
def test_invisible_reply_is_not_found(desk, client_for, shared, name):
    client = client_for(getattr(desk, name, None) or getattr(desk.world, name))
    assert client.get(page(shared)).status_code == 404
    assert client.post(page(shared), {"title": "x", "body": "y"}).status_code == 404
    assert client.post(page(shared, delete=True)).status_code == 404
    assert CannedReply.objects.filter(pk=shared.pk, title="Courier delay").exists()


def test_owner_deletes_their_reply(desk, client_for, shared):
    response = client_for(desk.agent1).post(page(shared, delete=True))
    assert response.status_code == 302 and response["Location"] == LIST
    assert not CannedReply.objects.exists()


def test_anonymous_is_sent_to_sign_in(desk, client_for, shared):
    assert client_for(None).get(LIST).status_code == 302
    assert client_for(None).get(page(shared)).status_code == 302


def test_list_runs_the_same_queries_for_any_size(desk, client_for, django_assert_num_queries):
    client = client_for(desk.agent1)
    services.save_canned_reply(by=desk.agent1b, title="First", body="x", shared=True)
    client.get(LIST)
    with django_assert_num_queries(QUERIES):
        assert len(client.get(LIST).context["shared"]) == 1
    for i in range(15):
        services.save_canned_reply(by=desk.agent1b if i % 2 else desk.agent1, title=f"R{i:02}", body="x", shared=True)
    with django_assert_num_queries(QUERIES):
        assert len(client.get(LIST).context["shared"]) == 8


"""The API shell: visibility, error format, pagination, query counts, tokens, schema."""

import pytest
from django.test import Client
from django.urls import reverse

from crm import services
from crm.models import SavedView
from tests.factories import SavedViewFactory
from tests.visibility import assert_visibility


def token_client(user) -> tuple[Client, str]:
    _token, key = services.create_api_token(user=user, name="test")
    return Client(HTTP_AUTHORIZATION=f"Token {key}"), key


def test_saved_view_detail_visibility_for_every_role(world, client_for):
    record = SavedViewFactory(owner=world.rep_a)
    assert_visibility(world, client_for, reverse("savedview-detail", args=[record.pk]), api=True)


def test_saved_view_list_shows_only_visible_records(world, client_for):
    mine = SavedViewFactory(owner=world.rep_a)
    other_team = SavedViewFactory(owner=world.rep_c)
    ids = {row["id"] for row in client_for(world.rep_b).get(reverse("savedview-list")).json()["results"]}
    assert mine.pk in ids and other_team.pk not in ids


@pytest.mark.parametrize("rows", [3, 60])
def test_saved_view_list_runs_a_fixed_number_of_queries(world, client_for, django_assert_num_queries, rows):
    SavedViewFactory.create_batch(rows, owner=world.rep_a)
    client = client_for(world.rep_a)
    client.get(reverse("me-list"))  # the session's first request records its start
    # session, user, org settings, count, page
    with django_assert_num_queries(5):
        response = client.get(reverse("savedview-list"), {"page_size": 50})
    assert response.status_code == 200
    assert len(response.json()["results"]) == min(rows, 50)


def test_create_with_bad_input_answers_field_errors_and_creates_nothing(world, client_for):
    response = client_for(world.rep_a).post(reverse("savedview-list"), {"name": "", "target": "planets"},
                                            content_type="application/json")
    assert response.status_code == 400
    errors = response.json()["errors"]
    assert set(errors) == {"name", "target"}
    assert not SavedView.objects.exists()


def test_create_applies_service_rules_in_the_same_error_format(world):
    from tests.factories import UserFactory

    loner = UserFactory(team=None)
    client, _ = token_client(loner)
    response = client.post(reverse("savedview-list"), {"name": "x", "target": "contacts", "shared": True},
                           content_type="application/json")
    assert response.status_code == 400
    assert "shared" in response.json()["errors"]


def test_owner_and_team_cannot_be_set_by_the_client(world, client_for):
    response = client_for(world.rep_a).post(
        reverse("savedview-list"),
        {"name": "Mine", "target": "contacts", "owner": world.rep_c.pk, "team": world.team2.pk},
        content_type="application/json",
    )
    assert response.status_code == 201
    view = SavedView.objects.get(pk=response.json()["id"])
    assert (view.owner_id, view.team_id) == (world.rep_a.pk, world.team1.pk)


def test_teammate_may_read_but_not_change_a_shared_view(world, client_for):
    record = SavedViewFactory(owner=world.rep_a)
    client = client_for(world.rep_b)
    url = reverse("savedview-detail", args=[record.pk])
    assert client.get(url).json()["can_edit"] is False
    assert client.patch(url, {"name": "x"}, content_type="application/json").status_code == 403
    assert client.delete(url).status_code == 403
    assert SavedView.objects.filter(pk=record.pk, name=record.name).exists()


def test_invisible_record_cannot_be_changed_or_deleted(world, client_for):
    record = SavedViewFactory(owner=world.rep_a)
    client = client_for(world.rep_c)
    url = reverse("savedview-detail", args=[record.pk])
    assert client.patch(url, {"name": "x"}, content_type="application/json").status_code == 404
    assert client.delete(url).status_code == 404
    assert SavedView.objects.filter(pk=record.pk).exists()


def test_token_authenticates_and_revoked_token_does_not(world):
    client, _key = token_client(world.rep_a)
    assert client.get(reverse("me-list")).json()["email"] == world.rep_a.email
    services.revoke_api_token(by=world.rep_a, token=world.rep_a.api_tokens.get())
    response = client.get(reverse("me-list"))
    assert response.status_code == 401
    assert "detail" in response.json()["errors"]


def test_pagination_caps_the_page_size(world, client_for):
    SavedViewFactory.create_batch(3, owner=world.rep_a)
    data = client_for(world.rep_a).get(reverse("savedview-list"), {"page_size": 1000}).json()
    assert data["count"] == 3 and "next" in data


def test_schema_and_docs_are_served(world, client_for):
    client = client_for(world.rep_a)
    schema = client.get("/api/schema/", {"format": "json"})
    assert schema.status_code == 200 and "/api/v1/saved-views/" in schema.json()["paths"]
    docs = client.get("/api/docs/")
    assert docs.status_code == 200 and b"swagger" in docs.content.lower()


def test_api_requires_authentication():
    assert Client().get("/api/v1/saved-views/").status_code in (401, 403)

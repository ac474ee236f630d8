"""Lead scoring in the browser and the API: the rules page with its preview, the contact's score panel,
score sort and band filters on the contacts list, and the scoring endpoints."""

from unittest import mock

import pytest
from django.urls import reverse

from contacts.models import Contact
from sales.models import ScoreRun, ScoringRule
from sales.scoring import engine
from tests.factories import make_contact
from tests.visibility import assert_visibility


@pytest.fixture
def people(world):
    return [make_contact(world.rep_a, first_name=name, city=city, job_title=title)
            for name, city, title in (("Rahim", "Dhaka", "Director"), ("Karim", "Dhaka", "Clerk"),
                                      ("Selina", "Sylhet", "Director"))]


@pytest.fixture
def scored(world, people):
    ScoringRule.objects.create(name="In Dhaka", kind="field_equals", points=30, params={"field": "city", "value": "Dhaka"})
    ScoringRule.objects.create(name="Directors", kind="field_contains", points=45,
                               params={"field": "job_title", "value": "director"})
    engine.rescore_contacts([p.pk for p in people])
    return people


RULE_FORM = {"name": "Pricing page", "kind": "web_visits", "points": "20", "active": "on", "pattern": "/pricing",
             "days": "7", "min_count": "3"}


def test_rules_page_is_for_admins(world, client_for):
    assert client_for(world.admin).get(reverse("sales:scoring")).status_code == 200
    for user in (world.rep_a, world.manager1, world.agent1):
        assert client_for(user).get(reverse("sales:scoring")).status_code == 403


def test_admin_adds_a_rule_and_a_recompute_is_queued(world, client_for, django_capture_on_commit_callbacks):
    with mock.patch("sales.tasks.recompute_scores.apply_async") as apply_async, \
            django_capture_on_commit_callbacks(execute=True):
        apply_async.return_value.id = "t-1"
        response = client_for(world.admin).post(reverse("sales:scoring_rule_create"), RULE_FORM)
    assert response.status_code == 302
    rule = ScoringRule.objects.get()
    assert (rule.kind, rule.points, rule.params) == ("web_visits", 20, {"pattern": "/pricing", "days": 7, "min_count": 3})
    assert apply_async.call_count == 1 and ScoreRun.objects.filter(status="queued").exists()


def test_a_rule_with_a_missing_parameter_is_refused_beside_the_input(world, client_for):
    response = client_for(world.admin).post(reverse("sales:scoring_rule_create"), {**RULE_FORM, "pattern": ""})
    assert response.status_code == 400
    assert "pattern" in response.context["form"].errors
    assert not ScoringRule.objects.exists()


def test_preview_counts_matches_and_bands_before_saving(world, client_for, scored):
    # Rahim 75 (hot), Karim 30 (cold), Selina 45 (warm); +30 for Sylhet makes Selina 75 (hot)
    form = {"name": "Sylhet", "kind": "field_equals", "points": "30", "field": "city", "value": "Sylhet"}
    response = client_for(world.admin).post(reverse("sales:scoring_rule_preview_new"), form)
    assert response.context["preview"] == {"matched": 1, "hot": 2, "warm": 0, "cold": 1, "total": 3}
    assert not ScoringRule.objects.filter(name="Sylhet").exists()


def test_preview_of_a_change_replaces_the_rules_current_points(world, client_for, scored):
    directors = ScoringRule.objects.get(name="Directors")
    form = {"name": "Directors", "kind": "field_contains", "points": "5", "field": "job_title", "value": "director"}
    response = client_for(world.admin).post(reverse("sales:scoring_rule_preview", args=[directors.pk]), form)
    # Rahim 30 + 5 = 35, Selina 0 + 5 = 5, Karim 30: all cold
    assert response.context["preview"] == {"matched": 2, "hot": 0, "warm": 0, "cold": 3, "total": 3}


def test_settings_with_warm_above_hot_are_refused(world, client_for):
    response = client_for(world.admin).post(reverse("sales:scoring"),
                                            {"hot_threshold": "50", "warm_threshold": "60", "half_life_days": "30"})
    assert response.status_code == 400
    assert response.context["settings_form"].errors


def test_score_panel_explains_the_score(world, client_for, scored):
    rahim = scored[0]
    page = client_for(world.rep_a).get(reverse("sales:contact_score", args=[rahim.pk]), HTTP_HX_REQUEST="true")
    html = page.content.decode()
    assert page.status_code == 200 and 'id="score-panel"' in html
    assert "+45" in html and "Directors" in html and "+30" in html and "In Dhaka" in html
    assert "<polyline" in html


def test_score_panel_visibility(world, client_for, scored):
    assert_visibility(world, client_for, reverse("sales:contact_score", args=[scored[0].pk]))


def test_contact_header_shows_the_score_badge(world, client_for, scored):
    html = client_for(world.rep_a).get(reverse("contacts:contact", args=[scored[0].pk])).content.decode()
    assert 'class="score score-hot"' in html


def listed(client, **params) -> list[str]:
    """The contacts' names in the order the list page shows them."""
    html = client.get(reverse("contacts:index"), params).content.decode()
    names = ("Rahim", "Karim", "Selina")
    return sorted((n for n in names if f">{n}</a>" in html), key=lambda n: html.index(f">{n}</a>"))


def test_contacts_list_sorts_by_score_and_filters_by_band(world, client_for, scored):
    client = client_for(world.rep_a)
    assert listed(client, sort="-score") == ["Rahim", "Selina", "Karim"]
    assert listed(client, sort="-score", score_band=["hot", "warm"]) == ["Rahim", "Selina"]


def test_contacts_list_filters_by_a_rise_this_week(world, client_for, scored):
    Contact.objects.update(score_change_7d=5)
    Contact.objects.filter(pk=scored[2].pk).update(score_change_7d=25)
    assert listed(client_for(world.rep_a), score_rose="20") == ["Selina"]


# --- API ------------------------------------------------------------------------------------------------


def test_api_rules_are_admin_only_and_validated(world, client_for):
    body = {"name": "Pricing", "kind": "web_visits", "points": 20, "params": {"pattern": "/pricing", "days": 0}}
    assert client_for(world.rep_a).post("/api/v1/scoring-rules/", body, content_type="application/json").status_code == 403
    response = client_for(world.admin).post("/api/v1/scoring-rules/", body, content_type="application/json")
    assert response.status_code == 400
    assert "params.days" in response.json()["errors"]
    body["params"]["days"] = 7
    response = client_for(world.admin).post("/api/v1/scoring-rules/", body, content_type="application/json")
    assert response.status_code == 201, response.json()
    assert response.json()["params"] == {"pattern": "/pricing", "days": 7, "min_count": 1}


def test_api_preview(world, client_for, scored):
    body = {"name": "Sylhet", "kind": "field_equals", "points": 30, "params": {"field": "city", "value": "Sylhet"}}
    response = client_for(world.admin).post("/api/v1/scoring-rules/preview/", body, content_type="application/json")
    assert response.json() == {"matched": 1, "hot": 2, "warm": 0, "cold": 1, "total": 3}


def test_api_contact_score_with_reasons_and_history(world, client_for, scored):
    data = client_for(world.rep_a).get(f"/api/v1/contacts/{scored[0].pk}/score/").json()
    assert (data["score"], data["band"]) == (75, "hot")
    assert [(r["name"], r["points"]) for r in data["reasons"]] == [("Directors", 45.0), ("In Dhaka", 30.0)]
    assert len(data["history"]) == 30 and data["history"][-1]["score"] == 75


def test_api_contact_score_visibility(world, client_for, scored):
    assert_visibility(world, client_for, f"/api/v1/contacts/{scored[0].pk}/score/", api=True)


def test_api_contacts_carry_score_fields_and_sort_by_score(world, client_for, scored):
    data = client_for(world.rep_a).get("/api/v1/contacts/", {"sort": "-score"}).json()
    assert [(c["first_name"], c["score"], c["score_band"]) for c in data["results"]] == [
        ("Rahim", 75, "hot"), ("Selina", 45, "warm"), ("Karim", 30, "cold")]


def test_api_recompute_answers_202_with_a_run_to_follow(world, client_for, django_capture_on_commit_callbacks):
    with mock.patch("sales.tasks.recompute_scores.apply_async") as apply_async, \
            django_capture_on_commit_callbacks(execute=True):
        apply_async.return_value.id = "t-1"
        response = client_for(world.admin).post("/api/v1/scoring/recompute/")
    assert response.status_code == 202
    run = response.json()
    status = client_for(world.admin).get(f"/api/v1/scoring/runs/{run['id']}/").json()
    assert (status["status"], status["task_id"]) == ("queued", "t-1")
    assert client_for(world.rep_a).post("/api/v1/scoring/recompute/").status_code == 403


def test_hot_leads_view_lists_the_reps_visible_hot_leads_highest_first(world, client_for, scored):
    other = make_contact(world.rep_c, first_name="Other team", city="Dhaka", job_title="Director")
    engine.rescore_contacts([other.pk])
    client = client_for(world.rep_a)
    html = client.get(reverse("contacts:index")).content.decode()
    assert f'href="{reverse("contacts:index")}?score_band=hot&amp;sort=-score"' in html
    assert listed(client, score_band="hot", sort="-score") == ["Rahim"]
    assert "Other team" not in client.get(reverse("contacts:index"), {"score_band": "hot"}).content.decode()

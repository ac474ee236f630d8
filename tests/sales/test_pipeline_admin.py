"""Admin pages for pipelines and stages, and archiving a stage that still holds deals."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from sales.models import Deal, Pipeline, Stage, StageChange
from sales.pipeline_admin import archive_stage_moving_deals, move_stage
from tests.sales.helpers import new_deal, stage

ADMIN_ONLY = {"admin": 200, "rep_a": 403, "rep_c": 403, "manager1": 403, "agent1": 403, "anonymous": 302}


def statuses(world, client_for, url, method="get", data=None):
    out = {}
    for name, user in world.principals().items():
        if name not in ADMIN_ONLY:
            continue
        client = client_for(user)
        out[name] = (client.post(url, data or {}) if method == "post" else client.get(url)).status_code
    return out


# --- The service ------------------------------------------------------------------------------------


def test_archiving_a_stage_moves_its_deals_with_their_history(world, pipeline):
    lead, proposal = stage(pipeline, "Lead"), stage(pipeline, "Proposal")
    deals = [new_deal(world, pipeline), new_deal(world, pipeline, by=world.rep_c)]
    outcome = archive_stage_moving_deals(by=world.admin, stage=lead, move_to=proposal)
    assert outcome["moved"] == 2
    lead.refresh_from_db()
    assert lead.archived_at is not None
    assert set(Deal.objects.values_list("stage", flat=True)) == {proposal.pk}
    for deal in deals:
        assert StageChange.objects.filter(deal=deal, from_stage=lead, to_stage=proposal, by=world.admin).count() == 1


def test_archiving_a_stage_with_deals_needs_a_target(world, pipeline):
    new_deal(world, pipeline)
    with pytest.raises(ValidationError) as exc:
        archive_stage_moving_deals(by=world.admin, stage=stage(pipeline, "Lead"))
    assert "stage" in exc.value.message_dict
    assert stage(pipeline, "Lead").archived_at is None


def test_archiving_moves_nothing_when_the_archive_is_refused(world):
    from sales import services

    single = services.create_pipeline(by=world.admin, name="Tiny", stages=["Only"])
    deal = new_deal(world, single)
    with pytest.raises(ValidationError):
        archive_stage_moving_deals(by=world.admin, stage=stage(single, "Only"), move_to=stage(single, "Won"))
    deal.refresh_from_db()
    assert deal.stage.name == "Only" and not StageChange.objects.filter(deal=deal, from_stage__isnull=False).exists()


@pytest.mark.parametrize("target", ["Lead", "Won", "other pipeline"])
def test_archiving_refuses_a_bad_target(world, pipeline, target):
    from sales import services

    new_deal(world, pipeline)
    if target == "other pipeline":
        other = services.create_pipeline(by=world.admin, name="Other", stages=["Call"])
        move_to = stage(other, "Call")
    else:
        move_to = stage(pipeline, target)
    with pytest.raises(ValidationError) as exc:
        archive_stage_moving_deals(by=world.admin, stage=stage(pipeline, "Lead"), move_to=move_to)
    assert "move_to" in exc.value.message_dict
    assert Deal.objects.get().stage.name == "Lead"


def test_only_admins_archive_stages(world, pipeline):
    with pytest.raises(PermissionDenied):
        archive_stage_moving_deals(by=world.manager1, stage=stage(pipeline, "Lead"), move_to=stage(pipeline, "Proposal"))


def test_move_stage_up_and_down(world, pipeline):
    move_stage(by=world.admin, stage=stage(pipeline, "Negotiation"), offset=-1)
    names = list(Stage.objects.filter(pipeline=pipeline).order_by("position").values_list("name", flat=True))
    assert names == ["Lead", "Negotiation", "Proposal", "Won", "Lost"]
    move_stage(by=world.admin, stage=stage(pipeline, "Lead"), offset=-1)  # already first: stays
    assert Stage.objects.filter(pipeline=pipeline).order_by("position").first().name == "Lead"


# --- The pages --------------------------------------------------------------------------------------


def test_pipeline_pages_are_for_admins_only(world, client_for, pipeline):
    assert statuses(world, client_for, reverse("sales:admin_pipelines")) == ADMIN_ONLY
    assert statuses(world, client_for, reverse("sales:admin_pipeline", args=[pipeline.pk])) == ADMIN_ONLY


@pytest.mark.parametrize(("route", "data"), [
    ("sales:admin_pipeline", {"name": "Renamed"}),
    ("sales:admin_pipeline_archive", {}),
    ("sales:admin_stage_new", {"name": "Demo"}),
])
def test_pipeline_writes_are_refused_to_non_admins(world, client_for, pipeline, route, data):
    seen = statuses(world, client_for, reverse(route, args=[pipeline.pk]), method="post", data=data)
    assert {name: status for name, status in seen.items() if name != "admin"} == {
        name: status for name, status in ADMIN_ONLY.items() if name != "admin"}
    pipeline.refresh_from_db()


def test_admin_nav_links_to_pipelines(world, client_for, pipeline):
    body = client_for(world.admin).get(reverse("sales:admin_pipelines")).content.decode()
    assert reverse("sales:admin_pipelines") in body


def test_admin_adds_a_pipeline(world, client_for, pipeline):
    response = client_for(world.admin).post(reverse("sales:admin_pipelines"),
                                            {"name": "Services", "stages": "Discovery, 20\nQuote, 50\n\n"})
    created = Pipeline.objects.get(name="Services")
    assert response.status_code == 302
    assert [(s.name, s.probability) for s in created.stages.order_by("position")] == [
        ("Discovery", 20), ("Quote", 50), ("Won", 100), ("Lost", 0)]


def test_adding_a_pipeline_with_a_taken_name_is_a_field_error(world, client_for, pipeline):
    response = client_for(world.admin).post(reverse("sales:admin_pipelines"), {"name": pipeline.name, "stages": "A"})
    assert response.status_code == 400
    assert "name" in response.context["form"].errors


def test_admin_renames_a_pipeline_and_a_stage(world, client_for, pipeline):
    client = client_for(world.admin)
    assert client.post(reverse("sales:admin_pipeline", args=[pipeline.pk]), {"name": "B2B"}).status_code == 302
    lead = stage(pipeline, "Lead")
    response = client.post(reverse("sales:admin_stage", args=[pipeline.pk, lead.pk]), {"name": "Enquiry",
                                                                                         "probability": "15"})
    assert response.status_code == 302
    lead.refresh_from_db()
    pipeline.refresh_from_db()
    assert (pipeline.name, lead.name, lead.probability) == ("B2B", "Enquiry", 15)


def test_stage_errors_show_beside_the_stage(world, client_for, pipeline):
    lead = stage(pipeline, "Lead")
    response = client_for(world.admin).post(reverse("sales:admin_stage", args=[pipeline.pk, lead.pk]),
                                            {"name": "Proposal", "probability": "150"})
    assert response.status_code == 400
    row = next(s for s in response.context["stages"] if s.pk == lead.pk)
    assert "name" in row.edit_form.errors or "probability" in row.edit_form.errors


def test_admin_adds_and_reorders_stages(world, client_for, pipeline):
    client = client_for(world.admin)
    assert client.post(reverse("sales:admin_stage_new", args=[pipeline.pk]),
                       {"name": "Demo", "probability": "55"}).status_code == 302
    demo = stage(pipeline, "Demo")
    response = client.post(reverse("sales:admin_stage_move", args=[pipeline.pk, demo.pk]), {"direction": "up"})
    assert response.status_code == 302
    names = list(Stage.objects.filter(pipeline=pipeline).order_by("position").values_list("name", flat=True))
    assert names == ["Lead", "Proposal", "Demo", "Negotiation", "Won", "Lost"]


def test_archive_page_moves_the_deals_then_archives(world, client_for, pipeline):
    deal = new_deal(world, pipeline)
    lead, proposal = stage(pipeline, "Lead"), stage(pipeline, "Proposal")
    client = client_for(world.admin)
    refused = client.post(reverse("sales:admin_stage_archive", args=[pipeline.pk, lead.pk]), {})
    assert refused.status_code == 400
    response = client.post(reverse("sales:admin_stage_archive", args=[pipeline.pk, lead.pk]), {"move_to": proposal.pk})
    assert response.status_code == 302
    deal.refresh_from_db()
    lead.refresh_from_db()
    assert deal.stage == proposal and lead.archived_at is not None


def test_a_stage_of_another_pipeline_is_404(world, client_for, pipeline):
    from sales import services

    other = services.create_pipeline(by=world.admin, name="Other", stages=["Call"])
    url = reverse("sales:admin_stage", args=[pipeline.pk, stage(other, "Call").pk])
    assert client_for(world.admin).post(url, {"name": "X"}).status_code == 404

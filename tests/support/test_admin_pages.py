"""Support admin pages: settings and holidays, queues, SLA policies — admins only, field errors, nothing half-saved."""

from datetime import date, time

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from support import configuration
from support.models import Holiday, Queue, SlaPolicy, SupportSettings
from tests.factories import make_queue, make_sla_policy, make_ticket

ADMIN_ONLY = {"admin": 200, "rep_a": 403, "manager1": 403, "agent1": 403, "anonymous": 302}


def statuses(world, client_for, url, method="get", names=ADMIN_ONLY):
    out = {}
    for name in names:
        client = client_for(world.principals()[name])
        out[name] = (client.post(url, {}) if method == "post" else client.get(url)).status_code
    return out


def queue_data(desk, **overrides):
    data = {"name": "Returns", "team": desk.world.support1.pk, "assignment_mode": "round_robin",
            "email": "returns@shop.com.bd", "is_active": "on"}
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def policy_data(**overrides):
    data = {"name": "VIP urgent", "priority": "urgent", "ticket_type": "complaint", "first_response_minutes": "15",
            "resolution_minutes": "120", "is_active": "on"}
    data.update(overrides)
    return data


# --- Access ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["admin_settings", "admin_queues", "admin_sla"])
def test_list_pages_are_for_admins_only(desk, client_for, name):
    assert statuses(desk.world, client_for, reverse(f"support:{name}")) == ADMIN_ONLY


def test_record_pages_are_for_admins_only(desk, client_for):
    policy = SlaPolicy.objects.first()
    holiday = Holiday.objects.create(date=date(2026, 12, 16), name="Victory Day")
    forbidden = {"rep_a": 403, "manager1": 403, "agent1": 403, "anonymous": 302}
    for url in (reverse("support:admin_queue", args=[desk.queue1.pk]), reverse("support:admin_sla_policy",
                                                                               args=[policy.pk])):
        assert statuses(desk.world, client_for, url) == ADMIN_ONLY
    for url in (reverse("support:admin_holiday_delete", args=[holiday.pk]),
                reverse("support:admin_sla_policy_deactivate", args=[policy.pk]),
                reverse("support:admin_queue", args=[desk.queue1.pk]), reverse("support:admin_holiday_add")):
        assert statuses(desk.world, client_for, url, method="post", names=forbidden) == forbidden
    assert Holiday.objects.filter(pk=holiday.pk).exists()
    assert SlaPolicy.objects.get(pk=policy.pk).is_active


def test_the_services_refuse_non_admins(desk):
    with pytest.raises(PermissionDenied):
        configuration.add_holiday(by=desk.support_manager, date=date(2026, 12, 16), name="Victory Day")
    with pytest.raises(PermissionDenied):
        configuration.save_queue(by=desk.agent1, queue=desk.queue1, name="Mine", team=desk.world.support1)


# --- Settings and holidays -------------------------------------------------------------------------------


def test_the_settings_page_shows_the_week_and_holidays(desk, client_for):
    Holiday.objects.create(date=date(2026, 12, 16), name="Victory Day")
    response = client_for(desk.world.admin).get(reverse("support:admin_settings"))
    assert response.status_code == 200
    assert b"Victory Day" in response.content
    assert b'value="Asia/Dhaka" selected' in response.content


def test_working_days_and_hours_are_saved(desk, client_for):
    response = client_for(desk.world.admin).post(reverse("support:admin_settings"), {
        "time_zone": "Asia/Dhaka", "working_days": ["6", "0", "1", "2", "3", "5"], "day_starts": "10:00",
        "day_ends": "19:30", "auto_close_days": "5"})
    assert response.status_code == 302
    settings = SupportSettings.load()
    assert settings.working_days == [0, 1, 2, 3, 5, 6]
    assert (settings.day_starts, settings.day_ends, settings.auto_close_days) == (time(10), time(19, 30), 5)


def test_a_day_ending_before_it_starts_is_refused_with_nothing_saved(desk, client_for):
    response = client_for(desk.world.admin).post(reverse("support:admin_settings"), {
        "time_zone": "Asia/Dhaka", "working_days": ["0"], "day_starts": "18:00", "day_ends": "09:00",
        "auto_close_days": "5"})
    assert response.status_code == 400
    assert "day_ends" in response.context["form"].errors
    assert SupportSettings.load().working_days == [6, 0, 1, 2, 3]


def test_no_working_day_is_a_field_error(desk, client_for):
    response = client_for(desk.world.admin).post(reverse("support:admin_settings"), {
        "time_zone": "Asia/Dhaka", "day_starts": "09:00", "day_ends": "18:00", "auto_close_days": "7"})
    assert response.status_code == 400
    assert "working_days" in response.context["form"].errors


def test_a_holiday_is_added_and_deleted(desk, client_for):
    client = client_for(desk.world.admin)
    response = client.post(reverse("support:admin_holiday_add"), {"date": "2027-03-26", "name": "Independence Day"})
    assert response.status_code == 302
    holiday = Holiday.objects.get()
    assert (holiday.date, holiday.name) == (date(2027, 3, 26), "Independence Day")
    assert client.post(reverse("support:admin_holiday_delete", args=[holiday.pk])).status_code == 302
    assert not Holiday.objects.exists()


def test_the_same_day_twice_is_a_field_error(desk, client_for):
    Holiday.objects.create(date=date(2027, 3, 26), name="Independence Day")
    response = client_for(desk.world.admin).post(reverse("support:admin_holiday_add"),
                                                 {"date": "2027-03-26", "name": "Again"})
    assert response.status_code == 400
    assert "date" in response.context["holiday_form"].errors
    assert Holiday.objects.count() == 1


# --- Queues ------------------------------------------------------------------------------------------------


def test_a_queue_is_created(desk, client_for):
    response = client_for(desk.world.admin).post(reverse("support:admin_queues"), queue_data(desk))
    assert response.status_code == 302
    queue = Queue.objects.get(name="Returns")
    assert (queue.team, queue.assignment_mode, queue.email) == (desk.world.support1, "round_robin",
                                                                 "returns@shop.com.bd")


@pytest.mark.parametrize(("overrides", "field"), [
    ({"name": "orders & DELIVERY"}, "name"),  # desk.queue1, another case
    ({"team": "sales"}, "team"),
    ({"email": "not an address"}, "email"),
    ({"assignment_mode": "lottery"}, "assignment_mode"),
])
def test_a_bad_queue_is_refused_with_a_field_error(desk, client_for, overrides, field):
    if overrides.get("team") == "sales":
        overrides["team"] = desk.world.team1.pk
    before = Queue.objects.count()
    response = client_for(desk.world.admin).post(reverse("support:admin_queues"), queue_data(desk, **overrides))
    assert response.status_code == 400
    assert field in response.context["form"].errors
    assert Queue.objects.count() == before


def test_a_second_queue_cannot_take_an_inbound_address(desk):
    configuration.save_queue(by=desk.world.admin, queue=desk.queue2, name="Billing", team=desk.support2,
                              email="billing@shop.com.bd")
    with pytest.raises(ValidationError) as exc:
        configuration.save_queue(by=desk.world.admin, name="Payments", team=desk.support2,
                                  email="Billing@Shop.com.bd")
    assert "email" in exc.value.message_dict


def test_a_new_default_queue_takes_over_from_the_old_one(desk, client_for):
    response = client_for(desk.world.admin).post(reverse("support:admin_queue", args=[desk.queue2.pk]), queue_data(
        desk, name="Billing", team=desk.support2.pk, email="", is_default="on"))
    assert response.status_code == 302
    assert list(Queue.objects.filter(is_default=True)) == [desk.queue2]


def test_the_default_queue_stays_active(desk):
    with pytest.raises(ValidationError) as exc:
        configuration.save_queue(by=desk.world.admin, queue=desk.queue1, name=desk.queue1.name,
                                  team=desk.world.support1, is_default=True, is_active=False)
    assert "is_active" in exc.value.message_dict


def test_a_queue_with_open_tickets_keeps_its_team(desk, client_for):
    make_ticket(desk.queue1, contact=desk.customer)
    response = client_for(desk.world.admin).post(reverse("support:admin_queue", args=[desk.queue1.pk]), queue_data(
        desk, name=desk.queue1.name, team=desk.support2.pk, email="", is_default="on"))
    assert response.status_code == 400
    assert "team" in response.context["form"].errors
    assert Queue.objects.get(pk=desk.queue1.pk).team_id == desk.world.support1.pk


def test_the_queue_list_costs_the_same_queries_whatever_its_size(desk, client_for, django_assert_num_queries):
    client = client_for(desk.world.admin)
    url = reverse("support:admin_queues")
    client.get(url)  # warm the session and the organisation's settings
    with CaptureQueriesContext(connection) as small:
        assert client.get(url).status_code == 200
    for i in range(5):
        make_queue(desk.support2, name=f"Extra {i}")
    with django_assert_num_queries(len(small.captured_queries)):
        assert client.get(url).status_code == 200


# --- SLA policies -------------------------------------------------------------------------------------------


def test_a_policy_is_created_and_listed_in_hours_and_minutes(desk, client_for):
    client = client_for(desk.world.admin)
    response = client.post(reverse("support:admin_sla"), policy_data(queue=desk.queue1.pk,
                                                                   resolution_minutes="90"))
    assert response.status_code == 302
    policy = SlaPolicy.objects.get(name="VIP urgent")
    assert (policy.queue, policy.ticket_type, policy.resolution_minutes) == (desk.queue1, "complaint", 90)
    page = client.get(reverse("support:admin_sla")).content.decode()
    assert "1 h 30 min" in page and "15 min" in page and "40 h" in page  # desk's low priority: 2400 minutes


def test_a_resolution_before_the_first_response_is_a_field_error_and_nothing_is_saved(desk, client_for):
    response = client_for(desk.world.admin).post(reverse("support:admin_sla"),
                                                 policy_data(first_response_minutes="120", resolution_minutes="60"))
    assert response.status_code == 400
    assert "resolution_minutes" in response.context["form"].errors
    assert not SlaPolicy.objects.filter(name="VIP urgent").exists()


def test_a_zero_target_is_a_field_error(desk, client_for):
    response = client_for(desk.world.admin).post(reverse("support:admin_sla"), policy_data(first_response_minutes="0"))
    assert response.status_code == 400
    assert "first_response_minutes" in response.context["form"].errors


def test_a_second_active_policy_for_the_same_scope_is_refused(desk, client_for):
    response = client_for(desk.world.admin).post(reverse("support:admin_sla"), policy_data(priority="normal",
                                                                                           ticket_type=""))
    assert response.status_code == 400
    assert "priority" in response.context["form"].errors
    assert SlaPolicy.objects.filter(priority="normal").count() == 1


def test_a_policy_is_edited(desk, client_for):
    policy = make_sla_policy("urgent", queue=desk.queue2, first_response_minutes=20, resolution_minutes=200)
    response = client_for(desk.world.admin).post(reverse("support:admin_sla_policy", args=[policy.pk]), policy_data(
        name="Billing urgent", queue=desk.queue2.pk, ticket_type="", resolution_minutes="300"))
    assert response.status_code == 302
    policy.refresh_from_db()
    assert (policy.name, policy.first_response_minutes, policy.resolution_minutes) == ("Billing urgent", 15, 300)


def test_a_policy_is_deactivated(desk, client_for):
    policy = SlaPolicy.objects.get(priority="urgent")
    response = client_for(desk.world.admin).post(reverse("support:admin_sla_policy_deactivate", args=[policy.pk]))
    assert response.status_code == 302
    policy.refresh_from_db()
    assert not policy.is_active
    # ... which frees its scope for a new active one.
    configuration.save_sla_policy(by=desk.world.admin, name="New urgent", priority="urgent",
                                   first_response_minutes=10, resolution_minutes=100)


def test_an_unknown_record_is_not_found(desk, client_for):
    client = client_for(desk.world.admin)
    assert client.get(reverse("support:admin_queue", args=[999999])).status_code == 404
    assert client.get(reverse("support:admin_sla_policy", args=[999999])).status_code == 404
    assert client.post(reverse("support:admin_holiday_delete", args=[999999])).status_code == 404

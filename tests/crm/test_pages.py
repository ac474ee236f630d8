"""Pages: visibility, admin-only pages, forms that show field errors and change nothing, i18n, headers."""

import pytest
from django.urls import reverse

from crm.models import OrgSettings, SavedView, Team, User
from tests.factories import SavedViewFactory
from tests.visibility import assert_visibility


def test_saved_view_page_visibility_for_every_role(world, client_for):
    record = SavedViewFactory(owner=world.rep_a)
    assert_visibility(world, client_for, reverse("saved_view", args=[record.pk]))


def test_saved_view_delete_is_404_for_those_who_cannot_see_it(world, client_for):
    record = SavedViewFactory(owner=world.rep_a)
    for user in (world.rep_c, world.manager2, world.agent1):
        assert client_for(user).post(reverse("saved_view_delete", args=[record.pk])).status_code == 404
    assert SavedView.objects.filter(pk=record.pk).exists()


def test_teammate_cannot_edit_shared_view_through_the_form(world, client_for):
    record = SavedViewFactory(owner=world.rep_a)
    response = client_for(world.rep_b).post(reverse("saved_view", args=[record.pk]),
                                            {"name": "x", "target": "contacts"})
    assert response.status_code == 403
    record.refresh_from_db()
    assert record.name != "x"


def test_saved_view_form_shows_field_errors_and_keeps_input(world, client_for):
    response = client_for(world.rep_a).post(reverse("saved_view_create"), {"name": "My list", "target": "planets"})
    assert response.status_code == 400
    assert b'class="field-error"' in response.content and b"My list" in response.content
    assert not SavedView.objects.exists()


@pytest.mark.parametrize("name", ["admin_users", "admin_user_create", "admin_teams", "admin_org", "admin_audit"])
def test_admin_pages_are_for_admins_only(world, client_for, name):
    assert client_for(world.admin).get(reverse(name)).status_code == 200
    for user in (world.rep_a, world.manager1, world.agent1):
        assert client_for(user).get(reverse(name)).status_code == 403


def test_admin_invites_a_user_through_the_page(world, client_for):
    response = client_for(world.admin).post(reverse("admin_user_create"), {
        "email": "new@example.com", "full_name": "New Rep", "role": "sales_rep", "team": world.team1.pk})
    user = User.objects.get(email="new@example.com")
    assert response.status_code == 302 and response["Location"] == reverse("admin_user", args=[user.pk])


def test_invite_form_rejects_bad_input_per_field(world, client_for):
    response = client_for(world.admin).post(reverse("admin_user_create"), {
        "email": "not-an-email", "full_name": "", "role": "sales_rep"})
    assert response.status_code == 400
    assert response.content.count(b'class="field-error"') == 2
    assert not User.objects.filter(full_name="").exists()


def test_admin_deactivates_and_reassigns_from_the_user_page(world, client_for):
    SavedViewFactory.create_batch(2, owner=world.rep_a)
    client = client_for(world.admin)
    client.post(reverse("admin_user_action", args=[world.rep_a.pk, "deactivate"]))
    client.post(reverse("admin_user_action", args=[world.rep_a.pk, "reassign"]), {"to_user": world.rep_b.pk})
    world.rep_a.refresh_from_db()
    assert not world.rep_a.is_active
    assert SavedView.objects.filter(owner=world.rep_b).count() == 2


def test_org_settings_page_validates_currency(world, client_for):
    response = client_for(world.admin).post(reverse("admin_org"), {
        "name": "Org", "default_currency": "TK1", "sharing_default": "team"})
    assert response.status_code == 400 and b"ISO 4217" in response.content
    assert OrgSettings.load().default_currency == "BDT"


def test_audit_log_records_who_changed_what(world, client_for):
    client = client_for(world.admin)
    client.post(reverse("admin_team", args=[world.team1.pk]), {"name": "Dhaka Central", "kind": "sales"})
    page = client.get(reverse("admin_audit"), {"model": "crm.Team"})
    assert page.status_code == 200
    text = page.content.decode()
    assert "Dhaka Central" in text and "Dhaka Sales" in text and "Admin" in text


def test_audit_sees_queryset_updates_too(world, client_for):
    from crm import audit

    Team.objects.filter(pk=world.team2.pk).update(name="Sylhet Sales")  # no signals fire here
    entries = audit.history_for(world.team2)
    assert entries[0].label == "update"
    assert any(c.new == "Sylhet Sales" for c in entries[0].changes)


def test_record_history_is_shown_on_its_page(world, client_for):
    record = SavedViewFactory(owner=world.rep_a, name="Before")
    client = client_for(world.rep_a)
    client.post(reverse("saved_view", args=[record.pk]), {"name": "After", "target": "contacts", "query": ""})
    text = client.get(reverse("saved_view", args=[record.pk])).content.decode()
    assert "Before" in text and "After" in text


def test_navigation_follows_the_role(world, client_for):
    admin_page = client_for(world.admin).get(reverse("home")).content.decode()
    rep_page = client_for(world.rep_a).get(reverse("home")).content.decode()
    assert reverse("admin_users") in admin_page
    assert reverse("admin_users") not in rep_page


def test_shell_speaks_bengali_after_the_switch(world, client_for):
    client = client_for(world.rep_a)
    client.post(reverse("set_language"), {"language": "bn", "next": "/"})
    world.rep_a.refresh_from_db()
    assert world.rep_a.language == "bn"
    page = client.get(reverse("home")).content.decode()
    assert 'lang="bn"' in page and "সংরক্ষিত" in page  # "Saved views"


def test_pages_carry_a_nonce_csp_and_no_store(world, client_for):
    response = client_for(world.rep_a).get(reverse("home"))
    csp = response["Content-Security-Policy"]
    assert "'nonce-" in csp and "object-src 'none'" in csp and "base-uri 'none'" in csp
    assert "unsafe-inline" not in csp
    assert "no-store" in response["Cache-Control"]
    nonce = csp.split("'nonce-")[1].split("'")[0]
    assert f'nonce="{nonce}"' in response.content.decode()


def test_login_page_renders_for_anonymous_visitors(client, db):
    response = client.get(reverse("account_login"))
    assert response.status_code == 200 and b'name="login"' in response.content
    assert reverse("account_signup") not in response.content.decode()  # signup is closed: no link to it
    assert reverse("account_reset_password") in response.content.decode()


def test_anonymous_visitors_are_sent_to_sign_in(client, db):
    response = client.get(reverse("home"))
    assert response.status_code == 302 and reverse("account_login") in response["Location"]


def test_the_menu_lights_only_the_page_the_admin_is_on(world, client_for):
    """/sales/scoring/ starts with the Deals page's /sales/ too: the longer match of both menus wins."""
    response = client_for(world.admin).get(reverse("sales:scoring"))
    lit = [item["label"] for item in [*response.context["nav"], *response.context["admin_nav"]] if item["active"]]
    assert [str(label) for label in lit] == ["Lead scoring"]
    deals = client_for(world.admin).get(reverse("sales:index"))
    assert [str(i["label"]) for i in [*deals.context["nav"], *deals.context["admin_nav"]] if i["active"]] == ["Deals"]

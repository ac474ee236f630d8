"""Pages about one contact or company: visibility, inline edits, the timeline, tags, social, create, merge."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone, translation

from contacts import services
from contacts.models import Company, Contact, ContactTag, Interaction, SocialProfile, Tag, TagSource
from crm.models import OrgSettings, Sharing
from tests.factories import make_company, make_contact
from tests.visibility import assert_visibility, expected_outcomes

HX = {"HX-Request": "true"}
NOBODY_ELSE = ("rep_c", "manager2", "agent1")


@pytest.fixture
def company(world):
    return make_company(world.rep_a, name="Padma Traders", website="https://www.padma.com.bd", industry="Retail",
                        city="Dhaka")


@pytest.fixture
def contact(world, company):
    return make_contact(world.rep_a, first_name="Rahim", last_name="Uddin", emails=["rahim@example.com"],
                        phones=["01712-345678"], company=company, job_title="Buyer")


def url(name, *args):
    return reverse(f"contacts:{name}", args=args)


def others(world):
    return [getattr(world, name) for name in NOBODY_ELSE]


def log(contact, user, n=1, kind="call", **fields):
    for i in range(n):
        services.log_activity(by=user, contact=contact, kind=kind, subject=fields.get("subject", f"{kind} {i}"),
                              body=fields.get("body", "details"))


# --- Visibility ---------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["contact", "contact_edit", "contact_timeline", "contact_history", "contact_tags",
                                  "contact_social"])
def test_contact_pages_are_visible_exactly_to_those_who_see_the_contact(world, client_for, contact, name):
    assert_visibility(world, client_for, url(name, contact.pk))


@pytest.mark.parametrize("name", ["company", "company_edit", "company_timeline", "company_history"])
def test_company_pages_are_visible_exactly_to_those_who_see_the_company(world, client_for, company, name):
    assert_visibility(world, client_for, url(name, company.pk))


def test_merge_page_is_for_managers_of_the_team_and_admins(world, client_for, contact):
    expected = expected_outcomes(world, sees={"manager1", "admin"})
    expected["rep_a"] = expected["rep_b"] = {403}  # they see the contact but may not merge
    for who, user in world.principals().items():
        assert client_for(user).get(url("contact_merge", contact.pk)).status_code in expected[who], who


@pytest.mark.parametrize("name, data", [
    ("contact_timeline", {"kind": "note", "body": "Hidden?"}),
    ("contact_tags", {"name": "Leaked"}),
    ("contact_social", {"platform": "facebook", "handle": "rahim"}),
    ("contact_edit", {"section": "notes", "notes": "changed"}),
    ("contact_delete", {}),
    ("contact_merge", {"duplicate": "1"}),
])
def test_contact_writes_are_404_for_those_who_cannot_see_it(world, client_for, contact, name, data):
    before = Contact.objects.get(pk=contact.pk)
    for user in others(world):
        assert client_for(user).post(url(name, contact.pk), data).status_code == 404
    after = Contact.objects.get(pk=contact.pk)
    assert (after.notes, after.updated_at) == (before.notes, before.updated_at)
    assert not Interaction.objects.filter(contact=contact).exists()
    assert not Tag.objects.filter(name="Leaked").exists() and not SocialProfile.objects.exists()


def test_company_writes_are_404_for_those_who_cannot_see_it(world, client_for, company):
    for user in others(world):
        client = client_for(user)
        assert client.post(url("company_timeline", company.pk), {"kind": "note", "body": "x"}).status_code == 404
        assert client.post(url("company_edit", company.pk), {"section": "notes", "notes": "x"}).status_code == 404
        assert client.post(url("company_delete", company.pk)).status_code == 404
    company.refresh_from_db()
    assert company.notes == "" and not company.is_deleted and not Interaction.objects.exists()


def test_removing_an_entry_or_profile_is_404_for_those_who_cannot_see_it(world, client_for, contact):
    entry = services.log_activity(by=world.rep_a, contact=contact, kind="note", body="mine")
    profile = services.add_social_profile(by=world.rep_a, contact=contact, platform="facebook", handle="rahim")
    for user in others(world):
        assert client_for(user).post(url("interaction_delete", entry.pk)).status_code == 404
        assert client_for(user).post(url("social_delete", profile.pk)).status_code == 404
    assert Interaction.objects.filter(pk=entry.pk).exists() and SocialProfile.objects.filter(pk=profile.pk).exists()


def test_teammate_may_not_delete_a_contact_they_see(world, client_for, contact):
    assert client_for(world.rep_b).post(url("contact_delete", contact.pk)).status_code == 403
    assert Contact.objects.filter(pk=contact.pk).exists()


def test_contact_pages_are_404_under_private_sharing_for_teammates(world, client_for, contact):
    OrgSettings.objects.filter(pk=1).update(sharing_default=Sharing.PRIVATE)
    assert client_for(world.rep_b).get(url("contact", contact.pk)).status_code == 404
    assert client_for(world.rep_a).get(url("contact", contact.pk)).status_code == 200


def test_a_trashed_contact_is_404_on_its_pages(world, client_for, contact):
    services.delete_contact(by=world.rep_a, contact=contact)
    client = client_for(world.rep_a)
    for name in ("contact", "contact_edit", "contact_timeline", "contact_history"):
        assert client.get(url(name, contact.pk)).status_code == 404


# --- The contact page -----------------------------------------------------------------------------


def test_contact_page_shows_header_reach_and_empty_slots(world, client_for, contact):
    page = client_for(world.rep_a).get(url("contact", contact.pk)).content.decode()
    assert "Rahim Uddin" in page and 'href="mailto:rahim@example.com"' in page
    assert 'href="tel:+8801712345678"' in page and "01712-345678" in page
    assert f'href="{url("company", contact.company_id)}"' in page
    assert 'id="score-slot"' in page
    for panel in ("deals-panel", "tickets-panel", "orders-panel", "tasks-panel"):
        assert f'id="{panel}"' in page
    # The panels of apps above contacts load themselves (htmx) from those apps' URLs.
    for name in ("sales:contact_deals", "sales:contact_orders", "sales:contact_tasks", "sales:contact_score"):
        assert f'hx-get="{reverse(name, args=[contact.pk])}"' in page


def test_do_not_contact_shows_a_warning_badge(world, client_for, contact):
    services.update_contact(by=world.rep_a, contact=contact, do_not_contact=True)
    page = client_for(world.rep_a).get(url("contact", contact.pk)).content.decode()
    assert 'class="badge badge-danger" role="note">Do not contact' in page


def test_consent_shows_when_and_how_it_was_recorded(world, client_for, contact):
    services.set_consent(by=world.rep_a, contact=contact, channel="sms", granted=True, source="Dhaka fair sign-up")
    page = client_for(world.rep_a).get(url("contact", contact.pk)).content.decode()
    assert "Dhaka fair sign-up" in page and "Opted in" in page


def test_actions_follow_the_users_rights(world, client_for, contact):
    owner_page = client_for(world.rep_a).get(url("contact", contact.pk)).content.decode()
    teammate_page = client_for(world.rep_b).get(url("contact", contact.pk)).content.decode()
    manager_page = client_for(world.manager1).get(url("contact", contact.pk)).content.decode()
    assert url("contact_delete", contact.pk) in owner_page and url("contact_delete", contact.pk) not in teammate_page
    assert url("contact_merge", contact.pk) in manager_page and url("contact_merge", contact.pk) not in owner_page
    assert url("contact_vcard", contact.pk) in teammate_page


def test_contact_page_runs_a_fixed_number_of_queries(world, client_for, contact, django_assert_num_queries):
    client = client_for(world.rep_a)
    log(contact, world.rep_a, 3)
    services.add_tags(by=world.rep_a, obj=contact, tags=["VIP"])
    client.get(url("contact", contact.pk))  # warm the session
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as few:
        assert client.get(url("contact", contact.pk)).status_code == 200
    log(contact, world.rep_a, 30)
    services.add_tags(by=world.rep_a, obj=contact, tags=["Wholesale", "Eid"])
    services.add_social_profile(by=world.rep_a, contact=contact, platform="facebook", handle="rahim")
    services.add_social_profile(by=world.rep_a, contact=contact, platform="x", handle="rahim")
    assert len(few) == 12  # pinned
    with django_assert_num_queries(len(few)):
        assert client.get(url("contact", contact.pk)).status_code == 200


def test_contact_page_renders_in_bengali(world, client_for, contact):
    world.rep_a.language = "bn"
    world.rep_a.save(update_fields=["language"])
    log(contact, world.rep_a, 2)
    response = client_for(world.rep_a).get(url("contact", contact.pk))
    assert response.status_code == 200
    assert '<html lang="bn">' in response.content.decode()


def test_company_page_renders_in_bengali(world, client_for, company):
    with translation.override("bn"):
        world.rep_a.language = "bn"
        world.rep_a.save(update_fields=["language"])
        response = client_for(world.rep_a).get(url("company", company.pk))
    assert response.status_code == 200 and '<html lang="bn">' in response.content.decode()


# --- Inline edit ----------------------------------------------------------------------------------


def test_edit_button_swaps_in_the_sections_form(world, client_for, contact):
    response = client_for(world.rep_a).get(url("contact_edit", contact.pk) + "?section=demographics", headers=HX)
    page = response.content.decode()
    assert response.status_code == 200 and page.startswith("<form") and 'id="section-demographics"' in page
    assert 'name="city"' in page and 'name="first_name"' not in page


def test_edit_without_htmx_is_the_full_edit_page(world, client_for, contact):
    page = client_for(world.rep_a).get(url("contact_edit", contact.pk) + "?section=details").content.decode()
    assert "<html" in page and 'name="city"' in page and 'name="first_name"' in page


def test_inline_save_swaps_back_the_read_view_and_updates_the_header(world, client_for, contact):
    response = client_for(world.rep_a).post(url("contact_edit", contact.pk) + "?section=details", {
        "section": "details", "first_name": "Rahim", "last_name": "Chowdhury", "company": "Padma Traders",
        "job_title": "Head buyer", "lifecycle_stage": "customer", "source": "referral",
        "emails": ["rahim@example.com"], "phones": ["01712-345678"], "phone_kinds": ["mobile"],
    }, headers=HX)
    page = response.content.decode()
    assert response.status_code == 200 and page.startswith('<section class="panel-section" id="section-details"')
    assert "Head buyer" in page and 'id="contact-header" hx-swap-oob="true"' in page
    contact.refresh_from_db()
    assert (contact.last_name, contact.job_title, contact.lifecycle_stage) == ("Chowdhury", "Head buyer", "customer")


def test_inline_save_shows_errors_in_place_and_changes_nothing(world, client_for, contact):
    response = client_for(world.rep_a).post(url("contact_edit", contact.pk) + "?section=details", {
        "section": "details", "first_name": "Changed", "lifecycle_stage": "lead", "source": "manual",
        "emails": ["not an email"], "phones": [""], "phone_kinds": ["mobile"],
    }, headers=HX)
    page = response.content.decode()
    assert response.status_code == 400 and page.startswith("<form")
    assert "is not an email address" in page and 'value="not an email"' in page
    contact.refresh_from_db()
    assert contact.first_name == "Rahim" and contact.email == "rahim@example.com"


def test_phones_in_any_format_are_stored_normalised_and_shown_nationally(world, client_for, contact):
    client = client_for(world.rep_a)
    response = client.post(url("contact_edit", contact.pk) + "?section=details", {
        "section": "details", "first_name": "Rahim", "lifecycle_stage": "lead", "source": "manual",
        "emails": ["rahim@example.com", "RAHIM@work.example.com", ""],
        "phones": ["০১৮১২-৩৪৫৬৭৮", "+880 1712 345678", ""], "phone_kinds": ["work", "mobile", "mobile"],
    }, headers=HX)
    assert response.status_code == 200
    assert list(contact.phones.values_list("number", "kind", "is_primary")) == [
        ("+8801812345678", "work", True), ("+8801712345678", "mobile", False)]
    assert list(contact.emails.values_list("email", flat=True)) == ["rahim@example.com", "rahim@work.example.com"]
    assert "01812-345678" in response.content.decode()


def test_a_duplicate_email_is_refused_with_a_save_anyway_choice(world, client_for, contact):
    make_contact(world.rep_b, first_name="Other", emails=["shared@example.com"])
    client = client_for(world.rep_a)
    data = {"section": "details", "first_name": "Rahim", "lifecycle_stage": "lead", "source": "manual",
            "emails": ["shared@example.com"], "phones": [""], "phone_kinds": ["mobile"]}
    response = client.post(url("contact_edit", contact.pk) + "?section=details", data, headers=HX)
    assert response.status_code == 400
    assert "already exists: Other" in response.content.decode() and 'name="allow_duplicate"' in response.content.decode()
    assert contact.emails.get().email == "rahim@example.com"
    response = client.post(url("contact_edit", contact.pk) + "?section=details", {**data, "allow_duplicate": "on"},
                           headers=HX)
    assert response.status_code == 200 and contact.emails.get().email == "shared@example.com"


def test_editing_other_fields_of_a_known_duplicate_does_not_ask_again(world, client_for, contact):
    make_contact(world.rep_b, first_name="Twin", emails=["rahim@example.com"])
    response = client_for(world.rep_a).post(url("contact_edit", contact.pk) + "?section=details", {
        "section": "details", "first_name": "Rahim", "job_title": "Owner", "lifecycle_stage": "lead",
        "source": "manual", "emails": ["rahim@example.com"], "phones": ["01712345678"], "phone_kinds": ["mobile"],
    }, headers=HX)
    assert response.status_code == 200
    contact.refresh_from_db()
    assert contact.job_title == "Owner"


def test_saving_details_keeps_a_company_the_editor_cannot_see(world, client_for):
    elsewhere = make_company(world.rep_c, name="Karnaphuli Exports")
    contact = services.create_contact(by=world.admin, owner=world.rep_a, first_name="Rahim", company=elsewhere)
    response = client_for(world.rep_a).post(url("contact_edit", contact.pk) + "?section=details", {
        "section": "details", "first_name": "Rahim", "job_title": "Agent", "company": "Karnaphuli Exports",
        "lifecycle_stage": "lead", "source": "manual", "emails": [""], "phones": [""], "phone_kinds": ["mobile"],
    }, headers=HX)
    assert response.status_code == 200
    contact.refresh_from_db()
    assert (contact.job_title, contact.company) == ("Agent", elsewhere)


def test_consent_section_records_the_source_only_when_the_choice_changes(world, client_for, contact):
    client = client_for(world.rep_a)
    edit = url("contact_edit", contact.pk) + "?section=consent"
    client.post(edit, {"section": "consent", "email_opt_in": "on", "email_opt_in_source": "Website form"}, headers=HX)
    contact.refresh_from_db()
    recorded = contact.email_opt_in_at
    assert contact.email_opt_in and contact.email_opt_in_source == "Website form" and recorded is not None
    client.post(edit, {"section": "consent", "email_opt_in": "on", "do_not_contact": "on"}, headers=HX)
    contact.refresh_from_db()
    assert contact.do_not_contact and contact.email_opt_in_at == recorded and not contact.sms_opt_in_at


def test_full_edit_page_saves_and_redirects(world, client_for, contact):
    response = client_for(world.rep_a).post(url("contact_edit", contact.pk), {
        "first_name": "Rahim", "last_name": "Uddin", "lifecycle_stage": "opportunity", "source": "manual",
        "emails": ["rahim@example.com"], "phones": ["01712-345678"], "phone_kinds": ["mobile"],
        "city": "Sylhet", "project_budget": "150000.50", "project_start": "2027-01-15", "country": "BD",
    })
    assert response.status_code == 302 and response["Location"] == url("contact", contact.pk)
    contact.refresh_from_db()
    assert contact.city == "Sylhet" and str(contact.project_budget) == "150000.50"
    assert contact.company is None  # the field was left empty on the full form


def test_full_edit_page_shows_errors_with_400(world, client_for, contact):
    response = client_for(world.rep_a).post(url("contact_edit", contact.pk), {
        "first_name": "Rahim", "lifecycle_stage": "nonsense", "source": "manual", "project_budget": "lots"})
    assert response.status_code == 400 and response.content.count(b'class="field-error"') == 2


def test_agent_cannot_reach_the_edit_form(world, client_for, contact):
    # Support agents see no sales records today; a visible record they may not change would be 403.
    assert client_for(world.agent1).get(url("contact_edit", contact.pk)).status_code == 404


def test_owner_transfers_to_a_teammate(world, client_for, contact):
    response = client_for(world.rep_a).post(url("contact_edit", contact.pk) + "?section=owner",
                                            {"section": "owner", "owner": world.rep_b.pk})
    assert response.status_code == 302
    contact.refresh_from_db()
    assert contact.owner == world.rep_b


def test_transfer_to_someone_outside_the_choices_is_refused(world, client_for, contact):
    response = client_for(world.rep_a).post(url("contact_edit", contact.pk), {"section": "owner", "owner": world.rep_c.pk})
    assert response.status_code == 400 and b'class="field-error"' in response.content
    contact.refresh_from_db()
    assert contact.owner == world.rep_a


def test_teammate_may_not_transfer(world, client_for, contact):
    response = client_for(world.rep_b).post(url("contact_edit", contact.pk), {"section": "owner", "owner": world.rep_b.pk})
    assert response.status_code == 403


# --- Timeline -------------------------------------------------------------------------------------


def test_logging_a_call_returns_the_new_entry_and_a_fresh_form(world, client_for, contact):
    response = client_for(world.rep_a).post(url("contact_timeline", contact.pk), {
        "kind": "call", "direction": "out", "subject": "Price for 200 saris", "outcome": "Sends PO Monday"},
        headers=HX)
    page = response.content.decode()
    assert response.status_code == 200 and page.lstrip().startswith('<li class="entry entry-call"')
    assert "Price for 200 saris" in page and 'id="activity-form"' in page and 'hx-swap-oob="true"' in page
    entry = Interaction.objects.get(contact=contact)
    assert (entry.author, entry.kind, entry.direction, entry.company) == (world.rep_a, "call", "out", contact.company)


def test_logging_takes_the_time_in_the_users_time_zone(world, client_for, contact):
    world.rep_a.time_zone = "Asia/Dhaka"
    world.rep_a.save(update_fields=["time_zone"])
    client_for(world.rep_a).post(url("contact_timeline", contact.pk), {
        "kind": "meeting", "subject": "Visit", "occurred_at": "2026-03-01T10:30"}, headers=HX)
    entry = Interaction.objects.get(contact=contact)
    assert entry.occurred_at.isoformat() == "2026-03-01T04:30:00+00:00"


def test_a_note_without_text_is_refused_in_place(world, client_for, contact):
    response = client_for(world.rep_a).post(url("contact_timeline", contact.pk), {"kind": "note", "body": " "},
                                            headers=HX)
    assert response.status_code == 400 and response["HX-Retarget"] == "#activity-form"
    assert "Write the note." in response.content.decode()
    assert not Interaction.objects.exists()


def test_logging_without_htmx_redirects_to_the_contact(world, client_for, contact):
    response = client_for(world.rep_a).post(url("contact_timeline", contact.pk), {"kind": "note", "body": "Met at fair"})
    assert response.status_code == 302 and response["Location"] == url("contact", contact.pk)


def test_logging_in_the_future_is_refused_on_the_page(world, client_for, contact):
    later = (timezone.localtime() + timedelta(days=2)).strftime("%Y-%m-%dT%H:%M")
    response = client_for(world.rep_a).post(url("contact_timeline", contact.pk), {
        "kind": "call", "subject": "Follow up", "occurred_at": later})
    assert response.status_code == 400 and "plan future work as a task" in response.content.decode()


def test_timeline_filter_shows_one_kind(world, client_for, contact):
    log(contact, world.rep_a, kind="call", subject="Rang about invoice")
    log(contact, world.rep_a, kind="note", subject="", body="Prefers Bangla")
    page = client_for(world.rep_a).get(url("contact_timeline", contact.pk) + "?kind=call", headers=HX).content.decode()
    assert page.startswith('<div id="timeline-list">') and "Rang about invoice" in page and "Prefers Bangla" not in page


def test_timeline_is_newest_first_and_pages_by_keyset(world, client_for, contact):
    now = timezone.now()
    for i in range(30):
        services.record_interaction(kind="web_visit", contact=contact, subject=f"visit {i:02d}",
                                    occurred_at=now - timedelta(minutes=30 - i))
    client = client_for(world.rep_a)
    first = client.get(url("contact_timeline", contact.pk), headers=HX).content.decode()
    assert first.index("visit 29") < first.index("visit 05") and "visit 04" not in first
    cursor = first.split("before=")[1].split('"')[0]
    second = client.get(url("contact_timeline", contact.pk) + f"?before={cursor}", headers=HX).content.decode()
    assert "visit 04" in second and "visit 00" in second and "visit 05" not in second and "before=" not in second


def test_paging_does_not_skip_entries_that_share_a_time(world, client_for, contact):
    at = timezone.now() - timedelta(hours=1)
    for i in range(27):
        services.record_interaction(kind="purchase", contact=contact, subject=f"order {i:02d}", occurred_at=at)
    client = client_for(world.rep_a)
    first = client.get(url("contact_timeline", contact.pk), headers=HX).content.decode()
    cursor = first.split("before=")[1].split('"')[0]
    second = client.get(url("contact_timeline", contact.pk) + f"?before={cursor}", headers=HX).content.decode()
    shown = [f"order {i:02d}" for i in range(27) if f"order {i:02d}<" in first + second]
    assert len(shown) == 27


def test_older_entries_without_htmx_is_the_page(world, client_for, contact):
    log(contact, world.rep_a, 26)
    client = client_for(world.rep_a)
    first = client.get(url("contact", contact.pk)).content.decode()
    cursor = first.split("before=")[1].split('"')[0]
    page = client.get(url("contact_timeline", contact.pk) + f"?before={cursor}").content.decode()
    assert "<html" in page and "call 0<" in page and "Newest entries" in page


@pytest.mark.parametrize("query", ["", "?kind=call"])
def test_timeline_partial_runs_a_fixed_number_of_queries(world, client_for, contact, django_assert_num_queries, query):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = client_for(world.rep_a)
    log(contact, world.rep_a, 3)
    client.get(url("contact_timeline", contact.pk) + query, headers=HX)
    with CaptureQueriesContext(connection) as few:
        client.get(url("contact_timeline", contact.pk) + query, headers=HX)
    log(contact, world.rep_b, 30)
    assert len(few) == 5  # pinned
    with django_assert_num_queries(len(few)):
        response = client.get(url("contact_timeline", contact.pk) + query, headers=HX)
    assert response.content.decode().count('<li class="entry') == 25


def test_deal_and_ticket_events_show_their_link_label(world, client_for, contact):
    services.record_interaction(kind="deal_event", contact=contact, link_type="deal", link_id=7,
                                link_label="Deal: 200 saris — won")
    page = client_for(world.rep_a).get(url("contact", contact.pk)).content.decode()
    assert "Deal: 200 saris — won" in page


def test_author_removes_their_entry_in_place(world, client_for, contact):
    entry = services.log_activity(by=world.rep_b, contact=contact, kind="note", body="typo")
    response = client_for(world.rep_b).post(url("interaction_delete", entry.pk), headers=HX)
    assert response.status_code == 200 and response.content == b""
    assert not Interaction.objects.filter(pk=entry.pk).exists()


def test_system_entries_cannot_be_removed(world, client_for, contact):
    entry = services.record_interaction(kind="purchase", contact=contact, subject="Order #12")
    page = client_for(world.rep_a).get(url("contact", contact.pk)).content.decode()
    assert url("interaction_delete", entry.pk) not in page
    assert client_for(world.rep_a).post(url("interaction_delete", entry.pk)).status_code == 403
    assert Interaction.objects.filter(pk=entry.pk).exists()


# --- Tags and social profiles -----------------------------------------------------------------------


def test_adding_a_tag_creates_it_and_redraws_the_panel(world, client_for, contact):
    response = client_for(world.rep_a).post(url("contact_tags", contact.pk), {"name": "  Eid   buyer "}, headers=HX)
    assert response.status_code == 200 and 'id="tags-panel"' in response.content.decode()
    assert "Eid buyer" in response.content.decode()
    assert list(contact.tags.values_list("name", flat=True)) == ["Eid buyer"]


def test_adding_an_existing_tag_reuses_it_whatever_the_case(world, client_for, contact):
    tag = services.get_or_create_tag("Wholesale")
    client_for(world.rep_a).post(url("contact_tags", contact.pk), {"name": "WHOLESALE"}, headers=HX)
    assert list(contact.tags.all()) == [tag] and Tag.objects.count() == 1


def test_removing_a_tag(world, client_for, contact):
    services.add_tags(by=world.rep_a, obj=contact, tags=["VIP", "Eid"])
    vip = Tag.objects.get(name="VIP")
    response = client_for(world.rep_a).post(url("contact_tags", contact.pk), {"remove": vip.pk}, headers=HX)
    assert response.status_code == 200
    assert list(contact.tags.values_list("name", flat=True)) == ["Eid"]


def test_a_bad_tag_name_is_refused_in_place(world, client_for, contact):
    response = client_for(world.rep_a).post(url("contact_tags", contact.pk), {"name": "x" * 61}, headers=HX)
    assert response.status_code == 400 and b'class="field-error"' in response.content
    assert not Tag.objects.exists()


def test_tag_colours_are_drawn_with_palette_classes(world, client_for, contact):
    services.save_tag(by=world.manager1, name="Hot", colour="#e11d48")
    services.add_tags(by=world.rep_a, obj=contact, tags=["Hot"])
    page = client_for(world.rep_a).get(url("contact", contact.pk)).content.decode()
    assert 'class="tag tag-red"' in page and "style=" not in page


def test_linking_a_profile_adds_interests_as_social_tags(world, client_for, contact):
    response = client_for(world.rep_a).post(url("contact_social", contact.pk), {
        "platform": "instagram", "handle": "@rahim.style", "url": "instagram.com/rahim.style", "followers": "1200",
        "interests": "Fashion, Cricket"}, headers=HX)
    page = response.content.decode()
    assert response.status_code == 200 and "rahim.style" in page
    assert 'id="tags-panel" aria-labelledby="tags-title" hx-swap-oob="true"' in page and ">social<" in page
    assert set(ContactTag.objects.filter(contact=contact).values_list("tag__name", "source")) == {
        ("Fashion", TagSource.SOCIAL), ("Cricket", TagSource.SOCIAL)}


def test_a_profile_without_handle_or_link_is_refused_in_place(world, client_for, contact):
    response = client_for(world.rep_a).post(url("contact_social", contact.pk), {"platform": "facebook"}, headers=HX)
    assert response.status_code == 400 and "Give a handle or a link." in response.content.decode()
    assert not SocialProfile.objects.exists()


def test_removing_a_profile(world, client_for, contact):
    profile = services.add_social_profile(by=world.rep_a, contact=contact, platform="linkedin", handle="rahim-uddin")
    response = client_for(world.rep_a).post(url("social_delete", profile.pk), headers=HX)
    assert response.status_code == 200 and "rahim-uddin" not in response.content.decode()
    assert not SocialProfile.objects.exists()


# --- Delete, history, merge ---------------------------------------------------------------------------


def test_owner_moves_the_contact_to_the_trash(world, client_for, contact):
    client = client_for(world.rep_a)
    response = client.post(url("contact_delete", contact.pk))
    assert response.status_code == 302 and response["Location"] == url("index")
    assert Contact.all_objects.get(pk=contact.pk).is_deleted
    assert client.get(url("contact", contact.pk)).status_code == 404


def test_history_tab_shows_the_contacts_changes(world, client_for, contact):
    client = client_for(world.rep_a)
    client.post(url("contact_edit", contact.pk) + "?section=notes", {"section": "notes", "notes": "Likes tea"},
                headers=HX)
    fragment = client.get(url("contact_history", contact.pk), headers=HX).content.decode()
    assert fragment.lstrip().startswith('<section class="card history"') and "Likes tea" in fragment
    page = client.get(url("contact_history", contact.pk)).content.decode()
    assert "<html" in page and "Likes tea" in page and 'class="tab active" href="' + url("contact_history", contact.pk) in page


def test_merge_search_finds_the_duplicate_by_phone_in_any_format(world, client_for, contact):
    twin = make_contact(world.rep_b, first_name="Rahim", last_name="U.", phones=["+880 1712-345678"])
    make_contact(world.rep_c, first_name="Rahim", phones=["01712345678"])  # another team's: not offered
    page = client_for(world.manager1).get(url("contact_merge", contact.pk) + "?q=০১৭১২ ৩৪৫৬৭৮").content.decode()
    assert f"?duplicate={twin.pk}" in page and page.count("?duplicate=") == 1


def test_merge_preview_shows_both_side_by_side(world, client_for, contact):
    twin = make_contact(world.rep_b, first_name="Rahim", emails=["r.uddin@example.com"])
    page = client_for(world.manager1).get(url("contact_merge", contact.pk) + f"?duplicate={twin.pk}").content.decode()
    assert "rahim@example.com" in page and "r.uddin@example.com" in page
    assert page.count('name="keep"') == 2 and f'name="duplicate" value="{twin.pk}"' in page


def test_merging_keeps_everything_and_shows_the_primary(world, client_for, contact):
    twin = make_contact(world.rep_b, first_name="Rahim", emails=["r.uddin@example.com"], city="Khulna")
    services.log_activity(by=world.rep_b, contact=twin, kind="note", body="From the twin")
    response = client_for(world.manager1).post(url("contact_merge", contact.pk), {"duplicate": twin.pk})
    assert response.status_code == 302 and response["Location"] == url("contact", contact.pk)
    contact.refresh_from_db()
    assert contact.city == "Khulna" and not Contact.all_objects.filter(pk=twin.pk).exists()
    assert set(contact.emails.values_list("email", flat=True)) == {"rahim@example.com", "r.uddin@example.com"}
    assert contact.interactions.filter(body="From the twin").exists()


def test_merging_can_keep_the_other_record(world, client_for, contact):
    twin = make_contact(world.rep_b, first_name="Rahim")
    response = client_for(world.manager1).post(url("contact_merge", contact.pk), {"duplicate": twin.pk, "keep": twin.pk})
    assert response["Location"] == url("contact", twin.pk)
    assert not Contact.all_objects.filter(pk=contact.pk).exists()


def test_merging_with_a_contact_one_cannot_see_is_refused(world, client_for, contact):
    stranger = make_contact(world.rep_c, first_name="Stranger")
    response = client_for(world.manager1).post(url("contact_merge", contact.pk), {"duplicate": stranger.pk})
    assert response.status_code == 400
    assert Contact.objects.filter(pk=stranger.pk).exists()


# --- Create pages and quick create ----------------------------------------------------------------


def test_create_page_makes_a_contact_with_everything_given(world, client_for, company):
    response = client_for(world.rep_a).post(url("contact_create"), {
        "first_name": "সালমা", "last_name": "খাতুন", "company": "Padma Traders (padma.com.bd)",
        "lifecycle_stage": "lead", "source": "web_form", "emails": ["Salma@Example.com", ""],
        "phones": ["01911-223344", ""], "phone_kinds": ["whatsapp", "mobile"], "country": "BD",
        "email_opt_in": "on", "email_opt_in_source": "Newsletter form", "tags": "Eid, Wholesale",
    })
    contact = Contact.objects.get(first_name="সালমা")
    assert response.status_code == 302 and response["Location"] == url("contact", contact.pk)
    assert (contact.company, contact.email, contact.phone) == (company, "salma@example.com", "+8801911223344")
    assert contact.email_opt_in and contact.email_opt_in_source == "Newsletter form"
    assert set(contact.tags.values_list("name", flat=True)) == {"Eid", "Wholesale"}


def test_company_picker_only_offers_and_accepts_visible_companies(world, client_for):
    make_company(world.rep_c, name="Karnaphuli Exports")
    client = client_for(world.rep_a)
    assert "Karnaphuli Exports" not in client.get(url("contact_create")).content.decode()
    response = client.post(url("contact_create"), {"first_name": "Sadia", "company": "Karnaphuli Exports",
                                                   "lifecycle_stage": "lead", "source": "manual"})
    assert response.status_code == 400 and "No company you can see is called" in response.content.decode()
    assert not Contact.objects.filter(first_name="Sadia").exists()


def test_create_page_prefills_the_company_from_the_company_page(world, client_for, company):
    page = client_for(world.rep_a).get(url("contact_create") + f"?company={company.pk}").content.decode()
    assert 'value="Padma Traders (padma.com.bd)"' in page


def test_manager_creates_a_contact_for_someone_in_their_team(world, client_for):
    client_for(world.manager1).post(url("contact_create"), {
        "first_name": "Delegated", "lifecycle_stage": "lead", "source": "manual", "owner": world.rep_b.pk})
    assert Contact.objects.get(first_name="Delegated").owner == world.rep_b


def test_company_create_page_and_duplicate_website(world, client_for, company):
    client = client_for(world.rep_a)
    response = client.post(url("company_create"), {"name": "Meghna Foods", "website": "meghna.com.bd", "country": "BD"})
    created = Company.objects.get(name="Meghna Foods")
    assert response.status_code == 302 and response["Location"] == url("company", created.pk)
    response = client.post(url("company_create"), {"name": "Padma Copy", "website": "http://padma.com.bd/about"})
    assert response.status_code == 400 and "already has this website" in response.content.decode()


@pytest.mark.parametrize("name", ["contact_create", "company_create"])
def test_support_agents_cannot_create(world, client_for, name):
    assert client_for(world.agent1).get(url(name)).status_code == 403
    assert client_for(world.agent1).post(url(name), {"first_name": "x", "name": "x"}).status_code == 403


@pytest.mark.parametrize("kind", ["contact", "company"])
def test_quick_create_returns_a_dialog_fragment(world, client_for, kind):
    response = client_for(world.rep_a).get(url("quick_create") + f"?kind={kind}", headers=HX)
    page = response.content.decode()
    assert response.status_code == 200 and page.startswith("<dialog") and f'name="kind" value="{kind}"' in page


@pytest.mark.parametrize("kind, target", [("contact", "contact_create"), ("company", "company_create")])
def test_quick_create_without_htmx_goes_to_the_full_page(world, client_for, kind, target):
    response = client_for(world.rep_a).get(url("quick_create") + f"?kind={kind}")
    assert response.status_code == 302 and response["Location"] == url(target)


def test_quick_create_contact_redirects_htmx_to_the_new_record(world, client_for):
    response = client_for(world.rep_a).post(url("quick_create"), {
        "kind": "contact", "first_name": "Nadia", "emails": ["nadia@example.com"], "phones": ["01555-000111"],
        "phone_kinds": ["mobile"]}, headers=HX)
    contact = Contact.objects.get(first_name="Nadia")
    assert response.status_code == 200 and response["HX-Redirect"] == url("contact", contact.pk)
    assert contact.phone == "+8801555000111" and contact.owner == world.rep_a


def test_quick_create_company_redirects_htmx_to_the_new_record(world, client_for):
    response = client_for(world.rep_a).post(url("quick_create"), {"kind": "company", "name": "Jamuna Tex"}, headers=HX)
    company = Company.objects.get(name="Jamuna Tex")
    assert response["HX-Redirect"] == url("company", company.pk)


@pytest.mark.parametrize("kind", ["contact", "company"])
def test_quick_create_errors_rerender_the_fragment(world, client_for, kind):
    response = client_for(world.rep_a).post(url("quick_create"), {"kind": kind}, headers=HX)
    page = response.content.decode()
    assert response.status_code == 400 and page.startswith("<dialog") and 'class="field-error"' in page
    assert not Contact.objects.exists() and not Company.objects.exists()


def test_quick_create_without_htmx_redirects_or_shows_the_page(world, client_for):
    client = client_for(world.rep_a)
    response = client.post(url("quick_create"), {"kind": "contact", "first_name": "Plain"})
    assert response.status_code == 302 and response["Location"] == url("contact", Contact.objects.get().pk)
    response = client.post(url("quick_create"), {"kind": "contact", "emails": ["broken"]})
    assert response.status_code == 400 and "<html" in response.content.decode()
    assert 'name="kind" value="contact"' in response.content.decode()


def test_quick_create_is_refused_to_agents(world, client_for):
    assert client_for(world.agent1).get(url("quick_create") + "?kind=contact", headers=HX).status_code == 403


# --- Company page -------------------------------------------------------------------------------------


def test_company_page_shows_header_and_its_visible_people(world, client_for, company, contact):
    hidden = services.create_contact(by=world.admin, owner=world.rep_c, first_name="Hidden", company=company)
    page = client_for(world.rep_a).get(url("company", company.pk)).content.decode()
    assert 'href="https://padma.com.bd"' in page and "Retail" in page and "Dhaka" in page
    assert f'href="{url("contact", contact.pk)}"' in page and f'href="{url("contact", hidden.pk)}"' not in page
    assert 'id="deals-panel"' in page


def test_company_timeline_rolls_up_its_peoples_visible_entries(world, client_for, company, contact):
    hidden = services.create_contact(by=world.admin, owner=world.rep_c, first_name="Hidden", company=company)
    log(contact, world.rep_a, subject="Visible call")
    log(hidden, world.rep_c, subject="Other team call")
    services.log_activity(by=world.rep_a, company=company, kind="note", body="Company-wide note")
    page = client_for(world.rep_a).get(url("company_timeline", company.pk), headers=HX).content.decode()
    assert "Visible call" in page and "Company-wide note" in page and "Other team call" not in page
    assert f'href="{url("contact", contact.pk)}">Rahim Uddin</a>' in page


def test_company_timeline_runs_a_fixed_number_of_queries(world, client_for, company, contact, django_assert_num_queries):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = client_for(world.rep_a)
    log(contact, world.rep_a, 2)
    client.get(url("company_timeline", company.pk), headers=HX)
    with CaptureQueriesContext(connection) as few:
        client.get(url("company_timeline", company.pk), headers=HX)
    second = make_contact(world.rep_b, first_name="Second", company=company)
    log(second, world.rep_b, 30)
    assert len(few) == 5  # pinned
    with django_assert_num_queries(len(few)):
        client.get(url("company_timeline", company.pk), headers=HX)


def test_adding_a_note_on_the_company(world, client_for, company):
    response = client_for(world.rep_b).post(url("company_timeline", company.pk), {"kind": "note", "body": "Eid order soon"},
                                            headers=HX)
    assert response.status_code == 200 and "Eid order soon" in response.content.decode()
    entry = Interaction.objects.get()
    assert entry.company == company and entry.contact is None and entry.author == world.rep_b


def test_company_inline_edit_saves_tags_and_shows_errors(world, client_for, company):
    client = client_for(world.rep_a)
    response = client.post(url("company_edit", company.pk) + "?section=tags", {"section": "tags", "tags": "Key account, Eid"},
                           headers=HX)
    assert response.status_code == 200 and "Key account" in response.content.decode()
    assert set(company.tags.values_list("name", flat=True)) == {"Key account", "Eid"}
    response = client.post(url("company_edit", company.pk) + "?section=details", {
        "section": "details", "name": "Padma Traders", "website": "not a site", "phone": "123"}, headers=HX)
    assert response.status_code == 400 and response.content.count(b'class="field-error"') == 2
    company.refresh_from_db()
    assert company.domain == "padma.com.bd"


def test_company_inline_save_updates_the_header(world, client_for, company):
    response = client_for(world.rep_a).post(url("company_edit", company.pk) + "?section=details", {
        "section": "details", "name": "Padma Group", "website": "padma.com.bd", "industry": "Textiles"}, headers=HX)
    page = response.content.decode()
    assert response.status_code == 200 and 'id="company-header" hx-swap-oob="true"' in page and "Padma Group" in page


def test_company_owner_deletes_it_to_the_trash(world, client_for, company):
    assert client_for(world.rep_b).post(url("company_delete", company.pk)).status_code == 403
    response = client_for(world.rep_a).post(url("company_delete", company.pk))
    assert response.status_code == 302 and response["Location"] == url("companies")
    assert Company.all_objects.get(pk=company.pk).is_deleted


def test_history_tab_shows_email_and_tag_changes_of_the_contact(world, client_for):
    contact = make_contact(world.rep_a, first_name="Hist", emails=["old@example.com"])
    services.update_contact(by=world.rep_a, contact=contact, emails=["new@example.com"], tags=["Gold"])
    text = client_for(world.rep_a).get(reverse("contacts:contact_history", args=[contact.pk])).content.decode()
    assert "new@example.com" in text and "old@example.com" in text

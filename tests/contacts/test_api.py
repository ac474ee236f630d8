"""The contacts API: visibility, writes through the services, filters, timeline, merge, trash, tags, query counts."""

from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from contacts import services
from contacts.models import Company, Contact, ContactTag, Interaction, SocialProfile, Tag, TagSource
from crm import services as crm_services
from tests.factories import make_company, make_contact
from tests.visibility import assert_visibility


def send(client, method, url, data=None):
    return getattr(client, method)(url, data, content_type="application/json")


def contact_url(contact, action=None):
    return reverse(f"contact-{action or 'detail'}", args=[contact.pk])


def company_url(company, action=None):
    return reverse(f"company-{action or 'detail'}", args=[company.pk])


def result_ids(response) -> list[int]:
    assert response.status_code == 200, response.content
    return [row["id"] for row in response.json()["results"]]


# --- Visibility ---------------------------------------------------------------------------------


def test_contact_detail_visibility_for_every_role(world, client_for):
    contact = make_contact(world.rep_a)
    assert_visibility(world, client_for, contact_url(contact), api=True)


def test_company_detail_visibility_for_every_role(world, client_for):
    company = make_company(world.rep_a)
    assert_visibility(world, client_for, company_url(company), api=True)


def test_contact_timeline_visibility_for_every_role(world, client_for):
    contact = make_contact(world.rep_a)
    assert_visibility(world, client_for, contact_url(contact, "interactions"), api=True)


def test_company_timeline_visibility_for_every_role(world, client_for):
    company = make_company(world.rep_a)
    assert_visibility(world, client_for, company_url(company, "interactions"), api=True)


def test_social_profile_detail_visibility_for_every_role(world, client_for):
    profile = services.add_social_profile(by=world.rep_a, contact=make_contact(world.rep_a), platform="facebook",
                                          handle="rahim.bd")
    assert_visibility(world, client_for, reverse("socialprofile-detail", args=[profile.pk]), api=True)


def test_contact_list_shows_only_visible_contacts(world, client_for):
    mine = make_contact(world.rep_a)
    other_team = make_contact(world.rep_c)
    ids = result_ids(client_for(world.rep_b).get(reverse("contact-list")))
    assert mine.pk in ids and other_team.pk not in ids


def test_company_list_shows_only_visible_companies(world, client_for):
    mine = make_company(world.rep_a)
    other_team = make_company(world.rep_c)
    ids = result_ids(client_for(world.manager1).get(reverse("company-list")))
    assert mine.pk in ids and other_team.pk not in ids


def test_social_profile_list_shows_only_profiles_of_visible_contacts(world, client_for):
    mine = services.add_social_profile(by=world.rep_a, contact=make_contact(world.rep_a), platform="x", handle="a")
    other = services.add_social_profile(by=world.rep_c, contact=make_contact(world.rep_c), platform="x", handle="c")
    ids = result_ids(client_for(world.rep_b).get(reverse("socialprofile-list")))
    assert mine.pk in ids and other.pk not in ids


def test_invisible_contact_cannot_be_changed_or_deleted(world, client_for):
    contact = make_contact(world.rep_a, first_name="Rahim")
    client = client_for(world.rep_c)
    assert send(client, "patch", contact_url(contact), {"first_name": "X"}).status_code == 404
    assert client.delete(contact_url(contact)).status_code == 404
    assert Contact.objects.filter(pk=contact.pk, first_name="Rahim").exists()


# --- Create and update contacts -----------------------------------------------------------------


def test_create_stores_phones_in_e164_whatever_the_input_form(world, client_for):
    response = send(client_for(world.rep_a), "post", reverse("contact-list"), {
        "first_name": "রহিম",
        "phones": [{"number": "01712-345678"}, {"number": "+880 1812 345678", "kind": "work"},
                   {"number": "০১৯১২৩৪৫৬৭৮", "kind": "whatsapp"}],
    })
    assert response.status_code == 201, response.content
    data = response.json()
    assert [p["number"] for p in data["phones"]] == ["+8801712345678", "+8801812345678", "+8801912345678"]
    assert [p["kind"] for p in data["phones"]] == ["mobile", "work", "whatsapp"]
    assert data["phones"][0]["display"] == "01712-345678"
    contact = Contact.objects.get(pk=data["id"])
    assert contact.phone == "+8801712345678"
    assert sorted(contact.phones.values_list("number", flat=True)) == [
        "+8801712345678", "+8801812345678", "+8801912345678"]


def test_create_treats_national_and_international_forms_as_one_number(world, client_for):
    response = send(client_for(world.rep_a), "post", reverse("contact-list"), {
        "first_name": "Karim", "phones": [{"number": "01712-345678"}, {"number": "+880 1712 345678"}],
    })
    assert response.status_code == 201, response.content
    assert [p["number"] for p in response.json()["phones"]] == ["+8801712345678"]


def test_create_sets_owner_team_emails_tags_and_consent(world, client_for):
    response = send(client_for(world.rep_a), "post", reverse("contact-list"), {
        "first_name": "Nusrat", "emails": [" Nusrat@Example.COM ", "n2@example.com"], "tags": ["VIP", "Eid"],
        "consent": {"email": {"opt_in": True, "source": "web form"}}, "lifecycle_stage": "customer",
    })
    assert response.status_code == 201, response.content
    data = response.json()
    assert data["email"] == "nusrat@example.com"
    assert data["emails"] == ["nusrat@example.com", "n2@example.com"]
    assert sorted(data["tags"]) == ["Eid", "VIP"]
    assert (data["owner"], data["team"], data["owner_name"]) == (world.rep_a.pk, world.team1.pk, world.rep_a.full_name)
    assert data["consent"]["email"]["opt_in"] is True and data["consent"]["email"]["source"] == "web form"
    assert data["consent"]["email"]["at"] is not None and data["consent"]["sms"]["opt_in"] is False
    assert data["can_edit"] is True and data["lifecycle_stage"] == "customer"


def test_create_with_bad_phone_answers_a_field_error_and_creates_nothing(world, client_for):
    response = send(client_for(world.rep_a), "post", reverse("contact-list"),
                    {"first_name": "X", "phones": [{"number": "12"}]})
    assert response.status_code == 400
    assert "phones" in response.json()["errors"]
    assert not Contact.objects.exists()


def test_duplicate_email_is_refused_with_a_field_error_and_nothing_created(world, client_for):
    make_contact(world.rep_a, emails=["rahim@example.com"])
    response = send(client_for(world.rep_b), "post", reverse("contact-list"),
                    {"first_name": "Rahim", "emails": ["RAHIM@example.com"]})
    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["emails"]
    assert Contact.objects.count() == 1


def test_duplicate_is_created_when_the_client_allows_it(world, client_for):
    make_contact(world.rep_a, emails=["rahim@example.com"])
    response = send(client_for(world.rep_b), "post", reverse("contact-list"),
                    {"first_name": "Rahim", "emails": ["rahim@example.com"], "allow_duplicate": True})
    assert response.status_code == 201
    assert "allow_duplicate" not in response.json()
    assert Contact.objects.count() == 2


def test_company_must_be_one_the_user_can_see(world, client_for):
    hidden = make_company(world.rep_c)
    response = send(client_for(world.rep_a), "post", reverse("contact-list"), {"first_name": "X", "company": hidden.pk})
    assert response.status_code == 400
    assert "company" in response.json()["errors"]
    assert not Contact.objects.exists()


def test_update_replaces_the_emails_and_phones(world, client_for):
    contact = make_contact(world.rep_a, emails=["old@example.com", "keep@example.com"], phones=["01712345678"])
    response = send(client_for(world.rep_a), "patch", contact_url(contact), {
        "emails": ["keep@example.com", "new@example.com"], "phones": [{"number": "01812-345678", "kind": "work"}],
    })
    assert response.status_code == 200, response.content
    assert response.json()["emails"] == ["keep@example.com", "new@example.com"]
    assert sorted(contact.emails.values_list("email", flat=True)) == ["keep@example.com", "new@example.com"]
    assert list(contact.phones.values_list("number", "kind")) == [("+8801812345678", "work")]
    contact.refresh_from_db()
    assert (contact.email, contact.phone) == ("keep@example.com", "+8801812345678")


def test_update_leaves_emails_alone_when_not_given(world, client_for):
    contact = make_contact(world.rep_a, emails=["a1@example.com"])
    response = send(client_for(world.rep_a), "patch", contact_url(contact), {"job_title": "CEO"})
    assert response.status_code == 200
    assert response.json()["emails"] == ["a1@example.com"] and response.json()["job_title"] == "CEO"


def test_update_sets_the_tags_exactly(world, client_for):
    contact = make_contact(world.rep_a, tags=["VIP", "Eid"])
    response = send(client_for(world.rep_a), "patch", contact_url(contact), {"tags": ["Eid", "Puja"]})
    assert response.status_code == 200
    assert response.json()["tags"] == ["Eid", "Puja"]


def test_update_withdraws_consent_and_records_the_source(world, client_for):
    contact = make_contact(world.rep_a, consent={"sms": (True, "shop counter")})
    response = send(client_for(world.rep_a), "patch", contact_url(contact),
                    {"consent": {"sms": {"opt_in": False, "source": "replied STOP"}}})
    assert response.status_code == 200
    contact.refresh_from_db()
    assert (contact.sms_opt_in, contact.sms_opt_in_source) == (False, "replied STOP")


def test_unknown_consent_channel_is_a_field_error(world, client_for):
    contact = make_contact(world.rep_a)
    response = send(client_for(world.rep_a), "patch", contact_url(contact), {"consent": {"pigeon": {"opt_in": True}}})
    assert response.status_code == 400
    assert "consent" in response.json()["errors"]


def test_consent_without_opt_in_is_a_field_error(world, client_for):
    contact = make_contact(world.rep_a)
    response = send(client_for(world.rep_a), "patch", contact_url(contact), {"consent": {"email": {"source": "x"}}})
    assert response.status_code == 400
    assert "consent" in response.json()["errors"]


def test_phone_without_a_number_is_a_field_error(world, client_for):
    contact = make_contact(world.rep_a, phones=["01712345678"])
    response = send(client_for(world.rep_a), "patch", contact_url(contact), {"phones": [{"kind": "work"}]})
    assert response.status_code == 400
    assert "phones" in response.json()["errors"]
    assert contact.phones.get().number == "+8801712345678"


def test_update_with_a_duplicate_phone_changes_nothing(world, client_for):
    make_contact(world.rep_a, phones=["01712345678"])
    contact = make_contact(world.rep_a, first_name="Before", phones=["01812345678"])
    response = send(client_for(world.rep_a), "patch", contact_url(contact),
                    {"first_name": "After", "phones": [{"number": "+8801712345678"}]})
    assert response.status_code == 400
    assert "phones" in response.json()["errors"]
    contact.refresh_from_db()
    assert (contact.first_name, contact.phone) == ("Before", "+8801812345678")


def test_putting_back_what_was_read_changes_nothing(world, client_for):
    company = make_company(world.rep_a)
    contact = make_contact(world.rep_a, company=company, emails=["r@example.com"], phones=["01712345678"],
                           tags=["VIP"], consent={"email": (True, "web form")}, birth_date="1990-04-14")
    client = client_for(world.rep_a)
    before = client.get(contact_url(contact)).json()
    response = send(client, "put", contact_url(contact), before)
    assert response.status_code == 200, response.content
    after = response.json()
    assert {k: v for k, v in after.items() if k != "updated_at"} == {k: v for k, v in before.items() if k != "updated_at"}


def test_teammate_may_edit_but_not_transfer(world, client_for):
    contact = make_contact(world.rep_a, first_name="Rahim")
    response = send(client_for(world.rep_b), "patch", contact_url(contact),
                    {"first_name": "Rahim Uddin", "owner": world.rep_b.pk})
    assert response.status_code == 403
    contact.refresh_from_db()
    assert (contact.first_name, contact.owner_id) == ("Rahim", world.rep_a.pk)


def test_owner_field_transfers_the_contact(world, client_for):
    contact = make_contact(world.rep_a)
    response = send(client_for(world.manager1), "patch", contact_url(contact), {"owner": world.rep_b.pk})
    assert response.status_code == 200, response.content
    contact.refresh_from_db()
    assert contact.owner_id == world.rep_b.pk and response.json()["owner"] == world.rep_b.pk


def test_rep_cannot_transfer_outside_the_team(world, client_for):
    contact = make_contact(world.rep_a)
    response = send(client_for(world.rep_a), "patch", contact_url(contact), {"owner": world.rep_c.pk})
    assert response.status_code == 400
    assert "owner" in response.json()["errors"]
    contact.refresh_from_db()
    assert contact.owner_id == world.rep_a.pk


def test_support_agent_cannot_create_contacts(world, client_for):
    response = send(client_for(world.agent1), "post", reverse("contact-list"), {"first_name": "X"})
    assert response.status_code == 403
    assert not Contact.objects.exists()


def test_support_agent_cannot_change_a_sales_contact(world, client_for):
    contact = make_contact(world.rep_a, first_name="Rahim")
    response = send(client_for(world.agent1), "patch", contact_url(contact), {"first_name": "X"})
    assert response.status_code == 404  # agents see no sales records today
    contact.refresh_from_db()
    assert contact.first_name == "Rahim"


# --- Filters and sort ---------------------------------------------------------------------------


def test_filter_by_lifecycle_stage(world, client_for):
    lead = make_contact(world.rep_a, lifecycle_stage="lead")
    customer = make_contact(world.rep_a, lifecycle_stage="customer")
    ids = result_ids(client_for(world.rep_a).get(reverse("contact-list"), {"lifecycle_stage": "customer"}))
    assert ids == [customer.pk] and lead.pk not in ids


def test_filter_by_tag(world, client_for):
    tagged = make_contact(world.rep_a, tags=["VIP"])
    make_contact(world.rep_a)
    tag = Tag.objects.get(name="VIP")
    assert result_ids(client_for(world.rep_a).get(reverse("contact-list"), {"tag": tag.pk})) == [tagged.pk]


def test_filter_by_owner(world, client_for):
    make_contact(world.rep_a)
    theirs = make_contact(world.rep_b)
    assert result_ids(client_for(world.manager1).get(reverse("contact-list"), {"owner": world.rep_b.pk})) == [theirs.pk]


def test_filter_by_created_after(world, client_for):
    old = make_contact(world.rep_a)
    Contact.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=30))
    new = make_contact(world.rep_a)
    since = (timezone.localdate() - timedelta(days=1)).isoformat()
    assert result_ids(client_for(world.rep_a).get(reverse("contact-list"), {"created_after": since})) == [new.pk]


def test_sort_by_name(world, client_for):
    b = make_contact(world.rep_a, first_name="Bilkis")
    a = make_contact(world.rep_a, first_name="Anwar")
    c = make_contact(world.rep_a, first_name="Chandana")
    assert result_ids(client_for(world.rep_a).get(reverse("contact-list"), {"sort": "name"})) == [a.pk, b.pk, c.pk]


def test_default_order_is_newest_first(world, client_for):
    first = make_contact(world.rep_a)
    second = make_contact(world.rep_a)
    assert result_ids(client_for(world.rep_a).get(reverse("contact-list"))) == [second.pk, first.pk]


def test_unknown_sort_is_a_field_error(world, client_for):
    response = client_for(world.rep_a).get(reverse("contact-list"), {"sort": "email"})
    assert response.status_code == 400
    assert "sort" in response.json()["errors"]


def test_company_list_sorts_by_name_and_counts_people(world, client_for):
    zeta = make_company(world.rep_a, name="Zeta Traders")
    alpha = make_company(world.rep_a, name="Alpha Textiles")
    make_contact(world.rep_a, company=alpha)
    make_contact(world.rep_a, company=alpha)
    rows = client_for(world.rep_a).get(reverse("company-list"), {"sort": "name"}).json()["results"]
    assert [(r["id"], r["people_count"]) for r in rows] == [(alpha.pk, 2), (zeta.pk, 0)]


# --- Companies ----------------------------------------------------------------------------------


def test_company_create_derives_the_domain_and_normalises_the_phone(world, client_for):
    response = send(client_for(world.rep_a), "post", reverse("company-list"), {
        "name": "Aarong", "website": "https://www.Aarong.com/shop", "phone": "02-9881234", "tags": ["Retail"],
        "domain": "ignored.example",
    })
    assert response.status_code == 201, response.content
    data = response.json()
    assert (data["domain"], data["phone"], data["tags"]) == ("aarong.com", "+88029881234", ["Retail"])
    assert data["people_count"] == 0


def test_company_with_a_taken_website_is_refused(world, client_for):
    make_company(world.rep_c, website="aarong.com")
    response = send(client_for(world.rep_a), "post", reverse("company-list"), {"name": "A2", "website": "aarong.com"})
    assert response.status_code == 400
    assert "website" in response.json()["errors"]
    assert Company.objects.count() == 1


def test_company_update_and_transfer(world, client_for):
    company = make_company(world.rep_a, name="Old name")
    response = send(client_for(world.manager1), "patch", company_url(company),
                    {"name": "New name", "owner": world.rep_b.pk})
    assert response.status_code == 200, response.content
    company.refresh_from_db()
    assert (company.name, company.owner_id) == ("New name", world.rep_b.pk)


# --- Timeline -----------------------------------------------------------------------------------


def test_timeline_lists_newest_first(world, client_for):
    contact = make_contact(world.rep_a)
    now = timezone.now()
    older = services.log_activity(by=world.rep_a, contact=contact, kind="call", subject="First",
                                  occurred_at=now - timedelta(days=2))
    newer = services.log_activity(by=world.rep_a, contact=contact, kind="note", body="Second",
                                  occurred_at=now - timedelta(days=1))
    response = client_for(world.rep_b).get(contact_url(contact, "interactions"))
    assert result_ids(response) == [newer.pk, older.pk]
    assert response.json()["results"][0]["author_name"] == world.rep_a.full_name


def test_timeline_filters_by_kind(world, client_for):
    contact = make_contact(world.rep_a)
    call = services.log_activity(by=world.rep_a, contact=contact, kind="call", subject="Call")
    services.log_activity(by=world.rep_a, contact=contact, kind="note", body="Note")
    assert result_ids(client_for(world.rep_a).get(contact_url(contact, "interactions"), {"kind": "call"})) == [call.pk]


def test_logging_an_activity_answers_201_and_adds_it_to_the_timeline(world, client_for):
    contact = make_contact(world.rep_a)
    response = send(client_for(world.rep_b), "post", contact_url(contact, "interactions"), {
        "kind": "call", "direction": "out", "subject": "Follow-up", "outcome": "Wants a quote",
    })
    assert response.status_code == 201, response.content
    entry = Interaction.objects.get(pk=response.json()["id"])
    assert (entry.contact_id, entry.author_id, entry.kind, entry.outcome) == (
        contact.pk, world.rep_b.pk, "call", "Wants a quote")


def test_empty_note_is_a_field_error_and_logs_nothing(world, client_for):
    contact = make_contact(world.rep_a)
    response = send(client_for(world.rep_a), "post", contact_url(contact, "interactions"), {"kind": "note"})
    assert response.status_code == 400
    assert "body" in response.json()["errors"]
    assert not Interaction.objects.exists()


def test_system_kinds_cannot_be_logged_by_hand(world, client_for):
    contact = make_contact(world.rep_a)
    response = send(client_for(world.rep_a), "post", contact_url(contact, "interactions"),
                    {"kind": "purchase", "subject": "x"})
    assert response.status_code == 400
    assert "kind" in response.json()["errors"]


def test_company_timeline_rolls_up_its_people_it_can_see(world, client_for):
    company = make_company(world.rep_a)
    person = make_contact(world.rep_a, company=company)
    on_person = services.log_activity(by=world.rep_a, contact=person, kind="call", subject="Person")
    on_company = services.log_activity(by=world.rep_a, company=company, kind="note", body="Company")
    stranger = make_contact(world.rep_c)
    services.update_contact(by=world.admin, contact=stranger, company=company)
    services.log_activity(by=world.rep_c, contact=stranger, kind="call", subject="Hidden")
    ids = result_ids(client_for(world.rep_b).get(company_url(company, "interactions")))
    assert sorted(ids) == sorted([on_person.pk, on_company.pk])


def test_logging_on_a_company(world, client_for):
    company = make_company(world.rep_a)
    response = send(client_for(world.rep_a), "post", company_url(company, "interactions"),
                    {"kind": "meeting", "subject": "Quarterly review"})
    assert response.status_code == 201
    assert Interaction.objects.get().company_id == company.pk


# --- Merge --------------------------------------------------------------------------------------


def test_manager_merges_a_duplicate_into_the_primary(world, client_for):
    primary = make_contact(world.rep_a, emails=["rahim@example.com"])
    duplicate = make_contact(world.rep_b, emails=["rahim.u@example.com"], phones=["01712345678"])
    response = send(client_for(world.manager1), "post", contact_url(primary, "merge"), {"duplicate": duplicate.pk})
    assert response.status_code == 200, response.content
    assert response.json()["emails"] == ["rahim@example.com", "rahim.u@example.com"]
    assert response.json()["phone"] == "+8801712345678"
    assert not Contact.all_objects.filter(pk=duplicate.pk).exists()


def test_rep_cannot_merge(world, client_for):
    primary = make_contact(world.rep_a)
    duplicate = make_contact(world.rep_a)
    response = send(client_for(world.rep_a), "post", contact_url(primary, "merge"), {"duplicate": duplicate.pk})
    assert response.status_code == 403
    assert Contact.objects.filter(pk=duplicate.pk).exists()


def test_merge_with_an_invisible_duplicate_is_a_field_error(world, client_for):
    primary = make_contact(world.rep_a)
    hidden = make_contact(world.rep_c)
    response = send(client_for(world.manager1), "post", contact_url(primary, "merge"), {"duplicate": hidden.pk})
    assert response.status_code == 400
    assert "duplicate" in response.json()["errors"]
    assert Contact.objects.filter(pk=hidden.pk).exists()


# --- Trash --------------------------------------------------------------------------------------


def test_delete_moves_the_contact_to_the_trash(world, client_for):
    contact = make_contact(world.rep_a)
    client = client_for(world.rep_a)
    assert client.delete(contact_url(contact)).status_code == 204
    assert client.get(contact_url(contact)).status_code == 404
    assert contact.pk not in result_ids(client.get(reverse("contact-list")))
    assert Contact.all_objects.get(pk=contact.pk).deleted_by_id == world.rep_a.pk


def test_restore_brings_a_contact_back_from_the_trash(world, client_for):
    contact = make_contact(world.rep_a)
    services.delete_contact(by=world.rep_a, contact=contact)
    client = client_for(world.rep_a)
    response = client.post(contact_url(contact, "restore"))
    assert response.status_code == 200 and response.json()["id"] == contact.pk
    assert client.get(contact_url(contact)).status_code == 200


def test_restore_of_a_contact_outside_the_trash_is_404(world, client_for):
    contact = make_contact(world.rep_a)
    assert client_for(world.rep_a).post(contact_url(contact, "restore")).status_code == 404


def test_restore_of_an_invisible_contact_is_404(world, client_for):
    contact = make_contact(world.rep_a)
    services.delete_contact(by=world.rep_a, contact=contact)
    assert client_for(world.rep_c).post(contact_url(contact, "restore")).status_code == 404
    assert Contact.all_objects.get(pk=contact.pk).is_deleted


def test_teammate_cannot_delete_a_contact(world, client_for):
    contact = make_contact(world.rep_a)
    assert client_for(world.rep_b).delete(contact_url(contact)).status_code == 403
    assert Contact.objects.filter(pk=contact.pk).exists()


def test_delete_and_restore_a_company(world, client_for):
    company = make_company(world.rep_a)
    client = client_for(world.rep_a)
    assert client.delete(company_url(company)).status_code == 204
    assert client.get(company_url(company)).status_code == 404
    assert client.post(company_url(company, "restore")).status_code == 200
    assert client.get(company_url(company)).status_code == 200


def test_company_restore_is_refused_when_another_company_took_the_website(world, client_for):
    company = make_company(world.rep_a, website="aarong.com")
    services.delete_company(by=world.rep_a, company=company)
    make_company(world.rep_b, website="https://aarong.com")
    response = client_for(world.rep_a).post(company_url(company, "restore"))
    assert response.status_code == 400
    assert "website" in response.json()["errors"]
    assert Company.all_objects.get(pk=company.pk).is_deleted


# --- Social profiles ----------------------------------------------------------------------------


def test_adding_a_social_profile_tags_the_interests(world, client_for):
    contact = make_contact(world.rep_a)
    response = send(client_for(world.rep_a), "post", reverse("socialprofile-list"), {
        "contact": contact.pk, "platform": "instagram", "handle": "@rahim.shop", "interests": ["Fashion"],
    })
    assert response.status_code == 201, response.content
    assert response.json()["handle"] == "rahim.shop"
    link = ContactTag.objects.get(contact=contact)
    assert (link.tag.name, link.source) == ("Fashion", TagSource.SOCIAL)


def test_social_profile_for_an_invisible_contact_is_refused(world, client_for):
    hidden = make_contact(world.rep_c)
    response = send(client_for(world.rep_a), "post", reverse("socialprofile-list"),
                    {"contact": hidden.pk, "platform": "x", "handle": "k"})
    assert response.status_code == 400
    assert "contact" in response.json()["errors"]
    assert not SocialProfile.objects.exists()


def test_social_profiles_filter_by_contact(world, client_for):
    one, two = make_contact(world.rep_a), make_contact(world.rep_a)
    mine = services.add_social_profile(by=world.rep_a, contact=one, platform="x", handle="one")
    services.add_social_profile(by=world.rep_a, contact=two, platform="x", handle="two")
    assert result_ids(client_for(world.rep_a).get(reverse("socialprofile-list"), {"contact": one.pk})) == [mine.pk]


def test_removing_a_social_profile(world, client_for):
    profile = services.add_social_profile(by=world.rep_a, contact=make_contact(world.rep_a), platform="x", handle="a")
    assert client_for(world.rep_a).delete(reverse("socialprofile-detail", args=[profile.pk])).status_code == 204
    assert not SocialProfile.objects.exists()


# --- Tags ---------------------------------------------------------------------------------------


def test_manager_creates_and_renames_a_tag(world, client_for):
    client = client_for(world.manager1)
    response = send(client, "post", reverse("tag-list"), {"name": "Eid  shoppers", "colour": "#0ea5e9"})
    assert response.status_code == 201, response.content
    tag = Tag.objects.get(pk=response.json()["id"])
    assert tag.name == "Eid shoppers"
    response = send(client, "patch", reverse("tag-detail", args=[tag.pk]), {"name": "Eid"})
    assert response.status_code == 200
    tag.refresh_from_db()
    assert (tag.name, tag.colour) == ("Eid", "#0ea5e9")


def test_rep_reads_tags_but_cannot_write_them(world, client_for):
    tag = services.save_tag(by=world.admin, name="VIP", colour="#ff0000")
    client = client_for(world.rep_a)
    assert result_ids(client.get(reverse("tag-list"))) == [tag.pk]
    assert send(client, "post", reverse("tag-list"), {"name": "Mine", "colour": "#000000"}).status_code == 403
    assert send(client, "patch", reverse("tag-detail", args=[tag.pk]), {"name": "X"}).status_code == 403
    assert list(Tag.objects.values_list("name", flat=True)) == ["VIP"]


def test_tag_name_clash_is_a_field_error(world, client_for):
    services.save_tag(by=world.admin, name="VIP", colour="#ff0000")
    response = send(client_for(world.admin), "post", reverse("tag-list"), {"name": "vip", "colour": "#000000"})
    assert response.status_code == 400
    assert "name" in response.json()["errors"]


# --- Query counts -------------------------------------------------------------------------------


@pytest.mark.parametrize("page_size", [5, 50])
def test_contact_list_runs_a_fixed_number_of_queries(world, client_for, django_assert_num_queries, page_size):
    company = make_company(world.rep_a)
    for n in range(55):
        make_contact(world.rep_a if n % 2 else world.rep_b, emails=[f"p{n}@example.com"], phones=[f"0171200{n:04d}"],
                     tags=["VIP", f"T{n % 3}"], company=company)
    client = client_for(world.rep_a)
    client.get(reverse("me-list"))  # the session's first request records its start
    # session, user, org settings, count, page (with owner, team, company), emails, phones, tags
    with django_assert_num_queries(8):
        response = client.get(reverse("contact-list"), {"page_size": page_size})
    rows = response.json()["results"]
    assert len(rows) == page_size
    assert all(row["emails"] and row["phones"] and len(row["tags"]) == 2 and row["company_name"] for row in rows)


@pytest.mark.parametrize("page_size", [5, 50])
def test_company_list_runs_a_fixed_number_of_queries(world, client_for, django_assert_num_queries, page_size):
    for n in range(55):
        company = make_company(world.rep_a if n % 2 else world.manager1, tags=["Retail"])
        make_contact(world.rep_a, company=company)
    client = client_for(world.rep_b)
    client.get(reverse("me-list"))
    # session, user, org settings, count, page (with owner and team), tags, people counts
    with django_assert_num_queries(7):
        response = client.get(reverse("company-list"), {"page_size": page_size})
    rows = response.json()["results"]
    assert len(rows) == page_size
    assert all(row["tags"] == ["Retail"] and row["people_count"] == 1 for row in rows)


@pytest.mark.parametrize("page_size", [5, 50])
def test_timeline_runs_a_fixed_number_of_queries(world, client_for, django_assert_num_queries, page_size):
    contact = make_contact(world.rep_a)
    for n in range(55):
        services.log_activity(by=world.rep_a if n % 2 else world.rep_b, contact=contact, kind="call", subject=f"{n}")
    client = client_for(world.rep_a)
    client.get(reverse("me-list"))
    # session, user, org settings, contact, count, page (with author and contact)
    with django_assert_num_queries(6):
        response = client.get(contact_url(contact, "interactions"), {"page_size": page_size})
    assert len(response.json()["results"]) == page_size


# --- Tokens and schema --------------------------------------------------------------------------


def test_api_token_authenticates_contact_requests(world):
    contact = make_contact(world.rep_a, first_name="Rahim")
    _token, key = crm_services.create_api_token(user=world.rep_b, name="script")
    client = Client(HTTP_AUTHORIZATION=f"Token {key}")
    assert client.get(contact_url(contact)).json()["first_name"] == "Rahim"
    response = send(client, "post", reverse("contact-list"), {"first_name": "Via token"})
    assert response.status_code == 201
    assert Contact.objects.get(pk=response.json()["id"]).owner_id == world.rep_b.pk


def test_schema_documents_sort_and_no_ordering_or_search(world, client_for):
    paths = client_for(world.rep_a).get("/api/schema/", {"format": "json"}).json()["paths"]
    names = {p["name"] for p in paths["/api/v1/contacts/"]["get"]["parameters"]}
    assert {"sort", "lifecycle_stage", "tag"} <= names
    assert not names & {"ordering", "search"}
    assert "/api/v1/contacts/{id}/interactions/" in paths and "/api/v1/contacts/{id}/merge/" in paths

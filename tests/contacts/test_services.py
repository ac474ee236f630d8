"""contacts.services: the rules behind every write to companies, contacts, tags, the timeline, the trash, merges."""

from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from contacts import services
from contacts.models import (
    Company,
    CompanyTag,
    Contact,
    ContactEmail,
    ContactPhone,
    ContactTag,
    Interaction,
    SocialProfile,
    Tag,
    TagSource,
)
from tests.factories import make_company, make_contact

# --- Create and update ----------------------------------------------------------------------------


def test_create_contact_normalises_emails_and_phones_first_is_primary(world):
    contact = services.create_contact(by=world.rep_a, first_name=" Rahim ", emails=[" Rahim@Example.COM ", "r@work.com"],
                                      phones=["০১৭১২-৩৪৫৬৭৮", ("+44 20 7946 0958", "work")])
    assert contact.first_name == "Rahim"
    assert (contact.email, contact.phone) == ("rahim@example.com", "+8801712345678")
    assert list(contact.emails.values_list("email", "is_primary")) == [("rahim@example.com", True), ("r@work.com", False)]
    assert list(contact.phones.values_list("number", "kind", "is_primary")) == [
        ("+8801712345678", "mobile", True), ("+442079460958", "work", False)]


def test_create_contact_keeps_every_phone_form_searchable(world):
    contact = services.create_contact(by=world.rep_a, first_name="Rahim", phones=["01712-345678"])
    assert "8801712345678" in contact.search_text and "01712345678" in contact.search_text


def test_create_contact_drops_repeated_values_once_normalised(world):
    contact = services.create_contact(by=world.rep_a, emails=["a@x.com", "A@X.com"], phones=["01712345678", "+8801712345678"])
    assert contact.emails.count() == 1 and contact.phones.count() == 1


def test_create_contact_needs_a_name_an_email_or_a_phone(world):
    with pytest.raises(ValidationError) as exc:
        services.create_contact(by=world.rep_a, first_name="  ", emails=[""], phones=[""])
    assert "first_name" in exc.value.message_dict
    assert not Contact.objects.exists()


def test_create_contact_reports_bad_emails_and_phones_together(world):
    with pytest.raises(ValidationError) as exc:
        services.create_contact(by=world.rep_a, first_name="X", emails=["nope"], phones=["12"])
    assert set(exc.value.message_dict) == {"emails", "phones"}


def test_create_contact_refuses_a_duplicate_email_naming_the_visible_one(world):
    make_contact(world.rep_b, first_name="Nusrat", emails=["same@example.com"])
    with pytest.raises(ValidationError) as exc:
        services.create_contact(by=world.rep_a, first_name="Other", emails=["SAME@example.com"])
    assert "Nusrat" in exc.value.message_dict["emails"][0]
    assert Contact.objects.count() == 1


def test_duplicate_in_another_team_is_refused_without_naming_it(world):
    make_contact(world.rep_c, first_name="Secret Name", phones=["01812-345678"])
    with pytest.raises(ValidationError) as exc:
        services.create_contact(by=world.rep_a, first_name="Mine", phones=["+8801812345678"])
    message = exc.value.message_dict["phones"][0]
    assert "another team" in message and "Secret Name" not in message


def test_duplicate_is_created_when_allowed(world):
    make_contact(world.rep_b, first_name="One", emails=["same@example.com"])
    services.create_contact(by=world.rep_a, first_name="Two", emails=["same@example.com"], allow_duplicate=True)
    assert ContactEmail.objects.filter(email="same@example.com").count() == 2


def test_support_agents_cannot_create_contacts_or_companies(world):
    with pytest.raises(PermissionDenied):
        services.create_contact(by=world.agent1, first_name="X")
    with pytest.raises(PermissionDenied):
        services.create_company(by=world.agent1, name="X")


def test_contact_company_must_be_visible(world):
    hidden = make_company(world.rep_c, name="Elsewhere")
    with pytest.raises(ValidationError) as exc:
        services.create_contact(by=world.rep_a, first_name="X", company=hidden)
    assert "company" in exc.value.message_dict


def test_rep_cannot_create_for_someone_else_manager_can_within_their_team(world):
    with pytest.raises(ValidationError):
        services.create_contact(by=world.rep_a, owner=world.rep_b, first_name="X")
    with pytest.raises(ValidationError):
        services.create_contact(by=world.manager1, owner=world.rep_c, first_name="X")
    contact = services.create_contact(by=world.manager1, owner=world.rep_b, first_name="X")
    assert (contact.owner, contact.team) == (world.rep_b, world.team1)


def test_update_contact_replaces_the_email_and_phone_sets(world):
    contact = make_contact(world.rep_a, emails=["a@x.com", "b@x.com"], phones=["01712345678"])
    services.update_contact(by=world.rep_a, contact=contact, emails=["c@x.com", "a@x.com"],
                            phones=[("01812345678", "home")])
    assert list(contact.emails.values_list("email", "is_primary")) == [("c@x.com", True), ("a@x.com", False)]
    assert list(contact.phones.values_list("number", "kind")) == [("+8801812345678", "home")]
    contact.refresh_from_db()
    assert (contact.email, contact.phone) == ("c@x.com", "+8801812345678")
    assert "01812345678" in contact.search_text and "01712345678" not in contact.search_text


def test_update_contact_leaves_lists_alone_when_not_given(world):
    contact = make_contact(world.rep_a, emails=["a@x.com"], phones=["01712345678"])
    services.update_contact(by=world.rep_a, contact=contact, job_title="Buyer")
    assert contact.emails.count() == 1 and contact.phones.count() == 1


def test_update_contact_refuses_to_remove_the_last_way_to_name_them(world):
    contact = make_contact(world.rep_a, first_name="", emails=["a@x.com"])
    with pytest.raises(ValidationError):
        services.update_contact(by=world.rep_a, contact=contact, emails=[])
    assert contact.emails.count() == 1


def test_update_contact_needs_the_right_to_edit(world):
    contact = make_contact(world.rep_a)
    for user in (world.rep_c, world.manager2, world.agent1):
        with pytest.raises(PermissionDenied):
            services.update_contact(by=user, contact=contact, job_title="x")
    services.update_contact(by=world.rep_b, contact=contact, job_title="teammate may")
    contact.refresh_from_db()
    assert contact.job_title == "teammate may"


def test_bad_field_value_is_a_field_error_and_changes_nothing(world):
    contact = make_contact(world.rep_a)
    with pytest.raises(ValidationError) as exc:
        services.update_contact(by=world.rep_a, contact=contact, lifecycle_stage="martian")
    assert "lifecycle_stage" in exc.value.message_dict
    assert Contact.objects.get(pk=contact.pk).lifecycle_stage == "lead"


def test_create_company_normalises_website_and_phone(world):
    company = services.create_company(by=world.rep_a, name="Padma", website="https://www.Padma.com.bd/shop",
                                      phone="02-9876543")
    assert company.domain == "padma.com.bd" and company.phone == "+88029876543"
    assert "padma.com.bd" in company.search_text


def test_company_website_is_unique_among_live_companies(world):
    first = make_company(world.rep_a, name="Padma", website="padma.com.bd")
    with pytest.raises(ValidationError) as exc:
        services.create_company(by=world.rep_c, name="Copy", website="http://www.padma.com.bd")
    assert "website" in exc.value.message_dict
    services.delete_company(by=world.rep_a, company=first)
    assert services.create_company(by=world.rep_c, name="Copy", website="padma.com.bd").domain == "padma.com.bd"


def test_company_needs_a_name(world):
    with pytest.raises(ValidationError) as exc:
        services.create_company(by=world.rep_a, name="  ")
    assert "name" in exc.value.message_dict


# --- Consent ----------------------------------------------------------------------------------------


def test_consent_records_when_and_how(world):
    contact = make_contact(world.rep_a)
    services.set_consent(by=world.rep_a, contact=contact, channel="email", granted=True, source="Signed form")
    contact.refresh_from_db()
    assert contact.email_opt_in and contact.email_opt_in_source == "Signed form" and contact.email_opt_in_at


def test_consent_needs_a_source_and_a_known_channel(world):
    contact = make_contact(world.rep_a)
    with pytest.raises(ValidationError):
        services.set_consent(by=world.rep_a, contact=contact, channel="sms", granted=True, source=" ")
    with pytest.raises(ValidationError):
        services.set_consent(by=world.rep_a, contact=contact, channel="pigeon", granted=True, source="x")


def test_unchanged_consent_is_not_restamped(world):
    contact = make_contact(world.rep_a, consent={"sms": (True, "Shop counter")})
    stamped = contact.sms_opt_in_at
    services.update_contact(by=world.rep_a, contact=contact, consent={"sms": (True, "")})
    contact.refresh_from_db()
    assert contact.sms_opt_in_at == stamped and contact.sms_opt_in_source == "Shop counter"


def test_withdrawing_consent_by_hand_is_recorded(world):
    contact = make_contact(world.rep_a, consent={"phone": (True, "Call")})
    services.update_contact(by=world.rep_a, contact=contact, consent={"phone": (False, "")})
    contact.refresh_from_db()
    assert not contact.phone_opt_in and contact.phone_opt_in_source == "changed by hand"


# --- Transfer ---------------------------------------------------------------------------------------


def test_rep_hands_a_contact_to_a_teammate_only(world):
    contact = make_contact(world.rep_a)
    with pytest.raises(ValidationError):
        services.transfer_contact(by=world.rep_a, contact=contact, owner=world.rep_c)
    services.transfer_contact(by=world.rep_a, contact=contact, owner=world.rep_b)
    contact.refresh_from_db()
    assert contact.owner == world.rep_b


def test_teammate_cannot_transfer_someone_elses_contact(world):
    contact = make_contact(world.rep_a)
    with pytest.raises(PermissionDenied):
        services.transfer_contact(by=world.rep_b, contact=contact, owner=world.rep_b)


def test_admin_transfer_moves_the_contact_to_the_new_owners_team(world):
    contact = make_contact(world.rep_a)
    services.transfer_contact(by=world.admin, contact=contact, owner=world.rep_c)
    contact.refresh_from_db()
    assert (contact.owner, contact.team) == (world.rep_c, world.team2)


# --- Tags and social profiles ---------------------------------------------------------------------


def test_tags_are_found_whatever_the_case_and_spacing(world):
    tag = services.get_or_create_tag("Eid  Buyer")
    assert services.get_or_create_tag(" eid buyer ") == tag and tag.name == "Eid Buyer"


def test_tag_names_are_checked(world):
    with pytest.raises(ValidationError):
        services.get_or_create_tag(" ")
    with pytest.raises(ValidationError):
        services.get_or_create_tag("x" * 61)


def test_add_and_remove_tags_on_a_contact_and_a_company(world):
    contact, company = make_contact(world.rep_a), make_company(world.rep_a)
    services.add_tags(by=world.rep_a, obj=contact, tags=["VIP", "vip", "Eid"])
    services.add_tags(by=world.rep_a, obj=company, tags=["Key account"])
    assert set(contact.tags.values_list("name", flat=True)) == {"VIP", "Eid"}
    services.remove_tag(by=world.rep_a, obj=contact, tag=Tag.objects.get(name="VIP"))
    assert list(contact.tags.values_list("name", flat=True)) == ["Eid"]
    assert CompanyTag.objects.filter(company=company).count() == 1


def test_tagging_needs_the_right_to_edit(world):
    contact = make_contact(world.rep_a)
    with pytest.raises(PermissionDenied):
        services.add_tags(by=world.rep_c, obj=contact, tags=["x"])


def test_set_tags_keeps_the_social_mark(world):
    contact = make_contact(world.rep_a)
    services.add_tags(by=world.rep_a, obj=contact, tags=["Cricket"], source=TagSource.SOCIAL)
    services.set_tags(by=world.rep_a, obj=contact, tags=["Cricket", "VIP"])
    assert set(contact.tag_links.values_list("tag__name", "source")) == {("Cricket", "social"), ("VIP", "manual")}


def test_only_managers_and_admins_change_shared_tags(world):
    with pytest.raises(PermissionDenied):
        services.save_tag(by=world.rep_a, name="Hot", colour="#ff0000")
    services.save_tag(by=world.manager1, name="Hot", colour="#ff0000")
    with pytest.raises(ValidationError):
        services.save_tag(by=world.admin, name="HOT", colour="#00ff00")


def test_social_profile_interests_become_social_tags(world):
    contact = make_contact(world.rep_a)
    profile = services.add_social_profile(by=world.rep_a, contact=contact, platform="instagram", handle="@rahim",
                                          followers=1200, interests=["Fashion"])
    assert profile.handle == "rahim"
    assert ContactTag.objects.get(contact=contact).source == TagSource.SOCIAL


def test_social_profile_needs_a_handle_or_link_and_is_linked_once(world):
    contact = make_contact(world.rep_a)
    with pytest.raises(ValidationError):
        services.add_social_profile(by=world.rep_a, contact=contact, platform="x")
    services.add_social_profile(by=world.rep_a, contact=contact, platform="x", handle="rahim")
    with pytest.raises(ValidationError):
        services.add_social_profile(by=world.rep_a, contact=contact, platform="x", handle="@rahim")
    assert SocialProfile.objects.count() == 1


def test_removing_a_profile_needs_the_right_to_edit(world):
    contact = make_contact(world.rep_a)
    profile = services.add_social_profile(by=world.rep_a, contact=contact, platform="x", handle="rahim")
    with pytest.raises(PermissionDenied):
        services.remove_social_profile(by=world.manager2, profile=profile)
    services.remove_social_profile(by=world.rep_a, profile=profile)
    assert not SocialProfile.objects.exists()


# --- The timeline -----------------------------------------------------------------------------------


def test_record_interaction_files_it_under_the_company_and_moves_last_activity(world):
    company = make_company(world.rep_a)
    contact = make_contact(world.rep_a, company=company)
    earlier = timezone.now() - timedelta(days=3)
    entry = services.record_interaction(kind="purchase", contact=contact, occurred_at=earlier, subject="Order")
    services.record_interaction(kind="web_visit", contact=contact, occurred_at=earlier - timedelta(days=1))
    contact.refresh_from_db()
    assert entry.company == company and entry.author is None and contact.last_interaction_at == earlier


def test_record_interaction_needs_a_subject_and_a_known_kind(world):
    with pytest.raises(ValidationError):
        services.record_interaction(kind="note")
    with pytest.raises(ValidationError):
        services.record_interaction(kind="telepathy", contact=make_contact(world.rep_a))


def test_log_activity_rules(world):
    contact = make_contact(world.rep_a)
    with pytest.raises(ValidationError) as exc:
        services.log_activity(by=world.rep_a, contact=contact, kind="note", body=" ")
    assert "body" in exc.value.message_dict
    with pytest.raises(ValidationError) as exc:
        services.log_activity(by=world.rep_a, contact=contact, kind="call")
    assert "subject" in exc.value.message_dict
    with pytest.raises(ValidationError) as exc:
        services.log_activity(by=world.rep_a, contact=contact, kind="purchase", subject="x")
    assert "kind" in exc.value.message_dict
    with pytest.raises(ValidationError) as exc:
        services.log_activity(by=world.rep_a, contact=contact, kind="call", subject="x",
                              occurred_at=timezone.now() + timedelta(hours=1))
    assert "occurred_at" in exc.value.message_dict
    assert not Interaction.objects.exists()


def test_log_activity_needs_to_see_the_customer(world):
    contact = make_contact(world.rep_a)
    with pytest.raises(PermissionDenied):
        services.log_activity(by=world.rep_c, contact=contact, kind="note", body="x")


def test_log_activity_on_a_company(world):
    company = make_company(world.rep_a)
    entry = services.log_activity(by=world.rep_b, company=company, kind="meeting", subject="Visit")
    assert (entry.company, entry.contact, entry.author) == (company, None, world.rep_b)


def test_author_or_editor_removes_hand_logged_entries_only(world):
    contact = make_contact(world.rep_a)
    by_teammate = services.log_activity(by=world.rep_b, contact=contact, kind="note", body="x")
    system = services.record_interaction(kind="purchase", contact=contact, subject="Order")
    with pytest.raises(PermissionDenied):
        services.delete_interaction(by=world.rep_a, interaction=system)
    with pytest.raises(PermissionDenied):
        services.delete_interaction(by=world.manager2, interaction=by_teammate)
    services.delete_interaction(by=world.rep_a, interaction=by_teammate)
    assert list(Interaction.objects.all()) == [system]


# --- Trash ------------------------------------------------------------------------------------------


def test_deleted_contact_leaves_every_list_and_comes_back(world):
    contact = make_contact(world.rep_a)
    services.delete_contact(by=world.rep_a, contact=contact)
    assert not Contact.objects.filter(pk=contact.pk).exists()
    trashed = Contact.all_objects.get(pk=contact.pk)
    assert trashed.deleted_by == world.rep_a
    services.restore_contact(by=world.rep_a, contact=trashed)
    assert Contact.objects.filter(pk=contact.pk).exists()


def test_only_owner_manager_or_admin_deletes(world):
    contact = make_contact(world.rep_a)
    with pytest.raises(PermissionDenied):
        services.delete_contact(by=world.rep_b, contact=contact)
    services.delete_contact(by=world.manager1, contact=contact)
    assert Contact.all_objects.get(pk=contact.pk).is_deleted


def test_restoring_a_company_whose_website_was_taken_meanwhile_is_refused(world):
    first = make_company(world.rep_a, name="Padma", website="padma.com.bd")
    services.delete_company(by=world.rep_a, company=first)
    make_company(world.rep_a, name="New Padma", website="padma.com.bd")
    with pytest.raises(ValidationError):
        services.restore_company(by=world.rep_a, company=Company.all_objects.get(pk=first.pk))


def test_purge_deletes_only_what_has_been_in_the_trash_for_30_days(world):
    old, recent, alive = make_contact(world.rep_a), make_contact(world.rep_a), make_contact(world.rep_a)
    company = make_company(world.rep_a)
    services.delete_contact(by=world.rep_a, contact=old)
    services.delete_contact(by=world.rep_a, contact=recent)
    services.delete_company(by=world.rep_a, company=company)
    Contact.all_objects.filter(pk=old.pk).update(deleted_at=timezone.now() - timedelta(days=31))
    Company.all_objects.filter(pk=company.pk).update(deleted_at=timezone.now() - timedelta(days=31))
    result = services.purge_trash()
    assert result == {"contacts": 1, "companies": 1}  # records, not the rows that went with them
    assert set(Contact.all_objects.values_list("pk", flat=True)) == {recent.pk, alive.pk}
    assert not Company.all_objects.exists()


# --- Bulk actions -------------------------------------------------------------------------------------


def test_bulk_delete_touches_only_what_the_user_may_delete(world):
    mine, teammates, other_team = make_contact(world.rep_a), make_contact(world.rep_b), make_contact(world.rep_c)
    result = services.bulk_update_contacts(by=world.rep_a, ids=[mine.pk, teammates.pk, other_team.pk], action="delete")
    assert result == {"done": 1, "skipped": 2}
    assert set(Contact.objects.values_list("pk", flat=True)) == {teammates.pk, other_team.pk}


def test_bulk_tag_and_stage_apply_to_editable_contacts(world):
    mine, teammates, other_team = make_contact(world.rep_a), make_contact(world.rep_b), make_contact(world.rep_c)
    ids = [mine.pk, teammates.pk, other_team.pk]
    assert services.bulk_update_contacts(by=world.rep_a, ids=ids, action="tag", tag="Eid") == {"done": 2, "skipped": 1}
    assert set(ContactTag.objects.values_list("contact_id", flat=True)) == {mine.pk, teammates.pk}
    assert services.bulk_update_contacts(by=world.manager1, ids=ids, action="stage", stage="customer")["done"] == 2
    assert Contact.objects.get(pk=other_team.pk).lifecycle_stage == "lead"


def test_bulk_assign_follows_transfer_rules(world):
    mine, teammates = make_contact(world.rep_a), make_contact(world.rep_b)
    with pytest.raises(ValidationError):
        services.bulk_update_contacts(by=world.rep_a, ids=[mine.pk], action="assign", owner=world.rep_c)
    result = services.bulk_update_contacts(by=world.rep_a, ids=[mine.pk, teammates.pk], action="assign", owner=world.rep_b)
    assert result == {"done": 1, "skipped": 1}
    assert Contact.objects.get(pk=mine.pk).owner == world.rep_b


def test_bulk_action_input_is_checked(world):
    contact = make_contact(world.rep_a)
    with pytest.raises(ValidationError):
        services.bulk_update_contacts(by=world.rep_a, ids=[], action="delete")
    with pytest.raises(ValidationError):
        services.bulk_update_contacts(by=world.rep_a, ids=[contact.pk], action="stage", stage="martian")
    with pytest.raises(ValidationError):
        services.bulk_update_contacts(by=world.rep_a, ids=[contact.pk], action="explode")


# --- Merge ------------------------------------------------------------------------------------------


@pytest.fixture
def pair(world):
    company = make_company(world.rep_b, name="Padma")
    primary = make_contact(world.rep_a, first_name="Rahim", emails=["rahim@example.com"], phones=["01712345678"],
                           notes="Met at fair", tags=["VIP"], consent={"email": (True, "Old form")})
    duplicate = make_contact(world.rep_b, first_name="Rahim U.", last_name="Uddin", emails=["r.uddin@example.com"],
                             phones=[("01812345678", "work"), "01712345678"], company=company, city="Khulna",
                             notes="Prefers Bangla", tags=["VIP", "Eid"], do_not_contact=True)
    Contact.all_objects.filter(pk=duplicate.pk).update(email_opt_in=False, email_opt_in_source="Unsubscribed",
                                                       email_opt_in_at=timezone.now() + timedelta(seconds=5))
    services.add_social_profile(by=world.rep_b, contact=duplicate, platform="facebook", handle="rahim.u")
    services.log_activity(by=world.rep_b, contact=duplicate, kind="call", subject="Price list")
    return primary, Contact.objects.get(pk=duplicate.pk), company


def test_merge_keeps_everything_of_both(world, pair):
    primary, duplicate, company = pair
    merged = services.merge_contacts(by=world.manager1, primary=primary, duplicate=duplicate)
    assert not Contact.all_objects.filter(pk=duplicate.pk).exists()
    assert (merged.first_name, merged.last_name, merged.city, merged.company) == ("Rahim", "Uddin", "Khulna", company)
    assert list(merged.emails.values_list("email", flat=True)) == ["rahim@example.com", "r.uddin@example.com"]
    assert set(merged.phones.values_list("number", flat=True)) == {"+8801712345678", "+8801812345678"}
    assert set(merged.tags.values_list("name", flat=True)) == {"VIP", "Eid"}
    assert merged.social_profiles.get().handle == "rahim.u"
    assert merged.interactions.filter(subject="Price list").exists()
    assert merged.interactions.filter(kind="note", subject__startswith="Merged with").exists()
    assert "Met at fair" in merged.notes and "Prefers Bangla" in merged.notes
    assert merged.do_not_contact and not merged.email_opt_in and merged.email_opt_in_source == "Unsubscribed"
    assert "01812345678" in merged.search_text


def test_merge_is_for_managers_of_both_records_and_admins(world, pair):
    primary, duplicate, _company = pair
    with pytest.raises(PermissionDenied):
        services.merge_contacts(by=world.rep_a, primary=primary, duplicate=duplicate)
    with pytest.raises(PermissionDenied):
        services.merge_contacts(by=world.manager2, primary=primary, duplicate=duplicate)
    assert Contact.objects.filter(pk__in=[primary.pk, duplicate.pk]).count() == 2


def test_merge_needs_two_different_contacts(world):
    contact = make_contact(world.rep_a)
    with pytest.raises(ValidationError):
        services.merge_contacts(by=world.admin, primary=contact, duplicate=contact)


def test_find_duplicates_matches_any_email_or_phone(world):
    one = make_contact(world.rep_a, emails=["a@x.com"])
    two = make_contact(world.rep_c, phones=["01712345678"])
    make_contact(world.rep_a, emails=["b@x.com"])
    found = services.find_duplicates(emails=["a@x.com"], phones=["+8801712345678"])
    assert set(found.values_list("pk", flat=True)) == {one.pk, two.pk}
    assert not services.find_duplicates(emails=["a@x.com"], exclude_id=one.pk).exists()


def test_clean_phones_accepts_pairs_and_bengali_digits(world):
    assert services.clean_phones([("০১৭১২৩৪৫৬৭৮", "home"), "", "01712-345678"]) == [("+8801712345678", "home")]
    with pytest.raises(ValidationError):
        services.clean_phones(["abc"])


def test_company_tag_links_are_cleared_with_set_tags(world):
    company = make_company(world.rep_a, tags=["A", "B"])
    services.set_tags(by=world.rep_a, obj=company, tags=["B"])
    assert list(company.tags.values_list("name", flat=True)) == ["B"]


def test_phones_of_a_contact_are_stored_once_per_number(world):
    contact = make_contact(world.rep_a, phones=["01712345678"])
    services.update_contact(by=world.rep_a, contact=contact, phones=[("01712345678", "work")])
    assert list(ContactPhone.objects.filter(contact=contact).values_list("kind", flat=True)) == ["work"]

"""Contact and company lists: visibility, filters, sorts, columns, counts, htmx, saved views, bulk actions, trash."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from contacts import services
from contacts.models import Company, Contact, ContactTag, Tag
from crm.models import SavedView
from tests.factories import SavedViewFactory, make_company, make_contact
from tests.visibility import assert_visibility

EVERYONE = {"rep_a", "rep_b", "rep_c", "manager1", "manager2", "agent1", "admin"}
CONTACTS = reverse("contacts:index")
COMPANIES = reverse("contacts:companies")
TRASH = reverse("contacts:trash")
BULK = reverse("contacts:bulk")


def page(client, url, **params):
    response = client.get(url, params)
    return response, response.content.decode()


def names_in_order(text: str, names: list[str]) -> list[str]:
    return sorted(names, key=text.index)


# --- Visibility ---------------------------------------------------------------------------------


def test_contact_list_answers_everyone_signed_in(world, client_for):
    assert_visibility(world, client_for, CONTACTS, sees=EVERYONE)


def test_company_list_answers_everyone_signed_in(world, client_for):
    assert_visibility(world, client_for, COMPANIES, sees=EVERYONE)


def test_trash_answers_everyone_signed_in(world, client_for):
    assert_visibility(world, client_for, TRASH, sees=EVERYONE)


def test_contact_list_shows_only_the_rows_each_user_may_see(world, client_for):
    make_contact(world.rep_a, first_name="Shapla", last_name="Visible")
    for name, user in world.principals().items():
        if user is None:
            continue
        text = client_for(user).get(CONTACTS).content.decode()
        assert ("Shapla Visible" in text) is (name in {"rep_a", "rep_b", "manager1", "admin"}), name


def test_company_list_shows_only_the_rows_each_user_may_see(world, client_for):
    make_company(world.rep_a, name="Padma Traders")
    for name, user in world.principals().items():
        if user is None:
            continue
        text = client_for(user).get(COMPANIES).content.decode()
        assert ("Padma Traders" in text) is (name in {"rep_a", "rep_b", "manager1", "admin"}), name


def test_agent_sees_an_empty_list_without_bulk_actions(world, client_for):
    make_contact(world.rep_a, first_name="Hidden")
    response, text = page(client_for(world.agent1), CONTACTS)
    assert response.status_code == 200
    assert "Hidden" not in text and 'id="bulk-form"' not in text and "No contacts here yet" in text


# --- Filters, sorts, columns ----------------------------------------------------------------------


def test_filter_by_several_lifecycle_stages(world, client_for):
    make_contact(world.rep_a, first_name="Lead", lifecycle_stage="lead")
    make_contact(world.rep_a, first_name="Customer", lifecycle_stage="customer")
    make_contact(world.rep_a, first_name="Churned", lifecycle_stage="churned")
    _, text = page(client_for(world.rep_a), CONTACTS, lifecycle_stage=["lead", "customer"])
    assert "Lead</a>" in text and "Customer</a>" in text and "Churned</a>" not in text


def test_filter_by_tag(world, client_for):
    make_contact(world.rep_a, first_name="Tagged", tags=["wholesale"])
    make_contact(world.rep_a, first_name="Plain")
    tag = Tag.objects.get(name="wholesale")
    _, text = page(client_for(world.rep_a), CONTACTS, tag=tag.pk)
    assert "Tagged</a>" in text and "Plain</a>" not in text


def test_filter_by_owner(world, client_for):
    make_contact(world.rep_a, first_name="Mine")
    make_contact(world.rep_b, first_name="Teammates")
    _, text = page(client_for(world.manager1), CONTACTS, owner=world.rep_b.pk)
    assert "Teammates</a>" in text and "Mine</a>" not in text


def test_filter_by_created_range(world, client_for):
    old = make_contact(world.rep_a, first_name="Old")
    make_contact(world.rep_a, first_name="New")
    Contact.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=40))
    since = (timezone.localdate() - timedelta(days=7)).isoformat()
    _, text = page(client_for(world.rep_a), CONTACTS, created_after=since)
    assert "New</a>" in text and "Old</a>" not in text
    until = (timezone.localdate() - timedelta(days=30)).isoformat()
    _, text = page(client_for(world.rep_a), CONTACTS, created_before=until)
    assert "Old</a>" in text and "New</a>" not in text


def test_sort_by_name_both_ways(world, client_for):
    for name in ("Babul", "Anika", "Chandni"):
        make_contact(world.rep_a, first_name=name)
    names = ["Anika", "Babul", "Chandni"]
    _, text = page(client_for(world.rep_a), CONTACTS, sort="name")
    assert names_in_order(text, [n + "</a>" for n in names]) == [n + "</a>" for n in names]
    _, text = page(client_for(world.rep_a), CONTACTS, sort="-name")
    assert names_in_order(text, [n + "</a>" for n in names]) == [n + "</a>" for n in reversed(names)]


def test_newest_first_by_default(world, client_for):
    first = make_contact(world.rep_a, first_name="Earlier")
    make_contact(world.rep_a, first_name="Later")
    Contact.objects.filter(pk=first.pk).update(created_at=timezone.now() - timedelta(days=1))
    _, text = page(client_for(world.rep_a), CONTACTS)
    assert text.index("Later</a>") < text.index("Earlier</a>")


def test_company_list_filters_by_industry_and_sorts_by_name(world, client_for):
    make_company(world.rep_a, name="Zeta Garments", industry="Garments")
    make_company(world.rep_a, name="Alpha Garments", industry="Garments")
    make_company(world.rep_a, name="Beta Software", industry="Software")
    _, text = page(client_for(world.rep_a), COMPANIES, industry="garments", sort="name")
    assert "Beta Software" not in text
    assert text.index("Alpha Garments") < text.index("Zeta Garments")


def test_chosen_columns_are_shown_and_others_are_not(world, client_for):
    make_contact(world.rep_a, first_name="Nadia", job_title="Procurement lead", city="Sylhet")
    _, text = page(client_for(world.rep_a), CONTACTS, cols=["job_title", "city"])
    assert "Procurement lead" in text and "Sylhet" in text
    assert '<th scope="col">Email</th>' not in text and '<th scope="col">Job title</th>' in text


def test_columns_may_come_comma_separated(world, client_for):
    make_contact(world.rep_a, first_name="Nadia", job_title="Buyer")
    _, text = page(client_for(world.rep_a), CONTACTS, cols="job_title,city")
    assert '<th scope="col">Job title</th>' in text and '<th scope="col">City</th>' in text


def test_phone_is_shown_as_people_write_it(world, client_for):
    make_contact(world.rep_a, first_name="Phone", phones=["+8801712345678"])
    _, text = page(client_for(world.rep_a), CONTACTS, cols="phone")
    assert "01712-345678" in text


def test_company_people_count_counts_visible_contacts(world, client_for):
    company = make_company(world.rep_a, name="Meghna Foods")
    make_contact(world.rep_a, first_name="One", company=company)
    make_contact(world.rep_a, first_name="Two", company=company)
    _, text = page(client_for(world.rep_a), COMPANIES, cols="people")
    assert f'href="{CONTACTS}?company={company.pk}">2</a>' in text


def test_list_of_one_companys_people_names_the_company(world, client_for):
    company = make_company(world.rep_a, name="Meghna Foods")
    make_contact(world.rep_a, first_name="Staff", company=company)
    make_contact(world.rep_a, first_name="Outsider")
    _, text = page(client_for(world.rep_a), CONTACTS, company=company.pk)
    assert "People at <strong>Meghna Foods</strong>" in text
    assert "Staff</a>" in text and "Outsider</a>" not in text
    assert f'<input type="hidden" name="company" value="{company.pk}">' in text


@pytest.mark.parametrize("params, field", [
    ({"created_after": "not-a-date"}, "created_after"),
    ({"lifecycle_stage": "planet"}, "lifecycle_stage"),
    ({"sort": "shoe-size"}, "sort"),
    ({"per_page": "7"}, "per_page"),
    ({"cols": "salary"}, "cols"),
    ({"company": "acme"}, "other"),
])
def test_bad_filter_input_is_a_field_error_and_shows_no_rows(world, client_for, params, field):
    make_contact(world.rep_a, first_name="Unseen")
    response, text = page(client_for(world.rep_a), CONTACTS, **params)
    assert response.status_code == 400
    slot = text[text.index(f'id="ferr-{field}"'):]
    assert slot.index('class="field-error"') < slot.index("</span></span>")
    assert "Unseen</a>" not in text and "Correct the highlighted filters" in text


def test_page_size_sets_the_rows_per_page(world, client_for):
    for i in range(27):
        make_contact(world.rep_a, first_name=f"Row{i:02d}")
    _, text = page(client_for(world.rep_a), CONTACTS, per_page=25)
    assert text.count('data-row-check') == 25 and "Page 1 of 2" in text
    _, text = page(client_for(world.rep_a), CONTACTS, per_page=25, page=2)
    assert text.count('data-row-check') == 2


def test_an_estimated_total_is_shown_as_about(world, client_for, monkeypatch):
    import crm.listing

    make_contact(world.rep_a, first_name="Counted")
    monkeypatch.setattr(crm.listing, "capped_count", lambda queryset: (123456, False))
    _, text = page(client_for(world.rep_a), CONTACTS)
    assert "about 123,456 contacts" in text


# --- Constant queries -----------------------------------------------------------------------------


def _contacts_with_everything(owner, n):
    company = make_company(owner, name="Karnaphuli Ltd")
    for i in range(n):
        make_contact(owner, first_name=f"Person{i}", company=company, tags=[f"tag{i % 4}", "all"])


def _queries(client, url, params) -> int:
    client.get(url, params)  # the first request of a session also writes the session
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url, params).status_code == 200
    return len(captured)


def test_contact_list_runs_the_same_queries_for_any_page_size(world, client_for, django_assert_num_queries):
    _contacts_with_everything(world.rep_a, 30)
    client = client_for(world.manager1)
    cols = ["email", "phone", "company", "lifecycle_stage", "owner", "team", "tags", "created", "last_activity"]
    small = _queries(client, CONTACTS, {"per_page": 25, "cols": cols})
    assert small == 13  # pinned: a new query on this page is a decision, not an accident
    with django_assert_num_queries(small):
        response = client.get(CONTACTS, {"per_page": 100, "cols": cols})
    assert response.content.decode().count("data-row-check") == 30


def test_company_list_runs_the_same_queries_for_any_page_size(world, client_for, django_assert_num_queries):
    for i in range(30):
        company = make_company(world.rep_a, name=f"Firm {i}", tags=["b2b"])
        make_contact(world.rep_a, first_name=f"Staff{i}", company=company)
    client = client_for(world.rep_a)
    cols = ["domain", "owner", "team", "tags", "people", "created"]
    small = _queries(client, COMPANIES, {"per_page": 25, "cols": cols})
    assert small == 10  # pinned
    with django_assert_num_queries(small):
        response = client.get(COMPANIES, {"per_page": 100, "cols": cols})
    assert response.content.decode().count('class="col-name"') == 30


@pytest.fixture
def lazy_loads_raise(monkeypatch):
    """List pages whose rows raise on any lazy load (an N+1 in waiting), through the paginator they use."""
    from django.db.models import FETCH_RAISE

    from contacts import selectors
    from crm.listing import CappedPaginator

    class RaisingPaginator(CappedPaginator):
        def __init__(self, object_list, *args, **kwargs):
            super().__init__(object_list.fetch_mode(FETCH_RAISE), *args, **kwargs)

    monkeypatch.setattr(selectors, "CappedPaginator", RaisingPaginator)


def test_contact_rows_with_every_column_need_no_lazy_load(world, client_for, lazy_loads_raise):
    _contacts_with_everything(world.rep_a, 3)
    response = client_for(world.rep_a).get(CONTACTS, {"cols": list(selectors_columns("contacts"))})
    assert response.status_code == 200 and response.content.decode().count("data-row-check") == 3


def test_company_rows_with_every_column_need_no_lazy_load(world, client_for, lazy_loads_raise):
    for i in range(3):
        make_company(world.rep_a, name=f"Firm {i}", tags=["b2b"], phone="01712345678")
    response = client_for(world.rep_a).get(COMPANIES, {"cols": list(selectors_columns("companies"))})
    assert response.status_code == 200 and response.content.decode().count('class="col-name"') == 3


def selectors_columns(kind):
    from contacts import selectors

    return (selectors.CONTACT_COLUMNS if kind == "contacts" else selectors.COMPANY_COLUMNS).keys()


# --- htmx -----------------------------------------------------------------------------------------


def test_htmx_filter_swaps_only_the_results_and_pushes_a_clean_url(world, client_for):
    make_contact(world.rep_a, first_name="Lead", lifecycle_stage="lead")
    response = client_for(world.rep_a).get(CONTACTS, {"lifecycle_stage": "lead", "owner": "", "city": ""},
                                           HTTP_HX_REQUEST="true")
    text = response.content.decode()
    assert response.status_code == 200 and "<html" not in text and 'id="list-results"' in text
    assert response["HX-Push-Url"] == f"{CONTACTS}?lifecycle_stage=lead"
    assert "HX-Request" in response["Vary"]


def test_htmx_bad_filter_puts_the_error_beside_the_field(world, client_for):
    response = client_for(world.rep_a).get(CONTACTS, {"created_after": "soon"}, HTTP_HX_REQUEST="true")
    text = response.content.decode()
    slot = text[text.index('id="ferr-created_after"'):]
    assert 'hx-swap-oob="true"' in slot[:80] and "Enter a valid date." in slot[:300]


def test_history_restore_gets_the_full_page(world, client_for):
    response = client_for(world.rep_a).get(CONTACTS, HTTP_HX_REQUEST="true", HTTP_HX_HISTORY_RESTORE_REQUEST="true")
    assert "<html" in response.content.decode()


# --- Saved views ----------------------------------------------------------------------------------


def test_saving_a_view_keeps_its_filters_and_columns(world, client_for):
    response = client_for(world.rep_a).post(CONTACTS, {
        "name": "Hot leads", "shared": "on", "query": "lifecycle_stage=lead&owner=&sort=name", "cols": ["tags", "email"]})
    view = SavedView.objects.get(name="Hot leads")
    assert (view.target, view.query, view.columns, view.shared) == ("contacts", "lifecycle_stage=lead&sort=name",
                                                                      ["tags", "email"], True)
    assert response.status_code == 302
    assert response["Location"] == f"{CONTACTS}?lifecycle_stage=lead&sort=name&cols=tags&cols=email&view={view.pk}"


def test_saving_a_view_without_a_name_is_a_field_error(world, client_for):
    response = client_for(world.rep_a).post(CONTACTS, {"name": "", "query": "lifecycle_stage=lead"})
    text = response.content.decode()
    assert response.status_code == 400
    assert text.index('id="save-view-form"') < text.index('class="field-error"')
    assert not SavedView.objects.exists()


def test_saving_a_company_view_targets_companies(world, client_for):
    client_for(world.rep_a).post(COMPANIES, {"name": "Garment firms", "query": "industry=garments", "cols": ["people"]})
    view = SavedView.objects.get(name="Garment firms")
    assert (view.target, view.query, view.columns) == ("companies", "industry=garments", ["people"])


def test_saved_views_menu_lists_own_and_team_views_of_this_list_only(world, client_for):
    SavedViewFactory(owner=world.rep_a, name="My own", shared=False, target="contacts")
    SavedViewFactory(owner=world.rep_b, name="Team shared", shared=True, target="contacts")
    SavedViewFactory(owner=world.rep_b, name="Teammate private", shared=False, target="contacts")
    SavedViewFactory(owner=world.rep_c, name="Other team", shared=True, target="contacts")
    SavedViewFactory(owner=world.rep_a, name="For companies", target="companies")
    _, text = page(client_for(world.rep_a), CONTACTS)
    assert "My own" in text and "Team shared" in text
    assert "Teammate private" not in text and "Other team" not in text and "For companies" not in text


def test_applying_a_saved_view_shows_its_filters_and_columns(world, client_for):
    view = SavedViewFactory(owner=world.rep_a, name="Customers", query="lifecycle_stage=customer",
                            columns=["job_title"])
    make_contact(world.rep_a, first_name="Buyer", lifecycle_stage="customer", job_title="CFO")
    make_contact(world.rep_a, first_name="Prospect", lifecycle_stage="lead")
    client = client_for(world.rep_a)
    menu = client.get(CONTACTS).content.decode()
    link = f"{CONTACTS}?lifecycle_stage=customer&amp;cols=job_title&amp;view={view.pk}"
    assert link in menu
    text = client.get(link.replace("&amp;", "&")).content.decode()
    assert "Buyer</a>" in text and "CFO" in text and "Prospect</a>" not in text
    assert "Saved view: Customers" in text


# --- Bulk actions ---------------------------------------------------------------------------------


def bulk(client, ids, action, **fields):
    data = {"ids": [c.pk for c in ids], "action": action, "confirmed": "1", "query": "sort=name", **fields}
    return client.post(BULK, data, follow=False)


def flash(client) -> str:
    return client.get(CONTACTS).content.decode()


def test_bulk_assign_gives_contacts_to_a_teammate(world, client_for):
    contacts = [make_contact(world.rep_a, first_name=f"A{i}") for i in range(2)]
    client = client_for(world.manager1)
    response = bulk(client, contacts, "assign", owner=world.rep_b.pk)
    assert response.status_code == 302 and response["Location"] == f"{CONTACTS}?sort=name"
    assert set(Contact.objects.filter(pk__in=[c.pk for c in contacts]).values_list("owner", flat=True)) == {
        world.rep_b.pk}
    assert "2 contacts updated." in flash(client)


def test_bulk_tag_adds_a_new_tag(world, client_for):
    contacts = [make_contact(world.rep_a, first_name=f"T{i}") for i in range(3)]
    bulk(client_for(world.rep_a), contacts, "tag", tag="  Eid campaign ")
    tag = Tag.objects.get(name="Eid campaign")
    assert ContactTag.objects.filter(tag=tag).count() == 3


def test_bulk_tag_reuses_an_existing_tag(world, client_for):
    contact = make_contact(world.rep_a, first_name="Existing", tags=["VIP"])
    other = make_contact(world.rep_a, first_name="Other")
    bulk(client_for(world.rep_a), [contact, other], "tag", tag="vip")
    assert Tag.objects.filter(name__iexact="vip").count() == 1
    assert set(other.tags.values_list("name", flat=True)) == {"VIP"}


def test_bulk_change_lifecycle_stage(world, client_for):
    contacts = [make_contact(world.rep_a, first_name=f"S{i}") for i in range(2)]
    bulk(client_for(world.rep_a), contacts, "stage", stage="customer")
    assert set(Contact.objects.filter(pk__in=[c.pk for c in contacts]).values_list("lifecycle_stage", flat=True)) == {
        "customer"}


def test_bulk_delete_moves_contacts_to_the_trash(world, client_for):
    contacts = [make_contact(world.rep_a, first_name=f"D{i}") for i in range(2)]
    client = client_for(world.rep_a)
    bulk(client, contacts, "delete")
    assert not Contact.objects.filter(pk__in=[c.pk for c in contacts]).exists()
    assert Contact.all_objects.filter(pk__in=[c.pk for c in contacts], deleted_by=world.rep_a).count() == 2
    assert "2 contacts moved to the trash." in flash(client)


def test_rep_cannot_bulk_change_another_teams_contact(world, client_for):
    mine = make_contact(world.rep_a, first_name="Mine")
    theirs = make_contact(world.rep_c, first_name="Theirs")
    client = client_for(world.rep_a)
    bulk(client, [mine, theirs], "stage", stage="customer")
    assert Contact.objects.get(pk=mine.pk).lifecycle_stage == "customer"
    assert Contact.objects.get(pk=theirs.pk).lifecycle_stage == "lead"
    assert "1 contact updated, 1 skipped (you cannot change it)." in flash(client)


def test_rep_cannot_reassign_a_teammates_contact(world, client_for):
    teammates = make_contact(world.rep_b, first_name="Teammates")
    client = client_for(world.rep_a)
    bulk(client, [teammates], "assign", owner=world.rep_a.pk)
    assert Contact.objects.get(pk=teammates.pk).owner == world.rep_b
    assert "0 contacts updated, 1 skipped (you cannot change it)." in flash(client)


def test_rep_cannot_bulk_delete_a_teammates_contact(world, client_for):
    teammates = make_contact(world.rep_b, first_name="Teammates")
    bulk(client_for(world.rep_a), [teammates], "delete")
    assert Contact.objects.filter(pk=teammates.pk).exists()


def test_agent_changes_nothing_in_bulk(world, client_for):
    contact = make_contact(world.rep_a, first_name="Guarded")
    client = client_for(world.agent1)
    bulk(client, [contact], "stage", stage="churned")
    assert Contact.objects.get(pk=contact.pk).lifecycle_stage == "lead"


def test_bulk_without_ids_is_an_error_and_changes_nothing(world, client_for):
    make_contact(world.rep_a, first_name="Untouched")
    response = client_for(world.rep_a).post(BULK, {"action": "stage", "stage": "customer", "confirmed": "1"})
    assert response.status_code == 400
    assert "Choose at least one contact." in response.content.decode()
    assert not Contact.objects.filter(lifecycle_stage="customer").exists()


def test_bulk_assign_without_owner_is_a_field_error_and_keeps_the_ticks(world, client_for):
    contact = make_contact(world.rep_a, first_name="Kept")
    response = client_for(world.manager1).post(BULK, {"ids": [contact.pk], "action": "assign", "confirmed": "1"})
    text = response.content.decode()
    assert response.status_code == 400 and "Choose the new owner." in text
    assert f'value="{contact.pk}" form="bulk-form" data-row-check' in text and " checked>" in text
    assert Contact.objects.get(pk=contact.pk).owner == world.rep_a


def test_bulk_assign_to_someone_outside_ones_reach_is_a_field_error(world, client_for):
    contact = make_contact(world.rep_a, first_name="Stays")
    response = bulk(client_for(world.rep_a), [contact], "assign", owner=world.rep_c.pk)
    assert response.status_code == 400 and "Select a valid choice" in response.content.decode()
    assert Contact.objects.get(pk=contact.pk).owner == world.rep_a


def test_bulk_without_confirmation_asks_first_and_changes_nothing(world, client_for):
    contact = make_contact(world.rep_a, first_name="Asked")
    response = client_for(world.rep_a).post(BULK, {"ids": [contact.pk], "action": "delete"})
    text = response.content.decode()
    assert response.status_code == 200 and "Confirm the bulk action" in text
    assert 'name="confirmed" value="1"' in text and f'name="ids" value="{contact.pk}"' in text
    assert Contact.objects.filter(pk=contact.pk).exists()


def test_bulk_page_is_post_only(world, client_for):
    assert client_for(world.rep_a).get(BULK).status_code == 405


# --- Trash ------------------------------------------------------------------------------------------


def test_trash_lists_what_one_may_restore_with_who_and_days_left(world, client_for):
    contact = make_contact(world.rep_a, first_name="Binned")
    services.delete_contact(by=world.rep_a, contact=contact)
    Contact.all_objects.filter(pk=contact.pk).update(deleted_at=timezone.now() - timedelta(days=10, hours=1))
    _, text = page(client_for(world.rep_a), TRASH)
    assert "Binned" in text and world.rep_a.full_name in text and "20 days" in text
    for user in (world.rep_b, world.rep_c, world.manager2, world.agent1):
        assert "Binned" not in client_for(user).get(TRASH).content.decode()
    for user in (world.manager1, world.admin):
        assert "Binned" in client_for(user).get(TRASH).content.decode()


def test_trash_lists_companies_on_their_tab(world, client_for):
    company = make_company(world.rep_a, name="Gone Ltd")
    services.delete_company(by=world.rep_a, company=company)
    client = client_for(world.rep_a)
    assert "Gone Ltd" not in client.get(TRASH).content.decode()
    assert "Gone Ltd" in client.get(TRASH, {"kind": "companies"}).content.decode()


def test_empty_trash_says_so(world, client_for):
    _, text = page(client_for(world.rep_a), TRASH)
    assert "No contacts in the trash." in text


def test_restoring_a_contact_brings_it_back(world, client_for):
    contact = make_contact(world.rep_a, first_name="Back")
    services.delete_contact(by=world.rep_a, contact=contact)
    response = client_for(world.rep_a).post(reverse("contacts:restore", args=["contact", contact.pk]))
    assert response.status_code == 302
    assert Contact.objects.filter(pk=contact.pk).exists()


def test_restore_is_404_for_those_who_cannot_see_the_record(world, client_for):
    contact = make_contact(world.rep_a, first_name="Private")
    services.delete_contact(by=world.rep_a, contact=contact)
    url = reverse("contacts:restore", args=["contact", contact.pk])
    for user in (world.rep_c, world.manager2, world.agent1):
        assert client_for(user).post(url).status_code == 404
    assert not Contact.objects.filter(pk=contact.pk).exists()


def test_restore_is_403_for_a_teammate_without_the_right(world, client_for):
    contact = make_contact(world.rep_a, first_name="Teammates")
    services.delete_contact(by=world.rep_a, contact=contact)
    response = client_for(world.rep_b).post(reverse("contacts:restore", args=["contact", contact.pk]))
    assert response.status_code == 403
    assert not Contact.objects.filter(pk=contact.pk).exists()


def test_restore_of_a_record_not_in_the_trash_or_of_an_unknown_kind_is_404(world, client_for):
    contact = make_contact(world.rep_a, first_name="Alive")
    client = client_for(world.rep_a)
    assert client.post(reverse("contacts:restore", args=["contact", contact.pk])).status_code == 404
    assert client.post(reverse("contacts:restore", args=["planet", contact.pk])).status_code == 404


def test_restoring_a_company_whose_website_is_taken_shows_the_error(world, client_for):
    old = make_company(world.rep_a, name="Old Jute", website="https://jute.com.bd")
    services.delete_company(by=world.rep_a, company=old)
    make_company(world.rep_a, name="New Jute", website="jute.com.bd")
    response = client_for(world.rep_a).post(reverse("contacts:restore", args=["company", old.pk]))
    assert response.status_code == 400
    assert "Another company now has this website" in response.content.decode()
    assert Company.all_objects.get(pk=old.pk).deleted_at is not None


def test_restore_is_post_only(world, client_for):
    contact = make_contact(world.rep_a, first_name="Binned")
    services.delete_contact(by=world.rep_a, contact=contact)
    assert client_for(world.rep_a).get(reverse("contacts:restore", args=["contact", contact.pk])).status_code == 405


# --- Navigation -------------------------------------------------------------------------------------


def test_only_the_longest_matching_nav_item_is_active(world, client_for):
    text = client_for(world.rep_a).get(COMPANIES).content.decode()
    assert f'<a href="{COMPANIES}" class="active" aria-current="page">' in text
    assert f'<a href="{CONTACTS}" class="active"' not in text
    text = client_for(world.rep_a).get(CONTACTS).content.decode()
    assert f'<a href="{CONTACTS}" class="active" aria-current="page">' in text

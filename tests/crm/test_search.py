"""Global search: the provider registry, the search page, the top bar's dropdown and the API."""

import pytest
from django.urls import reverse

from crm import search
from crm.search import QueryTooShort, SearchResult, run_search
from tests.factories import make_company, make_contact


@pytest.fixture
def providers():
    """Swap in test providers for the duration of a test; the apps' own come back afterwards."""
    saved = dict(search._providers)
    search._providers.clear()
    yield search
    search._providers.clear()
    search._providers.update(saved)


def fixed(kind: str, count: int):
    def provider(user, query, limit):
        return [SearchResult(title=f"{kind} {i}", subtitle="", url=f"/{kind}/{i}/", kind=kind, id=i)
                for i in range(min(count, limit))]
    return provider


def too_short(user, query, limit):
    raise QueryTooShort(3)


@pytest.fixture
def rahim(world):
    company = make_company(world.rep_a, name="Rahim Textiles", website="rahimtextiles.com.bd", city="Dhaka")
    contact = make_contact(world.rep_a, first_name="Rahim", last_name="Uddin", company=company,
                           emails=["rahim@rahimtextiles.com.bd"], phones=["01712-345678"])
    return contact, company


# --- The registry ----------------------------------------------------------------------------------


def test_groups_follow_registration_order(world, providers):
    providers.register("deals", "Deals", fixed("deal", 2))
    providers.register("tickets", "Tickets", fixed("ticket", 1))
    outcome = run_search(world.rep_a, "anything", limit=8)
    assert [(g.key, len(g.results)) for g in outcome.groups] == [("deals", 2), ("tickets", 1)]


def test_a_group_says_when_it_has_more_than_the_limit(world, providers):
    providers.register("deals", "Deals", fixed("deal", 30))
    providers.register("tickets", "Tickets", fixed("ticket", 8))
    outcome = run_search(world.rep_a, "anything", limit=8)
    assert [(len(g.results), g.has_more) for g in outcome.groups] == [(8, True), (8, False)]


def test_types_narrow_the_groups(world, providers):
    providers.register("deals", "Deals", fixed("deal", 2))
    providers.register("tickets", "Tickets", fixed("ticket", 2))
    assert [g.key for g in run_search(world.rep_a, "x", limit=8, types=["tickets"]).groups] == ["tickets"]


def test_query_is_too_short_only_when_every_provider_says_so(world, providers):
    providers.register("deals", "Deals", too_short)
    assert run_search(world.rep_a, "ab", limit=8).min_length == 3
    providers.register("tickets", "Tickets", fixed("ticket", 1))
    outcome = run_search(world.rep_a, "ab", limit=8)
    assert outcome.min_length is None
    assert [len(g.results) for g in outcome.groups] == [0, 1]


def test_query_whitespace_is_collapsed(world, providers):
    seen = []
    providers.register("deals", "Deals", lambda user, query, limit: seen.append(query) or [])
    run_search(world.rep_a, "  rahim \t uddin ", limit=8)
    assert seen == ["rahim uddin"]


def test_contacts_and_companies_are_registered_by_their_app():
    assert [(p.key, str(p.label)) for p in search.providers()][:2] == [("contacts", "Contacts"), ("companies", "Companies")]


# --- The page -------------------------------------------------------------------------------------------


def test_page_lists_contacts_and_companies_with_links(world, client_for, rahim):
    contact, company = rahim
    response = client_for(world.rep_a).get(reverse("search"), {"q": "rahim"})
    assert response.status_code == 200
    page = response.content.decode()
    assert "<html" in page and 'class="search-page"' in page
    assert f'href="/contacts/{contact.pk}/"' in page and f'href="/contacts/companies/{company.pk}/"' in page
    assert "Rahim Textiles · rahim@rahimtextiles.com.bd · 01712-345678" in page
    assert "rahimtextiles.com.bd · Dhaka" in page


def test_page_prefills_the_search_boxes(world, client_for, rahim):
    page = client_for(world.rep_a).get(reverse("search"), {"q": "rahim"}).content.decode()
    assert page.count('value="rahim"') == 2  # the top bar's box and the page's


def test_page_shows_what_others_own_only_to_those_who_may_see_it(world, client_for, rahim):
    assert "Rahim Uddin" not in client_for(world.rep_c).get(reverse("search"), {"q": "rahim"}).content.decode()
    assert "Rahim Uddin" in client_for(world.admin).get(reverse("search"), {"q": "rahim"}).content.decode()


def test_page_without_a_query_shows_the_form_only(world, client_for):
    response = client_for(world.rep_a).get(reverse("search"))
    assert response.status_code == 200
    assert 'name="q"' in response.content.decode() and "search-panel" not in response.content.decode()


def test_page_says_when_nothing_matches(world, client_for, rahim):
    page = client_for(world.rep_a).get(reverse("search"), {"q": "zzzzqqq"}).content.decode()
    assert "Nothing you can see matches “zzzzqqq”." in page


def test_page_asks_for_more_characters_when_every_provider_needs_them(world, client_for, providers):
    providers.register("deals", "Deals", too_short)
    page = client_for(world.rep_a).get(reverse("search"), {"q": "ra"}).content.decode()
    assert "Type at least 3 letters or digits to search." in page


def test_two_letters_find_a_contact_on_the_page(world, client_for, rahim):
    page = client_for(world.rep_a).get(reverse("search"), {"q": "ra"}).content.decode()
    assert "Rahim Uddin" in page and "Type at least" not in page


def test_page_shows_at_most_25_per_group_and_says_there_are_more(world, client_for, providers):
    providers.register("deals", "Deals", fixed("deal", 40))
    page = client_for(world.rep_a).get(reverse("search"), {"q": "deal"}).content.decode()
    assert page.count('class="search-option"') == 25
    assert "Showing the best 25 matches." in page


def test_page_type_shows_one_group(world, client_for, rahim):
    page = client_for(world.rep_a).get(reverse("search"), {"q": "rahim", "type": "companies"}).content.decode()
    assert "Rahim Textiles" in page and "Rahim Uddin" not in page


def test_page_rejects_a_too_long_query_beside_the_field(world, client_for):
    response = client_for(world.rep_a).get(reverse("search"), {"q": "x" * 201})
    assert response.status_code == 400
    assert 'class="field-error"' in response.content.decode()


def test_page_rejects_an_unknown_type_beside_the_field(world, client_for):
    response = client_for(world.rep_a).get(reverse("search"), {"q": "rahim", "type": "planets"})
    assert response.status_code == 400
    assert "planets" in response.content.decode()


def test_page_needs_sign_in(client):
    response = client.get(reverse("search"), {"q": "rahim"})
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


@pytest.mark.parametrize("rows", [2, 20])
def test_page_runs_a_fixed_number_of_queries(world, client_for, django_assert_num_queries, rows):
    for i in range(rows):
        make_contact(world.rep_a, first_name="Rahim", last_name=f"Number{i}")
    client = client_for(world.rep_a)
    client.get(reverse("search"), {"q": "rahim"})  # the session's first request records its start
    # session, user, org settings; per provider: exact matches, then (fewer than asked) the planner
    # settings, fuzzy matches and the settings restored
    with django_assert_num_queries(11):
        response = client.get(reverse("search"), {"q": "rahim"})
    assert response.content.decode().count("Rahim Number") == rows


# --- The dropdown (htmx) ----------------------------------------------------------------------------------


def htmx_get(client, **params):
    return client.get(reverse("search"), params, headers={"HX-Request": "true", "HX-Target": "search-results"})


def test_dropdown_is_a_fragment_with_a_listbox_of_options(world, client_for, rahim):
    response = htmx_get(client_for(world.rep_a), q="rahim")
    fragment = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in fragment and 'role="listbox"' in fragment
    assert fragment.count('role="option"') == 2
    assert 'href="/search/?q=rahim"' in fragment  # all results


def test_dropdown_shows_at_most_8_per_group(world, client_for, providers):
    providers.register("deals", "Deals", fixed("deal", 40))
    assert htmx_get(client_for(world.rep_a), q="deal").content.decode().count('role="option"') == 8


def test_dropdown_for_an_emptied_box_is_empty(world, client_for):
    response = htmx_get(client_for(world.rep_a), q="  ")
    assert (response.status_code, response.content) == (200, b"")


def test_dropdown_asks_for_more_characters_when_every_provider_needs_them(world, client_for, providers):
    providers.register("deals", "Deals", too_short)
    fragment = htmx_get(client_for(world.rep_a), q="ra").content.decode()
    assert "Type at least 3 letters or digits to search." in fragment and 'role="option"' not in fragment


def test_dropdown_offers_names_after_two_letters(world, client_for, rahim):
    fragment = htmx_get(client_for(world.rep_a), q="ra").content.decode()
    assert 'role="option"' in fragment and "Rahim Uddin" in fragment


def test_dropdown_shows_a_bad_query_in_place(world, client_for):
    response = htmx_get(client_for(world.rep_a), q="x" * 201)
    assert response.status_code == 200  # htmx swaps only successful answers
    assert 'role="alert"' in response.content.decode()


# --- The API ---------------------------------------------------------------------------------------------


def api(client, **params):
    return client.get(reverse("search-list"), params)


def test_api_groups_results_by_type(world, client_for, rahim):
    contact, company = rahim
    body = api(client_for(world.rep_a), q="rahim").json()
    assert body == {"results": {
        "contacts": [{"id": contact.pk, "kind": "contact", "title": "Rahim Uddin",
                      "subtitle": "Rahim Textiles · rahim@rahimtextiles.com.bd · 01712-345678",
                      "url": f"/contacts/{contact.pk}/"}],
        "companies": [{"id": company.pk, "kind": "company", "title": "Rahim Textiles",
                       "subtitle": "rahimtextiles.com.bd · Dhaka", "url": f"/contacts/companies/{company.pk}/"}],
    }}


@pytest.mark.parametrize("types", [{"type": "contacts"}, {"type": ["contacts"]}, {"type": "contacts,"}])
def test_api_type_narrows_the_groups(world, client_for, rahim, types):
    assert list(api(client_for(world.rep_a), q="rahim", **types).json()["results"]) == ["contacts"]


def test_api_accepts_several_types(world, client_for, rahim):
    body = api(client_for(world.rep_a), q="rahim", type="companies,contacts").json()
    assert set(body["results"]) == {"contacts", "companies"}


def test_api_unknown_type_is_a_field_error(world, client_for):
    response = api(client_for(world.rep_a), q="rahim", type="planets")
    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["type"]


@pytest.mark.parametrize("params", [{}, {"q": ""}, {"q": "   "}])
def test_api_needs_a_query(world, client_for, params):
    response = api(client_for(world.rep_a), **params)
    assert response.status_code == 400
    assert response.json() == {"errors": {"q": ["Enter something to search for."]}}


def test_api_short_query_is_a_field_error_when_every_provider_needs_more(world, client_for, providers):
    providers.register("deals", "Deals", too_short)
    response = api(client_for(world.rep_a), q="ra")
    assert response.status_code == 400
    assert response.json() == {"errors": {"q": ["Type at least 3 characters."]}}


def test_api_limit_caps_each_group(world, client_for):
    for i in range(4):
        make_contact(world.rep_a, first_name="Rahim", last_name=f"Number{i}")
    assert len(api(client_for(world.rep_a), q="rahim", limit=2).json()["results"]["contacts"]) == 2


@pytest.mark.parametrize("limit", ["0", "51", "many"])
def test_api_bad_limit_is_a_field_error(world, client_for, limit):
    response = api(client_for(world.rep_a), q="rahim", limit=limit)
    assert response.status_code == 400 and list(response.json()["errors"]) == ["limit"]


def test_api_shows_only_what_the_caller_may_see(world, client_for, rahim):
    assert api(client_for(world.rep_c), q="rahim").json() == {"results": {"contacts": [], "companies": []}}
    assert api(client_for(world.agent1), q="rahim").json() == {"results": {"contacts": [], "companies": []}}


def test_api_refuses_anonymous_callers(client):
    assert api(client, q="rahim").status_code in {401, 403}


def test_api_accepts_a_personal_token(world, rahim):
    from django.test import Client

    from crm import services

    _token, key = services.create_api_token(user=world.rep_a, name="test")
    response = Client(HTTP_AUTHORIZATION=f"Token {key}").get(reverse("search-list"), {"q": "01712345678"})
    assert [c["title"] for c in response.json()["results"]["contacts"]] == ["Rahim Uddin"]


def test_api_schema_describes_search(world, client_for):
    schema = client_for(world.admin).get(reverse("schema"), {"format": "json"}).json()
    operation = schema["paths"]["/api/v1/search/"]["get"]
    assert {"q", "type", "limit"} <= {p["name"] for p in operation["parameters"]}
    answer = operation["responses"]["200"]["content"]["application/json"]["schema"]
    assert answer == {"$ref": "#/components/schemas/SearchResponse"}  # one object of groups, not a list

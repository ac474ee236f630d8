"""Search over contacts and companies: matching (both scripts, typos, emails, phones), ranking, visibility, plans."""

import json

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from bench.seed import seed_contacts
from contacts import search, services
from contacts.models import Contact
from contacts.search import company_results, contact_results, phone_digits
from tests.factories import TeamFactory, UserFactory, make_company, make_contact


def titles(results) -> list[str]:
    return [r.title for r in results]


@pytest.fixture
def rahim(world):
    return make_contact(world.rep_a, first_name="Rahim", last_name="Uddin", emails=["rahim.uddin@example.org"],
                        phones=["01712-345678"])


# --- Names in both scripts, typos ------------------------------------------------------------------


def test_latin_name_is_found(world, rahim):
    assert titles(contact_results(world.rep_a, "Rahim", 8)) == ["Rahim Uddin"]


def test_name_words_match_in_any_order(world, rahim):
    assert titles(contact_results(world.rep_a, "uddin rahim", 8)) == ["Rahim Uddin"]


def test_bengali_name_fragment_is_found(world):
    make_contact(world.rep_a, first_name="রহিম", last_name="উদ্দিন")
    assert titles(contact_results(world.rep_a, "রহি", 8)) == ["রহিম উদ্দিন"]


@pytest.mark.parametrize(("stored", "typed"), [
    ("নুসরাত জাহান", "নুশরাত"),  # স -> শ
    ("রহিম উদ্দিন", "রহীম"),  # ি -> ী in a four-letter name
])
def test_bengali_name_with_one_wrong_letter_is_found(world, stored, typed):
    first, last = stored.split()
    make_contact(world.rep_a, first_name=first, last_name=last)
    assert titles(contact_results(world.rep_a, typed, 8)) == [stored]


@pytest.mark.parametrize("typed", ["rahmi", "Rahin", "rahim udin"])
def test_latin_name_with_a_typo_is_found(world, rahim, typed):
    assert "Rahim Uddin" in titles(contact_results(world.rep_a, typed, 8))


def test_digits_beside_a_misspelt_name_must_match_as_typed(world, rahim):
    assert titles(contact_results(world.rep_a, "rahmi 01712", 8)) == ["Rahim Uddin"]
    assert contact_results(world.rep_a, "rahmi 01799", 8) == []


def test_a_common_part_of_a_query_does_not_make_everything_similar(world):
    make_company(world.rep_a, name="Meghna Traders", website="meghnatraders.com")
    assert company_results(world.rep_a, "@gmail.com", 8) == []


@pytest.mark.parametrize(("key", "words"), [
    ("rahim.uddin@gmail.com", ["rahim", "uddin", "gmail", "com"]), ("md rahim", ["rahim"]),
    ("নুসরাত জাহান", ["নুসরাত", "জাহান"]), ("a-b-c", []),
])
def test_trigram_words_are_runs_of_three_word_characters(key, words):
    assert search.trigram_words(key) == words


def test_unrelated_name_is_not_found(world, rahim):
    make_contact(world.rep_a, first_name="Nusrat", last_name="Jahan")
    assert titles(contact_results(world.rep_a, "nusrat", 8)) == ["Nusrat Jahan"]


def test_exact_match_ranks_before_similar_names(world):
    make_contact(world.rep_a, first_name="Rahman", last_name="Khan")
    make_contact(world.rep_a, first_name="Ibrahim", last_name="Khalil")
    make_contact(world.rep_a, first_name="Rahim", last_name="Khan")
    assert titles(contact_results(world.rep_a, "rahim", 8))[0] == "Rahim Khan"


def test_whole_word_ranks_before_a_word_containing_it(world):
    make_contact(world.rep_a, first_name="Ibrahim", last_name="Khalil")
    make_contact(world.rep_a, first_name="Rahim", last_name="Khalil")
    assert titles(contact_results(world.rep_a, "rahim", 8)) == ["Rahim Khalil", "Ibrahim Khalil"]


def test_results_stop_at_the_limit(world):
    for i in range(5):
        make_contact(world.rep_a, first_name="Rahim", last_name=f"Number{i}")
    assert len(contact_results(world.rep_a, "rahim", 3)) == 3


# --- Emails and phones -----------------------------------------------------------------------------


def test_email_fragment_is_found(world, rahim):
    assert titles(contact_results(world.rep_a, "rahim.uddin@exa", 8)) == ["Rahim Uddin"]


def test_any_of_a_contacts_emails_is_found(world):
    make_contact(world.rep_a, first_name="Karim", emails=["karim@work.example", "karim.home@mail.example"])
    assert titles(contact_results(world.rep_a, "karim.home", 8)) == ["Karim"]


@pytest.mark.parametrize("typed", [
    "01712-345678", "01712345678", "+8801712345678", "+880 1712-345678", "8801712345678", "০১৭১২৩৪৫৬৭৮",
    "1712 345678", "(0171) 234 5678", "008801712345678", "345678",
])
def test_phone_in_any_format_is_found(world, rahim, typed):
    assert titles(contact_results(world.rep_a, typed, 8)) == ["Rahim Uddin"]


def test_a_second_phone_is_found(world):
    make_contact(world.rep_a, first_name="Karim", phones=["01812-000111", "01912-555666"])
    assert titles(contact_results(world.rep_a, "01912 555666", 8)) == ["Karim"]


def test_another_number_is_not_found(world, rahim):
    assert contact_results(world.rep_a, "01712-345679", 8) == []


@pytest.mark.parametrize(("typed", "digits"), [
    ("01712-345678", "1712345678"), ("+880 1712 345678", "1712345678"), ("০১৭১২৩৪৫৬৭৮", "1712345678"),
    ("00880 1712 345678", "1712345678"), ("017", "017"), ("880", "880"), ("+44 20 7946 0958", "442079460958"),
    ("rahim", None), ("12", None),
])
def test_phone_digits_drop_country_code_and_trunk_zero(typed, digits):
    assert phone_digits(typed) == digits


def test_contact_result_shows_company_email_and_phone(world):
    company = make_company(world.rep_a, name="Meghna Traders")
    make_contact(world.rep_a, first_name="Rahim", company=company, emails=["rahim@meghna.example"],
                 phones=["+8801712345678"])
    (result,) = contact_results(world.rep_a, "rahim", 8)
    assert (result.kind, result.subtitle) == ("contact", "Meghna Traders · rahim@meghna.example · 01712-345678")
    assert result.url == f"/contacts/{result.id}/"


# --- Companies ---------------------------------------------------------------------------------------


@pytest.fixture
def meghna(world):
    return make_company(world.rep_a, name="Meghna Traders", website="https://www.meghnatraders.com.bd", city="Dhaka")


@pytest.mark.parametrize("typed", ["meghna", "Meghna Traders", "meghnatraders.com", "megna traders"])
def test_company_is_found_by_name_domain_or_with_a_typo(world, meghna, typed):
    assert titles(company_results(world.rep_a, typed, 8)) == ["Meghna Traders"]


def test_company_result_shows_domain_and_city(world, meghna):
    (result,) = company_results(world.rep_a, "meghna", 8)
    assert (result.kind, result.subtitle, result.url) == (
        "company", "meghnatraders.com.bd · Dhaka", f"/contacts/companies/{meghna.pk}/")


def test_bengali_company_name_is_found(world):
    make_company(world.rep_a, name="মেঘনা ট্রেডার্স")
    assert titles(company_results(world.rep_a, "মেঘনা", 8)) == ["মেঘনা ট্রেডার্স"]


# --- Visibility ---------------------------------------------------------------------------------------


def test_only_people_who_may_see_a_contact_find_it(world, rahim):
    finders = {name for name, user in world.principals().items()
               if user is not None and contact_results(user, "rahim", 8)}
    assert finders == {"rep_a", "rep_b", "manager1", "admin"}


def test_only_people_who_may_see_a_company_find_it(world, meghna):
    finders = {name for name, user in world.principals().items()
               if user is not None and company_results(user, "meghna", 8)}
    assert finders == {"rep_a", "rep_b", "manager1", "admin"}


def test_rep_of_another_team_finds_own_contact_not_the_other_teams(world, rahim):
    make_contact(world.rep_c, first_name="Rahim", last_name="Chowdhury")
    assert titles(contact_results(world.rep_c, "rahim", 8)) == ["Rahim Chowdhury"]
    assert set(titles(contact_results(world.admin, "rahim", 8))) == {"Rahim Uddin", "Rahim Chowdhury"}


def test_fuzzy_matches_respect_visibility_too(world, rahim):
    assert contact_results(world.rep_c, "rahmi", 8) == []


def test_trashed_contact_is_not_found(world, rahim):
    services.delete_contact(by=world.rep_a, contact=rahim)
    assert contact_results(world.admin, "rahim", 8) == []
    assert contact_results(world.admin, "01712345678", 8) == []


def test_trashed_company_is_not_found_nor_named_on_its_contacts(world, meghna):
    make_contact(world.rep_a, first_name="Rahim", company=meghna, emails=["rahim@example.org"])
    services.delete_company(by=world.rep_a, company=meghna)
    assert company_results(world.admin, "meghna", 8) == []
    assert contact_results(world.admin, "rahim", 8)[0].subtitle == "rahim@example.org"


# --- Short queries ------------------------------------------------------------------------------------


@pytest.mark.parametrize("typed", ["r", "ra", "Ra", "রহ"])
def test_one_or_two_letters_find_names_starting_with_them(world, rahim, typed):
    make_contact(world.rep_a, first_name="রহমান", last_name="আলী")
    found = titles(contact_results(world.rep_a, typed, 8))
    assert found == (["রহমান আলী"] if typed == "রহ" else ["Rahim Uddin"])


def test_two_letters_match_the_start_of_the_name_only(world, rahim):
    make_contact(world.rep_a, first_name="Karim", last_name="Rahman")
    assert titles(contact_results(world.rep_a, "Ra", 8)) == ["Rahim Uddin"]


def test_prefix_search_reads_the_prefix_index(world, rahim):
    with connection.cursor() as cursor:  # enough rows that reading the table would cost more than the index
        seed_contacts(cursor, contacts=3000, owners=[(world.rep_a.pk, world.team1.pk)], interactions=False)
        cursor.execute("ANALYZE contacts_contact")
    plans = explained_plans(lambda: contact_results(world.rep_a, "ra", 8))
    assert plans and all("Index Scan contacts_contact_search_prefix" in scans(plan) for plan in plans), [scans(p) for p in plans]


# --- Plans at scale ---------------------------------------------------------------------------------


def explained_plans(run, *, analyze=False) -> list[dict]:
    """Run a search, then EXPLAIN each SELECT it sent (with the same SET LOCAL settings): the JSON plans."""
    with CaptureQueriesContext(connection) as ctx:
        run()
    plans = []
    with transaction.atomic(), connection.cursor() as cursor:
        for query in ctx.captured_queries:
            sql = query["sql"]
            if "set_config" in sql:
                cursor.execute(sql)
            elif sql.startswith("SELECT") and "contacts_" in sql and "pg_indexes" not in sql:
                cursor.execute(f"EXPLAIN ({'ANALYZE, ' if analyze else ''}FORMAT JSON) " + sql)
                plan = cursor.fetchone()[0]
                plans.append((json.loads(plan) if isinstance(plan, str) else plan)[0]["Plan"])
    return plans


def plan_nodes(node) -> list[dict]:
    return [node] + [n for child in node.get("Plans", []) for n in plan_nodes(child)]


def scans(plan) -> list[str]:
    return [f"{n['Node Type']} {n.get('Index Name') or n.get('Relation Name') or ''}".strip()
            for n in plan_nodes(plan) if "Scan" in n["Node Type"]]


@pytest.fixture
def many_contacts(world):
    """Three thousand contacts and ten thousand companies over twenty teams (as bench/seed.py makes a million), with the
    people searched for among them, and fresh statistics: a table where reading it all costs more than
    the index, as in production."""
    owners = [(world.rep_a.pk, world.team1.pk), (world.rep_c.pk, world.team2.pk)]
    for _ in range(18):
        team = TeamFactory()
        owners.append((UserFactory(team=team).pk, team.pk))
    make_contact(world.rep_a, first_name="Tahmina", last_name="Zaman", emails=["tahmina.zaman@example.org"],
                 phones=["01712-345678"])
    make_contact(world.rep_a, first_name="তাহমিনা", last_name="জামান")
    make_company(world.rep_a, name="Zarif Logistics", website="zariflogistics.com.bd")
    with connection.cursor() as cursor:
        seed_contacts(cursor, contacts=3000, owners=owners, companies=10000, interactions=False)
        cursor.execute("ANALYZE contacts_contact")
        cursor.execute("ANALYZE contacts_company")


@pytest.mark.parametrize("who", ["rep_a", "manager1", "admin"])
def test_contact_search_reads_the_trigram_index_not_the_table(world, many_contacts, who):
    user = getattr(world, who)
    for typed in ["tahmina", "tahmian", "zaman tahmina", "tahmina.zam", "01712-345678", "+8801712345678", "তাহমি",
                  "তাহমীনা"]:
        plans = explained_plans(lambda typed=typed: contact_results(user, typed, 8))
        assert plans, f"{typed!r} sent no query"
        for plan in plans:
            found = scans(plan)
            assert not [s for s in found if s.startswith("Seq Scan")], (typed, found)
            if who == "admin":  # no team to narrow by: only the trigram index can answer
                assert "Bitmap Index Scan contacts_contact_search_trgm" in found, (typed, found)
            else:  # a small team may be read through its team index instead; either way an index, never the table
                assert any(s.startswith(("Bitmap Index Scan contacts_contact_", "Index Scan contacts_contact_"))
                           for s in found), (typed, found)


def test_company_search_reads_the_trigram_index_not_the_table(world, many_contacts):
    for typed in ["zarif", "zariflogistics", "zarf"]:
        plans = explained_plans(lambda typed=typed: company_results(world.admin, typed, 8))
        assert plans, f"{typed!r} sent no query"
        for plan in plans:
            assert "Bitmap Index Scan contacts_company_search_trgm" in scans(plan), (typed, scans(plan))
            assert not [s for s in scans(plan) if s.startswith("Seq Scan")], (typed, scans(plan))


def test_a_common_word_reads_only_the_capped_candidates(world, many_contacts):
    """Half the table matches "@gmail.com", yet only CANDIDATES rows are read before the best few are ranked."""
    (plan,) = explained_plans(lambda: contact_results(world.admin, "@gmail.com", 8), analyze=True)
    (candidates,) = [n for n in plan_nodes(plan) if n.get("Subplan Name") == "CTE matches"]
    assert candidates["Actual Rows"] == search.CANDIDATES
    assert len(contact_results(world.admin, "@gmail.com", 8)) == 8


def test_seeded_rows_carry_the_search_text_the_services_write(world):
    """bench/seed.py builds search_text in SQL; it must equal what contact_search_text builds in Python."""
    with connection.cursor() as cursor:
        seed_contacts(cursor, contacts=50, owners=[(world.rep_a.pk, world.team1.pk)], companies=5,
                      interactions=False)
    for contact in Contact.objects.prefetch_related("emails", "phones"):
        assert contact.search_text == services.contact_search_text(
            first_name=contact.first_name, last_name=contact.last_name,
            emails=[e.email for e in contact.emails.all()], phones=[p.number for p in contact.phones.all()],
        )

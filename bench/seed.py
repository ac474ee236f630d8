"""Set-based seeding of a CRM at scale: teams, users, companies, contacts, emails, phones, interactions.

Every table is filled by one `INSERT … SELECT … FROM generate_series(…)` (no Python loop per row), so
a million contacts seed in a few minutes. Values are deterministic functions of the row id (hashint4),
so two runs give the same data and the benchmarks can pick real names, emails and phones to search for.

What a contact looks like (as the services would write it):

- a first and last name in Latin script (50 %), Bengali script (40 %) or Bengali first + Latin last (10 %),
  drawn from common Bangladeshi names, so a first name is shared by ~2 % of contacts (as in real data);
- one email (first.last<id>@gmail.com/yahoo.com/outlook.com or the company's domain) and one BD mobile
  number in E.164 (`+8801[3-9]xxxxxxxx`, unique);
- `search_text` exactly as `contacts.services.contact_search_text` builds it (lower-cased names, email,
  international and national phone digits);
- a company for 60 %, 0–3 timeline entries (and `last_interaction_at` to match), 1 % in the trash.

Used by bench/search.py and bench/visibility_list.py (through `ensure_bench_data`) and by the search
tests (through `seed_contacts`, a few thousand rows in the test database).

    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/sampark_bench REDIS_URL=redis://127.0.0.1:6379/6 \\
      .venv/bin/python bench/seed.py --contacts 1000000
"""

import argparse
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path

# (Bengali, Latin) pairs: the Latin spelling also makes the email address of a Bengali-named contact.
FIRST_NAMES = [
    ("রহিম", "Rahim"), ("করিম", "Karim"), ("আব্দুল", "Abdul"), ("মোহাম্মদ", "Mohammad"), ("নুসরাত", "Nusrat"),
    ("ফাতেমা", "Fatema"), ("আয়েশা", "Ayesha"), ("তানভীর", "Tanvir"), ("সাকিব", "Sakib"), ("রাকিব", "Rakib"),
    ("শাহানা", "Shahana"), ("মাহমুদ", "Mahmud"), ("জাহিদ", "Zahid"), ("ফারহানা", "Farhana"), ("সুমাইয়া", "Sumaiya"),
    ("আরিফ", "Arif"), ("ইমরান", "Imran"), ("মিজানুর", "Mizanur"), ("হাসান", "Hasan"), ("সাবরিনা", "Sabrina"),
    ("তাসনিম", "Tasnim"), ("রুবিনা", "Rubina"), ("শফিক", "Shafiq"), ("নাসির", "Nasir"), ("কামাল", "Kamal"),
    ("জামাল", "Jamal"), ("রফিক", "Rafiq"), ("সেলিনা", "Selina"), ("পারভীন", "Parvin"), ("মাসুদ", "Masud"),
    ("সোহেল", "Sohel"), ("রাশেদ", "Rashed"), ("আনিকা", "Anika"), ("ইশরাত", "Ishrat"), ("মৌসুমী", "Mousumi"),
    ("প্রিয়াঙ্কা", "Priyanka"), ("সুব্রত", "Subrata"), ("অমিত", "Amit"), ("দীপক", "Dipok"), ("অনিক", "Anik"),
    ("তানিয়া", "Tania"), ("রিয়া", "Riya"), ("সুমন", "Suman"), ("বিপ্লব", "Biplob"), ("শাকিল", "Shakil"),
    ("রাজীব", "Rajib"), ("নাঈম", "Naim"), ("ফয়সাল", "Faisal"), ("মেহেদী", "Mehedi"), ("রহমত", "Rahmat"),
]
LAST_NAMES = [
    ("উদ্দিন", "Uddin"), ("আহমেদ", "Ahmed"), ("হোসেন", "Hossain"), ("ইসলাম", "Islam"), ("রহমান", "Rahman"),
    ("খান", "Khan"), ("চৌধুরী", "Chowdhury"), ("আক্তার", "Akter"), ("বেগম", "Begum"), ("সরকার", "Sarker"),
    ("মিয়া", "Mia"), ("শেখ", "Sheikh"), ("তালুকদার", "Talukder"), ("ভূঁইয়া", "Bhuiyan"), ("দাস", "Das"),
    ("রায়", "Roy"), ("সাহা", "Saha"), ("পাল", "Paul"), ("মজুমদার", "Majumder"), ("জাহান", "Jahan"),
    ("সুলতানা", "Sultana"), ("হক", "Haque"), ("আলম", "Alam"), ("কবির", "Kabir"), ("সিদ্দিকী", "Siddiqui"),
    ("বিশ্বাস", "Biswas"), ("মন্ডল", "Mondal"), ("প্রামানিক", "Pramanik"), ("মোল্লা", "Molla"), ("পাটোয়ারী", "Patwary"),
]
COMPANY_WORDS = [
    ("মেঘনা", "Meghna"), ("পদ্মা", "Padma"), ("যমুনা", "Jamuna"), ("কর্ণফুলী", "Karnaphuli"), ("সোনালী", "Sonali"),
    ("রূপালী", "Rupali"), ("বেঙ্গল", "Bengal"), ("ডেল্টা", "Delta"), ("সবুজ", "Sobuj"), ("তারা", "Tara"),
    ("অ্যাপেক্স", "Apex"), ("সামিট", "Summit"), ("ওরিয়ন", "Orion"), ("নিউ এজ", "New Age"), ("প্রগতি", "Progoti"),
    ("সুরমা", "Surma"), ("তিস্তা", "Teesta"), ("বসুন্ধরা", "Boshundhora"), ("আকাশ", "Akash"), ("দিগন্ত", "Digonto"),
]
COMPANY_KINDS = [
    ("ট্রেডার্স", "Traders", "Wholesale"), ("টেক্সটাইল", "Textiles", "Textiles"), ("গার্মেন্টস", "Garments", "Apparel"),
    ("ফুডস", "Foods", "Food"), ("ফার্মা", "Pharma", "Pharmaceuticals"), ("টেক", "Tech", "Software"),
    ("লজিস্টিকস", "Logistics", "Logistics"), ("অ্যাগ্রো", "Agro", "Agriculture"), ("ইলেকট্রনিক্স", "Electronics", "Retail"),
    ("বিল্ডার্স", "Builders", "Construction"), ("এন্টারপ্রাইজ", "Enterprise", "Services"), ("ফ্যাশন", "Fashion", "E-commerce"),
]
CITIES = ["Dhaka", "Chattogram", "Khulna", "Rajshahi", "Sylhet", "Barishal", "Rangpur", "Mymensingh", "Gazipur",
          "Narayanganj", "Cumilla", "Bogura"]
MAIL_DOMAINS = ["gmail.com", "gmail.com", "gmail.com", "yahoo.com", "outlook.com", "hotmail.com"]
STAGES = ["subscriber", "lead", "lead", "lead", "mql", "sql", "opportunity", "customer", "customer", "churned"]
SOURCES = ["campaign", "web_form", "import", "referral", "social", "manual"]
INTERACTION_KINDS = ["call", "email", "meeting", "note", "sms", "purchase"]

# A deterministic, well-mixed non-negative integer per (row number, salt), from PostgreSQL's own hash;
# a temporary function (this session only), inlined by the planner.
HASH_FUNCTION_SQL = """
CREATE OR REPLACE FUNCTION pg_temp.seed_hash(n bigint, salt int) RETURNS bigint
LANGUAGE sql IMMUTABLE AS $$ SELECT hashint4(n::int4 # salt)::bigint + 2147483648 $$
"""


COMPANY_SQL = """
INSERT INTO contacts_company (id, created_at, updated_at, deleted_at, name, legal_name, industry, size_band, website,
                              domain, phone, address, city, region, country, notes, search_text, created_by_id,
                              owner_id, team_id)
SELECT id, created_at, created_at, NULL, name, legal_name, industry, '', 'https://www.' || domain, domain, '', '',
       city, '', 'BD', '', lower(name || ' ' || legal_name || ' ' || domain), owner_id, owner_id, team_id
FROM (
    SELECT b.id, b.created_at, b.owner_id, b.team_id, b.city, b.domain, b.industry,
           CASE WHEN b.bengali THEN b.word_bn || ' ' || b.kind_bn ELSE b.word_en || ' ' || b.kind_en END AS name,
           CASE WHEN b.bengali THEN b.word_bn || ' ' || b.kind_bn || ' লিমিটেড'
                ELSE b.word_en || ' ' || b.kind_en || ' Ltd.' END AS legal_name
    FROM (
        SELECT %(base)s + g AS id,
               now() - (%(count)s - g) * interval '15 minutes' AS created_at,
               (%(owner_ids)s::bigint[])[1 + (%(base)s + g) %% %(owners)s] AS owner_id,
               (%(team_ids)s::bigint[])[1 + (%(base)s + g) %% %(owners)s] AS team_id,
               pg_temp.seed_hash(%(base)s + g, 11) %% 5 = 0 AS bengali,
               (%(words_bn)s::text[])[1 + pg_temp.seed_hash(%(base)s + g, 12) %% %(n_words)s] AS word_bn,
               (%(words_en)s::text[])[1 + pg_temp.seed_hash(%(base)s + g, 12) %% %(n_words)s] AS word_en,
               (%(kinds_bn)s::text[])[1 + pg_temp.seed_hash(%(base)s + g, 13) %% %(n_kinds)s] AS kind_bn,
               (%(kinds_en)s::text[])[1 + pg_temp.seed_hash(%(base)s + g, 13) %% %(n_kinds)s] AS kind_en,
               (%(industries)s::text[])[1 + pg_temp.seed_hash(%(base)s + g, 13) %% %(n_kinds)s] AS industry,
               (%(cities)s::text[])[1 + pg_temp.seed_hash(%(base)s + g, 14) %% %(n_cities)s] AS city,
               lower(replace((%(words_en)s::text[])[1 + pg_temp.seed_hash(%(base)s + g, 12) %% %(n_words)s], ' ', '')
                     || (%(kinds_en)s::text[])[1 + pg_temp.seed_hash(%(base)s + g, 13) %% %(n_kinds)s])
                   || (%(base)s + g) || '.com.bd' AS domain
        FROM generate_series(1, %(count)s) AS g
    ) b
) c
"""

CONTACT_SQL = """
INSERT INTO contacts_contact (id, created_at, updated_at, deleted_at, first_name, last_name, email, phone, job_title,
                              lifecycle_stage, source, age_band, gender, city, region, country, income_band,
                              preferred_channel, preferred_language, contact_times, service_preferences,
                              project_requirements, project_type, email_opt_in, email_opt_in_source, sms_opt_in,
                              sms_opt_in_source, phone_opt_in, phone_opt_in_source, do_not_contact, notes,
                              last_interaction_at, search_text, company_id, created_by_id, owner_id, team_id)
SELECT id, created_at, created_at, CASE WHEN trashed THEN created_at + interval '1 day' END,
       first_name, last_name, email, phone, '', stage, source, '', '', city, '', 'BD', '', '', '', '', '', '', '',
       false, '', false, '', false, '', false, '',
       CASE WHEN visits > 0 THEN created_at + visits * interval '3 days' END,
       lower(first_name || ' ' || last_name || ' ' || email || ' ' || substr(phone, 2) || ' 0' || substr(phone, 5)),
       company_id, owner_id, owner_id, team_id
FROM (
    SELECT b.*,
           CASE WHEN b.script < 5 THEN b.first_en ELSE b.first_bn END AS first_name,
           CASE WHEN b.script < 5 OR b.script = 9 THEN b.last_en ELSE b.last_bn END AS last_name,
           lower(b.first_en || '.' || b.last_en) || b.id || '@'
               || CASE WHEN co.domain IS NOT NULL AND b.mail %% 3 = 0 THEN co.domain
                       ELSE (%(mail_domains)s::text[])[1 + b.mail %% %(n_mail_domains)s] END AS email,
           '+8801' || (3 + b.operator %% 7) || lpad(((b.id * 7919) %% 100000000)::text, 8, '0') AS phone
    FROM (
        SELECT (%(base)s + g)::bigint AS id,
               now() - (%(count)s - g) * interval '90 seconds' AS created_at,
               (%(owner_ids)s::bigint[])[1 + (%(base)s + g) %% %(owners)s] AS owner_id,
               (%(team_ids)s::bigint[])[1 + (%(base)s + g) %% %(owners)s] AS team_id,
               pg_temp.seed_hash(%(base)s + g, 1) %% 10 AS script,
               (%(first_bn)s::text[])[1 + pg_temp.seed_hash(%(base)s + g, 2) %% %(n_first)s] AS first_bn,
               (%(first_en)s::text[])[1 + pg_temp.seed_hash(%(base)s + g, 2) %% %(n_first)s] AS first_en,
               (%(last_bn)s::text[])[1 + pg_temp.seed_hash(%(base)s + g, 3) %% %(n_last)s] AS last_bn,
               (%(last_en)s::text[])[1 + pg_temp.seed_hash(%(base)s + g, 3) %% %(n_last)s] AS last_en,
               pg_temp.seed_hash(%(base)s + g, 4) AS mail,
               pg_temp.seed_hash(%(base)s + g, 5) AS operator,
               CASE WHEN %(companies)s > 0 AND pg_temp.seed_hash(%(base)s + g, 6) %% 10 < 6
                    THEN %(company_base)s + 1 + pg_temp.seed_hash(%(base)s + g, 7) %% greatest(%(companies)s, 1)
               END AS company_id,
               (%(stages)s::text[])[1 + pg_temp.seed_hash(%(base)s + g, 8) %% %(n_stages)s] AS stage,
               (%(sources)s::text[])[1 + pg_temp.seed_hash(%(base)s + g, 8) %% %(n_sources)s] AS source,
               (%(cities)s::text[])[1 + pg_temp.seed_hash(%(base)s + g, 9) %% %(n_cities)s] AS city,
               pg_temp.seed_hash(%(base)s + g, 10) %% 100 = 0 AS trashed,
               ((%(base)s + g) * 31) %% 4 AS visits
        FROM generate_series(1, %(count)s) AS g
    ) b
    LEFT JOIN contacts_company co ON co.id = b.company_id
) c
"""

EMAIL_SQL = """
INSERT INTO contacts_contactemail (contact_id, email, is_primary)
SELECT id, email, true FROM contacts_contact WHERE id > %(base)s AND id <= %(base)s + %(count)s AND email <> ''
"""
PHONE_SQL = """
INSERT INTO contacts_contactphone (contact_id, number, kind, is_primary)
SELECT id, phone, 'mobile', true FROM contacts_contact WHERE id > %(base)s AND id <= %(base)s + %(count)s AND phone <> ''
"""
# `visits` above and the series below are the same function of the id, so last_interaction_at matches the timeline.
INTERACTION_SQL = """
INSERT INTO contacts_interaction (kind, direction, occurred_at, subject, body, outcome, link_type, link_id, link_label,
                                  created_at, author_id, company_id, contact_id)
SELECT (%(kinds)s::text[])[1 + (c.id + i) %% %(n_kinds)s], 'out', c.created_at + i * interval '3 days',
       'Follow-up ' || i, '', '', '', NULL, '', c.created_at + i * interval '3 days', c.owner_id, NULL, c.id
FROM contacts_contact c
CROSS JOIN LATERAL generate_series(1, ((c.id * 31) %% 4)::int) AS i
WHERE c.id > %(base)s AND c.id <= %(base)s + %(count)s
"""


SEEDED_TABLES = ("contacts_company", "contacts_contact", "contacts_contactemail", "contacts_contactphone",
                 "contacts_interaction")


def _next_id(cursor, table: str) -> int:
    cursor.execute(f"SELECT coalesce(max(id), 0) FROM {table}")  # noqa: S608 (a fixed table name)
    return cursor.fetchone()[0]


def _bump_sequence(cursor, table: str) -> None:
    cursor.execute(
        f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT coalesce(max(id), 1) FROM {table}))"  # noqa: S608
    )


def seed_contacts(cursor, *, contacts: int, owners: list[tuple[int, int | None]], companies: int | None = None,
                  interactions: bool = True, fast: bool = False) -> dict[str, int]:
    """Insert `contacts` contacts (and `companies`, default one per ten contacts) owned round-robin by `owners`.

    `owners` are (user id, team id) pairs, the team being the owner's (the invariant `visible_to` relies on).
    Runs in one transaction with the history triggers off; `fast` also skips foreign-key checks
    (superuser only, for the benchmark's bulk load). Returns the first ids and counts.
    """
    from django.db import transaction

    if companies is None:
        companies = contacts // 10
    with transaction.atomic():
        if fast:
            cursor.execute("SET LOCAL session_replication_role = replica")
        # No history rows for seeded data (they would cost ten times the rows themselves). ALTER TABLE may
        # not follow pending foreign-key checks in the same transaction, hence IMMEDIATE first.
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        for table in SEEDED_TABLES:
            cursor.execute(f"ALTER TABLE {table} DISABLE TRIGGER USER")
        counts = _seed(cursor, contacts=contacts, owners=owners, companies=companies, interactions=interactions)
        for table in SEEDED_TABLES:
            cursor.execute(f"ALTER TABLE {table} ENABLE TRIGGER USER")
        # Merge the rows GIN parked in its pending list, as autovacuum would after a bulk load: the planner
        # prices scanning that list, and while it is long it prefers reading the table to the index.
        cursor.execute("SELECT gin_clean_pending_list(i.indexrelid) FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
                       "JOIN pg_am a ON a.oid = c.relam WHERE a.amname = 'gin' AND i.indrelid = ANY(%s::regclass[])",
                       [list(SEEDED_TABLES)])
    return counts


def _seed(cursor, *, contacts, owners, companies, interactions) -> dict[str, int]:
    cursor.execute(HASH_FUNCTION_SQL)
    company_base = _next_id(cursor, "contacts_company")
    base = _next_id(cursor, "contacts_contact")
    common = {
        "owner_ids": [o for o, _t in owners], "team_ids": [t for _o, t in owners], "owners": len(owners),
        "cities": CITIES, "n_cities": len(CITIES),
    }
    if companies:
        cursor.execute(COMPANY_SQL, {
            **common, "base": company_base, "count": companies,
            "words_bn": [b for b, _e in COMPANY_WORDS], "words_en": [e for _b, e in COMPANY_WORDS],
            "n_words": len(COMPANY_WORDS),
            "kinds_bn": [k[0] for k in COMPANY_KINDS], "kinds_en": [k[1] for k in COMPANY_KINDS],
            "industries": [k[2] for k in COMPANY_KINDS], "n_kinds": len(COMPANY_KINDS),
        })
        _bump_sequence(cursor, "contacts_company")
    params = {
        **common, "base": base, "count": contacts, "companies": companies, "company_base": company_base,
        "first_bn": [b for b, _e in FIRST_NAMES], "first_en": [e for _b, e in FIRST_NAMES], "n_first": len(FIRST_NAMES),
        "last_bn": [b for b, _e in LAST_NAMES], "last_en": [e for _b, e in LAST_NAMES], "n_last": len(LAST_NAMES),
        "mail_domains": MAIL_DOMAINS, "n_mail_domains": len(MAIL_DOMAINS),
        "stages": STAGES, "n_stages": len(STAGES), "sources": SOURCES, "n_sources": len(SOURCES),
    }
    cursor.execute(CONTACT_SQL, params)
    _bump_sequence(cursor, "contacts_contact")
    cursor.execute(EMAIL_SQL, {"base": base, "count": contacts})
    cursor.execute(PHONE_SQL, {"base": base, "count": contacts})
    if interactions:
        cursor.execute(INTERACTION_SQL, {"base": base, "count": contacts, "kinds": INTERACTION_KINDS,
                                         "n_kinds": len(INTERACTION_KINDS)})
    return {"contact_base": base, "contacts": contacts, "company_base": company_base, "companies": companies}


# --- The benchmark organisation -----------------------------------------------------------------


@dataclass
class BenchWorld:
    rep: object  # a sales rep of team 0 (sees team 0: 1/TEAMS of the contacts)
    manager: object  # manages teams 0 and 1
    admin: object
    owners: list[tuple[int, int]]


TEAMS = 20
REPS_PER_TEAM = 10


def bench_world() -> BenchWorld:
    """The benchmark's teams and users (idempotent): 20 teams of 10 reps, a manager of two teams, an admin."""
    from allauth.mfa.models import Authenticator
    from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret

    from crm.models import OrgSettings, Role, Team, TeamManager, User

    OrgSettings.load()
    teams = [Team.objects.get_or_create(name=f"Bench team {i}")[0] for i in range(TEAMS)]
    reps = []
    for i in range(TEAMS * REPS_PER_TEAM):
        user, created = User.objects.get_or_create(
            email=f"bench-rep{i}@example.com", defaults={"full_name": f"Rep {i}", "team": teams[i % TEAMS]}
        )
        if created:
            user.set_unusable_password()
            user.save(update_fields=["password"])
        reps.append(user)
    manager, _ = User.objects.get_or_create(email="bench-mgr@example.com",
                                            defaults={"full_name": "Mgr", "role": Role.MANAGER, "team": teams[0]})
    for team in teams[:2]:
        TeamManager.objects.get_or_create(team=team, user=manager)
    admin, _ = User.objects.get_or_create(email="bench-admin@example.com",
                                          defaults={"full_name": "Adm", "role": Role.ADMIN})
    if not Authenticator.objects.filter(user=admin, type=Authenticator.Type.TOTP).exists():
        TOTP.activate(admin, generate_totp_secret())  # admins must have two-factor sign-in to open pages
    return BenchWorld(rep=reps[0], manager=manager, admin=admin, owners=[(u.pk, u.team_id) for u in reps])


def _drop_indexes(cursor, tables) -> list[str]:
    """Drop the tables' indexes that back no constraint; return their definitions to build them again."""
    cursor.execute(
        """
        SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid)
        FROM pg_index i
        WHERE i.indrelid = ANY(%s::regclass[])
          AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)
        """,
        [list(tables)],
    )
    rows = cursor.fetchall()
    for name, _definition in rows:
        cursor.execute(f"DROP INDEX {name}")  # names read from the catalogue just above
    return [definition for _name, definition in rows]


def ensure_bench_data(contacts: int, *, reset: bool = False) -> BenchWorld:
    """Seed the benchmark database with `contacts` contacts unless it already holds exactly that many."""
    from django.core.management import call_command
    from django.db import connection, transaction

    from contacts.models import Contact

    call_command("migrate", verbosity=0)
    world = bench_world()
    have = Contact.all_objects.count()
    if have == contacts and not reset:
        print(f"reusing {have:,} contacts already in {connection.settings_dict['NAME']}")
        return world
    started = time.monotonic()
    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE contacts_contact, contacts_company, contacts_contactevent, contacts_companyevent, "
                       "contacts_interactionevent, contacts_contactemailevent, contacts_contactphoneevent CASCADE")
        cursor.execute("SET maintenance_work_mem = '512MB'")
    with transaction.atomic(), connection.cursor() as cursor:
        # PostgreSQL's advice for bulk loads: build the indexes once at the end, not row by row.
        indexes = _drop_indexes(cursor, SEEDED_TABLES)
        counts = seed_contacts(cursor, contacts=contacts, owners=world.owners, fast=True)
        loaded = time.monotonic() - started
        for definition in indexes:
            cursor.execute(definition)
    seeded = time.monotonic() - started
    print(f"loaded rows in {loaded:.0f} s, built {len(indexes)} indexes in {seeded - loaded:.0f} s")
    with connection.cursor() as cursor:
        for table in ("contacts_company", "contacts_contact", "contacts_contactemail", "contacts_contactphone",
                      "contacts_interaction"):
            cursor.execute(f"VACUUM (ANALYZE) {table}")
    print(f"seeded {counts['contacts']:,} contacts and {counts['companies']:,} companies in {seeded:.0f} s "
          f"(+ {time.monotonic() - started - seeded:.0f} s VACUUM ANALYZE)")
    return world


def setup_django() -> None:
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "crm.settings")
    os.environ.setdefault("DEBUG", "0")  # as in production: no query log, no debug pages
    os.environ.setdefault("CRM_TESTING", "1")  # no SECRET_KEY needed; localhost allowed
    import django

    django.setup()


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--contacts", type=int, default=1_000_000)
    parser.add_argument("--reset", action="store_true", help="seed again even if the count already matches")
    args = parser.parse_args()
    setup_django()
    ensure_bench_data(args.contacts, reset=args.reset)


if __name__ == "__main__":
    main()

"""Seed lead scoring's data at scale: contacts (bench/seed.py), a skewed timeline, orders, tags and 20 rules.

On top of `seed.ensure_bench_data` (1,000,000 contacts, 100,000 companies, 1.5 million "Follow-up" entries
spread over their lives), set-based, one `INSERT … SELECT … FROM generate_series(…)` or `UPDATE` per step:

- interactions up to `--interactions` in all (5 per contact by default): web visits (45 %, subject a URL
  of shop.example.com: /pricing, /products/…, /blog/…, /cart…), emails, calls, meetings, SMS, notes and
  social messages over the last 365 days (more recent ones more often). The contact of the n-th entry is
  `floor(N * u ** 2.5)` permuted by a prime, so a few contacts are very active (the busiest has thousands),
  the top 1 % own ~15 % of the entries and most contacts have a handful or none;
- `--orders` orders (one per contact by default), skewed the same way (other salt): owner and team the
  contact's, status mostly delivered/paid/shipped, some pending/cancelled/refunded, totals 250–30,250 BDT
  (most small), channel web/store/phone/marketplace, ordered over the last 365 days;
- contacts get a job title (70 %), gender, age and income band, consent and preferred channel, their
  `last_interaction_at` from the new timeline and a zero score; companies a size band (90 %); 5 % of the
  contacts the tag "VIP" and 15 % "Newsletter";
- 20 scoring rules named "Bench: …" of every kind in `sales.scoring.rules.KINDS`, their params passed
  through `clean_params`.

Values are deterministic functions of the row number (bench/seed.py's `seed_hash`). The load runs with
`session_replication_role = replica` (no history or dirty-mark triggers, no foreign-key checks: the
dirty queue stays empty), the loaded tables' indexes are dropped first and built once at the end, then
everything is `VACUUM ANALYZE`d. A rerun with the data present does nothing; `--reset` seeds again.

    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/sampark_bench5 REDIS_URL=redis://127.0.0.1:6379/8 \\
      .venv/bin/python bench/seed_scale.py --contacts 1000000 [--reset]
"""

import argparse
import math
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import seed  # noqa: E402  (bench/seed.py)

RULE_PREFIX = "Bench: "
SKEW = 2.5  # contact of the n-th entry: floor(N * u ** SKEW), u uniform: a few very active contacts
PRIMES = (1_000_003, 999_983, 1_000_033, 999_979)

# 20 slots: the share of each kind among the new entries.
KIND_SLOTS = ["web_visit"] * 9 + ["email"] * 4 + ["call"] * 3 + ["meeting", "sms", "note", "social_message"]
PRODUCTS = ["saree-jamdani", "panjabi-cotton", "rice-cooker-1-8l", "smartphone-a15", "led-tv-43", "ceiling-fan",
            "school-bag", "tea-garden-500g", "mustard-oil-5l", "refrigerator-250l", "laptop-i5", "sneakers-runner"]
POSTS = ["eid-gift-guide", "how-to-choose-a-fridge", "monsoon-care-tips", "bkash-payment-how-to", "new-arrivals",
         "winter-collection", "home-office-setup"]
# Ten slots per visit: /pricing 20 %, a product 30 %, a blog post 20 %, home, cart, checkout, contact.
WEB_SQL = """CASE r2 %% 10 WHEN 0 THEN '/pricing' WHEN 1 THEN '/pricing'
             WHEN 2 THEN '/products/' || (%(products)s::text[])[1 + r3 %% %(n_products)s]
             WHEN 3 THEN '/products/' || (%(products)s::text[])[1 + r3 %% %(n_products)s]
             WHEN 4 THEN '/products/' || (%(products)s::text[])[1 + r3 %% %(n_products)s]
             WHEN 5 THEN '/blog/' || (%(posts)s::text[])[1 + r3 %% %(n_posts)s]
             WHEN 6 THEN '/blog/' || (%(posts)s::text[])[1 + r3 %% %(n_posts)s]
             WHEN 7 THEN '/' WHEN 8 THEN '/cart' ELSE (ARRAY['/checkout', '/contact'])[1 + r3 %% 2] END"""
SUBJECTS = {
    "email": ["Quotation for your order", "Re: price list", "Invoice attached", "Eid offer", "Order confirmation"],
    "call": ["Sales call", "Follow-up call", "Delivery query", "Payment reminder"],
    "meeting": ["Product demo", "Showroom visit", "Negotiation meeting"],
    "sms": ["Delivery update", "OTP resend", "Offer SMS"],
    "note": ["Prefers evening calls", "Asked about bulk discount", "Wants home delivery"],
    "social_message": ["Messenger enquiry", "WhatsApp enquiry"],
}

INTERACTION_SQL = f"""
INSERT INTO contacts_interaction (kind, direction, occurred_at, subject, body, outcome, link_type, link_id,
                                  link_label, created_at, author_id, company_id, contact_id)
SELECT e.kind,
       CASE WHEN e.kind IN ('web_visit', 'social_message') THEN 'in' WHEN e.kind = 'note' THEN ''
            WHEN e.r2 %% 3 = 0 THEN 'in' ELSE 'out' END,
       e.at,
       CASE WHEN e.kind = 'web_visit' THEN 'https://shop.example.com' || {WEB_SQL}
            ELSE (%(subjects)s::jsonb -> e.kind ->> (e.r3 %% jsonb_array_length(%(subjects)s::jsonb -> e.kind))::int)
       END,
       '',
       CASE WHEN e.kind = 'call' THEN (ARRAY['connected', 'connected', 'no answer', 'voicemail', 'busy'])[1 + e.r3 %% 5]
            ELSE '' END,
       '', NULL, '', e.at, CASE WHEN e.kind IN ('web_visit', 'social_message') THEN NULL ELSE c.owner_id END, NULL, c.id
FROM (
    SELECT %(lo)s + (floor(%(n)s * power(pg_temp.seed_hash(g, 21) / 4294967296.0, %(skew)s))::bigint * %(prime)s)
                    %% %(n)s AS contact_id,
           now() - power(pg_temp.seed_hash(g, 22) / 4294967296.0, 1.3) * interval '365 days' AS at,
           (%(kinds)s::text[])[1 + pg_temp.seed_hash(g, 23) %% %(n_kinds)s] AS kind,
           pg_temp.seed_hash(g, 24) AS r2,
           pg_temp.seed_hash(g, 25) AS r3
    FROM generate_series(1, %(count)s) AS g
) e
JOIN contacts_contact c ON c.id = e.contact_id
"""  # noqa: S608 (WEB_SQL is a constant above)

ORDER_SQL = """
INSERT INTO sales_order (created_at, updated_at, external_ref, status, channel, currency, subtotal, shipping, tax,
                         total, ordered_at, note, company_id, contact_id, created_by_id, deal_id, owner_id, team_id)
SELECT o.at, o.at, 'BS-' || lpad(o.g::text, 8, '0'), o.status, o.channel, 'BDT', o.total - o.shipping, o.shipping,
       0, o.total, o.at, '', c.company_id, c.id, NULL, NULL, c.owner_id, c.team_id
FROM (
    SELECT g,
           %(lo)s + (floor(%(n)s * power(pg_temp.seed_hash(g, 31) / 4294967296.0, %(skew)s))::bigint * %(prime)s)
                    %% %(n)s AS contact_id,
           now() - power(pg_temp.seed_hash(g, 32) / 4294967296.0, 1.2) * interval '365 days' AS at,
           (ARRAY['delivered', 'delivered', 'delivered', 'delivered', 'delivered', 'delivered', 'delivered',
                  'delivered', 'delivered', 'paid', 'paid', 'paid', 'paid', 'shipped', 'shipped', 'pending',
                  'pending', 'cancelled', 'cancelled', 'refunded'])[1 + pg_temp.seed_hash(g, 33) %% 20] AS status,
           (ARRAY['web', 'web', 'web', 'web', 'web', 'store', 'store', 'phone', 'marketplace',
                  'marketplace'])[1 + pg_temp.seed_hash(g, 34) %% 10] AS channel,
           round((250 + 30000 * power(pg_temp.seed_hash(g, 35) / 4294967296.0, 3))::numeric, 2) AS total,
           (ARRAY[0, 60, 60, 120])[1 + pg_temp.seed_hash(g, 36) %% 4]::numeric AS shipping
    FROM generate_series(1, %(count)s) AS g
) o
JOIN contacts_contact c ON c.id = o.contact_id
"""

JOB_TITLES = ["CEO", "Managing Director", "Owner", "Purchase Director", "Procurement Manager", "Marketing Manager",
              "Sales Executive", "Software Engineer", "Accountant", "HR Manager", "Operations Head", "Student",
              "Teacher", "Doctor", "Shop Manager", "Merchandiser", "Business Owner", "Director of Finance"]
DIVISIONS = {"Dhaka": "Dhaka", "Gazipur": "Dhaka", "Narayanganj": "Dhaka", "Chattogram": "Chattogram",
             "Cumilla": "Chattogram", "Khulna": "Khulna", "Rajshahi": "Rajshahi", "Bogura": "Rajshahi",
             "Sylhet": "Sylhet", "Barishal": "Barishal", "Rangpur": "Rangpur", "Mymensingh": "Mymensingh"}

# Contacts: fit fields from hashes of the id, the latest timeline entry, a zero score (as the seed left it).
CONTACT_SQL = """
CREATE TEMP TABLE bench_last_at ON COMMIT DROP AS
    SELECT contact_id, max(occurred_at) AS last_at FROM contacts_interaction
    WHERE contact_id IS NOT NULL GROUP BY contact_id;
UPDATE contacts_contact c
SET job_title = CASE WHEN pg_temp.seed_hash(c.id, 41) %% 10 < 7
                     THEN (%(titles)s::text[])[1 + pg_temp.seed_hash(c.id, 42) %% %(n_titles)s] ELSE '' END,
    gender = (ARRAY['male', 'male', 'female', 'female', '', 'prefer_not_to_say'])[1 + pg_temp.seed_hash(c.id, 43) %% 6],
    age_band = (ARRAY['18_24', '25_34', '25_34', '35_44', '35_44', '45_54', '55_64', ''])[1 + pg_temp.seed_hash(c.id, 44) %% 8],
    income_band = (ARRAY['low', 'lower_middle', 'middle', 'middle', 'upper_middle', 'high',
                         ''])[1 + pg_temp.seed_hash(c.id, 45) %% 7],
    preferred_channel = (ARRAY['phone', 'whatsapp', 'email', 'sms', 'messenger', ''])[1 + pg_temp.seed_hash(c.id, 46) %% 6],
    email_opt_in = pg_temp.seed_hash(c.id, 47) %% 3 = 0,
    sms_opt_in = pg_temp.seed_hash(c.id, 48) %% 4 = 0,
    region = COALESCE(%(divisions)s::jsonb ->> c.city, ''),
    last_interaction_at = GREATEST(c.last_interaction_at, l.last_at),
    score = 0, score_band = 'cold', score_change_7d = 0, score_updated_at = NULL
FROM contacts_contact c0 LEFT JOIN bench_last_at l ON l.contact_id = c0.id
WHERE c0.id = c.id
"""
COMPANY_SQL = """
UPDATE contacts_company co
SET size_band = (ARRAY['1_10', '1_10', '1_10', '11_50', '11_50', '11_50', '51_200', '51_200', '201_1000', '1000_plus',
                       ''])[1 + pg_temp.seed_hash(co.id, 51) %% 11],
    region = COALESCE(%(divisions)s::jsonb ->> co.city, '')
"""
TAG_SQL = """
INSERT INTO contacts_contacttag (source, created_at, contact_id, tag_id)
SELECT 'manual', now() - (pg_temp.seed_hash(c.id, 61) %% 365) * interval '1 day', c.id, %(tag)s
FROM contacts_contact c WHERE pg_temp.seed_hash(c.id, %(salt)s) %% 100 < %(percent)s
"""

#: (name, kind, points, params): every kind of sales.scoring.rules.KINDS, fit and behaviour.
RULES = [
    ("Decision maker", "field_in", 20, {"field": "job_title", "values": ["CEO", "Managing Director", "Owner"]}),
    ("Director", "field_contains", 15, {"field": "job_title", "value": "director"}),
    ("Manager", "field_contains", 10, {"field": "job_title", "value": "manager"}),
    ("Churned", "field_equals", -25, {"field": "lifecycle_stage", "value": "churned"}),
    ("Late stage", "field_in", 15, {"field": "lifecycle_stage", "values": ["opportunity", "customer"]}),
    ("In Dhaka", "field_equals", 5, {"field": "city", "value": "Dhaka"}),
    ("Large company", "field_in", 15, {"field": "company.size_band", "values": ["201_1000", "1000_plus"]}),
    ("Software company", "field_equals", 10, {"field": "company.industry", "value": "Software"}),
    ("Email consent", "field_is_set", 5, {"field": "email_opt_in"}),
    ("Open complaints", "open_complaints", -15, {"per_occurrence": True, "cap": 30}),  # the support app's kind
    ("Referred", "field_equals", 10, {"field": "source", "value": "referral"}),
    ("VIP tag", "tag_present", 20, {"tag": "VIP"}),
    ("Engaged this month", "interaction_count", 10, {"days": 30, "min_count": 5}),
    ("Meetings", "interaction_count", 10, {"kind": "meeting", "days": 90, "per_occurrence": True, "cap": 30}),
    ("Calls this fortnight", "interaction_count", 8, {"kind": "call", "days": 14, "min_count": 2}),
    ("Pricing page visits", "web_visits", 5, {"pattern": "/pricing", "days": 30, "per_occurrence": True, "cap": 25}),
    ("Product browsing", "web_visits", 10, {"pattern": "/products/", "days": 30, "min_count": 3}),
    ("Recent buyer", "orders_count", 15, {"days": 90, "min_count": 1}),
    ("Gone quiet", "days_since_interaction", -20, {"days": 90}),
    ("Big spender", "total_spend", 20, {"min_total": "20000"}),
]

LOADED_TABLES = ("contacts_contact", "contacts_company", "contacts_interaction", "sales_order")


def _step(label: str, started: float, timings: list) -> float:
    now = time.monotonic()
    timings.append((label, now - started))
    print(f"  {label:<48} {now - started:7.1f} s", flush=True)
    return now


def ensure_rules() -> list:
    """The 20 bench rules (replaced when their number is off), params checked as the admin form checks them."""
    from contacts.models import Tag
    from sales.models import ScoringRule, ScoringSettings
    from sales.scoring.rules import KINDS, clean_params

    tags = {name: Tag.objects.get_or_create(name=name, defaults={"colour": colour})[0]
            for name, colour in (("VIP", "#f59e0b"), ("Newsletter", "#0ea5e9"))}
    rules = list(ScoringRule.objects.filter(name__startswith=RULE_PREFIX))
    if len(rules) == len(RULES):
        return rules
    ScoringRule.objects.filter(name__startswith=RULE_PREFIX).delete()
    ScoringSettings.load()
    rules = []
    for position, (name, kind, points, params) in enumerate(RULES, start=1):
        if kind == "tag_present":
            params = {"tag": tags[params["tag"]].pk}
        rules.append(ScoringRule.objects.create(name=RULE_PREFIX + name, kind=kind, points=points, position=position,
                                                params=clean_params(kind, params)))
    missing = set(KINDS) - {r.kind for r in rules}
    assert not missing, f"no bench rule of kind {missing}"
    return rules


def _prime_for(n: int, *, after: int = 0) -> int:
    """A prime coprime with n: multiplying by it modulo n permutes 0..n-1 (scatters the busy contacts)."""
    return next(p for p in PRIMES[after:] + PRIMES[:after] if math.gcd(p, n) == 1)


def load(*, interactions: int, orders: int) -> list:
    """Timeline, orders, tags and fit fields on top of the contacts seed.py left (one transaction)."""
    from django.db import connection, transaction

    from contacts.models import Tag

    timings: list = []
    started = time.monotonic()
    with connection.cursor() as cursor:
        cursor.execute("SET maintenance_work_mem = '512MB'")
        cursor.execute("SET work_mem = '256MB'")
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL session_replication_role = replica")  # no history, no dirty marks, no FK checks
        cursor.execute(seed.HASH_FUNCTION_SQL)
        cursor.execute("SELECT min(id), max(id), count(*) FROM contacts_contact")
        lo, hi, n = cursor.fetchone()
        assert hi - lo + 1 == n, "bench/seed.py's contact ids are contiguous"
        # What a previous run of this script added (seed.py's entries are all "Follow-up N").
        cursor.execute("TRUNCATE sales_order, contacts_contacttag, sales_scoreexplanation, sales_scorehistory, "
                       "sales_scoredirty, sales_scorerun CASCADE")
        cursor.execute("DELETE FROM contacts_interaction WHERE subject NOT LIKE 'Follow-up %%'")
        cursor.execute("SELECT count(*) FROM contacts_interaction")
        extra = max(interactions - cursor.fetchone()[0], 0)
        mark = _step("clear previous bench rows", started, timings)
        indexes = seed._drop_indexes(cursor, LOADED_TABLES)
        mark = _step(f"drop {len(indexes)} indexes", mark, timings)
        cursor.execute(INTERACTION_SQL, {
            "lo": lo, "n": n, "skew": SKEW, "prime": _prime_for(n), "count": extra,
            "kinds": KIND_SLOTS, "n_kinds": len(KIND_SLOTS), "products": PRODUCTS, "n_products": len(PRODUCTS),
            "posts": POSTS, "n_posts": len(POSTS), "subjects": _json(SUBJECTS),
        })
        mark = _step(f"contacts_interaction +{extra:,} rows", mark, timings)
        cursor.execute(ORDER_SQL, {"lo": lo, "n": n, "skew": 2.0, "prime": _prime_for(n, after=1), "count": orders})
        seed._bump_sequence(cursor, "sales_order")
        mark = _step(f"sales_order {orders:,} rows", mark, timings)
        cursor.execute(CONTACT_SQL, {"titles": JOB_TITLES, "n_titles": len(JOB_TITLES), "divisions": _json(DIVISIONS)})
        cursor.execute(COMPANY_SQL, {"divisions": _json(DIVISIONS)})
        mark = _step("contacts/companies: fit fields, last_interaction_at", mark, timings)
        tags = {t.name: t.pk for t in Tag.objects.filter(name__in=["VIP", "Newsletter"])}
        cursor.execute(TAG_SQL, {"tag": tags["VIP"], "salt": 62, "percent": 5})
        cursor.execute(TAG_SQL, {"tag": tags["Newsletter"], "salt": 63, "percent": 15})
        mark = _step("contacts_contacttag (VIP 5 %, Newsletter 15 %)", mark, timings)
        for definition in indexes:
            cursor.execute(definition)
        mark = _step(f"build {len(indexes)} indexes", mark, timings)
    with connection.cursor() as cursor:
        for table in (*LOADED_TABLES, "contacts_contacttag"):
            cursor.execute(f"VACUUM (ANALYZE) {table}")
    _step("VACUUM ANALYZE", mark, timings)
    return timings


def _json(value) -> str:
    import json

    return json.dumps(value)


def counts() -> dict:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT (SELECT count(*) FROM contacts_interaction), (SELECT count(*) FROM sales_order), "
                       "(SELECT count(*) FROM contacts_contact WHERE job_title <> ''), "
                       "(SELECT count(*) FROM sales_scoredirty)")
        interactions, orders, titled, dirty = cursor.fetchone()
    return {"interactions": interactions, "orders": orders, "titled": titled, "dirty": dirty}


def ensure_scoring_data(contacts: int, *, interactions: int | None = None, orders: int | None = None,
                        reset: bool = False):
    """Seed (once) what the scoring benchmark needs; returns bench/seed.py's world."""
    interactions = 5 * contacts if interactions is None else interactions
    orders = contacts if orders is None else orders
    started = time.monotonic()
    world = seed.ensure_bench_data(contacts, reset=reset)
    contacts_done = time.monotonic()
    print(f"contacts and companies (bench/seed.py): {contacts_done - started:.1f} s")
    have = counts()
    rules = ensure_rules()
    if not reset and have["interactions"] == interactions and have["orders"] == orders and have["titled"]:
        print(f"reusing {have['interactions']:,} interactions, {have['orders']:,} orders, {len(rules)} rules")
        return world
    print("loading the scoring data set:")
    load(interactions=interactions, orders=orders)
    have = counts()
    total = time.monotonic() - started
    print(f"seeded {have['interactions']:,} interactions, {have['orders']:,} orders, {len(rules)} rules "
          f"({have['dirty']} dirty marks) in {time.monotonic() - contacts_done:.1f} s; whole seeding {total:.1f} s")
    return world


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--contacts", type=int, default=1_000_000)
    parser.add_argument("--interactions", type=int, help="in all, with seed.py's (default 5 per contact)")
    parser.add_argument("--orders", type=int, help="default one per contact")
    parser.add_argument("--reset", action="store_true", help="seed everything again")
    args = parser.parse_args()
    seed.setup_django()
    ensure_scoring_data(args.contacts, interactions=args.interactions, orders=args.orders, reset=args.reset)


if __name__ == "__main__":
    main()

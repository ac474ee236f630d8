"""Time global search at scale: the SQL the app runs, under EXPLAIN ANALYZE, for a rep, a manager and an admin.

For each realistic query (Bengali name fragment, Latin name with a typo, email fragment, one phone in
several writings, company name) and each user, it runs `crm.search.run_search` as the top bar does
(contacts and companies, 8 each), captures every SELECT it sends, replays them under
`EXPLAIN (ANALYZE, FORMAT JSON)` in the same transaction settings, and adds up the execution times:
the database's share of one search. It fails loudly if a plan reads contacts or companies sequentially.
Prints, per user, p50/p95 of that database time and of the whole call (Python included).

    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/sampark_bench REDIS_URL=redis://127.0.0.1:6379/6 \\
      .venv/bin/python bench/search.py --contacts 1000000
"""

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import seed  # noqa: E402  (bench/seed.py, run as a script next to this one)


def realistic_queries(rep) -> list[tuple[str, str]]:
    """(what it is, query) pairs; the email and phone belong to a contact the rep can see."""
    from contacts.models import Contact
    from contacts.normalise import display_phone

    mine = Contact.objects.filter(team_id=rep.team_id).exclude(phone="").order_by("pk")[7]
    national = display_phone(mine.phone)  # 01712-345678
    digits = national.replace("-", "")
    bengali = digits.translate(str.maketrans("0123456789", "০১২৩৪৫৬৭৮৯"))
    return [
        ("Bengali name fragment", "রহি"),
        ("Bengali full name", "নুসরাত জাহান"),
        ("Bengali name, one letter wrong", "নুশরাত"),
        ("Latin name with typo", "rahmi"),
        ("Latin full name with typo", "nusrat jahn"),
        ("Latin surname with typo", "hosain"),
        ("email fragment", mine.email.split("@")[0][:-1]),
        ("phone, national with dash", national),
        ("phone, E.164", mine.phone),
        ("phone, Bengali digits", bengali),
        ("phone, no trunk zero, spaced", f"{digits[1:5]} {digits[5:]}"),
        ("company name", "meghna traders"),
        ("company domain", "padmagarments"),
    ]


#: Queries that match a large share of all contacts, shown apart: the trigram bitmap then holds every match.
UNSELECTIVE = [
    ("first 3 digits of a phone (20 % match)", "017"),
    ("email domain alone (40 % match)", "@gmail.com"),
]


def explain_total(captured, connection) -> tuple[float, list[str]]:
    """Replay the captured statements under EXPLAIN ANALYZE; (sum of execution ms, sequential scans seen)."""
    from django.db import transaction

    total, seq_scans = 0.0, []
    with transaction.atomic(), connection.cursor() as cursor:
        for query in captured:
            sql = query["sql"]
            if "set_config" in sql:
                cursor.execute(sql)  # the same `SET LOCAL` the search ran with
                continue
            if not sql.lstrip().upper().startswith("SELECT") or "pg_indexes" in sql:
                continue
            cursor.execute("EXPLAIN (ANALYZE, FORMAT JSON) " + sql)
            plan = cursor.fetchone()[0]
            plan = json.loads(plan) if isinstance(plan, str) else plan
            total += plan[0]["Execution Time"] + plan[0]["Planning Time"]
            seq_scans += [node for node in _nodes(plan[0]["Plan"])
                          if node.startswith("Seq Scan") and ("contacts_contact" in node or "contacts_company" in node)]
    return total, seq_scans


def _nodes(plan) -> list[str]:
    name = plan["Node Type"] + (f" on {plan['Relation Name']}" if "Relation Name" in plan else "")
    return [name] + [n for child in plan.get("Plans", []) for n in _nodes(child)]


def percentile(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--contacts", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=5, help="runs per query and user (the median is kept)")
    parser.add_argument("--limit", type=int, default=8, help="results per group (8: the dropdown, 25: the page)")
    parser.add_argument("--http", type=int, default=0, metavar="N",
                        help="also send N dropdown requests per user through Django's test client (req/s)")
    parser.add_argument("--prefix-index", action="store_true",
                        help="also create the prefix index search asks for (this database only) and time 1-2 letters")
    args = parser.parse_args()
    seed.setup_django()

    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from crm.models import User
    from crm.search import run_search

    world = seed.ensure_bench_data(args.contacts)
    queries = realistic_queries(world.rep)
    users = [("rep (1 team)", world.rep), ("manager (2 teams)", world.manager), ("admin (all)", world.admin)]
    print(f"{'query':34} {'text':24} " + " ".join(f"{label:>22}" for label, _u in users))
    db_ms = {label: [] for label, _u in users}
    wall_ms = {label: [] for label, _u in users}
    problems = []
    rows = {}
    for what, query in queries:
        cells = []
        for label, user in users:
            user = User.objects.get(pk=user.pk)
            user.org(), user.managed_team_ids()  # per-request reads, not the search's
            run_search(user, query, limit=args.limit)  # warm the cache
            dbs, walls, found = [], [], 0
            for _ in range(args.repeat):
                with CaptureQueriesContext(connection) as ctx:
                    started = time.perf_counter()
                    outcome = run_search(user, query, limit=args.limit)
                    walls.append((time.perf_counter() - started) * 1000)
                total, seq_scans = explain_total(ctx.captured_queries, connection)
                dbs.append(total)
                found = sum(len(g.results) for g in outcome.groups)
                if seq_scans:
                    problems.append(f"{what} / {label}: {sorted(set(seq_scans))}")
            db_ms[label].append(statistics.median(dbs))
            wall_ms[label].append(statistics.median(walls))
            cells.append(f"{statistics.median(dbs):7.1f} ms db {found:2d} hits")
        rows[what] = cells
        print(f"{what:34} {query[:24]:24} " + " ".join(f"{c:>22}" for c in cells))
    print()
    print(f"{'user':20} {'db p50':>9} {'db p95':>9} {'call p50':>9} {'call p95':>9}   ({len(queries)} queries, "
          f"median of {args.repeat} runs each, limit {args.limit} per group)")
    for label, _u in users:
        print(f"{label:20} {percentile(db_ms[label], 50):7.1f}ms {percentile(db_ms[label], 95):7.1f}ms "
              f"{percentile(wall_ms[label], 50):7.1f}ms {percentile(wall_ms[label], 95):7.1f}ms")
    print("\nunselective queries (not in the percentiles above):")
    for what, query in UNSELECTIVE:
        cells = []
        for _label, user in users:
            user = User.objects.get(pk=user.pk)
            run_search(user, query, limit=args.limit)
            with CaptureQueriesContext(connection) as ctx:
                run_search(user, query, limit=args.limit)
            total, seq_scans = explain_total(ctx.captured_queries, connection)
            cells.append(f"{total:7.1f} ms db" + (" SEQ" if seq_scans else ""))
        print(f"{what:40} {query:12} " + " ".join(f"{c:>18}" for c in cells))
    if args.http:
        print()
        for label, user in users:
            print(f"{label:20} dropdown through Django: {dropdown_requests_per_second(user, queries, args.http)}")
    if args.prefix_index:
        print()
        prefix_search(users, args.limit)
    if problems:
        print("\nSEQUENTIAL SCANS:\n  " + "\n  ".join(problems))
        sys.exit(1)
    print("\nno sequential scan of contacts or companies in any plan")


def dropdown_requests_per_second(user, queries, requests: int) -> str:
    """GET /search/?q= as the top bar sends it (htmx), rotating through the queries, in one process."""
    from django.test import Client
    from django.urls import reverse

    client = Client(SERVER_NAME="localhost", headers={"HX-Request": "true", "HX-Target": "search-results"})
    client.force_login(user)
    client.get(reverse("search"), {"q": "warm"})
    started = time.perf_counter()
    for i in range(requests):
        response = client.get(reverse("search"), {"q": queries[i % len(queries)][1]})
        assert response.status_code == 200, response.status_code
    return f"{requests / (time.perf_counter() - started):.0f} req/s (test client, {requests} requests)"


PREFIX_INDEX_SQL = {
    "contacts_contact_search_prefix": 'CREATE INDEX CONCURRENTLY IF NOT EXISTS contacts_contact_search_prefix ON '
                                      'contacts_contact ((left(search_text, 20) COLLATE "C")) WHERE deleted_at IS NULL',
    "contacts_company_search_prefix": 'CREATE INDEX CONCURRENTLY IF NOT EXISTS contacts_company_search_prefix ON '
                                      'contacts_company ((left(search_text, 20) COLLATE "C")) WHERE deleted_at IS NULL',
}


def prefix_search(users, limit: int) -> None:
    """Create the btree index prefix search needs, time 1-2 letter queries, drop it again (this database only)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from contacts import search
    from crm.models import User
    from crm.search import run_search

    started = time.perf_counter()
    with connection.cursor() as cursor:
        for statement in PREFIX_INDEX_SQL.values():
            cursor.execute(statement)
        cursor.execute("ANALYZE contacts_contact")
        cursor.execute("ANALYZE contacts_company")
    search.has_prefix_index.cache_clear()
    print(f"prefix indexes ready in {time.perf_counter() - started:.0f} s; short queries (db ms, hits):")
    for label, user in users:
        user = User.objects.get(pk=user.pk)
        cells = []
        for query in ["r", "ra", "রহ", "su"]:
            run_search(user, query, limit=limit)
            with CaptureQueriesContext(connection) as ctx:
                outcome = run_search(user, query, limit=limit)
            total, seq_scans = explain_total(ctx.captured_queries, connection)
            cells.append(f"{query!r} {total:5.1f} ms {sum(len(g.results) for g in outcome.groups):2d}"
                         + (" SEQ SCAN" if seq_scans else ""))
        print(f"  {label:20} " + " | ".join(cells))
    with connection.cursor() as cursor:  # leave the schema as the migrations made it
        for name in PREFIX_INDEX_SQL:
            cursor.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {name}")
    search.has_prefix_index.cache_clear()


if __name__ == "__main__":
    main()

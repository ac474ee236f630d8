"""Time the contacts list's first page at scale for a rep, a manager of two teams and an admin. Run by hand.

The data comes from bench/seed.py (a million contacts over 20 teams, seeded once and reused). For each user:

- the page query as the list builds it: `ContactFilter` (default order: newest first) over
  `Contact.objects.visible_to(user)`, 50 rows, with owner and company joined;
- the total above it: `crm.listing.capped_count` (exact up to 10,000, the planner's estimate above);

each under EXPLAIN ANALYZE (the database's time and the plan's top nodes) and timed from Python over
`--repeat` runs. When the contacts page exists (another part of the app builds /contacts/), it is also
requested through Django's test client, signed in as each user, and the requests per second printed.

    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/sampark_bench REDIS_URL=redis://127.0.0.1:6379/6 \\
      .venv/bin/python bench/visibility_list.py --contacts 1000000
"""

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import seed  # noqa: E402  (bench/seed.py, run as a script next to this one)


def explain(queryset_sql: str, connection) -> tuple[float, list[str]]:
    """(execution + planning ms, scan nodes) of one SQL statement under EXPLAIN ANALYZE."""
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN (ANALYZE, FORMAT JSON) " + queryset_sql)
        plan = cursor.fetchone()[0]
    plan = (json.loads(plan) if isinstance(plan, str) else plan)[0]
    return plan["Execution Time"] + plan["Planning Time"], _scans(plan["Plan"])


def _scans(node) -> list[str]:
    own = [f"{node['Node Type']} {node.get('Index Name') or node.get('Relation Name') or ''}".strip()] \
        if "Scan" in node["Node Type"] else []
    return own + [s for child in node.get("Plans", []) for s in _scans(child)]


def timed(function, repeat: int) -> tuple[float, float]:
    timings = []
    for _ in range(repeat):
        started = time.perf_counter()
        function()
        timings.append((time.perf_counter() - started) * 1000)
    timings.sort()
    return statistics.median(timings), timings[max(0, int(len(timings) * 0.99) - 1)]


def page_requests_per_second(user, requests: int) -> str:
    """Requests per second for /contacts/ through the test client, or why it was not measured."""
    from django.test import Client
    from django.urls import reverse

    client = Client(SERVER_NAME="localhost")
    client.force_login(user)
    url = reverse("contacts:index")
    first = client.get(url)
    if first.status_code != 200:
        return f"page answers {first.status_code} (not built yet)" if first.status_code == 501 else \
            f"page answers {first.status_code}"
    started = time.perf_counter()
    for _ in range(requests):
        client.get(url)
    return f"{requests / (time.perf_counter() - started):.0f} req/s (test client, one process)"


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--contacts", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=50)
    parser.add_argument("--requests", type=int, default=100, help="page requests per user (when the page exists)")
    args = parser.parse_args()
    seed.setup_django()

    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from contacts.filters import ContactFilter
    from contacts.models import Contact
    from crm.listing import capped_count
    from crm.models import User

    world = seed.ensure_bench_data(args.contacts)
    for label, user in [("rep (1 team)", world.rep), ("manager (2 teams)", world.manager), ("admin (all)", world.admin)]:
        user = User.objects.get(pk=user.pk)
        user.org(), user.managed_team_ids()
        visible = Contact.objects.visible_to(user)
        page = ContactFilter(data={}, queryset=visible.select_related("owner", "company")).qs[:50]
        with CaptureQueriesContext(connection) as ctx:
            list(page.all())
        page_ms, page_scans = explain(ctx.captured_queries[-1]["sql"], connection)
        with CaptureQueriesContext(connection) as ctx:
            count, exact = capped_count(visible)
        count_ms, count_scans = 0.0, []
        for query in ctx.captured_queries:  # the bounded count, and EXPLAIN for the estimate above 10,000
            sql = query["sql"]
            if sql.startswith("EXPLAIN"):
                sql = sql.split(") ", 1)[1]  # the estimate's own statement, timed as the planner's work only
                with connection.cursor() as cursor:
                    started = time.perf_counter()
                    cursor.execute("EXPLAIN " + sql)
                    count_ms += (time.perf_counter() - started) * 1000
                continue
            ms, scans = explain(sql, connection)
            count_ms, count_scans = count_ms + ms, count_scans + scans
        page_p50, page_p99 = timed(lambda page=page: list(page.all()), args.repeat)
        count_p50, count_p99 = timed(lambda visible=visible: capped_count(visible), args.repeat)
        print(f"{label}")
        print(f"  page 1 (50 rows)   db {page_ms:6.2f} ms | python p50 {page_p50:6.2f} ms p99 {page_p99:6.2f} ms"
              f" | {' / '.join(page_scans)}")
        print(f"  capped_count       db {count_ms:6.2f} ms | python p50 {count_p50:6.2f} ms p99 {count_p99:6.2f} ms"
              f" | {count:,} ({'exact' if exact else 'estimate'}) | {' / '.join(count_scans)}")
        print(f"  /contacts/         {page_requests_per_second(user, args.requests)}")
        problems = [s for s in page_scans + count_scans if s.startswith("Seq Scan contacts")]
        if problems:
            print(f"  SEQUENTIAL SCAN: {problems}")


if __name__ == "__main__":
    main()

"""Time a pipeline board's first screen with 10,000 open deals, for a rep, a manager and an admin. Run by hand.

The issue's target: the first screen (top N cards per column, counts and totals) in under 150 ms of
server time. Seeds (once) a "Bench pipeline" with six open stages and `--deals` open deals spread over the
bench teams (bench/seed.py's users), then times `sales.selectors.board_columns` from Python over
`--repeat` runs, and, when the board page exists (/sales/pipelines/<id>/), requests it through Django's
test client signed in as each user.

    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/sampark_bench REDIS_URL=redis://127.0.0.1:6379/6 \\
      .venv/bin/python bench/board.py --deals 10000
"""

import argparse
import random
import statistics
import sys
import time
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import seed  # noqa: E402  (bench/seed.py)

PIPELINE = "Bench pipeline"


def ensure_deals(world, n: int):
    from django.db import connection

    from crm.models import Role
    from sales import services
    from sales.models import Deal, Pipeline

    admin = world.admin
    assert admin.role == Role.ADMIN
    pipeline = Pipeline.objects.filter(name=PIPELINE).first()
    if pipeline is None:
        pipeline = services.create_pipeline(by=admin, name=PIPELINE, stages=[
            ("New", 10), ("Qualified", 20), ("Demo", 40), ("Proposal", 60), ("Negotiation", 80), ("Verbal yes", 90)])
    have = Deal.objects.filter(pipeline=pipeline).count()
    if have >= n:
        return pipeline
    stages = list(pipeline.stages.filter(is_won=False, is_lost=False).order_by("position"))
    rng = random.Random(7)
    rows = []
    for i in range(have, n):
        owner_id, team_id = world.owners[i % len(world.owners)]
        rows.append(Deal(title=f"Bench deal {i}", pipeline=pipeline, stage=rng.choice(stages), owner_id=owner_id,
                         team_id=team_id, amount=Decimal(rng.randrange(10_000, 2_000_000, 100)), currency="BDT"))
    Deal.objects.bulk_create(rows, batch_size=2000)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE sales_deal")
    return pipeline


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--deals", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=30)
    parser.add_argument("--per-column", type=int, default=25)
    args = parser.parse_args()
    seed.setup_django()

    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from django.urls import NoReverseMatch, reverse

    from sales.selectors import board_columns

    world = seed.bench_world()
    pipeline = ensure_deals(world, args.deals)
    print(f"{PIPELINE}: {args.deals:,} open deals over {len(world.owners)} reps in 20 teams")
    for label, user in (("rep", world.rep), ("manager (2 teams)", world.manager), ("admin", world.admin)):
        timings = []
        for _ in range(args.repeat):
            start = time.perf_counter()
            columns = board_columns(user=user, pipeline=pipeline, per_column=args.per_column)
            timings.append((time.perf_counter() - start) * 1000)
        with CaptureQueriesContext(connection) as queries:
            board_columns(user=user, pipeline=pipeline, per_column=args.per_column)
        cards = sum(len(c.deals) for c in columns)
        deals = sum(c.count for c in columns)
        print(f"{label:18} board_columns p50 {statistics.median(timings):6.1f} ms  max {max(timings):6.1f} ms  "
              f"{len(queries)} queries, {deals:,} visible open deals, {cards} cards")
        try:
            url = reverse("sales:pipeline", args=[pipeline.pk])
        except NoReverseMatch:
            continue
        client = Client(HTTP_HOST="localhost")  # an allowed host under CRM_TESTING
        client.force_login(user)
        client.get(url)
        page = []
        for _ in range(args.repeat):
            start = time.perf_counter()
            response = client.get(url)
            page.append((time.perf_counter() - start) * 1000)
        print(f"{'':18} page {url} {response.status_code}: p50 {statistics.median(page):6.1f} ms "
              f"(test client, whole request)")


if __name__ == "__main__":
    main()

"""Time the base list query (visible_to, newest first, 50 rows) at scale. Run by hand."""

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "crm.settings")
os.environ.setdefault("DEBUG", "1")

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402

from crm.models import OrgSettings, Role, SavedView, Team, TeamManager, User  # noqa: E402


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=200)
    args = parser.parse_args()
    call_command("migrate", verbosity=0)
    OrgSettings.load()
    SavedView.objects.all().delete()
    teams = [Team.objects.get_or_create(name=f"Bench team {i}")[0] for i in range(20)]
    reps = [User.objects.get_or_create(email=f"bench-rep{i}@example.com",
                                       defaults={"full_name": f"Rep {i}", "team": teams[i % 20]})[0]
            for i in range(200)]
    manager, _ = User.objects.get_or_create(email="bench-mgr@example.com",
                                            defaults={"full_name": "Mgr", "role": Role.MANAGER, "team": teams[0]})
    for team in teams[:2]:
        TeamManager.objects.get_or_create(team=team, user=manager)
    admin, _ = User.objects.get_or_create(email="bench-admin@example.com", defaults={"full_name": "Adm", "role": Role.ADMIN})
    started = time.monotonic()
    with connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO crm_savedview (owner_id, team_id, created_by_id, created_at, updated_at, name, target,
                                       query, columns, shared)
            SELECT u.id, u.team_id, NULL, now() - (g || ' seconds')::interval, now(), 'view ' || g, 'contacts',
                   '', '[]', (g %% 5) <> 0
            FROM generate_series(1, %s) AS g
            JOIN LATERAL (SELECT id, team_id FROM crm_user WHERE email = 'bench-rep' || (g %% 200) || '@example.com')
                 u ON true
            """,
            [args.rows],
        )
        cursor.execute("ANALYZE crm_savedview")
    print(f"seeded {args.rows:,} rows in {time.monotonic() - started:.1f} s")
    for label, user in [("rep", reps[0]), ("manager of 2 teams", manager), ("admin", admin)]:
        user = User.objects.get(pk=user.pk)
        qs = SavedView.objects.visible_to(user).select_related("owner").order_by("-created_at", "-id")[:50]
        plan = qs.explain(analyze=True)
        timings = []
        for _ in range(args.repeat):
            t = time.perf_counter()
            list(qs.all())
            timings.append((time.perf_counter() - t) * 1000)
        timings.sort()
        top = " / ".join(line.strip() for line in plan.splitlines()[:3])
        print(f"{label:20} p50 {statistics.median(timings):.2f} ms  p99 {timings[int(len(timings) * 0.99) - 1]:.2f} ms"
              f"  | {top[:160]}")
    SavedView.objects.all().delete()


if __name__ == "__main__":
    main()

"""Time the support inbox of an agent with 5,000 open tickets. Run by hand.

The issue's target: the inbox renders in under 150 ms of server time. Seeds (once) `--contacts` contacts
(bench/seed.py), three support teams of five agents with a queue each and SLA policies, then `--tickets` tickets
with one set-based INSERT: `--mine` open tickets assigned to the first agent, the rest spread over the teams in
every status, with SLA due times and states. Then requests the inbox views through Django's test client signed in
as that agent (and as the support manager and an admin), reporting p50/p95/max of the whole request and its
query count.

    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/sampark_inbox REDIS_URL=redis://127.0.0.1:6379/7 \\
      .venv/bin/python bench/inbox.py --tickets 60000 --mine 5000
"""

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import seed  # noqa: E402  (bench/seed.py)

SUPPORT_TEAMS = 3
AGENTS_PER_TEAM = 5


def support_world():
    from crm.models import Role, Team, TeamKind, TeamManager, User
    from support.models import Queue, SlaPolicy

    teams = [Team.objects.get_or_create(name=f"Bench desk {i}", defaults={"kind": TeamKind.SUPPORT})[0]
             for i in range(SUPPORT_TEAMS)]
    agents = []
    for i in range(SUPPORT_TEAMS * AGENTS_PER_TEAM):
        user, _ = User.objects.get_or_create(
            email=f"bench-agent{i}@example.com",
            defaults={"full_name": f"Agent {i}", "role": Role.SUPPORT_AGENT, "team": teams[i % SUPPORT_TEAMS]})
        agents.append(user)
    manager, _ = User.objects.get_or_create(email="bench-desk-mgr@example.com", defaults={
        "full_name": "Desk manager", "role": Role.MANAGER, "team": teams[0]})
    TeamManager.objects.get_or_create(team=teams[0], user=manager)
    queues = [Queue.objects.get_or_create(name=f"Bench queue {i}", defaults={"team": team})[0]
              for i, team in enumerate(teams)]
    for priority, first, resolution in (("low", 480, 2400), ("normal", 240, 1440), ("high", 60, 480),
                                        ("urgent", 30, 240)):
        SlaPolicy.objects.get_or_create(name=f"Bench {priority}", defaults={
            "priority": priority, "first_response_minutes": first, "resolution_minutes": resolution})
    return agents, manager, queues


def ensure_tickets(*, tickets: int, mine: int, agents, queues) -> None:
    from django.db import connection, transaction

    from support.models import Ticket

    if Ticket.objects.count() == tickets:
        print(f"reusing {tickets:,} tickets")
        return
    started = time.monotonic()
    agent_ids = [a.pk for a in agents]
    team_of = {a.pk: a.team_id for a in agents}
    queue_of_team = {q.team_id: q.pk for q in queues}
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL session_replication_role = replica")  # bulk load: no audit or score triggers
        cursor.execute("TRUNCATE support_ticket CASCADE")
        cursor.execute("SELECT min(id), max(id) FROM contacts_contact")
        lo, hi = cursor.fetchone()
        params = {
            "n": tickets, "mine": mine, "me": agent_ids[0], "agents": agent_ids,
            "teams": [team_of[a] for a in agent_ids], "queues": [queue_of_team[team_of[a]] for a in agent_ids],
            "lo": lo, "span": hi - lo + 1, "nagents": len(agent_ids),
        }
        cursor.execute("""
            INSERT INTO support_ticket (number, subject, type, priority, status, channel, contact_id, queue_id, team_id,
                assignee_id, sla_elapsed_seconds, sla_running_since, first_response_due, first_response_risk_at,
                resolution_due, resolution_risk_at, sla_due_at, sla_state, reopened_count, last_activity_at,
                public_token, created_at, updated_at)
            SELECT nextval('support_ticket_number_seq'), 'Bench ticket ' || g,
                   (ARRAY['inquiry','complaint','feedback','request','incident'])[1 + g %% 5],
                   (ARRAY['low','normal','normal','high','urgent'])[1 + g %% 5],
                   CASE WHEN g <= %(mine)s THEN (ARRAY['new','open','open','pending_customer','on_hold'])[1 + g %% 5]
                        ELSE (ARRAY['new','open','pending_customer','solved','closed','closed'])[1 + g %% 6] END,
                   (ARRAY['email','web_form','phone','chat','social','api'])[1 + g %% 6],
                   %(lo)s + (g * 7919) %% %(span)s,
                   CASE WHEN g <= %(mine)s THEN (%(queues)s::bigint[])[1]
                        ELSE (%(queues)s::bigint[])[1 + g %% %(nagents)s] END,
                   CASE WHEN g <= %(mine)s THEN (%(teams)s::bigint[])[1]
                        ELSE (%(teams)s::bigint[])[1 + g %% %(nagents)s] END,
                   CASE WHEN g <= %(mine)s THEN %(me)s
                        WHEN g %% 10 = 0 THEN NULL ELSE (%(agents)s::bigint[])[1 + g %% %(nagents)s] END,
                   0, now() - make_interval(mins => g %% 5000), now() + make_interval(mins => (g %% 900) - 300),
                   now() + make_interval(mins => (g %% 900) - 360), now() + make_interval(mins => (g %% 3000)),
                   now() + make_interval(mins => (g %% 3000) - 600), now() + make_interval(mins => (g %% 900) - 300),
                   (ARRAY['ok','ok','at_risk','breached','ok'])[1 + g %% 5], 0, now() - make_interval(mins => g %% 7000),
                   md5(g::text || random()::text), now() - make_interval(mins => g %% 20000), now()
            FROM generate_series(1, %(n)s) g
        """, params)
        # Paused tickets have no running clock; closed ones neither.
        cursor.execute("""UPDATE support_ticket SET sla_running_since = NULL, sla_due_at = NULL,
                          first_response_due = NULL, resolution_due = NULL, sla_state = 'paused'
                          WHERE status IN ('pending_customer', 'on_hold')""")
        cursor.execute("""UPDATE support_ticket SET sla_running_since = NULL, sla_due_at = NULL, sla_state = 'met',
                          solved_at = created_at + interval '1 day',
                          closed_at = CASE WHEN status = 'closed' THEN created_at + interval '8 days' END
                          WHERE status IN ('solved', 'closed')""")
    with connection.cursor() as cursor:
        cursor.execute("VACUUM (ANALYZE) support_ticket")
    print(f"seeded {tickets:,} tickets ({mine:,} open for the first agent) in {time.monotonic() - started:.1f} s")


def measure(label, user, url, repeat):
    from django.db import connection
    from django.test import Client

    client = Client(HTTP_HOST="localhost")
    client.force_login(user)
    response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    queries = []
    with connection.execute_wrapper(lambda execute, sql, params, many, context: (queries.append(sql),
                                                                                  execute(sql, params, many, context))[1]):
        client.get(url)
    timings = []
    for _ in range(repeat):
        start = time.perf_counter()
        client.get(url)
        timings.append((time.perf_counter() - start) * 1000)
    timings.sort()
    p95 = timings[max(0, int(len(timings) * 0.95) - 1)]
    print(f"{label:34} {url:38} p50 {statistics.median(timings):6.1f} ms  p95 {p95:6.1f} ms  "
          f"max {timings[-1]:6.1f} ms  {len(queries)} queries")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--contacts", type=int, default=100_000)
    parser.add_argument("--tickets", type=int, default=60_000)
    parser.add_argument("--mine", type=int, default=5_000)
    parser.add_argument("--repeat", type=int, default=30)
    args = parser.parse_args()
    seed.setup_django()

    from django.urls import reverse

    from support.models import Ticket

    world = seed.ensure_bench_data(args.contacts)
    agents, manager, queues = support_world()
    ensure_tickets(tickets=args.tickets, mine=args.mine, agents=agents, queues=queues)
    me = agents[0]
    print(f"agent {me.email}: {Ticket.objects.open().filter(assignee=me).count():,} open tickets assigned, "
          f"{Ticket.objects.open().filter(team_id=me.team_id).count():,} open in the team's queues")
    inbox = reverse("support:index")
    for label, user, query in (("agent: my tickets", me, "?view=mine"),
                               ("agent: my queues", me, "?view=queues"),
                               ("agent: at risk", me, "?view=at_risk"),
                               ("agent: my tickets, newest", me, "?view=mine&sort=-created_at"),
                               ("support manager: my queues", manager, "?view=queues"),
                               ("admin: all", world.admin, "?view=all")):
        measure(label, user, inbox + query, args.repeat)


if __name__ == "__main__":
    main()

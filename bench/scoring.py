"""Time lead scoring at scale: full recompute, one contact's rescore, the naive ORM loop and the SQL floor.

Issue 5's targets: a full recompute of 1,000,000 contacts with 20 rules in under 60 s on 2 cores with flat
memory, and one contact's rescore after a change in under 50 ms. On bench/seed_scale.py's data set:

1. `engine.recompute_all` in this process (`--passes` times: the first from the seed's zero scores, the
   next in the steady state), wall time and `ru_maxrss` before/after; then the task
   `sales.tasks.recompute_scores` through a real `celery -A crm worker -P solo` (wall time from sending to
   the result, the worker's VmHWM from /proc before and after);
2. one contact's rescore: a real change (an UPDATE of its job title, so the trigger marks it) then
   `engine.rescore_dirty()` timed, p50/p95/max over `--rescore` contacts plus the busiest contact; also
   the body of the task `sales.tasks.rescore_dirty_contacts`;
3. the naive way: per contact, read it with its company, one query per behaviour rule, Python arithmetic,
   save the score and explanations through the ORM, over `--naive` contacts (rolled back), extrapolated;
4. the floor: the very statements the engine sends for a full pass (captured, not run, through
   `connection.execute_wrapper`), executed over one psycopg connection with no Django, per statement; and
   `EXPLAIN (ANALYZE, BUFFERS)` of the slowest rule statement on one chunk.

    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/sampark_bench5 REDIS_URL=redis://127.0.0.1:6379/8 \\
      .venv/bin/python bench/scoring.py --contacts 1000000 [--passes 2] [--naive 10000] [--no-worker]
"""

import argparse
import os
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from datetime import timedelta
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import seed  # noqa: E402  (bench/seed.py)
import seed_scale  # noqa: E402  (bench/seed_scale.py)

ROOT = Path(__file__).resolve().parent.parent


def maxrss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def proc_status(pid: int) -> dict:
    out = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            out[key] = int(value.split()[0]) / 1024
    return out


def contact_counts() -> tuple[int, int]:
    from contacts.models import Contact

    return Contact.objects.count(), Contact.all_objects.count()


# --- 1. Full recompute -----------------------------------------------------------------------------


def full_recompute(passes: int, chunk: int, *, nightly: int = 0, parallel: int | None = None,
                   day: int = 0) -> list[dict]:
    """`passes` runs `day` days from now, then `nightly` runs each a day later than the last (decay moves,
    scores change). A later run of this script continues the series with a larger `day`."""
    from django.db import connection
    from django.utils import timezone

    from sales.scoring import engine

    results = []
    for n in range(passes + nightly):
        later = max(n - passes + 1, 0)
        days = day + later
        now = timezone.now() + timedelta(days=days)
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FILTER (WHERE score_updated_at IS NULL), count(*) FROM contacts_contact")
            unscored, total = cursor.fetchone()
        state = (f"a day later (+{days} d)" if later else "first (from zero)" if unscored == total
                 else f"at +{days} d" if days else "again")
        before = maxrss_mb()
        started = time.perf_counter()
        run = engine.recompute_all(chunk_size=chunk, now=now, parallel=parallel)
        wall = time.perf_counter() - started
        after = maxrss_mb()
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM contacts_contact WHERE score_updated_at = %s", [now])
            changed = cursor.fetchone()[0]
        print(f"  pass {n + 1} {state:20} {wall:7.1f} s  ru_maxrss {before:6.0f} -> {after:6.0f} MB  "
              f"run {run.pk} {run.status} {run.done:,}/{run.total:,}  ({changed:,} contacts rewritten)", flush=True)
        results.append({"state": state, "wall": wall, "rss_before": before, "rss_after": after, "changed": changed})
    return results


def worker_recompute(timeout: int = 900) -> dict | None:
    """The task through a real worker (-P solo: it runs in the worker's own process), its memory from /proc."""
    from sales.tasks import recompute_scores

    log = Path(tempfile.gettempdir()) / f"bench-scoring-worker-{os.getpid()}.log"
    env = {**os.environ, "DEBUG": "0", "CRM_TESTING": os.environ.get("CRM_TESTING", "1")}
    with log.open("w") as out:
        worker = subprocess.Popen(  # noqa: S603 (our own virtualenv's celery)
            [str(ROOT / ".venv" / "bin" / "celery"), "-A", "crm", "worker", "-P", "solo", "-l", "info",
             "--without-gossip", "--without-mingle", "--without-heartbeat", "-n", f"bench-scoring-{os.getpid()}@%h"],
            cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 60
        while " ready." not in log.read_text():
            if worker.poll() is not None or time.monotonic() > deadline:
                print("  worker did not start:\n" + log.read_text()[-2000:])
                return None
            time.sleep(0.5)
        idle = proc_status(worker.pid)
        started = time.perf_counter()
        result = recompute_scores.delay()
        peak_rss = 0.0
        while not result.ready():
            peak_rss = max(peak_rss, proc_status(worker.pid)["VmRSS"])
            if time.perf_counter() - started > timeout:
                raise TimeoutError("the worker's recompute took too long")
            time.sleep(0.25)
        wall = time.perf_counter() - started
        outcome = result.get(timeout=10)
        done = proc_status(worker.pid)
        print(f"  worker recompute_scores {wall:7.1f} s  {outcome}  VmRSS idle {idle['VmRSS']:.0f} MB, "
              f"peak sampled {peak_rss:.0f} MB; VmHWM {idle['VmHWM']:.0f} -> {done['VmHWM']:.0f} MB", flush=True)
        return {"wall": wall, "idle_rss": idle["VmRSS"], "hwm_before": idle["VmHWM"], "hwm_after": done["VmHWM"],
                "peak_rss": peak_rss}
    finally:
        worker.terminate()
        try:
            worker.wait(timeout=40)
        except subprocess.TimeoutExpired:
            worker.kill()


# --- 2. One contact's rescore -------------------------------------------------------------------


def _percentile(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]


def one_contact_rescore(samples: int) -> dict:
    from django.db import connection
    from django.db.models import F

    from contacts.models import Contact
    from sales.models import ScoreDirty
    from sales.scoring import engine
    from sales.tasks import rescore_dirty_contacts

    assert not ScoreDirty.objects.exists(), "the dirty queue should start empty"
    lo, hi = engine._bounds()
    step = max((hi - lo) // samples, 1)
    ids = [i for i in range(lo + 7, hi + 1, step) if Contact.objects.filter(pk=i).exists()][:samples]
    with connection.cursor() as cursor:
        cursor.execute("SELECT contact_id, count(*) FROM contacts_interaction WHERE contact_id IS NOT NULL "
                       "GROUP BY contact_id ORDER BY 2 DESC LIMIT 1")
        busiest, busiest_entries = cursor.fetchone()

    def change(contact_id):
        # A real change: the trigger of migration 0004 marks the contact in the same transaction.
        Contact.objects.filter(pk=contact_id).update(job_title=F("job_title"))

    def timed(fn):
        started = time.perf_counter()
        done = fn()
        return (time.perf_counter() - started) * 1000, done

    engine_ms, task_ms = [], []
    for contact_id in ids:
        change(contact_id)
        ms, done = timed(engine.rescore_dirty)
        assert done == 1, done
        engine_ms.append(ms)
        change(contact_id)
        ms, done = timed(rescore_dirty_contacts)  # the task's body, run here (Task.__call__)
        assert done == 1, done
        task_ms.append(ms)
    change(busiest)
    busiest_ms, _done = timed(engine.rescore_dirty)
    out = {
        "engine_p50": statistics.median(engine_ms), "engine_p95": _percentile(engine_ms, 95), "engine_max": max(engine_ms),
        "task_p50": statistics.median(task_ms), "task_p95": _percentile(task_ms, 95),
        "busiest_ms": busiest_ms, "busiest_entries": busiest_entries, "n": len(ids),
    }
    print(f"  engine.rescore_dirty() one dirty contact ({len(ids)} contacts): p50 {out['engine_p50']:.1f} ms  "
          f"p95 {out['engine_p95']:.1f} ms  max {out['engine_max']:.1f} ms")
    print(f"  task rescore_dirty_contacts body:                 p50 {out['task_p50']:.1f} ms  "
          f"p95 {out['task_p95']:.1f} ms")
    print(f"  the busiest contact ({busiest_entries:,} timeline entries):     {busiest_ms:.1f} ms")
    return out


# --- 3. The naive ORM loop ----------------------------------------------------------------------


class _Rollback(Exception):
    pass


def _naive_points(rule, contact, now, half_life):
    """One rule for one contact the obvious way: Python over ORM reads (the queries a naive service sends)."""
    from django.db.models import Sum

    from contacts.models import ContactTag, Interaction
    from sales.models.orders import REVENUE_STATUSES, Order
    from sales.scoring.rules import FIELDS

    p = rule.params
    kind = rule.kind

    def decay(at):
        return 0.5 ** (max((now - at).total_seconds() / 86400.0, 0) / half_life)

    if kind.startswith("field_"):
        field = FIELDS[p["field"]]
        owner = contact.company if field.column.startswith("co.") else contact
        value = getattr(owner, field.column.split(".", 1)[1]) if owner is not None else None
        if kind == "field_equals":
            hit = value is not None and str(value).lower() == p["value"].lower()
        elif kind == "field_in":
            hit = value is not None and str(value).lower() in {v.lower() for v in p["values"]}
        elif kind == "field_contains":
            hit = value is not None and p["value"].lower() in str(value).lower()
        else:
            hit = bool(value) if field.kind in ("bool", "text", "choice") else value is not None
        return (rule.points, {}) if hit else None
    if kind == "tag_present":
        hit = ContactTag.objects.filter(contact_id=contact.pk, tag_id=p["tag"]).exists()
        return (rule.points, {}) if hit else None
    if kind == "days_since_interaction":
        last = contact.last_interaction_at
        return (rule.points, {}) if last is None or last < now - timedelta(days=p["days"]) else None
    if kind == "total_spend":
        total = Order.objects.filter(contact_id=contact.pk, status__in=REVENUE_STATUSES).aggregate(t=Sum("total"))["t"]
        return (rule.points, {"total": str(total)}) if total is not None and total > Decimal(p["min_total"]) else None
    if kind == "open_complaints":
        from support.models import OPEN_STATUSES, Ticket, TicketType

        count = Ticket.objects.filter(contact_id=contact.pk, type=TicketType.COMPLAINT, status__in=OPEN_STATUSES).count()
        if not count:
            return None
        if p.get("per_occurrence"):
            total = rule.points * count
            return (min(total, p["cap"]) if rule.points >= 0 else max(total, -p["cap"])), {"count": count}
        return (rule.points, {"count": count}) if count >= p["min_count"] else None
    window = {"gt": now - timedelta(days=p["days"]), "lte": now}
    if kind == "orders_count":
        times = list(Order.objects.filter(contact_id=contact.pk, status__in=REVENUE_STATUSES,
                                          ordered_at__gt=window["gt"], ordered_at__lte=window["lte"])
                     .values_list("ordered_at", flat=True))
    else:
        qs = Interaction.objects.filter(contact_id=contact.pk, occurred_at__gt=window["gt"], occurred_at__lte=window["lte"])
        if kind == "web_visits":
            qs = qs.filter(kind="web_visit", subject__icontains=p["pattern"])
        elif p.get("kind"):
            qs = qs.filter(kind=p["kind"])
        times = list(qs.values_list("occurred_at", flat=True))
    if not times:
        return None
    facts = {"count": len(times), "days": p["days"]}
    if p.get("per_occurrence"):
        total = sum(rule.points * decay(t) for t in times)
        return (min(total, p["cap"]) if rule.points >= 0 else max(total, -p["cap"])), facts
    if len(times) < p["min_count"]:
        return None
    return rule.points * decay(max(times)), facts


def naive_loop(sample: int) -> dict:
    from django.db import transaction
    from django.utils import timezone

    from contacts.models import Contact
    from sales.models import ScoreExplanation, ScoreHistory
    from sales.scoring import engine

    s = engine.setup()
    now = timezone.now()
    lo, hi = engine._bounds()
    step = max((hi - lo + 1) // sample, 1)
    ids = list(range(lo, hi + 1, step))[:sample]
    mismatched = computed = 0
    started = time.perf_counter()
    try:
        with transaction.atomic():
            for contact_id in ids:
                contact = Contact.objects.select_related("company").filter(pk=contact_id).first()
                if contact is None:  # in the trash
                    continue
                explanations, total = [], 0.0
                for rule in s.rules:
                    hit = _naive_points(rule, contact, now, s.context.half_life_days)
                    if hit is None:
                        continue
                    points = Decimal(str(hit[0])).quantize(Decimal("0.01"), ROUND_HALF_UP)
                    total += float(hit[0])
                    if points:
                        explanations.append(ScoreExplanation(contact=contact, rule=rule, points=points, facts=hit[1]))
                score = int(min(max(Decimal(str(total)).quantize(Decimal("1"), ROUND_HALF_UP), 0), 100))
                mismatched += score != contact.score
                computed += 1
                band = "hot" if score >= s.hot else "warm" if score >= s.warm else "cold"
                if score != contact.score:
                    ScoreHistory.objects.update_or_create(contact=contact, day=timezone.localdate(now),
                                                          defaults={"score": score})
                contact.score, contact.score_band, contact.score_updated_at = score, band, now
                contact.save(update_fields=["score", "score_band", "score_updated_at"])
                ScoreExplanation.objects.filter(contact=contact).delete()
                ScoreExplanation.objects.bulk_create(explanations)
            elapsed = time.perf_counter() - started
            raise _Rollback
    except _Rollback:
        pass
    per_contact = elapsed / max(len(ids), 1)
    out = {"sample": len(ids), "computed": computed, "elapsed": elapsed,
           "extrapolated": per_contact * (hi - lo + 1), "mismatched": mismatched}
    print(f"  naive ORM loop over {len(ids):,} contacts: {elapsed:.1f} s ({per_contact * 1000:.2f} ms a contact), "
          f"extrapolated to {hi - lo + 1:,}: {out['extrapolated']:.0f} s = {out['extrapolated'] / 3600:.2f} h; "
          f"{mismatched} of {computed} scores differ from the engine's (rolled back)", flush=True)
    return out


# --- 4. The floor: the engine's statements without Django ---------------------------------------


def capture_full_pass(chunk: int) -> tuple[list, list]:
    """The statements (parameters bound) `score_chunk` would send for every chunk of a full pass."""
    from django.db import connection
    from psycopg import ClientCursor

    from sales.scoring import engine
    from sales.scoring.rules import FIT_CONDITIONS, Chunk

    s = engine.setup()
    lo, hi = engine._bounds()
    captured = []

    def record(execute, sql, params, many, context):
        captured.append((sql, params))  # not executed

    names = {r.pk: f"rule {r.name} ({r.kind})" for r in s.rules}
    fit = sum(r.kind in FIT_CONDITIONS for r in s.rules)

    def label(sql):
        if sql.startswith("CREATE TEMP"):
            return "create temp table " + sql.split()[6]
        if sql.startswith(("TRUNCATE", "ANALYZE")):
            return " ".join(sql.split()[:2]).lower()
        if sql.startswith("INSERT INTO scoring_explain"):
            return "stage explanations"
        if "CROSS JOIN LATERAL (VALUES" in sql:
            return f"{fit} fit rules (one statement)"
        if match := re.search(r"SELECT s\.\*, (\d+) FROM", sql):
            return names[int(match.group(1))]
        if sql.startswith("DELETE FROM sales_scoreexplanation"):
            return "delete explanations"
        if sql.startswith("INSERT INTO sales_scoreexplanation"):
            return "insert/update explanations"
        return "update scores + history"

    chunks = []
    connection.ensure_connection()
    mogrify = ClientCursor(connection.connection).mogrify
    with connection.execute_wrapper(record):
        for start in range(lo, hi + 1, chunk):
            captured.clear()
            engine.score_chunk(Chunk(lo=start, hi=min(start + chunk, hi + 1)), s)
            chunks.append([(label(sql.strip()), mogrify(sql, params)) for sql, params in captured])
    return chunks, s.rules


def floor(chunk: int) -> dict:
    import psycopg
    from django.db import connection

    chunks, _rules = capture_full_pass(chunk)
    per_statement = defaultdict(float)
    conninfo = os.environ.get("DATABASE_URL") or connection.get_connection_params()
    started = time.perf_counter()
    with psycopg.connect(conninfo, autocommit=True) as conn, conn.cursor() as cursor:
        for statements in chunks:
            with conn.transaction():
                for label, sql in statements:
                    t = time.perf_counter()
                    cursor.execute(sql)
                    per_statement[label] += time.perf_counter() - t
        wall = time.perf_counter() - started
        print(f"  the engine's {sum(len(c) for c in chunks):,} statements over one psycopg connection "
              f"({len(chunks)} chunks): {wall:.1f} s")
        rules_total = sum(v for k, v in per_statement.items() if "rule" in k)
        print(f"    rule INSERTs {rules_total:.1f} s; " + "; ".join(
            f"{k} {v:.1f} s" for k, v in per_statement.items() if "rule" not in k))
        slowest = sorted(per_statement.items(), key=lambda kv: -kv[1])[:8]
        for label, seconds in slowest:
            print(f"    {seconds:6.2f} s  {label}")
        # EXPLAIN the slowest rule statement on the middle chunk, in a rolled-back transaction.
        worst = next(label for label, _s in slowest if "rule" in label)
        middle = chunks[len(chunks) // 2]
        sql = dict(middle)[worst]
        cursor.execute(next(sql for label, sql in middle if label.startswith("create temp table")))
        with conn.transaction(force_rollback=True):
            cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql)
            plan = [row[0] for row in cursor.fetchall()]
        print(f"  EXPLAIN (ANALYZE, BUFFERS) of {worst} on one chunk of {chunk:,} ids:")
        for line in plan[:18]:
            print("    " + line[:150])
        if len(plan) > 18:
            print("    " + plan[-1])
    return {"wall": wall, "per_statement": dict(per_statement), "worst": worst, "plan": plan}


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--contacts", type=int, default=1_000_000)
    parser.add_argument("--passes", type=int, default=2, help="in-process full recomputes (default 2)")
    parser.add_argument("--nightly", type=int, default=0,
                        help="then this many passes each a day later (as the nightly run sees the decay)")
    parser.add_argument("--day", type=int, default=0,
                        help="the passes run this many days from today (continue an earlier run's nightly series)")
    parser.add_argument("--chunk", type=int, help="contacts per chunk (default engine.FULL_CHUNK)")
    parser.add_argument("--parallel", type=int, help="chunks at once (default engine.PARALLEL, SCORING_PARALLEL; "
                                                     "the worker gets it through SCORING_PARALLEL)")
    parser.add_argument("--rescore", type=int, default=50, help="contacts for the one-contact rescore")
    parser.add_argument("--naive", type=int, default=10_000, help="contacts of the naive loop's sample (0: skip)")
    parser.add_argument("--no-worker", action="store_true", help="skip the run through a Celery worker")
    parser.add_argument("--no-floor", action="store_true")
    args = parser.parse_args()
    seed.setup_django()

    from sales.scoring import engine

    chunk = args.chunk or engine.FULL_CHUNK
    seed_scale.ensure_scoring_data(args.contacts)
    alive, total = contact_counts()
    print(f"\n{alive:,} contacts outside the trash, {len(engine.setup().rules)} active rules, chunks of {chunk:,}; "
          f"load average {os.getloadavg()[0]:.2f}")
    rows = []
    print("1. full recompute (engine.recompute_all)")
    if args.parallel:
        os.environ["SCORING_PARALLEL"] = str(args.parallel)  # for the worker's run below
    passes = full_recompute(args.passes, chunk, nightly=args.nightly, parallel=args.parallel,
                            day=args.day)
    for p in passes:
        rows.append((f"recompute_all, {p['state']}", p["wall"],
                     f"{p['changed']:,} rewritten; ru_maxrss {p['rss_before']:.0f} -> {p['rss_after']:.0f} MB"))
    if not args.no_worker:
        w = worker_recompute()
        if w:
            rows.append(("Celery recompute_scores (-P solo)", w["wall"],
                         f"worker VmHWM {w['hwm_before']:.0f} -> {w['hwm_after']:.0f} MB (idle RSS {w['idle_rss']:.0f})"))
    r = None
    if args.rescore:
        print("2. one contact after a change")
        r = one_contact_rescore(args.rescore)
    if args.naive:
        print("3. naive ORM loop")
        n = naive_loop(args.naive)
        rows.append((f"naive ORM loop ({n['sample']:,} sampled)", n["extrapolated"],
                     f"extrapolated; {n['elapsed'] / max(n['sample'], 1) * 1000:.1f} ms a contact"))
    if not args.no_floor:
        print("4. the floor: the engine's SQL without Django")
        f = floor(chunk)
        rows.append(("engine SQL, psycopg only (floor)", f["wall"], f"slowest: {f['worst']}"))
    scale = 1_000_000 / max(total, 1)  # bench/seed.py's count, 1 % of it in the trash
    print(f"\n{'approach':40} | {'measured':>9} | {'for 1M':>9} | notes")
    for label, seconds, notes in rows:
        print(f"{label:40} | {seconds:8.1f}s | {seconds * scale:8.0f}s | {notes}")
    if r:
        print(f"{'one contact: engine.rescore_dirty':40} | p50 {r['engine_p50']:.1f} ms, p95 {r['engine_p95']:.1f} ms "
              f"(target 50 ms); task body p50 {r['task_p50']:.1f} ms; busiest contact {r['busiest_ms']:.1f} ms")


if __name__ == "__main__":
    main()

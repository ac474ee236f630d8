"""The scoring engine: set-based SQL over a chunk of contacts, one statement per rule.

For a chunk (an id range in a full run, a list of ids in a rescore), inside ONE transaction:

1. each active rule's SQL (sales.scoring.rules) inserts its `(contact, points, facts)` into a temporary table;
2. the chunk's explanations become exactly those rows (rows that did not change are not rewritten);
3. every alive contact of the chunk gets score = clamp(round(sum of points), 0, 100), its band from the
   thresholds, and the change against its score a week ago (from the history); rows that did not change
   are not written;
4. a contact whose score changed gets today's history row (one per contact and day).

So a contact has either its old or its new score and explanation, never a mix, even if the worker dies
mid-run; the next run completes the rest. Full runs hold an advisory lock for their whole length (a second
full run waits for it, never interleaves); rescores of marked contacts take the same lock shared and step
aside (returning None) while a full run holds it.
"""

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings as django_settings
from django.db import connection, transaction
from django.utils import timezone

from sales.models import RunStatus, ScoreRun, ScoringRule, ScoringSettings
from sales.scoring.rules import FIT_CONDITIONS, KINDS, Chunk, Context

LOCK_KEY = 73_100_501  # pg_advisory_lock key of lead scoring
FULL_CHUNK = 50_000
#: Chunks a full run scores at once (one database connection each): PostgreSQL then uses that many cores.
PARALLEL = getattr(django_settings, "SCORING_PARALLEL", 2)
DIRTY_BATCH = 5_000

_CONTRIB = ("CREATE TEMP TABLE IF NOT EXISTS scoring_contrib "
            "(contact_id bigint NOT NULL, rule_id bigint NOT NULL, points numeric NOT NULL, facts jsonb NOT NULL) "
            "ON COMMIT DELETE ROWS")


@dataclass(frozen=True)
class Setup:
    rules: list
    context: Context
    hot: int
    warm: int
    version: int


def setup(now=None) -> Setup:
    """The active rules and the settings, read once per run (a run uses one version of the rules)."""
    settings = ScoringSettings.load()
    rules = [r for r in ScoringRule.objects.filter(active=True).order_by("position", "id") if r.kind in KINDS]
    return Setup(rules=rules, context=Context(half_life_days=settings.half_life_days, now=now or timezone.now()),
                 hot=settings.hot_threshold, warm=settings.warm_threshold, version=settings.version)


def _fit_contributions(cursor, chunk: Chunk, s: Setup, rules: list) -> None:
    """All fit rules in one INSERT: one read of the chunk's contacts, each rule's condition in a LATERAL VALUES."""
    rows, params, join_company = [], [], False
    for rule in rules:
        condition, cparams, company = FIT_CONDITIONS[rule.kind](rule, s.context)
        rows.append(f"({int(rule.pk)}, %s::numeric, ({condition}))")
        params += [rule.points, *cparams]
        join_company = join_company or company
    where, wparams = chunk.where("c.id")
    join = "LEFT JOIN contacts_company co ON co.id = c.company_id" if join_company else ""
    cursor.execute(f"INSERT INTO scoring_contrib (contact_id, points, facts, rule_id) "
                   f"SELECT c.id, f.points, '{{}}'::jsonb, f.rule_id FROM contacts_contact c {join} "
                   f"CROSS JOIN LATERAL (VALUES {', '.join(rows)}) AS f(rule_id, points, hit) "
                   f"WHERE {where} AND c.deleted_at IS NULL AND f.hit", [*params, *wparams])


def contributions(cursor, chunk: Chunk, s: Setup) -> None:
    """Fill the temporary table with every rule's contributions for the chunk.

    Fit rules (conditions on the contact row) share one INSERT; each behaviour rule has its own.
    """
    cursor.execute(_CONTRIB)
    cursor.execute("TRUNCATE scoring_contrib")
    fit = [rule for rule in s.rules if rule.kind in FIT_CONDITIONS]
    if fit:
        _fit_contributions(cursor, chunk, s, fit)
    for rule in s.rules:
        if rule.kind in FIT_CONDITIONS:
            continue
        sql, params = KINDS[rule.kind].sql(rule, chunk, s.context)
        cursor.execute(f"INSERT INTO scoring_contrib (contact_id, points, facts, rule_id) "
                       f"SELECT s.*, {int(rule.pk)} FROM ({sql}) AS s", params)


def score_chunk(chunk: Chunk, s: Setup) -> int:
    """Compute and store the scores of one chunk, in the caller's transaction; returns contacts whose score changed."""
    today = timezone.localdate(s.context.now)
    where_c, pc = chunk.where("c.id")
    where_e, pe = chunk.where("e.contact_id")
    with connection.cursor() as cursor:
        # Scores are derived data: a crash may lose the last chunk's commit (the next run redoes it), so the
        # chunk need not wait for its WAL flush; and its sorts and hashes stay in memory.
        cursor.execute("SET LOCAL synchronous_commit = off")
        cursor.execute("SET LOCAL work_mem = '64MB'")
        contributions(cursor, chunk, s)
        # Explanations: write only what changed (most of a day's rows, the fit rules', stay the same), so an
        # unchanged row costs neither a write, nor its three index entries, nor its deferred foreign-key checks.
        cursor.execute(
            "CREATE TEMP TABLE IF NOT EXISTS scoring_explain (contact_id bigint NOT NULL, rule_id bigint NOT NULL, "
            "points numeric(7, 2) NOT NULL, facts jsonb NOT NULL, PRIMARY KEY (contact_id, rule_id)) ON COMMIT DELETE ROWS"
        )
        cursor.execute("TRUNCATE scoring_explain")  # several chunks in one transaction (rescores, tests)
        # Whole points, as the reasons are shown: a decayed reason is rewritten only when its shown value moves.
        cursor.execute(
            "INSERT INTO scoring_explain (contact_id, rule_id, points, facts) "
            "SELECT x.contact_id, x.rule_id, round(x.points), x.facts FROM scoring_contrib x "
            "JOIN contacts_contact c ON c.id = x.contact_id AND c.deleted_at IS NULL "
            f"WHERE round(x.points) <> 0 AND {where_c}",  # the chunk again: else the planner reads every contact
            pc,
        )
        cursor.execute("ANALYZE scoring_explain")
        cursor.execute(
            f"DELETE FROM sales_scoreexplanation e WHERE {where_e} AND NOT EXISTS "
            "(SELECT 1 FROM scoring_explain n WHERE n.contact_id = e.contact_id AND n.rule_id = e.rule_id)",
            pe,
        )
        cursor.execute(
            "INSERT INTO sales_scoreexplanation AS e (contact_id, rule_id, points, facts) "
            "SELECT contact_id, rule_id, points, facts FROM scoring_explain "
            "ON CONFLICT (contact_id, rule_id) DO UPDATE SET points = EXCLUDED.points, facts = EXCLUDED.facts "
            "WHERE (e.points, e.facts) IS DISTINCT FROM (EXCLUDED.points, EXCLUDED.facts)"
        )
        cursor.execute(
            f"""
            WITH totals AS (
                SELECT c.id, c.score AS old_score,
                       LEAST(GREATEST(ROUND(COALESCE(SUM(x.points), 0)), 0), 100)::int AS score
                FROM contacts_contact c LEFT JOIN scoring_contrib x ON x.contact_id = c.id
                WHERE {where_c} AND c.deleted_at IS NULL
                GROUP BY c.id
            ), scored AS (
                SELECT t.id, t.old_score, t.score,
                       CASE WHEN t.score >= %s THEN 'hot' WHEN t.score >= %s THEN 'warm' ELSE 'cold' END AS band,
                       t.score - COALESCE((SELECT h.score FROM sales_scorehistory h
                                           WHERE h.contact_id = t.id AND h.day <= %s
                                           ORDER BY h.day DESC LIMIT 1), 0) AS change
                FROM totals t
            ), history AS (
                INSERT INTO sales_scorehistory (contact_id, day, score)
                SELECT id, %s, score FROM scored WHERE score <> old_score
                ON CONFLICT (contact_id, day) DO UPDATE SET score = EXCLUDED.score
            )
            UPDATE contacts_contact c
            SET score = s.score, score_band = s.band, score_change_7d = s.change, score_updated_at = %s
            FROM scored s
            WHERE c.id = s.id AND {where_c}
              AND (c.score, c.score_band, c.score_change_7d) IS DISTINCT FROM (s.score, s.band, s.change)
            """,
            [*pc, s.hot, s.warm, today - timedelta(days=7), today, s.context.now, *pc],
        )
        changed = cursor.rowcount
    return changed


def _bounds() -> tuple[int, int] | None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT min(id), max(id) FROM contacts_contact")
        lo, hi = cursor.fetchone()
    return None if lo is None else (lo, hi)


def _score_one(chunk: Chunk, s: Setup) -> Chunk:
    """One chunk in its own transaction, on this thread's connection (closed after: the pool's threads end)."""
    try:
        with transaction.atomic():
            score_chunk(chunk, s)
        return chunk
    finally:
        connection.close()


def _score_chunks(chunks: list[Chunk], s: Setup, workers: int):
    """Score the chunks, `workers` at a time on as many connections; yields each chunk when committed."""
    if workers == 1:
        for chunk in chunks:
            with transaction.atomic():
                score_chunk(chunk, s)
            yield chunk
        return
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="scoring") as pool:
        futures = [pool.submit(_score_one, chunk, s) for chunk in chunks]
        try:
            for future in as_completed(futures):
                yield future.result()
        finally:
            for future in futures:
                future.cancel()


def recompute_all(*, run: ScoreRun | None = None, chunk_size: int = FULL_CHUNK, now=None,
                  progress: Callable[[int, int], None] | None = None, parallel: int | None = None) -> ScoreRun:
    """Recompute every contact's score, chunk by chunk (each chunk its own transaction); idempotent.

    Waits for a full run already in progress (the advisory lock), then runs its own. Chunks are disjoint, so
    `parallel` of them (default `PARALLEL`, the settings' SCORING_PARALLEL) run at once on their own database
    connections; inside a caller's transaction (tests) they run one by one on its connection, since other
    connections could not see its uncommitted rows.
    """
    run = run or ScoreRun.objects.create(reason="manual")
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_lock(%s)", [LOCK_KEY])
    try:
        s = setup(now)
        bounds = _bounds()
        lo, hi = bounds or (1, 0)
        # Holding the lock, no other run is really running: one still marked so was cut off (worker killed).
        ScoreRun.objects.filter(status=RunStatus.RUNNING).exclude(pk=run.pk).update(
            status=RunStatus.FAILED, error="interrupted", finished_at=timezone.now())
        run.status, run.started_at, run.version = RunStatus.RUNNING, timezone.now(), s.version
        run.total, run.done = max(hi - lo + 1, 0), 0
        run.save(update_fields=["status", "started_at", "version", "total", "done"])
        chunks = [Chunk(lo=start, hi=min(start + chunk_size, hi + 1)) for start in range(lo, hi + 1, chunk_size)]
        workers = 1 if connection.in_atomic_block else max(1, min(parallel or PARALLEL, len(chunks)))
        for chunk in _score_chunks(chunks, s, workers):
            run.done += chunk.hi - chunk.lo
            ScoreRun.objects.filter(pk=run.pk).update(done=run.done)
            if progress:
                progress(run.done, run.total)
        run.status, run.finished_at = RunStatus.DONE, timezone.now()
        run.save(update_fields=["status", "finished_at", "done"])
        return run
    except Exception as exc:
        ScoreRun.objects.filter(pk=run.pk).update(status=RunStatus.FAILED, error=str(exc)[:2000],
                                                  finished_at=timezone.now())
        raise
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(%s)", [LOCK_KEY])


def rescore_contacts(contact_ids, *, now=None) -> int:
    """Rescore the given contacts at once, in one transaction (also used by tests and the preview)."""
    ids = tuple(sorted({int(i) for i in contact_ids}))
    if not ids:
        return 0
    with transaction.atomic():
        return score_chunk(Chunk(ids=ids), setup(now))


def rescore_dirty(*, limit: int = DIRTY_BATCH, now=None) -> int | None:
    """Rescore one batch of contacts marked stale; None while a full run holds the lock (it will be retried).

    The batch's marks are locked (SKIP LOCKED: parallel workers take different contacts) and deleted in the
    same transaction as the new scores.
    """
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_xact_lock_shared(%s)", [LOCK_KEY])
        if not cursor.fetchone()[0]:
            return None
        cursor.execute("SELECT contact_id FROM sales_scoredirty ORDER BY marked_at LIMIT %s FOR UPDATE SKIP LOCKED",
                       [limit])
        ids = tuple(row[0] for row in cursor.fetchall())
        if not ids:
            return 0
        score_chunk(Chunk(ids=ids), setup(now))
        cursor.execute("DELETE FROM sales_scoredirty WHERE contact_id = ANY(%s)", [list(ids)])
    return len(ids)


def preview(rule: ScoringRule, *, replacing: ScoringRule | None = None) -> dict:
    """What saving `rule` would do: how many contacts it matches and the band distribution afterwards.

    One aggregate over all alive contacts: today's score, minus the replaced rule's current points, plus the
    new rule's, clamped. Read-only; nothing is stored.
    """
    s = setup()
    lo, hi = _bounds() or (1, 0)
    settings_hot, settings_warm = s.hot, s.warm
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL statement_timeout = '20s'")
        cursor.execute(_CONTRIB)
        cursor.execute("TRUNCATE scoring_contrib")
        sql, params = KINDS[rule.kind].sql(rule, Chunk(lo=lo, hi=hi + 1), s.context)
        cursor.execute(f"INSERT INTO scoring_contrib (contact_id, points, facts, rule_id) SELECT s.*, 0 FROM ({sql}) AS s",
                       params)
        cursor.execute(
            """
            WITH next AS (
                SELECT c.id, LEAST(GREATEST(ROUND(c.score - COALESCE(old.points, 0) + COALESCE(x.points, 0)), 0), 100) AS score,
                       x.contact_id IS NOT NULL AS matched
                FROM contacts_contact c
                LEFT JOIN scoring_contrib x ON x.contact_id = c.id
                LEFT JOIN sales_scoreexplanation old ON old.contact_id = c.id AND old.rule_id = %s
                WHERE c.deleted_at IS NULL
            )
            SELECT COUNT(*) FILTER (WHERE matched),
                   COUNT(*) FILTER (WHERE score >= %s),
                   COUNT(*) FILTER (WHERE score >= %s AND score < %s),
                   COUNT(*) FILTER (WHERE score < %s),
                   COUNT(*)
            FROM next
            """,
            [replacing.pk if replacing else None, settings_hot, settings_warm, settings_hot, settings_warm],
        )
        matched, hot, warm, cold, total = cursor.fetchone()
    return {"matched": matched, "hot": hot, "warm": warm, "cold": cold, "total": total}


def band_counts() -> dict:
    """Today's band distribution (the rules page shows it beside the preview)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT score_band, COUNT(*) FROM contacts_contact WHERE deleted_at IS NULL GROUP BY score_band")
        counts = dict(cursor.fetchall())
    return {band: counts.get(band, 0) for band in ("hot", "warm", "cold")}

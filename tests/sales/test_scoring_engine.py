"""The scoring engine against hand-computed scores: each rule kind, decay, clamping, bands, explanations,
the dirty marks the triggers write, idempotency and concurrent full runs."""

import threading
from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.db import connection, connections, transaction

from contacts import services as contact_services
from contacts.models import Contact, Tag
from sales.models import Order, ScoreDirty, ScoreExplanation, ScoreHistory, ScoreRun, ScoringRule, ScoringSettings
from sales.scoring import engine
from tests.factories import make_company, make_contact

NOW = datetime(2026, 6, 15, 12, 0, tzinfo=ZoneInfo("Asia/Dhaka"))


def rule(rule_kind, points, **params):
    return ScoringRule.objects.create(name=f"{rule_kind} {points}", kind=rule_kind, points=points, params=params)


def configure(**fields):
    ScoringSettings.load()
    ScoringSettings.objects.filter(pk=1).update(**fields)


def score_of(contact, *, now=NOW):
    engine.rescore_contacts([contact.pk], now=now)
    contact.refresh_from_db()
    return contact.score


def visit(contact, url, days_ago, *, now=NOW):
    return contact_services.record_interaction(kind="web_visit", contact=contact, subject=url,
                                              occurred_at=now - timedelta(days=days_ago))


def order(contact, total, days_ago, *, status="paid", now=NOW):
    return Order.objects.create(owner=contact.owner, team=contact.team, contact=contact, currency="BDT",
                                total=Decimal(total), subtotal=Decimal(total), status=status,
                                ordered_at=now - timedelta(days=days_ago))


@pytest.fixture
def contact(world):
    return make_contact(world.rep_a, first_name="Rahim", job_title="Purchase Director", city="Dhaka")


# --- Fit rules ------------------------------------------------------------------------------------------


def test_field_equals_ignores_case(world, contact):
    rule("field_equals", 15, field="city", value="dhaka")
    assert score_of(contact) == 15


def test_field_contains_matches_part_of_the_text(world, contact):
    rule("field_contains", 20, field="job_title", value="director")
    rule("field_contains", 30, field="job_title", value="ceo")
    assert score_of(contact) == 20


def test_field_in_over_the_company(world, contact):
    company = make_company(world.rep_a, name="Meghna Traders", size_band="51_200")
    contact_services.update_contact(by=world.rep_a, contact=contact, company=company)
    rule("field_in", 10, field="company.size_band", values=["51_200", "201_1000"])
    assert score_of(contact) == 10


def test_field_is_set_for_consent(world, contact):
    rule("field_is_set", 5, field="email_opt_in")
    assert score_of(contact) == 0
    Contact.objects.filter(pk=contact.pk).update(email_opt_in=True)
    assert score_of(contact) == 5


def test_tag_present(world, contact):
    contact_services.add_tags(by=world.rep_a, obj=contact, tags=["VIP"])
    rule("tag_present", 25, tag=Tag.objects.get(name="VIP").pk)
    assert score_of(contact) == 25


# --- Behaviour rules and decay --------------------------------------------------------------------------


def test_threshold_rule_decays_with_the_latest_events_age(world, contact):
    configure(half_life_days=7)
    rule("web_visits", 40, pattern="/pricing", days=30, min_count=3)
    for days_ago in (20, 14, 7):
        visit(contact, "https://shop.example/pricing?x=1", days_ago)
    visit(contact, "https://shop.example/about", 1)  # another page: does not count
    # latest pricing visit 7 days ago = one half-life: 40 x 0.5 = 20
    assert score_of(contact) == 20


def test_threshold_rule_needs_its_count_in_the_window(world, contact):
    rule("web_visits", 40, pattern="/pricing", days=10, min_count=3)
    for days_ago in (20, 14, 7):  # only one inside the 10-day window
        visit(contact, "/pricing", days_ago)
    assert score_of(contact) == 0


def test_per_occurrence_rule_sums_decayed_points_and_caps(world, contact):
    configure(half_life_days=10)
    rule("interaction_count", 10, kind="call", days=60, per_occurrence=True, cap=25)
    for days_ago in (0, 10):  # 10 + 5 = 15
        contact_services.record_interaction(kind="call", contact=contact, occurred_at=NOW - timedelta(days=days_ago))
    assert score_of(contact) == 15
    for _ in range(3):  # 15 + 30 = 45, capped at 25
        contact_services.record_interaction(kind="call", contact=contact, occurred_at=NOW)
    assert score_of(contact) == 25


def test_orders_and_total_spend(world, contact):
    configure(half_life_days=30)
    rule("orders_count", 30, days=90, min_count=2)
    rule("total_spend", 20, min_total="10000")
    order(contact, "6000", 30)
    order(contact, "5000", 60)
    order(contact, "90000", 5, status="cancelled")  # neither an order that counts nor spend
    # orders: latest counted 30 days ago = one half-life: 15; spend 11,000 > 10,000: 20
    assert score_of(contact) == 35


def test_days_since_interaction_subtracts(world, contact):
    rule("field_equals", 30, field="city", value="Dhaka")
    rule("days_since_interaction", -20, days=60)
    assert score_of(contact) == 10  # never contacted
    contact_services.record_interaction(kind="call", contact=contact, occurred_at=NOW - timedelta(days=5))
    assert score_of(contact) == 30


# --- Sum, clamp, bands, explanations ---------------------------------------------------------------------


def test_score_is_clamped_to_0_100_and_banded(world, contact):
    rule("field_equals", 80, field="city", value="Dhaka")
    rule("field_contains", 50, field="job_title", value="director")
    assert score_of(contact) == 100
    contact.refresh_from_db()
    assert contact.score_band == "hot"
    ScoringRule.objects.update(points=-60)
    assert score_of(contact) == 0
    contact.refresh_from_db()
    assert contact.score_band == "cold"


def test_band_thresholds_come_from_the_settings(world, contact):
    configure(hot_threshold=90, warm_threshold=20)
    rule("field_equals", 50, field="city", value="Dhaka")
    score_of(contact)
    contact.refresh_from_db()
    assert contact.score_band == "warm"


def test_explanations_list_each_rules_points_and_are_replaced(world, contact):
    city = rule("field_equals", 15, field="city", value="Dhaka")
    title = rule("field_contains", 20, field="job_title", value="director")
    score_of(contact)
    assert dict(ScoreExplanation.objects.filter(contact=contact).values_list("rule_id", "points")) == {
        city.pk: Decimal("15.00"), title.pk: Decimal("20.00")}
    title.active = False
    title.save()
    score_of(contact)
    assert list(ScoreExplanation.objects.filter(contact=contact).values_list("rule_id", flat=True)) == [city.pk]


def test_history_gets_a_row_when_the_score_changes_and_the_week_change(world, contact):
    rule("field_equals", 30, field="city", value="Dhaka")
    score_of(contact, now=NOW - timedelta(days=8))
    rule("field_contains", 25, field="job_title", value="director")
    score_of(contact)
    contact.refresh_from_db()
    assert list(ScoreHistory.objects.filter(contact=contact).order_by("day").values_list("score", flat=True)) == [30, 55]
    assert contact.score_change_7d == 25


def test_running_twice_gives_the_same_result(world, contact):
    rule("field_equals", 30, field="city", value="Dhaka")
    visit(contact, "/pricing", 2)
    rule("web_visits", 10, pattern="/pricing", days=7, per_occurrence=True, cap=50)
    engine.recompute_all(now=NOW)
    first = (Contact.objects.get(pk=contact.pk).score, list(ScoreExplanation.objects.values_list("rule_id", "points")))
    engine.recompute_all(now=NOW)
    again = (Contact.objects.get(pk=contact.pk).score, list(ScoreExplanation.objects.values_list("rule_id", "points")))
    assert first == again
    assert ScoreHistory.objects.filter(contact=contact).count() == 1


def test_full_run_covers_every_contact_in_chunks_and_reports_progress(world):
    rule("field_equals", 45, field="city", value="Sylhet")
    people = [make_contact(world.rep_a, first_name=f"P{i}", city="Sylhet" if i % 2 else "Khulna") for i in range(7)]
    seen = []
    run = engine.recompute_all(chunk_size=2, now=NOW, progress=lambda done, total: seen.append((done, total)))
    assert run.status == "done" and run.done == run.total
    assert seen[-1][0] == seen[-1][1] and len(seen) >= 3
    scores = dict(Contact.objects.filter(pk__in=[p.pk for p in people]).values_list("first_name", "score"))
    assert scores == {f"P{i}": (45 if i % 2 else 0) for i in range(7)}


def test_trashed_contacts_are_left_alone(world, contact):
    rule("field_equals", 30, field="city", value="Dhaka")
    contact_services.delete_contact(by=world.rep_a, contact=contact)
    engine.recompute_all(now=NOW)
    assert Contact.all_objects.get(pk=contact.pk).score == 0


# --- Dirty marks written by the database triggers -----------------------------------------------------------


def test_a_change_marks_the_contact_and_a_rescore_clears_the_mark(world, contact):
    ScoreDirty.objects.all().delete()
    contact_services.update_contact(by=world.rep_a, contact=contact, city="Sylhet")
    assert ScoreDirty.objects.filter(contact_id=contact.pk).exists()
    rule("field_equals", 12, field="city", value="Sylhet")
    assert engine.rescore_dirty(now=NOW) >= 1
    assert not ScoreDirty.objects.filter(contact_id=contact.pk).exists()
    contact.refresh_from_db()
    assert contact.score == 12


def test_interactions_tags_and_orders_mark_the_contact(world, contact):
    for change in (lambda: visit(contact, "/x", 1),
                   lambda: contact_services.add_tags(by=world.rep_a, obj=contact, tags=["Wholesale"]),
                   lambda: order(contact, "100", 1)):
        ScoreDirty.objects.all().delete()
        change()
        assert ScoreDirty.objects.filter(contact_id=contact.pk).exists()


def test_writing_the_score_does_not_mark_the_contact_again(world, contact):
    rule("field_equals", 12, field="city", value="Dhaka")
    ScoreDirty.objects.all().delete()
    engine.rescore_contacts([contact.pk], now=NOW)
    assert not ScoreDirty.objects.exists()


def test_a_rolled_back_change_leaves_no_mark(world, contact):
    ScoreDirty.objects.all().delete()
    with pytest.raises(RuntimeError), transaction.atomic():
        contact_services.update_contact(by=world.rep_a, contact=contact, city="Rajshahi")
        raise RuntimeError
    assert not ScoreDirty.objects.exists()


def test_a_company_change_marks_its_contacts(world, contact):
    company = make_company(world.rep_a, name="Padma Foods")
    contact_services.update_contact(by=world.rep_a, contact=contact, company=company)
    ScoreDirty.objects.all().delete()
    contact_services.update_company(by=world.rep_a, company=company, size_band="11_50")
    assert ScoreDirty.objects.filter(contact_id=contact.pk).exists()


# --- Locking -----------------------------------------------------------------------------------------------


def test_dirty_rescore_steps_aside_during_a_full_run(world, contact):
    with connections["default"].cursor():
        pass
    other = connections.create_connection("default")
    try:
        with other.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_lock(%s)", [engine.LOCK_KEY])
        assert engine.rescore_dirty(now=NOW) is None
    finally:
        other.close()


@pytest.mark.django_db(transaction=True)
def test_two_full_runs_do_not_interleave(world):
    rule("field_equals", 10, field="city", value="Dhaka")
    for i in range(6):
        make_contact(world.rep_a, first_name=f"C{i}", city="Dhaka")
    runs, errors = [], []

    def full_run():
        try:
            runs.append(engine.recompute_all(chunk_size=1, now=NOW))
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=full_run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not errors
    first, second = sorted(ScoreRun.objects.filter(pk__in=[r.pk for r in runs]), key=lambda r: r.started_at)
    assert first.finished_at <= second.started_at
    assert set(Contact.objects.values_list("score", flat=True)) == {10}


@pytest.mark.django_db(transaction=True)
def test_a_full_run_scores_chunks_in_parallel_on_their_own_connections(world, monkeypatch):
    rule("field_equals", 10, field="city", value="Dhaka")
    rule("field_contains", 15, field="job_title", value="director")
    people = [make_contact(world.rep_a, first_name=f"P{i}", city="Dhaka" if i % 2 else "Sylhet",
                           job_title="Director" if i % 3 == 0 else "") for i in range(12)]
    real, threads, seen = engine.score_chunk, set(), []

    def recording(chunk, s):
        threads.add(threading.get_ident())
        seen.append(chunk)
        return real(chunk, s)

    monkeypatch.setattr(engine, "score_chunk", recording)
    run = engine.recompute_all(chunk_size=2, now=NOW, parallel=2)
    assert (run.status, run.done, run.total) == ("done", run.total, run.total) and len(seen) >= 6
    assert len(threads) == 2 and threading.get_ident() not in threads  # two pool threads, not the caller
    expected = {p.pk: (10 if i % 2 else 0) + (15 if i % 3 == 0 else 0) for i, p in enumerate(people)}
    assert dict(Contact.objects.filter(pk__in=expected).values_list("pk", "score")) == expected


def test_a_run_cut_off_mid_way_leaves_each_contact_whole_and_the_next_run_completes(world, monkeypatch):
    rule("field_equals", 40, field="city", value="Dhaka")
    people = [make_contact(world.rep_a, first_name=f"K{i}", city="Dhaka") for i in range(4)]
    ids = sorted(p.pk for p in people)
    real, calls = engine.score_chunk, []

    def dies_on_the_second_chunk(chunk, s):
        calls.append(chunk)
        if len(calls) == 2:
            real(chunk, s)  # the work of the chunk is done in its transaction ...
            raise SystemExit("worker killed")  # ... which the kill rolls back
        return real(chunk, s)

    monkeypatch.setattr(engine, "score_chunk", dies_on_the_second_chunk)
    lo = Contact.all_objects.order_by("id").first().pk
    with pytest.raises(SystemExit):
        engine.recompute_all(chunk_size=ids[2] - lo, now=NOW)
    scores = dict(Contact.objects.filter(pk__in=ids).values_list("pk", "score"))
    explained = set(ScoreExplanation.objects.values_list("contact_id", flat=True))
    for pk, score in scores.items():  # old (0, no reason) or new (40, its reason), never a mix
        assert (score, pk in explained) in {(0, False), (40, True)}
    assert 0 in scores.values() and 40 in scores.values()
    cut = ScoreRun.objects.get()
    assert cut.status == "running"  # a killed worker says nothing
    monkeypatch.setattr(engine, "score_chunk", real)
    engine.recompute_all(now=NOW)
    assert set(Contact.objects.filter(pk__in=ids).values_list("score", flat=True)) == {40}
    cut.refresh_from_db()
    assert (cut.status, cut.error) == ("failed", "interrupted")

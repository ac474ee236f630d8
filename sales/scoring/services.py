"""Writes of lead scoring: rules and settings (admins), recompute requests, and the rescore trigger.

A change of rules or settings bumps the ruleset version and enqueues one full recompute after commit.
A change to a contact's data is marked by the database (migration 0004); `schedule_rescore` only wakes a
worker sooner than the beat reconciler would, coalescing many changes within a few seconds into one task.
"""

from datetime import timedelta

from django.core.cache import cache
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import F, Max
from django.utils import timezone
from django.utils.translation import gettext as _

from crm import policy
from crm.models import User
from sales.models import RunStatus, ScoreRun, ScoringRule, ScoringSettings
from sales.scoring.rules import clean_params

COALESCE_SECONDS = 3
STALE_QUEUED = timedelta(minutes=10)
_PENDING_KEY = "scoring:rescore-pending"


def _require_admin(by: User) -> None:
    if not policy.is_admin(by):
        raise PermissionDenied(_("Only an admin can change the scoring rules."))


def _bump_version() -> None:
    ScoringSettings.load()
    ScoringSettings.objects.filter(pk=1).update(version=F("version") + 1)


def _clean_points(value) -> int:
    try:
        points = int(value)
    except (TypeError, ValueError):
        raise ValidationError({"points": _("Enter a whole number from -100 to 100.")}) from None
    if not -100 <= points <= 100:
        raise ValidationError({"points": _("Enter a whole number from -100 to 100.")})
    if points == 0:
        raise ValidationError({"points": _("A rule of zero points changes nothing.")})
    return points


def clean_rule(*, name: str, kind: str, params: dict | None, points) -> dict:
    """The rule's fields, checked (also what the preview runs on, before anything is saved)."""
    errors = {}
    out = {}
    name = (name or "").strip()
    if not name:
        errors["name"] = [_("Give the rule a name.")]
    out["name"] = name[:150]
    try:
        out["points"] = _clean_points(points)
    except ValidationError as exc:
        errors.update(exc.message_dict)
    try:
        out["params"] = clean_params(kind, params)
        out["kind"] = kind
    except ValidationError as exc:
        errors.update(exc.message_dict)
    if errors:
        raise ValidationError(errors)
    return out


@transaction.atomic
def save_rule(*, by: User, rule: ScoringRule | None = None, name: str, kind: str, params: dict | None, points,
              active: bool = True) -> ScoringRule:
    """Create or change a rule; a change bumps its version, and a full recompute follows the commit."""
    _require_admin(by)
    fields = clean_rule(name=name, kind=kind, params=params, points=points)
    if rule is None:
        position = (ScoringRule.objects.aggregate(m=Max("position"))["m"] or 0) + 1
        rule = ScoringRule.objects.create(created_by=by, position=position, active=active, **fields)
    else:
        changed = any(getattr(rule, k) != v for k, v in fields.items()) or rule.active != active
        if not changed:
            return rule
        for key, value in fields.items():
            setattr(rule, key, value)
        rule.active = active
        rule.version += 1
        rule.save()
    _bump_version()
    request_recompute(by=by, reason="rules changed")
    return rule


@transaction.atomic
def delete_rule(*, by: User, rule: ScoringRule) -> None:
    """Remove a rule (its history stays in the audit log); scores follow after a recompute."""
    _require_admin(by)
    rule.delete()
    _bump_version()
    request_recompute(by=by, reason="rules changed")


@transaction.atomic
def update_settings(*, by: User, hot_threshold, warm_threshold, half_life_days) -> ScoringSettings:
    _require_admin(by)
    settings = ScoringSettings.load()
    errors = {}
    values = {}
    for key, value, upper in (("hot_threshold", hot_threshold, 100), ("warm_threshold", warm_threshold, 100),
                              ("half_life_days", half_life_days, 3650)):
        try:
            values[key] = int(value)
        except (TypeError, ValueError):
            errors[key] = [_("Enter a whole number.")]
            continue
        low = 1 if key != "warm_threshold" else 0
        if not low <= values[key] <= upper:
            errors[key] = [_("Enter a number from %(low)s to %(upper)s.") % {"low": low, "upper": upper}]
    if not errors and values["warm_threshold"] >= values["hot_threshold"]:
        errors["warm_threshold"] = [_("The warm threshold must be below the hot threshold.")]
    if errors:
        raise ValidationError(errors)
    if all(getattr(settings, k) == v for k, v in values.items()):
        return settings
    for key, value in values.items():
        setattr(settings, key, value)
    settings.version += 1
    settings.save()
    request_recompute(by=by, reason="settings changed")
    return settings


def request_recompute(*, by: User | None, reason: str = "manual") -> ScoreRun:
    """A full recompute, queued after commit; a run already queued is reused (many rule edits, one run)."""
    if by is not None:
        _require_admin(by)
    run = ScoreRun.objects.filter(status=RunStatus.QUEUED).order_by("-id").first()
    if run is not None and run.created_at > timezone.now() - STALE_QUEUED:
        return run  # already on its way
    # None queued, or one whose message a Redis restart lost: (re-)enqueue; the task skips a finished run.
    run = run or ScoreRun.objects.create(reason=reason[:100], requested_by=by)

    def enqueue():
        from sales.tasks import recompute_scores

        result = recompute_scores.apply_async(kwargs={"run_id": run.pk})
        ScoreRun.objects.filter(pk=run.pk).update(task_id=result.id or "")

    transaction.on_commit(enqueue, robust=True)
    return run


def schedule_rescore() -> None:
    """After commit, wake a worker to rescore the contacts marked stale; one task per few seconds at most."""

    def enqueue():
        if cache.add(_PENDING_KEY, 1, timeout=COALESCE_SECONDS):
            from sales.tasks import rescore_dirty_contacts

            rescore_dirty_contacts.apply_async(countdown=COALESCE_SECONDS)

    transaction.on_commit(enqueue, robust=True)

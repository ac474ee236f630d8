"""Lead scoring: admin-configured rules, each contact's explanation and daily history, runs and the dirty queue.

The score itself lives on the contact (`Contact.score`, `score_band`: indexed columns, so lists sort and
filter by it without a join); `sales.scoring` computes it set-based in SQL. What must not be lost, a
contact needing a rescore, is a row of `ScoreDirty`, written by database triggers in the transaction of
the change (see the migration that installs them), whichever code path made the change.
"""

import pghistory
from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from contacts.models import Contact, ScoreBand  # noqa: F401 (ScoreBand: the bands, re-exported)


class RuleKind(models.TextChoices):
    # Fit: who the contact is.
    FIELD_EQUALS = "field_equals", _("Field equals")
    FIELD_IN = "field_in", _("Field is one of")
    FIELD_CONTAINS = "field_contains", _("Field contains")
    FIELD_IS_SET = "field_is_set", _("Field is set")
    TAG_PRESENT = "tag_present", _("Has tag")
    # Behaviour: what the contact did (these decay).
    INTERACTION_COUNT = "interaction_count", _("Interactions in the last N days")
    DAYS_SINCE_INTERACTION = "days_since_interaction", _("Days since the last interaction")
    WEB_VISITS = "web_visits", _("Web visits to a page")
    ORDERS_COUNT = "orders_count", _("Orders in the last N days")
    TOTAL_SPEND = "total_spend", _("Total spend above")
    OPEN_COMPLAINTS = "open_complaints", _("Open complaint tickets")


BEHAVIOUR_KINDS = frozenset({
    RuleKind.INTERACTION_COUNT, RuleKind.DAYS_SINCE_INTERACTION, RuleKind.WEB_VISITS, RuleKind.ORDERS_COUNT,
    RuleKind.TOTAL_SPEND, RuleKind.OPEN_COMPLAINTS,
})


@pghistory.track(pghistory.InsertEvent(), pghistory.UpdateEvent(condition=pghistory.AnyChange(exclude_auto=True)))
class ScoringSettings(models.Model):
    """Band thresholds and the behaviour half-life: one row (id=1)."""

    hot_threshold = models.PositiveSmallIntegerField(_("hot from"), default=70, validators=[MaxValueValidator(100)])
    warm_threshold = models.PositiveSmallIntegerField(_("warm from"), default=40, validators=[MaxValueValidator(100)])
    half_life_days = models.PositiveSmallIntegerField(
        _("half-life of behaviour points (days)"), default=30, validators=[MinValueValidator(1), MaxValueValidator(3650)],
        help_text=_("Behaviour points halve every this many days, so stale engagement fades."),
    )
    #: Bumped by every change of rules or settings; a full recompute records which version it used.
    version = models.PositiveIntegerField(default=1, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("scoring settings")
        verbose_name_plural = _("scoring settings")
        constraints = [
            models.CheckConstraint(condition=Q(id=1), name="sales_scoringsettings_singleton"),
            models.CheckConstraint(condition=Q(warm_threshold__lt=models.F("hot_threshold")),
                                   name="sales_scoringsettings_warm_below_hot",
                                   violation_error_message=_("The warm threshold must be below the hot threshold.")),
        ]

    def __str__(self):
        return f"hot >= {self.hot_threshold}, warm >= {self.warm_threshold}"

    @classmethod
    def load(cls) -> "ScoringSettings":
        obj = cls.objects.filter(pk=1).first()
        if obj is None:
            obj, _created = cls.objects.get_or_create(pk=1)
        return obj


@pghistory.track(
    pghistory.InsertEvent(),
    pghistory.UpdateEvent(condition=pghistory.AnyChange(exclude=["updated_at"])),
    pghistory.DeleteEvent(),
)
class ScoringRule(models.Model):
    """One way a contact earns (or loses) points; `params` depend on the kind (sales.scoring.rules).

    Versioned: every change bumps `version` and is kept in the audit history; an archived rule stops counting.
    """

    name = models.CharField(_("name"), max_length=150)
    kind = models.CharField(_("kind"), max_length=30, choices=RuleKind.choices)
    params = models.JSONField(_("parameters"), default=dict, blank=True)
    points = models.SmallIntegerField(_("points"), validators=[MinValueValidator(-100), MaxValueValidator(100)],
                                      help_text=_("Negative points lower the score."))
    position = models.PositiveIntegerField(default=0)
    version = models.PositiveIntegerField(default=1, editable=False)
    active = models.BooleanField(_("active"), default=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+", editable=False)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("scoring rule")
        verbose_name_plural = _("scoring rules")
        ordering = ["position", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(points__gte=-100) & Q(points__lte=100), name="sales_scoringrule_points_range"),
        ]

    def __str__(self):
        return self.name

    @property
    def is_behaviour(self) -> bool:
        return self.kind in BEHAVIOUR_KINDS


class ScoreExplanation(models.Model):
    """One rule's contribution to one contact's current score (replaced whole, per contact, by each computation)."""

    # The unique (contact, rule) index serves lookups by contact: no index of its own.
    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="score_explanations", db_index=False)
    rule = models.ForeignKey(ScoringRule, on_delete=models.CASCADE, related_name="+")
    points = models.DecimalField(max_digits=7, decimal_places=2)
    facts = models.JSONField(default=dict, blank=True)  # what the explanation is written from (counts, days)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["contact", "rule"], name="sales_scoreexplanation_unique")]

    def __str__(self):
        return f"{self.contact_id}: {self.rule_id} {self.points:+}"


class ScoreHistory(models.Model):
    """A contact's score at the end of a day (the nightly run writes it): the sparkline and "rose by 20+"."""

    # The unique (contact, day) index serves lookups by contact: no index of its own.
    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="score_history", db_index=False)
    day = models.DateField()
    score = models.PositiveSmallIntegerField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["contact", "day"], name="sales_scorehistory_unique")]
        indexes = [models.Index(fields=["day"], name="sales_scorehistory_day")]

    def __str__(self):
        return f"{self.contact_id} {self.day}: {self.score}"


class ScoreDirty(models.Model):
    """A contact whose score is stale; written by triggers in the transaction of the change."""

    contact_id = models.BigIntegerField(primary_key=True)
    marked_at = models.DateTimeField(default=timezone.now)

    def __str__(self):
        return str(self.contact_id)


class RunStatus(models.TextChoices):
    QUEUED = "queued", _("Queued")
    RUNNING = "running", _("Running")
    DONE = "done", _("Done")
    FAILED = "failed", _("Failed")


class ScoreRun(models.Model):
    """A full recompute: progress for the UI and the API, and the ruleset version it used."""

    status = models.CharField(max_length=10, choices=RunStatus.choices, default=RunStatus.QUEUED)
    reason = models.CharField(max_length=100, blank=True, default="")
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                     related_name="+")
    task_id = models.CharField(max_length=100, blank=True, default="")
    version = models.PositiveIntegerField(default=0)
    total = models.PositiveIntegerField(default=0)
    done = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    error = models.TextField(blank=True, default="")

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return f"run {self.pk} ({self.status})"

    @property
    def percent(self) -> int:
        return 100 if self.status == RunStatus.DONE else (self.done * 100 // self.total if self.total else 0)

"""Reads behind the score panel, the score API and the rules page."""

from dataclasses import dataclass
from datetime import date, timedelta

from django.utils import timezone

from contacts.models import Contact
from sales.models import ScoreExplanation, ScoreHistory, ScoreRun, ScoringRule
from sales.scoring.rules import explain

HISTORY_DAYS = 30


@dataclass(frozen=True)
class Reason:
    rule_id: int
    name: str
    points: float
    text: str


@dataclass(frozen=True)
class ContactScore:
    contact: Contact
    reasons: list[Reason]
    history: list[tuple[date, int]]  # one value a day, oldest first (carried forward between changes)

    def sparkline(self, width: int = 120, height: int = 28) -> str:
        """The history as SVG polyline points (score 0 at the bottom, 100 at the top)."""
        if not self.history:
            return ""
        step = width / max(len(self.history) - 1, 1)
        return " ".join(f"{i * step:.1f},{height - score * height / 100:.1f}" for i, (_day, score) in enumerate(self.history))


def contact_score(contact: Contact, *, days: int = HISTORY_DAYS, today: date | None = None) -> ContactScore:
    """A visible contact's explanation (largest contributions first) and its last `days` days of score (3 queries)."""
    rows = (ScoreExplanation.objects.filter(contact=contact).select_related("rule")
            .only("points", "facts", "rule__name", "rule__kind", "rule__params"))
    reasons = sorted(
        (Reason(rule_id=r.rule_id, name=r.rule.name, points=float(r.points),
                text=explain(r.rule.kind, r.rule.params, r.facts)) for r in rows),
        key=lambda reason: (-abs(reason.points), reason.name),
    )
    today = today or timezone.localdate()
    start = today - timedelta(days=days - 1)
    history_rows = ScoreHistory.objects.filter(contact=contact)
    before = history_rows.filter(day__lt=start).order_by("-day").values_list("score", flat=True).first()
    changes = list(history_rows.filter(day__gte=start, day__lte=today).order_by("day").values_list("day", "score"))
    history, current, i = [], before or 0, 0
    for offset in range(days):
        day = start + timedelta(days=offset)
        while i < len(changes) and changes[i][0] <= day:
            current = changes[i][1]
            i += 1
        history.append((day, current))
    if not changes and before is None and contact.score_updated_at is None:
        history = []
    return ContactScore(contact=contact, reasons=reasons, history=history)


def rules_page() -> dict:
    """The rules (active first) and the last few full runs."""
    return {
        "rules": list(ScoringRule.objects.order_by("-active", "position", "id")),
        "runs": list(ScoreRun.objects.select_related("requested_by").order_by("-created_at", "-id")[:5]),
    }

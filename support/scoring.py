"""The lead-scoring kind that needs tickets: open complaint tickets (usually negative points).

Registered into `sales.scoring.rules` when the support app loads (apps depend downward: sales cannot read
support's tables itself). The score follows a ticket's changes because a trigger on support_ticket marks its
contact for a rescore (migration support 0002).
"""

from django.db.models.signals import post_delete, post_save
from django.utils.translation import ngettext_lazy

from crm.templatetags.crm import number
from sales.models import RuleKind
from sales.scoring import rules
from sales.scoring.services import schedule_rescore
from support.models import OPEN_STATUSES, Ticket, TicketType


def clean_open_complaints(params: dict) -> dict:
    """Threshold (`min_count` open complaints, default 1) or points per open complaint up to a cap."""
    if params.get("per_occurrence") in (True, "true", "on", "1", 1):
        return {"per_occurrence": True, "cap": rules._positive_int(params, "cap", default=100, upper=100)}
    return {"min_count": rules._positive_int(params, "min_count", default=1, upper=1000)}


def sql_open_complaints(rule, chunk, ctx):
    where, wparams = chunk.where("t.contact_id")
    base = f"FROM support_ticket t WHERE {where} AND t.type = %s AND t.status = ANY(%s) GROUP BY t.contact_id"
    filters = [*wparams, TicketType.COMPLAINT, list(OPEN_STATUSES)]
    if rule.params.get("per_occurrence"):
        cap = rule.params["cap"]
        sql = ("SELECT t.contact_id, CASE WHEN %s >= 0 THEN LEAST(%s * COUNT(*), %s) "
               "ELSE GREATEST(%s * COUNT(*), -%s) END, jsonb_build_object('count', COUNT(*)) " + base)
        return sql, [rule.points, rule.points, cap, rule.points, cap, *filters]
    sql = "SELECT t.contact_id, %s::numeric, jsonb_build_object('count', COUNT(*)) " + base + " HAVING COUNT(*) >= %s"
    return sql, [rule.points, *filters, rule.params["min_count"]]


_EXPLAIN = ngettext_lazy("%(count)s open complaint", "%(count)s open complaints", "n")


def explain_open_complaints(params: dict, facts: dict) -> str:
    count = int(facts.get("count") or 0)
    return _EXPLAIN % {"n": count, "count": number(count)}


#: The ticket columns the trigger of migration 0002 watches: a save of others marks no contact.
SCORED_COLUMNS = {"type", "status", "contact", "contact_id"}


def _wake_scoring(sender, created=False, update_fields=None, **kwargs):
    """A ticket's type, status or contact changed: the trigger marked its contact; wake a worker now rather
    than at the next beat (bulk changes, auto-close, are left to the beat)."""
    if created or update_fields is None or SCORED_COLUMNS & set(update_fields):
        schedule_rescore()


def register() -> None:
    rules.register_kind(RuleKind.OPEN_COMPLAINTS, rules.Kind(
        clean=clean_open_complaints, sql=sql_open_complaints, decays=False, explain=explain_open_complaints))
    post_save.connect(_wake_scoring, sender=Ticket, dispatch_uid="scoring-Ticket-save")
    post_delete.connect(_wake_scoring, sender=Ticket, dispatch_uid="scoring-Ticket-delete")


"""What each kind of scoring rule means: its parameters (checked) and its SQL.

A kind's SQL selects `(contact_id, points, facts)` for the contacts of one chunk that the rule applies to:
`points` already weighted (decay, per-occurrence caps), `facts` a small JSON object the explanation is
written from ("3 web visits to /pricing in 7 days"). Every statement works on the whole chunk at once;
the engine (sales.scoring.engine) runs one per rule and adds them up.

Behaviour points decay: weighted by 0.5 ^ (age in days / half-life) of the latest qualifying event
(threshold rules) or of each event (per-occurrence rules), so stale engagement fades.

Column names come only from the whitelists below, never from input; values are always parameters.
"""

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext_lazy

from contacts.models import (
    AgeBand,
    Channel,
    Gender,
    IncomeBand,
    InteractionKind,
    LifecycleStage,
    SizeBand,
    Source,
    Tag,
)
from crm.templatetags.crm import money, number
from sales.models import RuleKind
from sales.models.orders import REVENUE_STATUSES


@dataclass(frozen=True)
class Field:
    column: str  # "c.<col>" or "co.<col>" (the contact's company)
    label: object
    kind: str = "text"  # text | choice | bool | date | number
    choices: tuple = ()


#: The fields fit rules may test: contact fields, then the company's (prefixed "company.").
FIELDS: dict[str, Field] = {
    "job_title": Field("c.job_title", gettext_lazy("Job title")),
    "lifecycle_stage": Field("c.lifecycle_stage", gettext_lazy("Lifecycle stage"), "choice", tuple(LifecycleStage.choices)),
    "source": Field("c.source", gettext_lazy("Source"), "choice", tuple(Source.choices)),
    "city": Field("c.city", gettext_lazy("City")),
    "region": Field("c.region", gettext_lazy("Region or division")),
    "country": Field("c.country", gettext_lazy("Country")),
    "gender": Field("c.gender", gettext_lazy("Gender"), "choice", tuple(Gender.choices)),
    "age_band": Field("c.age_band", gettext_lazy("Age band"), "choice", tuple(AgeBand.choices)),
    "income_band": Field("c.income_band", gettext_lazy("Income band"), "choice", tuple(IncomeBand.choices)),
    "preferred_channel": Field("c.preferred_channel", gettext_lazy("Preferred channel"), "choice", tuple(Channel.choices)),
    "project_type": Field("c.project_type", gettext_lazy("Project type")),
    "project_budget": Field("c.project_budget", gettext_lazy("Project budget"), "number"),
    "email": Field("c.email", gettext_lazy("Email")),
    "phone": Field("c.phone", gettext_lazy("Phone")),
    "email_opt_in": Field("c.email_opt_in", gettext_lazy("Consented to email"), "bool"),
    "sms_opt_in": Field("c.sms_opt_in", gettext_lazy("Consented to SMS"), "bool"),
    "phone_opt_in": Field("c.phone_opt_in", gettext_lazy("Consented to calls"), "bool"),
    "do_not_contact": Field("c.do_not_contact", gettext_lazy("Do not contact"), "bool"),
    "company.industry": Field("co.industry", gettext_lazy("Company industry")),
    "company.size_band": Field("co.size_band", gettext_lazy("Company size"), "choice", tuple(SizeBand.choices)),
    "company.city": Field("co.city", gettext_lazy("Company city")),
    "company.region": Field("co.region", gettext_lazy("Company region")),
    "company.country": Field("co.country", gettext_lazy("Company country")),
}

#: Contact columns a fit rule reads: an UPDATE OF these marks the contact for a rescore (migration 0004's trigger).
CONTACT_COLUMNS = sorted({f.column[2:] for f in FIELDS.values() if f.column.startswith("c.")} | {"company_id", "deleted_at"})
COMPANY_COLUMNS = sorted({f.column[3:] for f in FIELDS.values() if f.column.startswith("co.")})


@dataclass(frozen=True)
class Chunk:
    """Which contacts a statement covers: an id range (full runs) or a list of ids (rescores)."""

    lo: int | None = None
    hi: int | None = None
    ids: tuple[int, ...] | None = None

    def where(self, column: str = "c.id") -> tuple[str, list]:
        if self.ids is not None:
            return f"{column} = ANY(%s)", [list(self.ids)]
        return f"{column} >= %s AND {column} < %s", [self.lo, self.hi]


@dataclass(frozen=True)
class Context:
    half_life_days: int
    now: object  # aware datetime: "today" for windows and decay


# --- Parameter checks ---------------------------------------------------------------------------------


def _require(params: dict, key: str, message) -> object:
    value = params.get(key)
    if value in (None, "", []):
        raise ValidationError({f"params.{key}": message})
    return value


def _positive_int(params: dict, key: str, *, default=None, upper=3650) -> int:
    value = params.get(key, default)
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise ValidationError({f"params.{key}": _("Enter a whole number.")}) from None
    if number < 1 or number > upper:
        raise ValidationError({f"params.{key}": _("Enter a number from 1 to %(upper)s.") % {"upper": upper}})
    return number


def _field(params: dict) -> Field:
    name = _require(params, "field", _("Choose a field."))
    if name not in FIELDS:
        raise ValidationError({"params.field": _("Choose one of the listed fields.")})
    return FIELDS[name]


def _clean_field_value(params: dict) -> dict:
    field = _field(params)
    value = str(_require(params, "value", _("Enter the value to compare with."))).strip()
    if field.kind == "choice" and value not in {c[0] for c in field.choices}:
        raise ValidationError({"params.value": _("Choose one of the field's values.")})
    if field.kind in ("bool", "number"):
        raise ValidationError({"params.field": _("Use “field is set” for this field.")})
    return {"field": params["field"], "value": value[:200]}


def _clean_field_in(params: dict) -> dict:
    field = _field(params)
    values = params.get("values")
    if isinstance(values, str):
        values = [v for v in (part.strip() for part in values.split(",")) if v]
    if not values or not isinstance(values, list):
        raise ValidationError({"params.values": _("Enter at least one value.")})
    values = [str(v).strip()[:200] for v in values if str(v).strip()]
    if field.kind == "choice":
        allowed = {c[0] for c in field.choices}
        if bad := [v for v in values if v not in allowed]:
            raise ValidationError({"params.values": _("Not a value of this field: %(values)s") % {"values": ", ".join(bad)}})
    if field.kind in ("bool", "number"):
        raise ValidationError({"params.field": _("Use “field is set” for this field.")})
    return {"field": params["field"], "values": values[:50]}


def _clean_field_is_set(params: dict) -> dict:
    _field(params)
    return {"field": params["field"]}


def _clean_tag(params: dict) -> dict:
    tag = _require(params, "tag", _("Choose a tag."))
    if not Tag.objects.filter(pk=tag if str(tag).isdigit() else None).exists():
        raise ValidationError({"params.tag": _("Choose an existing tag.")})
    return {"tag": int(tag)}


def _clean_occurrences(params: dict, *, extra: dict) -> dict:
    out = {**extra, "days": _positive_int(params, "days", default=30)}
    if params.get("per_occurrence") in (True, "true", "on", "1", 1):
        out["per_occurrence"] = True
        out["cap"] = _positive_int(params, "cap", default=100, upper=100)
    else:
        out["min_count"] = _positive_int(params, "min_count", default=1, upper=100000)
    return out


def _clean_interaction_count(params: dict) -> dict:
    kind = params.get("kind") or ""
    if kind and kind not in InteractionKind.values:
        raise ValidationError({"params.kind": _("Choose a kind of interaction.")})
    return _clean_occurrences(params, extra={"kind": kind})


def _clean_web_visits(params: dict) -> dict:
    pattern = str(_require(params, "pattern", _("Enter a page address or part of one, e.g. /pricing."))).strip()
    return _clean_occurrences(params, extra={"pattern": pattern[:200]})


def _clean_orders(params: dict) -> dict:
    return _clean_occurrences(params, extra={})


def _clean_days_since(params: dict) -> dict:
    return {"days": _positive_int(params, "days", default=60)}


def _clean_total_spend(params: dict) -> dict:
    raw = _require(params, "min_total", _("Enter an amount."))
    try:
        amount = Decimal(str(raw).replace(",", ""))
    except ArithmeticError:
        raise ValidationError({"params.min_total": _("Enter an amount.")}) from None
    if amount < 0:
        raise ValidationError({"params.min_total": _("Enter an amount of zero or more.")})
    return {"min_total": str(amount.quantize(Decimal("0.01")))}


# --- SQL ----------------------------------------------------------------------------------------------

_DECAY = "power(0.5, GREATEST(EXTRACT(EPOCH FROM (%s - {at})) / 86400.0, 0) / %s)"


def _decay(at: str, ctx: Context) -> tuple[str, list]:
    return _DECAY.format(at=at), [ctx.now, ctx.half_life_days]


def _fit(condition: str, cond_params: list, rule, chunk: Chunk, facts: str = "'{}'::jsonb", join_company=False):
    where, wparams = chunk.where()
    join = "LEFT JOIN contacts_company co ON co.id = c.company_id" if join_company else ""
    sql = (f"SELECT c.id, %s::numeric, {facts} FROM contacts_contact c {join} "
           f"WHERE {where} AND c.deleted_at IS NULL AND ({condition})")
    return sql, [rule.points, *wparams, *cond_params]


def _cond_field_equals(rule, ctx):
    field = FIELDS[rule.params["field"]]
    return f"lower({field.column}) = lower(%s)", [rule.params["value"]], field.column.startswith("co.")


def _cond_field_in(rule, ctx):
    field = FIELDS[rule.params["field"]]
    values = [v.lower() for v in rule.params["values"]]
    return f"lower({field.column}) = ANY(%s)", [values], field.column.startswith("co.")


def _cond_field_contains(rule, ctx):
    field = FIELDS[rule.params["field"]]
    escaped = rule.params["value"].replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"{field.column} ILIKE %s", [f"%{escaped}%"], field.column.startswith("co.")


def _cond_field_is_set(rule, ctx):
    field = FIELDS[rule.params["field"]]
    condition = {"bool": f"{field.column}", "number": f"{field.column} IS NOT NULL",
                 "date": f"{field.column} IS NOT NULL"}.get(field.kind, f"COALESCE({field.column}, '') <> ''")
    return condition, [], field.column.startswith("co.")


def _cond_tag_present(rule, ctx):
    return ("EXISTS (SELECT 1 FROM contacts_contacttag ct WHERE ct.contact_id = c.id AND ct.tag_id = %s)",
            [rule.params["tag"]], False)


def _cond_days_since(rule, ctx):
    return ("c.last_interaction_at IS NULL OR c.last_interaction_at < %s - make_interval(days => %s)",
            [ctx.now, rule.params["days"]], False)


def _fit_sql(condition_of):
    """A fit kind's own statement (rescores of one rule, the preview) from its condition."""
    def sql(rule, chunk, ctx):
        condition, params, join_company = condition_of(rule, ctx)
        return _fit(condition, params, rule, chunk, join_company=join_company)
    return sql


_sql_field_equals = _fit_sql(_cond_field_equals)
_sql_field_in = _fit_sql(_cond_field_in)
_sql_field_contains = _fit_sql(_cond_field_contains)
_sql_field_is_set = _fit_sql(_cond_field_is_set)
_sql_tag_present = _fit_sql(_cond_tag_present)


def _occurrences(rule, chunk: Chunk, ctx: Context, *, source: str, source_params: list, at: str):
    """Threshold or per-occurrence points over events `source` yields as (contact_id, {at})."""
    where, wparams = chunk.where("e.contact_id")
    days = rule.params["days"]
    decay, dparams = _decay(at, ctx)
    window = f"{at} > %s - make_interval(days => %s) AND {at} <= %s"
    wins = [ctx.now, days, ctx.now]
    if rule.params.get("per_occurrence"):
        cap = rule.params["cap"]
        sql = (f"SELECT e.contact_id, "
               f"CASE WHEN %s >= 0 THEN LEAST(SUM(%s * {decay}), %s) ELSE GREATEST(SUM(%s * {decay}), -%s) END, "
               f"jsonb_build_object('count', COUNT(*), 'days', %s) "
               f"FROM ({source}) e WHERE {where} AND {window} GROUP BY e.contact_id")
        params = [rule.points, rule.points, *dparams, cap, rule.points, *dparams, cap, days,
                  *source_params, *wparams, *wins]
        return sql, params
    latest, dparams = _decay(f"MAX({at})", ctx)
    sql = (f"SELECT e.contact_id, %s * {latest}, "
           f"jsonb_build_object('count', COUNT(*), 'days', %s) "
           f"FROM ({source}) e WHERE {where} AND {window} GROUP BY e.contact_id HAVING COUNT(*) >= %s")
    return sql, [rule.points, *dparams, days, *source_params, *wparams, *wins, rule.params["min_count"]]


def _sql_interaction_count(rule, chunk, ctx):
    kind = rule.params.get("kind") or ""
    source = "SELECT i.contact_id, i.occurred_at FROM contacts_interaction i WHERE i.contact_id IS NOT NULL"
    params = []
    if kind:
        source += " AND i.kind = %s"
        params.append(kind)
    return _occurrences(rule, chunk, ctx, source=source, source_params=params, at="e.occurred_at")


def _sql_web_visits(rule, chunk, ctx):
    escaped = rule.params["pattern"].replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    source = ("SELECT i.contact_id, i.occurred_at FROM contacts_interaction i "
              "WHERE i.contact_id IS NOT NULL AND i.kind = 'web_visit' AND i.subject ILIKE %s")
    return _occurrences(rule, chunk, ctx, source=source, source_params=[f"%{escaped}%"], at="e.occurred_at")


def _sql_orders_count(rule, chunk, ctx):
    source = ("SELECT o.contact_id, o.ordered_at FROM sales_order o "
              "WHERE o.contact_id IS NOT NULL AND o.status = ANY(%s)")
    return _occurrences(rule, chunk, ctx, source=source, source_params=[list(REVENUE_STATUSES)], at="e.ordered_at")


_sql_days_since = _fit_sql(_cond_days_since)


def _sql_total_spend(rule, chunk, ctx):
    where, wparams = chunk.where("o.contact_id")
    sql = ("SELECT o.contact_id, %s::numeric, jsonb_build_object('total', SUM(o.total)::text) FROM sales_order o "
           f"WHERE {where} AND o.status = ANY(%s) GROUP BY o.contact_id HAVING SUM(o.total) > %s")
    return sql, [rule.points, *wparams, list(REVENUE_STATUSES), Decimal(rule.params["min_total"])]


@dataclass(frozen=True)
class Kind:
    clean: Callable[[dict], dict]
    sql: Callable  # (rule, chunk, ctx) -> (sql, params)
    decays: bool
    explain: Callable[[dict, dict], str]  # (params, facts) -> text for people


def _field_label(params):
    field = FIELDS.get(params.get("field"))
    return str(field.label) if field else params.get("field", "")


def _count(facts) -> int:
    return int(facts.get("count") or 0)


def _occurrence_text(message):
    """`message` is an ngettext_lazy picking its form by "n"; the count is shown with the language's digits."""
    return lambda p, f: message % {"n": _count(f), "count": number(_count(f)),
                                   "days": number(f.get("days") or p.get("days")), "pattern": p.get("pattern", "")}


KINDS: dict[str, Kind] = {
    RuleKind.FIELD_EQUALS: Kind(_clean_field_value, _sql_field_equals, False,
                                lambda p, f: _("%(field)s is %(value)s") % {"field": _field_label(p), "value": p["value"]}),
    RuleKind.FIELD_IN: Kind(_clean_field_in, _sql_field_in, False,
                            lambda p, f: _("%(field)s is one of %(values)s") % {
                                "field": _field_label(p), "values": ", ".join(p["values"])}),
    RuleKind.FIELD_CONTAINS: Kind(_clean_field_value, _sql_field_contains, False,
                                  lambda p, f: _("%(field)s contains “%(value)s”") % {
                                      "field": _field_label(p), "value": p["value"]}),
    RuleKind.FIELD_IS_SET: Kind(_clean_field_is_set, _sql_field_is_set, False,
                                lambda p, f: _("%(field)s is set") % {"field": _field_label(p)}),
    RuleKind.TAG_PRESENT: Kind(_clean_tag, _sql_tag_present, False, lambda p, f: _("has the tag")),
    RuleKind.INTERACTION_COUNT: Kind(_clean_interaction_count, _sql_interaction_count, True, _occurrence_text(ngettext_lazy(
        "%(count)s interaction in %(days)s days", "%(count)s interactions in %(days)s days", "n"))),
    RuleKind.WEB_VISITS: Kind(_clean_web_visits, _sql_web_visits, True, _occurrence_text(ngettext_lazy(
        "visited %(pattern)s %(count)s time in %(days)s days", "visited %(pattern)s %(count)s times in %(days)s days",
        "n"))),
    RuleKind.ORDERS_COUNT: Kind(_clean_orders, _sql_orders_count, True, _occurrence_text(ngettext_lazy(
        "%(count)s order in %(days)s days", "%(count)s orders in %(days)s days", "n"))),
    RuleKind.DAYS_SINCE_INTERACTION: Kind(_clean_days_since, _sql_days_since, False,
                                          lambda p, f: _("no interaction for %(days)s days") % {"days": number(p["days"])}),
    RuleKind.TOTAL_SPEND: Kind(_clean_total_spend, _sql_total_spend, False,
                               lambda p, f: _("spent %(total)s (more than %(min)s)") % {
                                   "total": money(f.get("total") or 0), "min": money(p["min_total"])}),
}


#: Fit kinds' conditions on one contact row `c` (and its company `co`): (rule, ctx) -> (SQL, params, needs
#: the company). The engine evaluates all of a run's fit rules in ONE pass over a chunk's contacts
#: (a LATERAL VALUES list), instead of reading the chunk once per rule.
FIT_CONDITIONS: dict[str, Callable] = {
    RuleKind.FIELD_EQUALS: _cond_field_equals,
    RuleKind.FIELD_IN: _cond_field_in,
    RuleKind.FIELD_CONTAINS: _cond_field_contains,
    RuleKind.FIELD_IS_SET: _cond_field_is_set,
    RuleKind.TAG_PRESENT: _cond_tag_present,
    RuleKind.DAYS_SINCE_INTERACTION: _cond_days_since,
}


def register_kind(kind: str, definition: Kind) -> None:
    """Apps above sales add the kinds that need their tables (support: open complaint tickets)."""
    KINDS[kind] = definition


def clean_params(kind: str, params: dict | None) -> dict:
    """The rule's parameters, checked and normalised; ValidationError keyed `params.<name>` otherwise."""
    if kind not in RuleKind.values:
        raise ValidationError({"kind": _("Choose a kind of rule.")})
    if kind not in KINDS:
        raise ValidationError({"kind": _("This kind of rule needs the support desk, which is not installed yet.")})
    if params is not None and not isinstance(params, dict):
        raise ValidationError({"params": _("Parameters must be an object.")})
    return KINDS[kind].clean(params or {})


def explain(rule_kind: str, params: dict, facts: dict) -> str:
    kind = KINDS.get(rule_kind)
    if kind is None:
        return ""
    try:
        return kind.explain(params, facts or {})
    except (KeyError, TypeError):
        return ""

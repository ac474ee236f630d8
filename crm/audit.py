"""Reading the audit log (django-pghistory's trigger-written event tables).

Triggers see every write — save(), bulk and queryset updates, raw SQL — and the request
middleware (or a task's `pghistory.context`) attaches who and where.
"""

from dataclasses import dataclass
from datetime import datetime

from django.apps import apps
from django.db.models import Model
from pghistory.models import MiddlewareEvents

from crm.models import User

HIDDEN_FIELDS = {"pgh_id", "pgh_created_at", "pgh_label", "pgh_obj", "pgh_context", "id", "updated_at"}


@dataclass
class Change:
    field: str
    old: object
    new: object


@dataclass
class Entry:
    when: datetime
    label: str
    model_label: str
    model_name: str
    object_id: str
    user: User | None
    url: str
    changes: list[Change]


def tracked_models() -> list[tuple[str, str]]:
    """(app_label.Model, verbose name) of every model with history."""
    from pghistory.core import event_models

    out = {}
    for event_model in event_models():
        tracked = event_model.pgh_tracked_model
        out[tracked._meta.label] = str(tracked._meta.verbose_name).capitalize()
    return sorted(out.items(), key=lambda item: item[1])


def _field_label(model, name: str) -> str:
    try:
        return str(model._meta.get_field(name).verbose_name)
    except Exception:
        return name


def _entries(events) -> list[Entry]:
    events = list(events)
    user_ids = {e.pgh_context.get("user") for e in events if e.pgh_context and e.pgh_context.get("user")}
    users = User.objects.in_bulk(user_ids)
    out = []
    for e in events:
        model = apps.get_model(e.pgh_obj_model)
        if e.pgh_label == "update" and e.pgh_diff:
            changes = [Change(_field_label(model, k), v[0], v[1]) for k, v in e.pgh_diff.items() if k not in HIDDEN_FIELDS]
        else:
            changes = [
                Change(_field_label(model, k), None, v) if e.pgh_label != "delete" else Change(_field_label(model, k), v, None)
                for k, v in (e.pgh_data or {}).items()
                if k not in HIDDEN_FIELDS and v not in (None, "", [], {})
            ]
        context = e.pgh_context or {}
        out.append(
            Entry(
                when=e.pgh_created_at,
                label=e.pgh_label,
                model_label=e.pgh_obj_model,
                model_name=str(model._meta.verbose_name).capitalize(),
                object_id=e.pgh_obj_id,
                user=users.get(context.get("user")),
                url=context.get("url", "") or context.get("task", "") or context.get("command", ""),
                changes=changes,
            )
        )
    return out


def history_for(obj: Model, *, limit: int = 100, parts: tuple[str, ...] = ()) -> list[Entry]:
    """The change history of one record, newest first (callers have checked the record is visible).

    `parts` names the event models of rows that belong to the record (e.g. "contacts.ContactEmailEvent"):
    their changes (an email added, a tag removed) show in the record's history too.
    """
    if parts:
        own = f"{obj._meta.app_label}.{obj._meta.object_name}Event"
        events = MiddlewareEvents.objects.references(obj).across(own, *parts)
    else:
        events = MiddlewareEvents.objects.tracks(obj)
    return _entries(events.order_by("-pgh_created_at", "-pgh_id")[:limit])


def audit_log(*, model: str = "", user: User | None = None, label: str = "", record: str = "",
              since=None, until=None, offset: int = 0, limit: int = 50) -> tuple[list[Entry], bool]:
    """A page of the whole audit log, newest first, and whether there is a next page."""
    events = MiddlewareEvents.objects.all()
    if model:
        events = events.filter(pgh_obj_model=model)
    if user is not None:
        events = events.filter(user=user.pk)
    if label:
        events = events.filter(pgh_label=label)
    if record:
        events = events.filter(pgh_obj_id=record)
    if since:
        events = events.filter(pgh_created_at__date__gte=since)
    if until:
        events = events.filter(pgh_created_at__date__lte=until)
    page = list(events.order_by("-pgh_created_at", "-pgh_id")[offset : offset + limit + 1])
    return _entries(page[:limit]), len(page) > limit

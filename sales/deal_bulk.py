"""Bulk actions of the deal list: assign an owner, move to a stage, delete; only the deals the user may change."""

from collections.abc import Iterable

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from crm import policy
from crm.models import Role, User
from crm.services import transfer_target
from sales import services
from sales.models import Deal, Stage

BULK_ACTIONS = ("assign", "stage", "delete")
MAX_BULK = 500  # a few pages of the list at most: a move records history and a timeline entry per deal


def _changeable(by: User, ids: list[int], *, rule):
    """The deals of `ids` that `by` sees and may change by `rule` (policy.editable_filter or deletable_filter)."""
    deals = Deal.objects.visible_to(by).filter(pk__in=ids)
    condition = rule(by, Deal)
    return deals if condition is None else deals.filter(condition)


@transaction.atomic
def bulk_update_deals(
    *, by: User, ids: Iterable[int], action: str, owner: User | None = None, stage: Stage | None = None,
    lost_reason: str = "",
) -> dict[str, int]:
    """Apply one action to many deals: `assign` (owner), `stage` (move, with history) or `delete`.

    Only the deals the user may change are touched (give or delete: owner, manager of its team, admin;
    move: whoever may edit it); the others, and deals of another pipeline than the stage's, are
    skipped and counted. Support agents change nothing.
    """
    ids = list(dict.fromkeys(int(i) for i in ids))
    if not ids:
        raise ValidationError({"ids": _("Choose at least one deal.")})
    if len(ids) > MAX_BULK:
        raise ValidationError({"ids": _("Choose at most %(n)s deals at a time.") % {"n": MAX_BULK}})
    if action not in BULK_ACTIONS:
        raise ValidationError({"action": _("Choose an action.")})
    if by.role == Role.SUPPORT_AGENT:
        return {"done": 0, "skipped": len(ids)}
    now = timezone.now()
    if action == "delete":
        _total, per_model = _changeable(by, ids, rule=policy.deletable_filter).delete()
        done = per_model.get(Deal._meta.label, 0)
    elif action == "assign":
        if owner is None:
            raise ValidationError({"owner": _("Choose the new owner.")})
        target = transfer_target(by=by, owner=owner)
        done = _changeable(by, ids, rule=policy.deletable_filter).update(owner=target, team_id=target.team_id,
                                                                        updated_at=now)
    else:
        if stage is None:
            raise ValidationError({"stage": _("Choose a stage.")})
        if stage.archived_at is not None:
            raise ValidationError({"stage": _("This stage is archived.")})
        if stage.is_lost and not " ".join(str(lost_reason or "").split()):
            raise ValidationError({"lost_reason": _("Say why the deals were lost.")})
        deals = (_changeable(by, ids, rule=policy.editable_filter).filter(pipeline_id=stage.pipeline_id)
                 .select_related("stage", "owner", "team").order_by("pk"))
        done = 0
        for deal in deals:  # bounded by MAX_BULK; each move locks, records its history and timeline entry
            if deal.stage_id != stage.pk:
                services.move_deal(deal=deal, stage=stage, by=by, lost_reason=lost_reason if stage.is_lost else "")
            done += 1
    return {"done": done, "skipped": len(ids) - done}

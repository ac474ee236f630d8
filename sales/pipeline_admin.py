"""Pipeline administration beyond `sales.services`: archive a stage that still holds deals, moving them first."""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from crm.models import User
from sales import services
from sales.models import Deal, Stage, StageChange


@transaction.atomic
def archive_stage_moving_deals(*, by: User, stage: Stage, move_to: Stage | None = None) -> dict:
    """Move every deal of `stage` to the open stage `move_to` of the same pipeline, then archive `stage`.

    One transaction: each moved deal gets its StageChange row; nothing moves if the archive is refused.
    Without `move_to`, only an empty stage is archived (the service says why otherwise).
    Returns {"stage": the archived stage, "moved": how many deals moved}.
    """
    services._require_admin(by)
    stage = Stage.objects.select_for_update().get(pk=stage.pk)
    moved = 0
    if move_to is not None:
        if move_to.pk == stage.pk:
            raise ValidationError({"move_to": _("Choose another stage than the one being archived.")})
        if move_to.pipeline_id != stage.pipeline_id:
            raise ValidationError({"move_to": _("Stage belongs to another pipeline.")})
        if move_to.archived_at is not None:
            raise ValidationError({"move_to": _("This stage is archived.")})
        if move_to.is_closed:
            raise ValidationError({"move_to": _("Choose an open stage: won and lost deals need a person's decision.")})
        if stage.is_closed:
            raise ValidationError({"stage": _("A pipeline keeps its won and lost stages.")})
        now = timezone.now()
        deals = Deal.objects.select_for_update().filter(stage=stage)
        ids = list(deals.order_by("pk").values_list("pk", flat=True))
        if ids:
            # An archivable stage is open, so its deals are open and stay open in `move_to`: no closing stamps change.
            moved = Deal.objects.filter(pk__in=ids).update(stage=move_to, updated_at=now)
            StageChange.objects.bulk_create(
                [StageChange(deal_id=pk, from_stage=stage, to_stage=move_to, by=by, at=now) for pk in ids])
    archived = services.archive_stage(by=by, stage=stage)
    return {"stage": archived, "moved": moved}


def move_stage(*, by: User, stage: Stage, offset: int) -> list[Stage]:
    """Move an active stage `offset` places up (negative) or down among its pipeline's active stages."""
    ids = list(Stage.objects.filter(pipeline_id=stage.pipeline_id, archived_at__isnull=True)
               .order_by("position").values_list("pk", flat=True))
    if stage.pk not in ids:
        raise ValidationError({"stage": _("This stage is archived.")})
    index = ids.index(stage.pk)
    target = min(max(index + offset, 0), len(ids) - 1)
    ids.insert(target, ids.pop(index))
    return services.reorder_stages(by=by, pipeline=stage.pipeline, stage_ids=ids)

"""Writes with rules for pipelines, stages, deals (their contacts and stage history), products and deal lines.

Every function is keyword-only and transactional; errors are ValidationErrors keyed by field
(or PermissionDenied for a right the user lacks). Timeline entries go through
`contacts.services.record_interaction`.
"""

from collections.abc import Iterable
from decimal import Decimal, InvalidOperation

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import F, Max
from django.utils import timezone
from django.utils.translation import gettext as _

from contacts.models import Company, Contact, InteractionKind, Tag
from contacts.services import get_or_create_tag, record_interaction
from crm import notifications, policy
from crm.models import Role, User
from crm.services import assign_owner, new_owner, transfer_target
from sales.models import (
    CENT,
    Campaign,
    CampaignMember,
    Deal,
    DealContact,
    DealLine,
    Pipeline,
    Product,
    ProductTag,
    Stage,
    StageChange,
)

DEAL_FIELDS = ("title", "company", "primary_contact", "amount", "currency", "expected_close", "probability",
               "source_campaign")
PRODUCT_FIELDS = ("sku", "name", "category", "unit_price", "currency", "active")


def _require_admin(by: User) -> None:
    if not policy.is_admin(by):
        raise PermissionDenied(_("Only an admin can change pipelines and stages."))


def _require_edit(by: User, deal: Deal) -> None:
    if not policy.can_edit(by, deal):
        raise PermissionDenied(_("You cannot change this deal."))


# --- Values -------------------------------------------------------------------------------------


def clean_money(value, *, field: str = "amount", max_digits: int = 14) -> Decimal:
    """A non-negative amount with at most two decimals, from a Decimal, an int or a string (never a float)."""
    if isinstance(value, float):
        raise TypeError("money is a Decimal, an int or a string, never a float")
    if value is None or (isinstance(value, str) and not value.strip()):
        return Decimal("0.00")
    try:
        amount = Decimal(str(value).strip().replace(",", ""))
    except InvalidOperation:
        raise ValidationError({field: _("Enter an amount such as 1250.50.")}) from None
    if not amount.is_finite():
        raise ValidationError({field: _("Enter an amount such as 1250.50.")})
    if amount < 0:
        raise ValidationError({field: _("An amount cannot be negative.")})
    if amount != amount.quantize(CENT):
        raise ValidationError({field: _("Use at most two decimal places.")})
    amount = amount.quantize(CENT)
    if len(amount.as_tuple().digits) > max_digits:
        raise ValidationError({field: _("This amount is too large.")})
    return amount


def clean_currency(value: str, *, by: User, field: str = "currency") -> str:
    """A three-letter code in capitals; empty means the organisation's default currency."""
    code = (value or "").strip().upper() or by.org().default_currency
    if len(code) != 3 or not code.isascii() or not code.isalpha():
        raise ValidationError({field: _("Use a three-letter currency code such as BDT.")})
    return code


def _clean_percent(value, *, field: str) -> int | None:
    if value is None or value == "":
        return None
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise ValidationError({field: _("Enter a whole number from 0 to 100.")}) from None
    if not 0 <= number <= 100 or str(number) != str(value).strip():
        raise ValidationError({field: _("Enter a whole number from 0 to 100.")})
    return number


# --- Pipelines and stages -----------------------------------------------------------------------


def _clean_name(value: str, *, field: str = "name", message=None, max_length: int = 100) -> str:
    name = " ".join(str(value or "").split())
    if not name:
        raise ValidationError({field: message or _("Give it a name.")})
    if len(name) > max_length:
        raise ValidationError({field: _("Keep it under %(count)s characters.") % {"count": max_length + 1}})
    return name


@transaction.atomic
def create_pipeline(
    *, by: User, name: str, stages: Iterable = (), won_name: str = "", lost_name: str = "", is_default: bool = False,
) -> Pipeline:
    """Create a pipeline with its open stages (names, or (name, probability) pairs), then a won and a lost stage.

    The first pipeline becomes the default.
    """
    _require_admin(by)
    name = _clean_name(name)
    if Pipeline.objects.filter(name__iexact=name).exists():
        raise ValidationError({"name": _("A pipeline with this name already exists.")})
    first = not Pipeline.objects.exists()
    if is_default and not first:
        Pipeline.objects.filter(is_default=True).update(is_default=False)
    position = (Pipeline.objects.aggregate(m=Max("position"))["m"] or 0) + 1
    pipeline = Pipeline.objects.create(name=name, is_default=is_default or first, position=position)
    rows, seen = [], set()
    for item in stages:
        stage_name, probability = item if isinstance(item, (tuple, list)) else (item, 10)
        stage_name = _clean_name(stage_name, field="stages", message=_("Every stage needs a name."), max_length=80)
        if stage_name.lower() in seen:
            raise ValidationError({"stages": _("“%(name)s” is listed twice.") % {"name": stage_name}})
        seen.add(stage_name.lower())
        rows.append((stage_name, _clean_percent(probability, field="stages") or 0, False, False))
    if not rows:
        raise ValidationError({"stages": _("A pipeline needs at least one open stage.")})
    won_name = _clean_name(won_name or _("Won"), field="won_name", max_length=80)
    lost_name = _clean_name(lost_name or _("Lost"), field="lost_name", max_length=80)
    if len({won_name.lower(), lost_name.lower()} | seen) != len(seen) + 2:
        raise ValidationError({"stages": _("Every stage needs its own name.")})
    rows += [(won_name, 100, True, False), (lost_name, 0, False, True)]
    Stage.objects.bulk_create(
        [Stage(pipeline=pipeline, name=n, probability=p, is_won=w, is_lost=lo, position=i)
         for i, (n, p, w, lo) in enumerate(rows)]
    )
    return pipeline


@transaction.atomic
def update_pipeline(*, by: User, pipeline: Pipeline, name: str | None = None, is_default: bool | None = None) -> Pipeline:
    """Rename a pipeline, or make it the default one (there is always exactly one default)."""
    _require_admin(by)
    if name is not None:
        name = _clean_name(name)
        if Pipeline.objects.filter(name__iexact=name).exclude(pk=pipeline.pk).exists():
            raise ValidationError({"name": _("A pipeline with this name already exists.")})
        pipeline.name = name
    if is_default is True and not pipeline.is_default:
        if pipeline.archived_at:
            raise ValidationError({"is_default": _("An archived pipeline cannot be the default.")})
        Pipeline.objects.filter(is_default=True).update(is_default=False)
        pipeline.is_default = True
    elif is_default is False and pipeline.is_default:
        raise ValidationError({"is_default": _("Make another pipeline the default instead.")})
    pipeline.save()
    return pipeline


@transaction.atomic
def archive_pipeline(*, by: User, pipeline: Pipeline) -> Pipeline:
    """Take a pipeline off the boards once it has no open deal; its closed deals and history stay."""
    _require_admin(by)
    if pipeline.is_default:
        raise ValidationError({"pipeline": _("Make another pipeline the default before archiving this one.")})
    if Deal.objects.filter(pipeline=pipeline, closed_at__isnull=True).exists():
        raise ValidationError({"pipeline": _("Close the open deals of this pipeline first.")})
    pipeline.archived_at = timezone.now()
    pipeline.save(update_fields=["archived_at"])
    return pipeline


def _stages_of(pipeline: Pipeline):
    return Stage.objects.filter(pipeline=pipeline, archived_at__isnull=True).order_by("position")


@transaction.atomic
def save_stage(*, by: User, pipeline: Pipeline, name: str, probability=None, stage: Stage | None = None) -> Stage:
    """Add an open stage (after the last open one) or rename / re-weigh an existing stage.

    The won stage is certain (100 %) and the lost one hopeless (0 %); each pipeline has one of each,
    made with the pipeline.
    """
    _require_admin(by)
    name = _clean_name(name, max_length=80)
    if stage is not None and stage.pipeline_id != pipeline.pk:
        raise ValidationError({"stage": _("Stage belongs to another pipeline.")})
    if stage is not None and stage.archived_at:
        raise ValidationError({"stage": _("This stage is archived.")})
    if _stages_of(pipeline).filter(name__iexact=name).exclude(pk=getattr(stage, "pk", None)).exists():
        raise ValidationError({"name": _("This pipeline already has a stage with this name.")})
    percent = _clean_percent(probability, field="probability")
    if stage is not None and stage.is_closed:
        fixed = 100 if stage.is_won else 0
        if percent not in (None, fixed):
            raise ValidationError({"probability": _("A won stage is 100 % and a lost stage 0 %.")})
        percent = fixed
    if stage is None:
        Pipeline.objects.select_for_update().filter(pk=pipeline.pk).first()  # one stage insert at a time
        last_open = _stages_of(pipeline).filter(is_won=False, is_lost=False).aggregate(m=Max("position"))["m"]
        position = 0 if last_open is None else last_open + 1
        Stage.objects.filter(pipeline=pipeline, position__gte=position).update(position=F("position") + 1)
        stage = Stage(pipeline=pipeline, position=position)
    stage.name = name
    if percent is not None:
        stage.probability = percent
    stage.save()
    return stage


@transaction.atomic
def reorder_stages(*, by: User, pipeline: Pipeline, stage_ids: Iterable[int]) -> list[Stage]:
    """Put the pipeline's active stages in this order (every one of them, once); archived ones go last."""
    _require_admin(by)
    ids = [int(i) for i in stage_ids]
    stages = {s.pk: s for s in Stage.objects.select_for_update().filter(pipeline=pipeline)}
    active = {pk for pk, s in stages.items() if s.archived_at is None}
    if len(ids) != len(set(ids)) or set(ids) != active:
        raise ValidationError({"stage_ids": _("List every active stage of this pipeline once.")})
    archived = sorted((s for s in stages.values() if s.archived_at), key=lambda s: s.position)
    ordered = [stages[pk] for pk in ids] + archived
    for position, stage in enumerate(ordered):
        stage.position = position
    Stage.objects.bulk_update(ordered, ["position"])  # the unique position is checked at commit
    return ordered[: len(ids)]


@transaction.atomic
def archive_stage(*, by: User, stage: Stage) -> Stage:
    """Archive a stage once no deal is in it; the won and lost stages stay."""
    _require_admin(by)
    if stage.is_closed:
        raise ValidationError({"stage": _("A pipeline keeps its won and lost stages.")})
    stage = Stage.objects.select_for_update().get(pk=stage.pk)
    if Deal.objects.filter(stage=stage).exists():
        raise ValidationError({"stage": _("Move the deals out of this stage before archiving it.")})
    if not _stages_of(stage.pipeline).filter(is_won=False, is_lost=False).exclude(pk=stage.pk).exists():
        raise ValidationError({"stage": _("A pipeline needs at least one open stage.")})
    stage.archived_at = timezone.now()
    stage.save(update_fields=["archived_at"])
    return stage


def first_open_stage(pipeline: Pipeline) -> Stage | None:
    return _stages_of(pipeline).filter(is_won=False, is_lost=False).first()


# --- Deals --------------------------------------------------------------------------------------


def _require_visible(by: User, model, obj, field: str) -> None:
    if obj is not None and not model.objects.visible_to(by).filter(pk=obj.pk).exists():
        message = _("Choose a company you can see.") if model is Company else _("Choose a contact you can see.")
        raise ValidationError({field: message})


def _clean_deal_fields(by: User, fields: dict, *, keep_campaign_id: int | None = None) -> dict:
    unknown = set(fields) - set(DEAL_FIELDS)
    if unknown:
        raise TypeError(f"unknown deal fields: {sorted(unknown)}")
    errors, out = {}, {}
    for name, value in fields.items():
        try:
            if name == "title":
                out[name] = _clean_name(value, field="title", message=_("Give the deal a title."), max_length=200)
            elif name == "amount":
                out[name] = clean_money(value)
            elif name == "currency":
                out[name] = clean_currency(value, by=by)
            elif name == "probability":
                out[name] = _clean_percent(value, field="probability")
            elif name == "company":
                _require_visible(by, Company, value, "company")
                out[name] = value
            elif name == "primary_contact":
                _require_visible(by, Contact, value, "primary_contact")
                out[name] = value
            elif name == "source_campaign":
                # A deal may keep a source it already has (set by first touch) even if `by` cannot see it.
                if value is not None and getattr(value, "pk", None) != keep_campaign_id and not (
                        Campaign.objects.visible_to(by).filter(pk=value.pk).exists()):
                    raise ValidationError({"source_campaign": _("Choose a campaign you can see.")})
                out[name] = value
            else:
                out[name] = value
        except ValidationError as exc:
            errors.update(exc.message_dict)
    if errors:
        raise ValidationError(errors)
    return out


def _lock(deal: Deal) -> None:
    """Lock the deal's row and read it afresh into the caller's instance (concurrent moves queue up)."""
    Deal.objects.select_for_update().filter(pk=deal.pk).values_list("pk").get()
    deal.refresh_from_db()


def _enter_stage(deal: Deal, stage: Stage, lost_reason: str, now) -> None:
    """Put the deal in `stage`, with the closing timestamps and lost reason that go with it."""
    if stage.archived_at is not None:
        raise ValidationError({"stage": _("This stage is archived.")})
    if stage.pipeline_id != deal.pipeline_id:
        raise ValidationError({"stage": _("Stage belongs to another pipeline.")})
    lost_reason = " ".join(str(lost_reason or "").split())
    if stage.is_lost and not lost_reason:
        raise ValidationError({"lost_reason": _("Say why the deal was lost.")})
    if lost_reason and not stage.is_lost:  # never dropped in silence
        raise ValidationError({"lost_reason": _("Only a deal in a lost stage has a lost reason.")})
    if len(lost_reason) > 300:
        raise ValidationError({"lost_reason": _("Keep the reason under 300 characters.")})
    deal.stage = stage
    deal.lost_reason = lost_reason if stage.is_lost else ""
    deal.won_at = now if stage.is_won else None
    deal.lost_at = now if stage.is_lost else None
    deal.closed_at = now if stage.is_closed else None


def _record_move(deal: Deal, previous: Stage | None, stage: Stage, by: User | None, now) -> StageChange:
    change = StageChange.objects.create(deal=deal, from_stage=previous, to_stage=stage, by=by, at=now)
    if deal.primary_contact_id or deal.company_id:
        if previous is None:
            subject = _("Deal created in %(stage)s") % {"stage": stage.name}
        else:
            subject = _("Moved to %(stage)s") % {"stage": stage.name}
        record_interaction(
            kind=InteractionKind.DEAL_EVENT, contact=deal.primary_contact, company=deal.company, by=by, occurred_at=now,
            subject=subject, body=deal.lost_reason if stage.is_lost else "",
            link_type="deal", link_id=deal.pk, link_label=deal.title,
        )
    return change


@transaction.atomic
def create_deal(
    *, by: User, title: str, pipeline: Pipeline, stage: Stage | None = None, owner: User | None = None,
    amount=None, currency: str = "", lost_reason: str = "", **fields,
) -> Deal:
    """Create a deal in a stage of a pipeline (by default its first open stage) and record its first stage.

    Currency defaults to the organisation's; the company and contact must be ones `by` can see.
    """
    if by.role == Role.SUPPORT_AGENT:
        raise PermissionDenied(_("Support agents cannot create deals."))
    if pipeline.archived_at is not None:
        raise ValidationError({"pipeline": _("This pipeline is archived.")})
    values = _clean_deal_fields(by, {"title": title, "amount": amount, "currency": currency, **fields})
    stage = stage or first_open_stage(pipeline)
    if stage is None:
        raise ValidationError({"stage": _("This pipeline has no open stage.")})
    if "source_campaign" not in fields and values.get("primary_contact") is not None:
        # First touch: a new deal comes from its primary contact's source campaign.
        values["source_campaign_id"] = (CampaignMember.objects.filter(contact=values["primary_contact"], is_source=True)
                                        .values_list("campaign_id", flat=True).first())
    deal = Deal(pipeline=pipeline, **values)
    assign_owner(deal, new_owner(by=by, owner=owner))
    deal.created_by = by
    now = timezone.now()
    _enter_stage(deal, stage, lost_reason, now)
    deal.save()
    notifications.notify_assigned(deal, by)
    _record_move(deal, None, stage, by, now)
    return deal


@transaction.atomic
def update_deal(*, by: User, deal: Deal, **fields) -> Deal:
    """Change a deal's details; its stage changes through `move_deal`, its owner through `transfer_deal`.

    The amount of a deal with lines is their sum and cannot be set by hand.
    """
    _require_edit(by, deal)
    values = _clean_deal_fields(by, fields, keep_campaign_id=deal.source_campaign_id)
    has_lines = ("amount" in values or "currency" in values) and deal.lines.exists()
    if has_lines and "amount" in values and values["amount"] != deal.amount:
        raise ValidationError({"amount": _("This deal's amount is the sum of its lines; change the lines.")})
    if has_lines and "currency" in values and values["currency"] != deal.currency:
        raise ValidationError({"currency": _("Remove the lines before changing the currency of this deal.")})
    for name, value in values.items():
        setattr(deal, name, value)
    deal.save()
    return deal


@transaction.atomic
def move_deal(*, deal: Deal, stage: Stage, by: User, lost_reason: str = "") -> Deal:
    """Move a deal to another stage of its pipeline and record the change (history and timeline).

    A lost stage needs a reason; won and lost stamp the deal closed, moving back to an open stage
    reopens it. Moving to the stage it is in changes nothing.
    """
    _require_edit(by, deal)
    _lock(deal)
    previous = deal.stage
    if stage.pk == previous.pk:  # a card dropped back where it was
        return deal
    now = timezone.now()
    _enter_stage(deal, stage, lost_reason, now)
    deal.save(update_fields=["stage", "lost_reason", "won_at", "lost_at", "closed_at", "updated_at"])
    _record_move(deal, previous, stage, by, now)
    return deal


@transaction.atomic
def transfer_deal(*, by: User, deal: Deal, owner: User) -> Deal:
    """Give a deal to another user (and so to their team)."""
    if not policy.can_transfer(by, deal):
        raise PermissionDenied(_("You cannot give this deal to someone else."))
    assign_owner(deal, transfer_target(by=by, owner=owner))
    deal.save(update_fields=["owner", "team", "updated_at"])
    notifications.notify_assigned(deal, by)
    return deal


@transaction.atomic
def delete_deal(*, by: User, deal: Deal) -> None:
    """Delete a deal for good (its owner, a manager of its team, an admin); the audit log keeps its history.

    Timeline entries about it stay on the customer's timeline.
    """
    if not policy.can_delete(by, deal):
        raise PermissionDenied(_("You cannot delete this deal."))
    deal.delete()


@transaction.atomic
def add_deal_contact(*, by: User, deal: Deal, contact: Contact, role: str = "") -> DealContact:
    """Put another person on a deal (or change their role on it)."""
    _require_edit(by, deal)
    _require_visible(by, Contact, contact, "contact")
    role = " ".join(str(role or "").split())
    if len(role) > 100:
        raise ValidationError({"role": _("Keep the role under 100 characters.")})
    link, created = DealContact.objects.get_or_create(deal=deal, contact=contact, defaults={"role": role})
    if not created and link.role != role:
        link.role = role
        link.save(update_fields=["role"])
    return link


@transaction.atomic
def remove_deal_contact(*, by: User, deal: Deal, contact: Contact) -> None:
    _require_edit(by, deal)
    DealContact.objects.filter(deal=deal, contact=contact).delete()


# --- Products -----------------------------------------------------------------------------------


def _require_catalogue_editor(by: User) -> None:
    if by.role not in (Role.ADMIN, Role.MANAGER):
        raise PermissionDenied(_("Only managers and admins can change the product catalogue."))


@transaction.atomic
def save_product(*, by: User, product: Product | None = None, tags: Iterable | None = None, **fields) -> Product:
    """Create or change a catalogue product; its SKU is unique whatever the letter case."""
    _require_catalogue_editor(by)
    unknown = set(fields) - set(PRODUCT_FIELDS)
    if unknown:
        raise TypeError(f"unknown product fields: {sorted(unknown)}")
    product = product or Product()
    errors = {}
    for name, value in fields.items():
        try:
            if name == "sku":
                value = _clean_name("".join(str(value or "").split()), field="sku",
                                    message=_("Give the product a SKU."), max_length=64)
            elif name == "name":
                value = _clean_name(value, message=_("Give the product a name."), max_length=200)
            elif name == "category":
                value = " ".join(str(value or "").split())
                if len(value) > 100:
                    raise ValidationError({"category": _("Keep it under %(count)s characters.") % {"count": 101}})
            elif name == "unit_price":
                value = clean_money(value, field="unit_price")
            elif name == "currency":
                value = clean_currency(value, by=by)
            setattr(product, name, value)
        except ValidationError as exc:
            errors.update(exc.message_dict)
    if product.pk is None and not product.currency and "currency" not in errors:
        product.currency = by.org().default_currency
    for required in ("sku", "name", "unit_price"):
        if getattr(product, required) in (None, "") and required not in errors:
            errors[required] = [_("This field is required.")]
    if errors:
        raise ValidationError(errors)
    if Product.objects.filter(sku__iexact=product.sku).exclude(pk=product.pk).exists():
        raise ValidationError({"sku": _("Another product has this SKU.")})
    product.full_clean(validate_constraints=False)
    product.save()
    if tags is not None:
        wanted = [t if isinstance(t, Tag) else get_or_create_tag(t) for t in tags]
        product.tag_links.exclude(tag__in=wanted).delete()
        ProductTag.objects.bulk_create([ProductTag(product=product, tag=t) for t in wanted], ignore_conflicts=True)
    return product


# --- Deal lines ---------------------------------------------------------------------------------


def _clean_line(deal: Deal, item: dict, errors: dict, index: int) -> DealLine | None:
    unknown = set(item) - {"product", "description", "quantity", "unit_price", "discount"}
    if unknown:
        raise TypeError(f"unknown deal line fields: {sorted(unknown)}")
    product = item.get("product")
    description = " ".join(str(item.get("description") or "").split())
    line_errors = []
    if product is not None and not product.active:
        line_errors.append(_("“%(name)s” is no longer sold.") % {"name": product.name})
    if product is None and not description:
        line_errors.append(_("Choose a product or describe the line."))
    if product is not None and product.currency != deal.currency:
        line_errors.append(_("“%(name)s” is priced in %(currency)s.") % {"name": product.name, "currency": product.currency})
    price = item.get("unit_price")
    try:
        unit_price = clean_money(price, field="unit_price") if price not in (None, "") else (
            product.unit_price if product is not None else None)
        if unit_price is None:
            line_errors.append(_("Give a unit price."))
        quantity = Decimal(str(item.get("quantity", "1")).strip()) if not isinstance(item.get("quantity"), float) else None
        if quantity is None:
            raise TypeError("quantities are Decimal, int or str, never float")
        if (not quantity.is_finite() or quantity <= 0 or quantity != quantity.quantize(Decimal("0.001"))
                or len(quantity.quantize(Decimal("0.001")).as_tuple().digits) > 12):
            line_errors.append(_("Give a quantity above zero with at most three decimals."))
        discount = Decimal(str(item.get("discount") or "0").strip())
        if not discount.is_finite() or not 0 <= discount <= 100 or discount != discount.quantize(CENT):
            line_errors.append(_("A discount is a percentage from 0 to 100."))
    except (InvalidOperation, ValidationError) as exc:
        line_errors.extend(exc.messages if isinstance(exc, ValidationError) else [_("Enter numbers.")])
    if line_errors:
        errors[f"lines.{index}"] = line_errors
        return None
    return DealLine(deal=deal, product=product, description=description or product.name, quantity=quantity,
                    unit_price=unit_price, discount=discount, position=index)


@transaction.atomic
def set_deal_lines(*, by: User, deal: Deal, lines: Iterable[dict]) -> list[DealLine]:
    """Replace a deal's line items and set its amount to their total (each line rounded to the cent).

    A line is {"product", "description", "quantity", "unit_price", "discount"}; the unit price
    defaults to the product's. With no lines the amount stays as it is, to be set by hand.
    """
    _require_edit(by, deal)
    _lock(deal)
    errors: dict = {}
    built = [_clean_line(deal, dict(item), errors, i) for i, item in enumerate(lines)]
    if errors:
        raise ValidationError(errors)
    deal.lines.all().delete()
    created = DealLine.objects.bulk_create(built)
    if created:
        total = sum((line.total for line in created), Decimal("0.00"))
        if len(total.as_tuple().digits) > 14:
            raise ValidationError({"lines": _("The total is too large.")})
        deal.amount = total
        deal.save(update_fields=["amount", "updated_at"])
    return created

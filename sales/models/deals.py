"""Pipelines and their stages, deals (with their contacts and stage history), products and deal lines.

Writes go through `sales.services`; reads start from `visible_to`. A deal is an owned record
(owner and team, `crm.visibility`); its contacts, stage history and lines are visible exactly when
the deal is.
"""

from decimal import ROUND_HALF_UP, Decimal

import pghistory
from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from contacts.models import Company, Contact, Tag
from crm.models import OwnedModel, OwnedQuerySet, owned_indexes, sort_indexes

CENT = Decimal("0.01")
_OPEN = Q(closed_at__isnull=True)
_ACTIVE = Q(archived_at__isnull=True)
_PERCENT = [MinValueValidator(0), MaxValueValidator(100)]
currency_validator = RegexValidator(r"^[A-Z]{3}$", _("Use a three-letter currency code such as BDT."))


# --- Pipelines and stages -----------------------------------------------------------------------


@pghistory.track(
    pghistory.InsertEvent(),
    pghistory.UpdateEvent(condition=pghistory.AnyChange(exclude_auto=True)),
    pghistory.DeleteEvent(),
)
class Pipeline(models.Model):
    """A sales process (e.g. "E-commerce B2B", "Services") with its ordered stages; organisation-wide."""

    name = models.CharField(_("name"), max_length=100)
    is_default = models.BooleanField(_("default pipeline"), default=False)
    position = models.PositiveIntegerField(_("position"), default=0)
    archived_at = models.DateTimeField(_("archived"), null=True, blank=True, editable=False)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        verbose_name = _("pipeline")
        verbose_name_plural = _("pipelines")
        ordering = ["position", "id"]
        constraints = [
            models.UniqueConstraint(Lower("name"), name="sales_pipeline_name_ci_unique",
                                    violation_error_message=_("A pipeline with this name already exists.")),
            models.UniqueConstraint(fields=["is_default"], condition=Q(is_default=True), name="sales_pipeline_one_default"),
        ]

    def __str__(self):
        return self.name


@pghistory.track(
    pghistory.InsertEvent(),
    pghistory.UpdateEvent(condition=pghistory.AnyChange(exclude_auto=True)),
    pghistory.DeleteEvent(),
)
class Stage(models.Model):
    """A column of a pipeline. Each pipeline has exactly one active won and one active lost stage.

    Stages are archived, never deleted: deals and their stage history point at them.
    """

    pipeline = models.ForeignKey(Pipeline, verbose_name=_("pipeline"), on_delete=models.CASCADE, related_name="stages")
    name = models.CharField(_("name"), max_length=80)
    position = models.PositiveIntegerField(_("position"))
    probability = models.PositiveSmallIntegerField(
        _("win probability (%)"), default=10, validators=_PERCENT,
        help_text=_("The chance a deal in this stage is won; a deal may override it."),
    )
    is_won = models.BooleanField(_("won stage"), default=False)
    is_lost = models.BooleanField(_("lost stage"), default=False)
    archived_at = models.DateTimeField(_("archived"), null=True, blank=True, editable=False)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        verbose_name = _("stage")
        verbose_name_plural = _("stages")
        ordering = ["pipeline", "position"]
        constraints = [
            # Deferred, so a reorder can swap positions inside one transaction.
            models.UniqueConstraint(fields=["pipeline", "position"], name="sales_stage_position_unique",
                                    deferrable=models.Deferrable.DEFERRED),
            models.UniqueConstraint("pipeline", Lower("name"), condition=_ACTIVE, name="sales_stage_name_ci_unique",
                                    violation_error_message=_("This pipeline already has a stage with this name.")),
            models.UniqueConstraint(fields=["pipeline"], condition=Q(is_won=True) & _ACTIVE, name="sales_stage_one_won"),
            models.UniqueConstraint(fields=["pipeline"], condition=Q(is_lost=True) & _ACTIVE, name="sales_stage_one_lost"),
            models.CheckConstraint(condition=~(Q(is_won=True) & Q(is_lost=True)), name="sales_stage_won_or_lost"),
            models.CheckConstraint(condition=Q(probability__lte=100), name="sales_stage_probability_range"),
            models.CheckConstraint(condition=Q(is_won=False) | Q(probability=100), name="sales_stage_won_is_certain"),
            models.CheckConstraint(condition=Q(is_lost=False) | Q(probability=0), name="sales_stage_lost_is_zero"),
        ]

    def __str__(self):
        return self.name

    @property
    def is_closed(self) -> bool:
        return self.is_won or self.is_lost


# --- Deals --------------------------------------------------------------------------------------


class DealQuerySet(OwnedQuerySet):
    def open(self):
        """Deals neither won nor lost (the board's cards)."""
        return self.filter(closed_at__isnull=True)


@pghistory.track(
    pghistory.InsertEvent(),
    pghistory.UpdateEvent(condition=pghistory.AnyChange(exclude=["updated_at"])),
    pghistory.DeleteEvent(),
)
class Deal(OwnedModel):
    """A sale in progress (or closed): what, for whom, how much, where in its pipeline."""

    title = models.CharField(_("title"), max_length=200)
    # SET_NULL, not PROTECT: purging a company or contact from the trash must not fail because of a deal.
    company = models.ForeignKey(
        Company, verbose_name=_("company"), null=True, blank=True, on_delete=models.SET_NULL, related_name="deals"
    )
    primary_contact = models.ForeignKey(
        Contact, verbose_name=_("primary contact"), null=True, blank=True, on_delete=models.SET_NULL,
        related_name="primary_deals",
    )
    contacts = models.ManyToManyField(
        Contact, through="DealContact", related_name="deals", blank=True, verbose_name=_("other contacts")
    )
    pipeline = models.ForeignKey(Pipeline, verbose_name=_("pipeline"), on_delete=models.PROTECT, related_name="deals")
    stage = models.ForeignKey(Stage, verbose_name=_("stage"), on_delete=models.PROTECT, related_name="deals")
    amount = models.DecimalField(_("amount"), max_digits=14, decimal_places=2, default=Decimal("0.00"),
                                 validators=[MinValueValidator(0)])
    currency = models.CharField(_("currency"), max_length=3, validators=[currency_validator])
    expected_close = models.DateField(_("expected close"), null=True, blank=True)
    probability = models.PositiveSmallIntegerField(
        _("win probability (%)"), null=True, blank=True, validators=_PERCENT,
        help_text=_("Leave empty to use the stage's probability."),
    )
    lost_reason = models.CharField(_("lost reason"), max_length=300, blank=True, default="")
    source_campaign = models.ForeignKey(
        "sales.Campaign", verbose_name=_("source campaign"), null=True, blank=True, on_delete=models.SET_NULL,
        related_name="deals",
    )
    won_at = models.DateTimeField(_("won"), null=True, blank=True, editable=False)
    lost_at = models.DateTimeField(_("lost"), null=True, blank=True, editable=False)
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True, editable=False)

    read_only_for_agents = True

    objects = DealQuerySet.as_manager()

    class Meta:
        verbose_name = _("deal")
        verbose_name_plural = _("deals")
        indexes = [
            *owned_indexes("sales_deal"),
            # The board, open deals only: the top cards of one column and each column's count and total,
            # for a team (sharing "team"), an owner (sharing "private") or everyone (admins).
            models.Index(fields=["team", "pipeline", "stage", "-amount", "-id"], name="sales_deal_board_team", condition=_OPEN),
            models.Index(fields=["owner", "pipeline", "stage", "-amount", "-id"], name="sales_deal_board_owner",
                         condition=_OPEN),
            models.Index(fields=["pipeline", "stage", "-amount", "-id"], name="sales_deal_board", condition=_OPEN),
            models.Index(fields=["team", "-updated_at", "-id"], name="sales_deal_team_updated"),
            # The deal list's orders (all deals, open or closed), by team and overall.
            *sort_indexes("sales_deal", "created", "-created_at", "-id", team=False),
            *sort_indexes("sales_deal", "updated", "-updated_at", "-id", team=False),
            *sort_indexes("sales_deal", "amount", "-amount", "-id"),
            *sort_indexes("sales_deal", "close", "expected_close", "id"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gte=0), name="sales_deal_amount_not_negative"),
            models.CheckConstraint(condition=Q(probability__isnull=True) | Q(probability__lte=100),
                                   name="sales_deal_probability_range"),
            models.CheckConstraint(condition=Q(won_at__isnull=True) | Q(lost_at__isnull=True), name="sales_deal_won_or_lost"),
            models.CheckConstraint(condition=Q(closed_at__isnull=False) | (Q(won_at__isnull=True) & Q(lost_at__isnull=True)),
                                   name="sales_deal_closed_when_won_or_lost"),
        ]

    def __str__(self):
        return self.title

    @property
    def effective_probability(self) -> int:
        """The deal's own probability, or its stage's default."""
        return self.probability if self.probability is not None else self.stage.probability

    @property
    def weighted_amount(self) -> Decimal:
        return (self.amount * self.effective_probability / 100).quantize(CENT, rounding=ROUND_HALF_UP)

    @property
    def is_open(self) -> bool:
        return self.closed_at is None


class DealChildQuerySet(models.QuerySet):
    """Rows that belong to a deal: visible exactly when their deal is."""

    def visible_to(self, user):
        return self.filter(deal__in=Deal.objects.visible_to(user))


@pghistory.track(pghistory.InsertEvent(), pghistory.UpdateEvent(), pghistory.DeleteEvent())
class DealContact(models.Model):
    """Another person on a deal (the primary contact is on the deal itself), with their role in it."""

    deal = models.ForeignKey(Deal, on_delete=models.CASCADE, related_name="contact_links")
    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="deal_links")
    role = models.CharField(_("role"), max_length=100, blank=True, default="",
                            help_text=_("e.g. decision maker, budget holder, user."))
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    objects = DealChildQuerySet.as_manager()

    class Meta:
        verbose_name = _("deal contact")
        verbose_name_plural = _("deal contacts")
        constraints = [models.UniqueConstraint(fields=["deal", "contact"], name="sales_dealcontact_unique")]
        indexes = [models.Index(fields=["contact", "deal"], name="sales_dealcontact_by_contact")]

    def __str__(self):
        return f"{self.deal_id}:{self.contact_id}"


class StageChange(models.Model):
    """One move of a deal (from nothing, when it is created): append-only; feeds velocity and conversion."""

    deal = models.ForeignKey(Deal, on_delete=models.CASCADE, related_name="stage_changes")
    from_stage = models.ForeignKey(Stage, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    to_stage = models.ForeignKey(Stage, on_delete=models.PROTECT, related_name="+")
    by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    at = models.DateTimeField(default=timezone.now)

    objects = DealChildQuerySet.as_manager()

    class Meta:
        verbose_name = _("stage change")
        verbose_name_plural = _("stage changes")
        ordering = ["at", "id"]
        indexes = [
            models.Index(fields=["deal", "at"], name="sales_stagechange_deal"),
            models.Index(fields=["to_stage", "at"], name="sales_stagechange_to_stage"),
        ]

    def __str__(self):
        return f"{self.deal_id}: {self.from_stage_id} -> {self.to_stage_id}"


# --- Products and deal lines --------------------------------------------------------------------


@pghistory.track(
    pghistory.InsertEvent(),
    pghistory.UpdateEvent(condition=pghistory.AnyChange(exclude=["updated_at"])),
    pghistory.DeleteEvent(),
)
class Product(models.Model):
    """An item of the organisation's catalogue; its tags are the contacts' interest tags."""

    sku = models.CharField(_("SKU"), max_length=64)
    name = models.CharField(_("name"), max_length=200)
    category = models.CharField(_("category"), max_length=100, blank=True, default="")
    unit_price = models.DecimalField(_("unit price"), max_digits=14, decimal_places=2, validators=[MinValueValidator(0)])
    currency = models.CharField(_("currency"), max_length=3, validators=[currency_validator])
    active = models.BooleanField(_("active"), default=True)
    tags = models.ManyToManyField(Tag, through="ProductTag", related_name="products", blank=True, verbose_name=_("tags"))
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("product")
        verbose_name_plural = _("products")
        ordering = ["name", "id"]
        constraints = [
            models.UniqueConstraint(Lower("sku"), name="sales_product_sku_ci_unique",
                                    violation_error_message=_("Another product has this SKU.")),
            models.CheckConstraint(condition=Q(unit_price__gte=0), name="sales_product_price_not_negative"),
        ]
        indexes = [models.Index(fields=["category", "name"], name="sales_product_category", condition=Q(active=True))]

    def __str__(self):
        return f"{self.sku} {self.name}"


@pghistory.track(pghistory.InsertEvent(), pghistory.DeleteEvent())
class ProductTag(models.Model):
    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="tag_links")
    tag = models.ForeignKey(Tag, on_delete=models.CASCADE, related_name="product_links")
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["product", "tag"], name="sales_producttag_unique")]
        indexes = [models.Index(fields=["tag", "product"], name="sales_producttag_by_tag")]

    def __str__(self):
        return f"{self.product_id}:{self.tag_id}"


class PricedLine(models.Model):
    """A line of a deal, order or invoice: what, how many, at what price, less a discount."""

    product = models.ForeignKey(Product, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    description = models.CharField(_("description"), max_length=300, blank=True, default="")
    quantity = models.DecimalField(_("quantity"), max_digits=12, decimal_places=3, default=Decimal("1"),
                                   validators=[MinValueValidator(0)])
    unit_price = models.DecimalField(_("unit price"), max_digits=14, decimal_places=2, validators=[MinValueValidator(0)])
    discount = models.DecimalField(_("discount (%)"), max_digits=5, decimal_places=2, default=Decimal("0"),
                                   validators=_PERCENT)
    position = models.PositiveIntegerField(default=0)

    class Meta:
        abstract = True
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gt=0), name="%(app_label)s_%(class)s_quantity_positive"),
            models.CheckConstraint(condition=Q(unit_price__gte=0), name="%(app_label)s_%(class)s_price_not_negative"),
            models.CheckConstraint(condition=Q(discount__gte=0) & Q(discount__lte=100),
                                   name="%(app_label)s_%(class)s_discount_range"),
        ]

    def __str__(self):
        return self.description or (str(self.product) if self.product_id else f"#{self.pk}")

    @property
    def total(self) -> Decimal:
        """quantity x unit price, less the discount, rounded to the cent (half up)."""
        return line_total(self.quantity, self.unit_price, self.discount)


def line_total(quantity: Decimal, unit_price: Decimal, discount: Decimal) -> Decimal:
    gross = quantity * unit_price * (100 - discount) / 100
    return gross.quantize(CENT, rounding=ROUND_HALF_UP)


@pghistory.track(pghistory.InsertEvent(), pghistory.UpdateEvent(), pghistory.DeleteEvent())
class DealLine(PricedLine):
    """A line item of a deal; when a deal has lines, its amount is their sum (kept by the services)."""

    deal = models.ForeignKey(Deal, on_delete=models.CASCADE, related_name="lines")
    product = models.ForeignKey(Product, null=True, blank=True, on_delete=models.SET_NULL, related_name="deal_lines")

    objects = DealChildQuerySet.as_manager()

    class Meta(PricedLine.Meta):
        verbose_name = _("deal line")
        verbose_name_plural = _("deal lines")
        ordering = ["deal", "position", "id"]

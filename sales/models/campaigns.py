"""Marketing campaigns, the contacts they reached, and first-touch attribution.

A contact's source campaign is its member row with `is_source` (at most one per contact; the first campaign
that reached it unless a user says otherwise): the contacts app sits below sales and does not know campaigns.
A deal's source campaign is a field on the deal, defaulting to its primary contact's.
"""

from decimal import Decimal

import pghistory
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from contacts.models import Contact, Tag
from crm.models import OwnedModel, OwnedQuerySet, SavedView, owned_indexes, sort_indexes
from sales.models.deals import currency_validator


class CampaignChannel(models.TextChoices):
    EMAIL = "email", _("Email")
    SMS = "sms", _("SMS")
    SOCIAL = "social", _("Social media")
    SEARCH_ADS = "search_ads", _("Search ads")
    DISPLAY_ADS = "display_ads", _("Display ads")
    EVENT = "event", _("Event")
    REFERRAL = "referral", _("Referral")
    PARTNER = "partner", _("Partner")


@pghistory.track(
    pghistory.InsertEvent(),
    pghistory.UpdateEvent(condition=pghistory.AnyChange(exclude=["updated_at"])),
    pghistory.DeleteEvent(),
)
class Campaign(OwnedModel):
    """A marketing effort with a budget, a period, a target and the contacts it reached."""

    name = models.CharField(_("name"), max_length=200)
    channel = models.CharField(_("channel"), max_length=12, choices=CampaignChannel.choices)
    description = models.TextField(_("description"), blank=True, default="")
    currency = models.CharField(_("currency"), max_length=3, validators=[currency_validator])
    budget = models.DecimalField(_("budget"), max_digits=14, decimal_places=2, default=Decimal("0.00"),
                                 validators=[MinValueValidator(0)])
    actual_cost = models.DecimalField(_("actual cost"), max_digits=14, decimal_places=2, default=Decimal("0.00"),
                                      validators=[MinValueValidator(0)])
    starts_on = models.DateField(_("starts"))
    ends_on = models.DateField(_("ends"), null=True, blank=True)
    # Until segments exist (analytics issue), the target is a tag or a saved contacts view.
    target_tag = models.ForeignKey(Tag, verbose_name=_("target tag"), null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    target_view = models.ForeignKey(SavedView, verbose_name=_("target saved view"), null=True, blank=True,
                                    on_delete=models.SET_NULL, related_name="+")
    members = models.ManyToManyField(Contact, through="CampaignMember", related_name="campaigns", blank=True)

    objects = OwnedQuerySet.as_manager()

    class Meta:
        verbose_name = _("campaign")
        verbose_name_plural = _("campaigns")
        indexes = [
            *owned_indexes("sales_campaign"),
            *sort_indexes("sales_campaign", "starts", "-starts_on", "-id"),
            *sort_indexes("sales_campaign", "name", "name", "id"),
            *sort_indexes("sales_campaign", "created", "-created_at", "-id", team=False),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(ends_on__isnull=True) | Q(ends_on__gte=F("starts_on")),
                                   name="sales_campaign_ends_after_start",
                                   violation_error_message=_("The campaign cannot end before it starts.")),
            models.CheckConstraint(condition=Q(budget__gte=0) & Q(actual_cost__gte=0), name="sales_campaign_money_not_negative"),
        ]

    def __str__(self):
        return self.name


class MemberStatus(models.TextChoices):
    SENT = "sent", _("Sent")
    RESPONDED = "responded", _("Responded")
    CONVERTED = "converted", _("Converted")


class MemberQuerySet(models.QuerySet):
    def visible_to(self, user):
        """A member row is visible when both its campaign and its contact are."""
        return self.filter(campaign__in=Campaign.objects.visible_to(user), contact__in=Contact.objects.visible_to(user))


@pghistory.track(pghistory.InsertEvent(), pghistory.UpdateEvent(), pghistory.DeleteEvent())
class CampaignMember(models.Model):
    """A contact the campaign reached, how far they went, and whether it is their source (first touch)."""

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="memberships")
    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="campaign_memberships")
    status = models.CharField(_("status"), max_length=10, choices=MemberStatus.choices, default=MemberStatus.SENT)
    is_source = models.BooleanField(_("source campaign"), default=False)
    added_at = models.DateTimeField(_("added"), default=timezone.now)
    responded_at = models.DateTimeField(_("responded"), null=True, blank=True)
    converted_at = models.DateTimeField(_("converted"), null=True, blank=True)

    objects = MemberQuerySet.as_manager()

    class Meta:
        verbose_name = _("campaign member")
        verbose_name_plural = _("campaign members")
        constraints = [
            models.UniqueConstraint(fields=["campaign", "contact"], name="sales_campaignmember_unique"),
            models.UniqueConstraint(fields=["contact"], condition=Q(is_source=True), name="sales_campaignmember_one_source"),
        ]
        indexes = [
            models.Index(fields=["contact", "added_at"], name="sales_campaignmember_contact"),
            models.Index(fields=["campaign", "status"], name="sales_campaignmember_status"),
        ]

    def __str__(self):
        return f"{self.campaign_id}:{self.contact_id}"

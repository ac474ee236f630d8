"""Campaigns: writes with rules (create, change, delete; members and their status; a contact's source)
and the reads behind the campaign pages and API (the list with its figures, the members).

Attribution is first touch: a contact's source campaign is its member row with `is_source`, given to the
first campaign that reaches the contact (a user may change it: `set_contact_source`).
"""

from collections.abc import Iterable
from datetime import date

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, transaction
from django.db.models import (
    Case,
    DecimalField,
    Exists,
    ExpressionWrapper,
    F,
    FloatField,
    Func,
    OuterRef,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Cast, Coalesce
from django.utils import timezone
from django.utils.dateparse import parse_date
from django.utils.functional import cached_property
from django.utils.translation import gettext as _

from contacts.filters import ContactFilter
from contacts.models import Contact, ContactTag, Tag
from crm import policy
from crm.listing import CappedPaginator, capped_count
from crm.models import Role, SavedView, User
from crm.services import assign_owner, new_owner
from sales.models import Campaign, CampaignChannel, CampaignMember, Deal, MemberStatus, Order
from sales.models.orders import REVENUE_STATUSES
from sales.services import _clean_name, clean_currency, clean_money

CAMPAIGN_FIELDS = ("name", "channel", "description", "currency", "budget", "actual_cost", "starts_on", "ends_on",
                   "target_tag", "target_view")


def _require_edit(by: User, campaign: Campaign) -> None:
    if not policy.can_edit(by, campaign):
        raise PermissionDenied(_("You cannot change this campaign."))


def _clean_date(value, field: str) -> date | None:
    if value in (None, ""):
        return None
    if isinstance(value, date):
        return value
    parsed = parse_date(str(value).strip()) if isinstance(value, str) else None
    if parsed is None:
        raise ValidationError({field: _("Enter a date such as 2026-03-31.")})
    return parsed


def _clean_campaign_fields(by: User, fields: dict) -> dict:
    unknown = set(fields) - set(CAMPAIGN_FIELDS)
    if unknown:
        raise TypeError(f"unknown campaign fields: {sorted(unknown)}")
    errors, out = {}, {}
    for name, value in fields.items():
        try:
            if name == "name":
                out[name] = _clean_name(value, message=_("Give the campaign a name."), max_length=200)
            elif name == "channel":
                if value not in CampaignChannel.values:
                    raise ValidationError({"channel": _("Choose a channel.")})
                out[name] = value
            elif name == "description":
                out[name] = str(value or "").strip()
            elif name == "currency":
                out[name] = clean_currency(value, by=by)
            elif name in ("budget", "actual_cost"):
                out[name] = clean_money(value, field=name)
            elif name in ("starts_on", "ends_on"):
                out[name] = _clean_date(value, name)
            elif name == "target_view":
                if value is not None and not (value.target == SavedView.Target.CONTACTS
                                              and SavedView.objects.visible_to(by).filter(pk=value.pk).exists()):
                    raise ValidationError({"target_view": _("Choose a saved contacts view you can see.")})
                out[name] = value
            else:  # target_tag: tags are organisation-wide
                out[name] = value
        except ValidationError as exc:
            errors.update(exc.message_dict)
    if errors:
        raise ValidationError(errors)
    return out


def _check_period(campaign: Campaign) -> None:
    if campaign.starts_on is None:
        raise ValidationError({"starts_on": _("Say when the campaign starts.")})
    if campaign.ends_on is not None and campaign.ends_on < campaign.starts_on:
        raise ValidationError({"ends_on": _("The campaign cannot end before it starts.")})


@transaction.atomic
def create_campaign(*, by: User, name: str, channel: str, starts_on, owner: User | None = None, currency: str = "",
                    **fields) -> Campaign:
    """Create a campaign owned by `by` (or `owner`); the currency defaults to the organisation's.

    Support agents do not run campaigns.
    """
    if by.role == Role.SUPPORT_AGENT:
        raise PermissionDenied(_("Support agents cannot create campaigns."))
    values = _clean_campaign_fields(by, {"name": name, "channel": channel, "starts_on": starts_on,
                                         "currency": currency, **fields})
    campaign = Campaign(**values)
    _check_period(campaign)
    assign_owner(campaign, new_owner(by=by, owner=owner))
    campaign.created_by = by
    campaign.save()
    return campaign


@transaction.atomic
def update_campaign(*, by: User, campaign: Campaign, **fields) -> Campaign:
    """Change a campaign's details; its members change through `add_members` and `remove_member`."""
    _require_edit(by, campaign)
    values = _clean_campaign_fields(by, fields)
    if "starts_on" in values and values["starts_on"] is None:
        raise ValidationError({"starts_on": _("Say when the campaign starts.")})
    for name, value in values.items():
        setattr(campaign, name, value)
    _check_period(campaign)
    campaign.save()
    return campaign


@transaction.atomic
def delete_campaign(*, by: User, campaign: Campaign) -> None:
    """Delete a campaign for good with its member rows (the audit log keeps its history).

    Its deals stay, without a source campaign; its members lose it as their source.
    """
    if not policy.can_delete(by, campaign):
        raise PermissionDenied(_("You cannot delete this campaign."))
    campaign.delete()


# --- Members ------------------------------------------------------------------------------------


def _contacts_to_add(by: User, contacts, tag, saved_view):
    """The contacts `by` can see that the request names: given contacts (all visible, or a field error),
    the contacts with a tag, or those a saved contacts view lists."""
    given = [x for x in (contacts, tag, saved_view) if x is not None]
    if len(given) != 1:
        raise ValidationError({"contacts": _("Choose contacts, a tag or a saved view.")})
    visible = Contact.objects.visible_to(by)
    if contacts is not None:
        ids = {c.pk if isinstance(c, Contact) else int(c) for c in contacts}
        if not ids:
            raise ValidationError({"contacts": _("Choose at least one contact.")})
        if visible.filter(pk__in=ids).count() != len(ids):
            raise ValidationError({"contacts": _("Choose contacts you can see.")})
        return visible.filter(pk__in=ids)
    if tag is not None:
        if not isinstance(tag, Tag):
            raise ValidationError({"tag": _("Choose a tag.")})
        return visible.filter(Exists(ContactTag.objects.filter(contact=OuterRef("pk"), tag=tag)))
    if not (saved_view.target == SavedView.Target.CONTACTS
            and SavedView.objects.visible_to(by).filter(pk=saved_view.pk).exists()):
        raise ValidationError({"saved_view": _("Choose a saved contacts view you can see.")})
    filterset = ContactFilter(_saved_view_params(saved_view), queryset=visible, user=by)
    if not filterset.is_valid():
        raise ValidationError({"saved_view": _("This saved view's filters are no longer valid.")})
    return filterset.qs


def _saved_view_params(view: SavedView):
    from django.http import QueryDict

    params = QueryDict(view.query, mutable=True)
    for key in ("page", "per_page", "cols", "sort"):
        params.pop(key, None)
    return params


@transaction.atomic
def add_members(*, by: User, campaign: Campaign, contacts: Iterable | None = None, tag: Tag | None = None,
                saved_view: SavedView | None = None) -> int:
    """Add contacts to a campaign (status "sent"); returns how many were new to it.

    One set-based INSERT ... SELECT ... ON CONFLICT DO NOTHING over the contacts `by` can see (contacts
    already in the campaign stay as they are), then one UPDATE that makes this campaign the source of
    the newly added contacts that had none yet (first touch).
    """
    _require_edit(by, campaign)
    chosen = _contacts_to_add(by, contacts, tag, saved_view)
    select_sql, params = chosen.order_by().values(member_contact=F("pk")).query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {CampaignMember._meta.db_table} "  # noqa: S608 (table name from the model, values bound)
            "(campaign_id, contact_id, status, is_source, added_at) "
            f"SELECT %s, chosen.member_contact, %s, false, %s FROM ({select_sql}) AS chosen "
            "ON CONFLICT DO NOTHING RETURNING id",
            [campaign.pk, str(MemberStatus.SENT), timezone.now(), *params],
        )
        added = [row[0] for row in cursor.fetchall()]
    if added:
        has_source = CampaignMember.objects.filter(contact=OuterRef("contact"), is_source=True)
        CampaignMember.objects.filter(pk__in=added).filter(~Exists(has_source)).update(is_source=True)
    return len(added)


def _member_for_edit(by: User, member: CampaignMember) -> CampaignMember:
    if not CampaignMember.objects.visible_to(by).filter(pk=member.pk).exists():
        raise PermissionDenied(_("You cannot change this campaign."))
    _require_edit(by, member.campaign)
    return member


@transaction.atomic
def set_member_status(*, by: User, member: CampaignMember, status: str) -> CampaignMember:
    """Record how far a member went: sent, responded or converted.

    Responding stamps `responded_at`, converting `converted_at` (and `responded_at` if it was empty);
    moving back to an earlier status clears the later stamps.
    """
    _member_for_edit(by, member)
    if status not in MemberStatus.values:
        raise ValidationError({"status": _("Choose sent, responded or converted.")})
    now = timezone.now()
    member.status = status
    if status == MemberStatus.SENT:
        member.responded_at = member.converted_at = None
    elif status == MemberStatus.RESPONDED:
        member.responded_at = member.responded_at or now
        member.converted_at = None
    else:
        member.responded_at = member.responded_at or now
        member.converted_at = member.converted_at or now
    member.save(update_fields=["status", "responded_at", "converted_at"])
    return member


@transaction.atomic
def remove_member(*, by: User, member: CampaignMember) -> None:
    """Take a contact out of a campaign. If it was the contact's source, the contact has no source
    until a user gives it one (`set_contact_source`) or another campaign first reaches it."""
    _member_for_edit(by, member)
    member.delete()


@transaction.atomic
def set_contact_source(*, by: User, contact: Contact, campaign: Campaign | None) -> Contact:
    """Make `campaign` (one the contact is a member of) the contact's source, or clear it (None).

    Needs the right to change the contact; the campaign must be one `by` can see.
    """
    if not Contact.objects.visible_to(by).filter(pk=contact.pk).exists() or not policy.can_edit(by, contact):
        raise PermissionDenied(_("You cannot change this contact."))
    rows = CampaignMember.objects.select_for_update().filter(contact=contact)
    target = None
    if campaign is not None:
        if not Campaign.objects.visible_to(by).filter(pk=campaign.pk).exists():
            raise ValidationError({"campaign": _("Choose a campaign you can see.")})
        target = rows.filter(campaign=campaign).first()
        if target is None:
            raise ValidationError({"campaign": _("The contact is not a member of this campaign.")})
    rows.filter(is_source=True).exclude(pk=getattr(target, "pk", None)).update(is_source=False)
    if target is not None and not target.is_source:
        target.is_source = True
        target.save(update_fields=["is_source"])
    return contact


# --- Reads --------------------------------------------------------------------------------------


_MONEY = DecimalField(max_digits=16, decimal_places=2)
_ZERO = Value(0, output_field=_MONEY)


def _count(queryset) -> Coalesce:
    """COUNT(*) of a correlated subquery, 0 when it finds nothing."""
    return Coalesce(Subquery(queryset.order_by().annotate(n=Func(F("pk"), function="COUNT")).values("n")[:1]), 0)


def _sum(queryset, field: str) -> Coalesce:
    """SUM(field) of a correlated subquery, 0 when it finds nothing."""
    summed = queryset.order_by().annotate(s=Func(F(field), function="SUM", output_field=_MONEY)).values("s")[:1]
    return Coalesce(Subquery(summed, output_field=_MONEY), _ZERO)


def campaigns_with_metrics(*, user: User, queryset=None):
    """Campaigns `user` can see (narrowed by `queryset` if given), each annotated with its figures.

    One query for any number of campaigns (a correlated subquery per figure, no per-row Python):

    - members: contacts in the campaign; converted: members with status "converted".
    - leads (leads created): members for whom this campaign is the source (`is_source`, first touch).
    - deals_won: won deals whose source campaign is this one; won_amount: their amounts.
    - order_revenue: paid, shipped or delivered orders of contacts sourced by this campaign that are
      not a deal's order (`Order.deal` is null, so a won deal's order is not counted twice).
    - revenue (revenue attributed, first touch) = won_amount + order_revenue.
    - conversion_rate = converted / members (None without members).
    - cost_per_lead = actual cost / leads (None without leads).
    - roi = (revenue - actual cost) / actual cost (None, shown as "—", when the cost is 0).

    Only amounts in the campaign's currency count. The figures are the campaign's, over all its members,
    deals and orders (who sees the campaign sees its totals, not the rows behind them).
    """
    base = Campaign.objects.visible_to(user)
    if queryset is not None:
        base = queryset & base
    members = CampaignMember.objects.filter(campaign=OuterRef("pk"))
    won = Deal.objects.filter(source_campaign=OuterRef("pk"), won_at__isnull=False, currency=OuterRef("currency"))
    # Driven from the campaign's source members (one each per contact), then each contact's orders by index.
    orders = Order.objects.filter(
        contact__campaign_memberships__campaign=OuterRef("pk"), contact__campaign_memberships__is_source=True,
        status__in=REVENUE_STATUSES, deal__isnull=True, currency=OuterRef("currency"),
    )
    qs = base.annotate(
        members_count=_count(members),
        converted_count=_count(members.filter(status=MemberStatus.CONVERTED)),
        leads=_count(members.filter(is_source=True)),
        deals_won=_count(won),
        won_amount=_sum(won, "amount"),
        order_revenue=_sum(orders, "total"),
    ).annotate(revenue=ExpressionWrapper(F("won_amount") + F("order_revenue"), output_field=_MONEY))
    return qs.annotate(
        conversion_rate=Case(
            When(members_count__gt=0,
                 then=Cast("converted_count", FloatField()) / Cast("members_count", FloatField())),
            default=None, output_field=FloatField()),
        cost_per_lead=Case(
            When(leads__gt=0, then=ExpressionWrapper(F("actual_cost") / F("leads"), output_field=_MONEY)),
            default=None, output_field=_MONEY),
        roi=Case(
            When(actual_cost__gt=0, then=Cast(F("revenue") - F("actual_cost"), FloatField())
                 / Cast("actual_cost", FloatField())),
            default=None, output_field=FloatField()),
    ).annotate(  # the same ratios in per cent, for the pages
        conversion_percent=F("conversion_rate") * 100.0,
        roi_percent=F("roi") * 100.0,
    )


class FiguresPaginator(CappedPaginator):
    """Pages of `campaigns_with_metrics`: the total counts the campaigns (ids only), not their figures."""

    @cached_property
    def _capped(self) -> tuple[int, bool]:
        return capped_count(self.object_list.values("pk"))


def campaign_metrics(*, user: User, campaign: Campaign) -> Campaign:
    """One campaign with the figures of `campaigns_with_metrics` (same definitions), in one query."""
    return campaigns_with_metrics(user=user).select_related("owner", "team", "target_tag", "target_view").get(
        pk=campaign.pk)


def campaign_members(*, user: User, campaign: Campaign, status: str | None = None):
    """The members of a campaign whose contact `user` can see, newest first, with their contact."""
    members = (CampaignMember.objects.filter(campaign=campaign, contact__in=Contact.objects.visible_to(user))
               .select_related("contact").order_by("-added_at", "-id"))
    if status:
        members = members.filter(status=status)
    return members


def contact_campaigns(*, user: User, contact: Contact):
    """The campaigns `user` can see that reached a contact (its member rows), the source first, then newest."""
    return (CampaignMember.objects.filter(contact=contact, campaign__in=Campaign.objects.visible_to(user))
            .select_related("campaign").order_by("-is_source", "-added_at", "-id"))


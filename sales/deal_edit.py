"""Saving a deal's details panel: its fields and, when it changes hands, its owner, in one transaction."""

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from crm.models import User
from sales import services
from sales.models import Deal


@transaction.atomic
def save_deal_details(*, by: User, deal: Deal, owner: User | None = None, **fields) -> Deal:
    """`update_deal` with the fields, then `transfer_deal` when `owner` is someone else; all or nothing."""
    deal = services.update_deal(by=by, deal=deal, **fields)
    if owner is not None and owner.pk != deal.owner_id:
        try:
            deal = services.transfer_deal(by=by, deal=deal, owner=owner)
        except PermissionDenied:
            raise ValidationError({"owner": _("You cannot give this deal to someone else.")}) from None
    return deal

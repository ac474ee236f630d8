"""Undoing an import: the contacts it updated put back as they were, the ones it created deleted."""

import time

import pghistory
from django.conf import settings
from django.db import transaction
from django.db.models import ProtectedError, RestrictedError
from django.db.models.functions import Lower
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from contacts import services
from contacts.imports.running import _batches, _import_lock
from contacts.models import Contact, ContactImport, ImportRow, ImportRowAction, ImportStatus, Tag


def _restore(contact: Contact, before: dict) -> None:
    """Put back one contact's values as they were before one row of an import changed it."""
    for name, value in before.items():
        if name in ("emails", "phones", "tags"):
            continue
        model_field = Contact._meta.get_field(name)
        setattr(contact, model_field.attname, model_field.to_python(value) if value is not None else None)
    if "emails" in before:
        contact.emails.exclude(email__in=before["emails"]).delete()
    if "phones" in before:
        contact.phones.exclude(number__in=[n for n, _k in before["phones"]]).delete()
    if "tags" in before:
        keep = Tag.objects.annotate(lname=Lower("name")).filter(lname__in=[t.lower() for t in before["tags"]])
        contact.tag_links.exclude(tag__in=keep).delete()
    emails = list(contact.emails.order_by("-is_primary", "id").values_list("email", flat=True))
    phones = list(contact.phones.order_by("-is_primary", "id").values_list("number", flat=True))
    contact.email, contact.phone = (emails[0] if emails else ""), (phones[0] if phones else "")
    contact.search_text = services.contact_search_text(first_name=contact.first_name, last_name=contact.last_name,
                                                       emails=emails, phones=phones)
    contact.save()


def undo(import_id: int, *, time_budget: float | None = None) -> str:
    """Undo an import in "undoing" state: restore updated contacts (latest row first), delete created ones.

    Safe to run again. Returns "done", "more" (time budget ran out) or "skipped". Contacts that other
    records (deals, tickets, orders) now point at are kept; the import says how many.
    """
    with _import_lock(import_id) as locked:
        if not locked:
            return "skipped"
        contact_import = ContactImport.objects.select_related("owner").filter(pk=import_id).first()
        if contact_import is None or contact_import.status != ImportStatus.UNDOING:
            return "skipped"
        user = contact_import.owner
        with translation.override(user.language or settings.LANGUAGE_CODE), \
                pghistory.context(user=user.pk, task="contacts.import_undo", import_id=import_id):
            return _undo(contact_import, time_budget=time_budget)


def _undo(contact_import: ContactImport, *, time_budget) -> str:
    began = time.monotonic()
    rows = ImportRow.objects.filter(contact_import=contact_import)
    created_rows = rows.filter(action=ImportRowAction.CREATED, contact__isnull=False)
    created = set(created_rows.values_list("contact_id", flat=True))
    updated = (rows.filter(action=ImportRowAction.UPDATED, contact__isnull=False, before__isnull=False)
               .exclude(contact_id__in=created_rows.values("contact_id")).order_by("-row_number")
               .values_list("pk", flat=True))
    for chunk in _batches(iter(list(updated)), 200):
        with transaction.atomic():
            entries = list(ImportRow.objects.filter(pk__in=chunk).order_by("-row_number").values_list("contact_id",
                                                                                                       "before", "pk"))
            contacts = Contact.all_objects.select_for_update().in_bulk([c for c, _b, _p in entries])
            for contact_id, before, _pk in entries:
                if contact_id in contacts and before:
                    _restore(contacts[contact_id], before)
            ImportRow.objects.filter(pk__in=[p for _c, _b, p in entries]).update(before=None)
            ContactImport.objects.filter(pk=contact_import.pk).update(updated_at=timezone.now())
        if time_budget is not None and time.monotonic() - began > time_budget:
            return "more"
    kept = []
    for chunk in _batches(iter(sorted(created)), 1000):
        with transaction.atomic():
            qs = Contact.all_objects.filter(pk__in=chunk, import_batch=contact_import)
            try:
                with transaction.atomic():
                    qs.delete()
            except (ProtectedError, RestrictedError):
                for contact in qs:
                    try:
                        with transaction.atomic():
                            contact.delete()
                    except (ProtectedError, RestrictedError):
                        kept.append(contact.pk)
            ContactImport.objects.filter(pk=contact_import.pk).update(updated_at=timezone.now())
        if time_budget is not None and time.monotonic() - began > time_budget:
            return "more"
    note = ""
    if kept:
        note = _("%(count)s contacts were kept because other records (deals, tickets, orders) now refer to them.") % {
            "count": len(kept)}
    ContactImport.objects.filter(pk=contact_import.pk).update(
        status=ImportStatus.UNDONE, failure=note, updated_at=timezone.now())
    return "done"

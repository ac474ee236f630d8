"""An import's life before and around its runs: upload, preview, mapping, start, retry, undo request, lost messages."""

from datetime import timedelta
from itertools import islice

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from contacts import services
from contacts.imports.mapping import clean_mapping, suggest_mapping
from contacts.imports.reading import file_kind, read_table
from contacts.imports.rows import PreparedRow, RowReader
from contacts.models import ContactEmail, ContactImport, ContactPhone, DuplicateMode, ImportStatus
from crm import policy
from crm.models import Role, User
from crm.services import assign_owner

MAX_FILE_BYTES = 50 * 1024 * 1024
PREVIEW_ROWS = 10
#: A queued, running or undoing import untouched for this long lost its message; beat re-sends it.
STUCK_AFTER = timedelta(minutes=10)


def imports_visible_to(user: User):
    """Imports a user may see: their own; a manager's teams'; all for admins (see ContactImportQuerySet)."""
    return ContactImport.objects.visible_to(user)


def _require_importer(by: User) -> None:
    if by.role == Role.SUPPORT_AGENT:
        raise PermissionDenied(_("Support agents cannot import contacts."))


def _require_edit(by: User, contact_import: ContactImport) -> None:
    if not policy.can_edit(by, contact_import):
        raise PermissionDenied(_("Only the person who uploaded this file or their manager can do this."))


@transaction.atomic
def create_import(*, by: User, filename: str, data: bytes) -> ContactImport:
    """Keep an uploaded CSV, XLSX or vCard file and guess its column mapping (status "uploaded").

    The file must be at most 50 MB, readable, with a header row and at least one row of data.
    """
    _require_importer(by)
    if len(data) > MAX_FILE_BYTES:
        raise ValidationError({"file": _("The file is %(size)s MB; upload at most %(limit)s MB.") % {
            "size": round(len(data) / 1024 / 1024, 1), "limit": MAX_FILE_BYTES // 1024 // 1024}})
    if not data:
        raise ValidationError({"file": _("The file is empty.")})
    kind = file_kind(filename, data)
    headers, rows = read_table(data, filename)
    if next(rows, None) is None:
        raise ValidationError({"file": _("The file has a header row but no contacts under it.")})
    if kind == "vcard":
        from contacts import vcard

        mapping = dict(vcard.TABLE_MAPPING)
    else:
        mapping = suggest_mapping(headers)
    contact_import = ContactImport(filename=(filename or "upload")[:255], data=data, headers=headers, mapping=mapping)
    assign_owner(contact_import, by)
    contact_import.created_by = by
    contact_import.save()
    return contact_import


def preview(contact_import: ContactImport, *, mapping: dict | None = None, limit: int = PREVIEW_ROWS) -> list[PreparedRow]:
    """The first rows as they will be imported with `mapping` (default: the saved one), with their errors."""
    mapping = contact_import.mapping if mapping is None else mapping
    _headers, rows = read_table(bytes(contact_import.data), contact_import.filename)
    reader = RowReader(contact_import.headers, mapping)
    prepared = [reader.prepare(n, cells) for n, cells in islice(rows, limit)]
    emails = {e for p in prepared for e in p.emails}
    phones = {n for p in prepared for n, _k in p.phones}
    if emails or phones:
        owners = {c.pk: c for c in services.find_duplicates(emails=emails, phones=phones).only(
            "first_name", "last_name", "email", "phone", "owner_id", "team_id")}
        by_key = {}
        for email, cid in ContactEmail.objects.filter(contact_id__in=list(owners), email__in=emails).values_list(
                "email", "contact_id"):
            by_key.setdefault(email, cid)
        for number, cid in ContactPhone.objects.filter(contact_id__in=list(owners), number__in=phones).values_list(
                "number", "contact_id"):
            by_key.setdefault(number, cid)
        for row in prepared:
            match = next((by_key[k] for k in [*row.emails, *(n for n, _k in row.phones)] if k in by_key), None)
            row.duplicate = owners[match] if match else None
    return prepared


@transaction.atomic
def update_mapping(*, by: User, contact_import: ContactImport, mapping=None, duplicate_mode: str | None = None
                   ) -> ContactImport:
    """Change the column mapping and what to do with duplicates, before the import starts."""
    _require_edit(by, contact_import)
    if contact_import.status != ImportStatus.UPLOADED:
        raise ValidationError({"mapping": _("This import has started; its mapping can no longer change.")})
    errors = {}
    if mapping is not None:
        try:
            contact_import.mapping = clean_mapping(contact_import.headers, mapping)
        except ValidationError as exc:
            errors.update(exc.message_dict)
    if duplicate_mode is not None:
        if duplicate_mode not in DuplicateMode.values:
            errors["duplicate_mode"] = [_("Choose skip, update or create.")]
        else:
            contact_import.duplicate_mode = duplicate_mode
    if errors:
        raise ValidationError(errors)
    contact_import.save(update_fields=["mapping", "duplicate_mode", "updated_at"])
    return contact_import


def _enqueue(task_name: str, import_id: int) -> None:
    """Publish after commit; a broker outage is logged and the beat reconciler sends it later."""
    def publish():
        from contacts import tasks

        getattr(tasks, task_name).delay(import_id)

    transaction.on_commit(publish, robust=True)


@transaction.atomic
def start_import(*, by: User, contact_import: ContactImport, mapping=None, duplicate_mode: str | None = None
                 ) -> ContactImport:
    """Confirm the mapping and queue the import (it runs in the background; progress on the import)."""
    update_mapping(by=by, contact_import=contact_import, mapping=mapping, duplicate_mode=duplicate_mode)
    clean_mapping(contact_import.headers, contact_import.mapping)
    contact_import.status = ImportStatus.QUEUED
    contact_import.save(update_fields=["status", "updated_at"])
    _enqueue("run_import", contact_import.pk)
    return contact_import


@transaction.atomic
def retry_import(*, by: User, contact_import: ContactImport) -> ContactImport:
    """Queue a failed import again: it continues after the last row it committed."""
    _require_edit(by, contact_import)
    if contact_import.status != ImportStatus.FAILED:
        raise ValidationError({"status": _("Only a failed import can be tried again.")})
    contact_import.status, contact_import.failure = ImportStatus.QUEUED, ""
    contact_import.save(update_fields=["status", "failure", "updated_at"])
    _enqueue("run_import", contact_import.pk)
    return contact_import


@transaction.atomic
def request_undo(*, by: User, contact_import: ContactImport) -> ContactImport:
    """Queue the undo of an import: the contacts it created are deleted, the ones it updated put back."""
    _require_edit(by, contact_import)
    if contact_import.status not in (ImportStatus.DONE, ImportStatus.FAILED):
        raise ValidationError({"status": _("Only a finished import can be undone.")})
    contact_import.status = ImportStatus.UNDOING
    contact_import.save(update_fields=["status", "updated_at"])
    _enqueue("undo_import", contact_import.pk)
    return contact_import


def create_vcard_import(*, by: User, filename: str, data: bytes, duplicate_mode: str = DuplicateMode.SKIP
                        ) -> ContactImport:
    """Import the cards of a .vcf file (vCard 2.1, 3.0 or 4.0) through the same pipeline, started at once."""
    from contacts import vcard

    if file_kind(filename, data) != "vcard":
        raise ValidationError({"file": _("Upload a vCard (.vcf) file.")})
    with transaction.atomic():
        contact_import = create_import(by=by, filename=filename, data=data)
        return start_import(by=by, contact_import=contact_import, mapping=dict(vcard.TABLE_MAPPING),
                            duplicate_mode=duplicate_mode)



def stuck_imports(*, now=None) -> list[tuple[int, str]]:
    """Imports queued, running or undoing but untouched for STUCK_AFTER: (id, "run" | "undo") to send again.

    Marks them touched, so each is sent again at most once per STUCK_AFTER.
    """
    now = now or timezone.now()
    qs = ContactImport.objects.filter(
        status__in=[ImportStatus.QUEUED, ImportStatus.RUNNING, ImportStatus.UNDOING], updated_at__lt=now - STUCK_AFTER)
    found = list(qs.values_list("pk", "status")[:500])
    ContactImport.objects.filter(pk__in=[pk for pk, _s in found]).update(updated_at=now)
    return [(pk, "undo" if status == ImportStatus.UNDOING else "run") for pk, status in found]

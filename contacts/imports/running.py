"""Running an import: one worker at a time, the rows after the last committed one in batches, progress, time slices."""

import logging
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from itertools import islice

import pghistory
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import InterfaceError, OperationalError, connection
from django.db.models import Max
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from contacts.imports.batches import _Batcher
from contacts.imports.reading import count_rows, read_table
from contacts.imports.rows import RowReader
from contacts.models import ContactImport, ImportRow, ImportStatus
from crm.models import User

log = logging.getLogger(__name__)

BATCH_SIZE = 1000
#: One task run works this long, then queues its own continuation (under the Celery time limits).
SLICE_SECONDS = 150

_LOCK_CLASS = 0x5AB1  # pg_advisory_lock(class, import id): one worker per import at a time


@contextmanager
def _import_lock(import_id: int):
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s, %s)", [_LOCK_CLASS, import_id])
        locked = cursor.fetchone()[0]
    try:
        yield locked
    finally:
        if locked:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_unlock(%s, %s)", [_LOCK_CLASS, import_id])



def _batches(rows: Iterator, size: int) -> Iterator[list]:
    while chunk := list(islice(rows, size)):
        yield chunk


def run(import_id: int, *, progress: Callable[[int, int], None] | None = None,
        time_budget: float | None = None) -> str:
    """Import the file's rows after the last committed one, in batches of BATCH_SIZE; safe to run again.

    Returns "done", "more" (the time budget ran out: run again to continue), "failed" (the reason is
    on the import; committed batches stay), or "skipped" (nothing to do, or another worker has it).
    A database outage (OperationalError) is raised for the task to retry, leaving the import running.
    """
    with _import_lock(import_id) as locked:
        if not locked:
            return "skipped"
        contact_import = ContactImport.objects.select_related("owner").filter(pk=import_id).first()
        if contact_import is None or contact_import.status not in (
                ImportStatus.QUEUED, ImportStatus.RUNNING, ImportStatus.FAILED):
            return "skipped"
        user = contact_import.owner
        with translation.override(user.language or settings.LANGUAGE_CODE), \
                pghistory.context(user=user.pk, task="contacts.import", import_id=import_id):
            return _run(contact_import, user, progress=progress, time_budget=time_budget)


def _run(contact_import: ContactImport, user: User, *, progress, time_budget) -> str:
    began = time.monotonic()
    data = bytes(contact_import.data)
    now = timezone.now()
    last_row = None
    try:
        total = contact_import.total_rows or count_rows(data, contact_import.filename)
        ContactImport.objects.filter(pk=contact_import.pk).update(
            status=ImportStatus.RUNNING, total_rows=total, failure="", updated_at=now,
            started_at=contact_import.started_at or now)
        done_up_to = ImportRow.objects.filter(contact_import=contact_import).aggregate(m=Max("row_number"))["m"] or 0
        _headers, rows = read_table(data, contact_import.filename)
        reader = RowReader(contact_import.headers, contact_import.mapping)
        batcher = _Batcher(contact_import, user)
        chunks = _batches(((n, cells) for n, cells in rows if n > done_up_to), BATCH_SIZE)
        language = translation.get_language()

        def prepare(chunk):
            with translation.override(language):
                return [reader.prepare(n, cells) for n, cells in chunk]

        # Rows are converted (pure Python) in a helper thread while the previous batch commits
        # (PostgreSQL works, the GIL is free): the two cores overlap instead of taking turns.
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="import-rows") as pool:
            chunk = next(chunks, None)
            upcoming = pool.submit(prepare, chunk) if chunk else None
            while upcoming is not None:
                last_row = chunk[0][0]
                prepared = upcoming.result()
                chunk = next(chunks, None)
                upcoming = pool.submit(prepare, chunk) if chunk else None
                batcher.commit(prepared)
                if progress:
                    processed = ContactImport.objects.values_list("processed_rows", flat=True).get(pk=contact_import.pk)
                    progress(processed, total)
                if upcoming is not None and time_budget is not None and time.monotonic() - began > time_budget:
                    upcoming.cancel()
                    return "more"
    except (OperationalError, InterfaceError):
        raise
    except Exception as exc:
        log.exception("import %s failed", contact_import.pk)
        reason = "; ".join(exc.messages) if isinstance(exc, ValidationError) else f"{type(exc).__name__}: {exc}"
        where = (_("The import stopped at row %(row)s: %(reason)s.") % {"row": last_row, "reason": reason}
                 if last_row else _("The import could not start: %(reason)s.") % {"reason": reason})
        message = where + " " + _("Rows before it are imported; try again to continue from there.")
        ContactImport.objects.filter(pk=contact_import.pk).update(
            status=ImportStatus.FAILED, failure=message[:2000], updated_at=timezone.now())
        return "failed"
    ContactImport.objects.filter(pk=contact_import.pk).update(
        status=ImportStatus.DONE, finished_at=timezone.now(), updated_at=timezone.now())
    return "done"

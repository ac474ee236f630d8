"""Thin Celery tasks of the contacts app: imports (run, undo, re-send lost ones) and the trash purge.

The import's status in PostgreSQL is the record of work; these only trigger it. Every task is
safe to run twice: `imports.run` and `imports.undo` take a per-import lock and continue from
what is committed.
"""

from celery import shared_task
from django.db import InterfaceError, OperationalError

from contacts import imports, services

_RETRY = {"autoretry_for": (OperationalError, InterfaceError), "retry_backoff": True, "retry_backoff_max": 300,
          "max_retries": 5}


@shared_task(bind=True, acks_late=True, soft_time_limit=imports.SLICE_SECONDS + 60,
             time_limit=imports.SLICE_SECONDS + 120, **_RETRY)
def run_import(self, import_id: int) -> str:
    """Import a slice of the file (SLICE_SECONDS of work), then queue the rest as a new message."""
    def progress(processed: int, total: int) -> None:
        if self.request.id:
            self.update_state(state="PROGRESS", meta={"processed": processed, "total": total})

    outcome = imports.run(import_id, progress=progress, time_budget=imports.SLICE_SECONDS)
    if outcome == "more":
        run_import.delay(import_id)
    return outcome


@shared_task(bind=True, acks_late=True, soft_time_limit=imports.SLICE_SECONDS + 60,
             time_limit=imports.SLICE_SECONDS + 120, **_RETRY)
def undo_import(self, import_id: int) -> str:
    outcome = imports.undo(import_id, time_budget=imports.SLICE_SECONDS)
    if outcome == "more":
        undo_import.delay(import_id)
    return outcome


@shared_task
def requeue_stuck_imports() -> int:
    """Beat: send again the imports whose message was lost (queued, running or undoing, untouched for a while)."""
    stuck = imports.stuck_imports()
    for import_id, kind in stuck:
        (undo_import if kind == "undo" else run_import).delay(import_id)
    return len(stuck)


@shared_task(acks_late=True, **_RETRY)
def purge_trash() -> dict[str, int]:
    """Beat, daily: delete for good what has been in the trash for more than 30 days."""
    return services.purge_trash()

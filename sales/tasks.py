"""Thin Celery tasks of the sales app: each calls a service, is idempotent and safe to retry."""

from celery import shared_task
from django.db import OperationalError


@shared_task(bind=True, acks_late=True, autoretry_for=(OperationalError,), retry_backoff=True, max_retries=5,
             soft_time_limit=120)
def send_task_reminders(self) -> int:
    """Turn the task reminders due by now into notifications (beat, every minute)."""
    from sales.task_services import fire_due_reminders

    return fire_due_reminders()


# --- Orders and invoices ------------------------------------------------------------------------


@shared_task(acks_late=True, autoretry_for=(OperationalError,), retry_backoff=True, max_retries=5, soft_time_limit=120)
def mark_overdue_invoices() -> int:
    """Beat, daily: sent invoices past their due date become overdue (one UPDATE; running twice is harmless)."""
    from sales.invoices import mark_overdue_invoices as mark

    return mark()


@shared_task(bind=True, acks_late=True, autoretry_for=(OperationalError,), retry_backoff=True, max_retries=3,
             soft_time_limit=1500, time_limit=1620)
def import_orders(self, user_id: int, data: str) -> dict:
    """Import a CSV of order lines as the user; progress in the task's meta ({"processed", "total"} orders).

    Safe to run twice: orders are matched on (channel, order number) and updated, contacts found again.
    """
    from crm.models import User
    from sales.order_import import import_orders as run

    def progress(processed: int, total: int) -> None:
        if self.request.id:
            self.update_state(state="PROGRESS", meta={"processed": processed, "total": total})

    return run(by=User.objects.get(pk=user_id), data=data, progress=progress)


# --- Lead scoring -------------------------------------------------------------------------------


@shared_task(bind=True, acks_late=True, autoretry_for=(OperationalError,), retry_backoff=True, max_retries=5,
             soft_time_limit=1800, time_limit=1900)
def recompute_scores(self, run_id: int | None = None) -> dict:
    """Recompute every contact's score (a rules change, an admin's request, the nightly run with its decay)."""
    from sales.models import ScoreRun
    from sales.scoring import engine

    def progress(done: int, total: int) -> None:
        if self.request.id:
            self.update_state(state="PROGRESS", meta={"done": done, "total": total})

    run = ScoreRun.objects.filter(pk=run_id).first() if run_id else None
    if run is not None and run.status == "done":
        return {"run": run.pk, "status": run.status}  # a redelivered message: the work is done
    run = engine.recompute_all(run=run, progress=progress)
    return {"run": run.pk, "status": run.status, "total": run.total}


@shared_task(bind=True, acks_late=True, autoretry_for=(OperationalError,), retry_backoff=True, max_retries=5,
             soft_time_limit=120)
def rescore_dirty_contacts(self) -> int:
    """Rescore the contacts marked stale, batch by batch; while a full run holds the lock, try again later."""
    import time

    from sales.scoring import engine

    deadline, total = time.monotonic() + 60, 0
    while time.monotonic() < deadline:
        done = engine.rescore_dirty()
        if done is None:
            raise self.retry(countdown=15, max_retries=None)
        if done == 0:
            break
        total += done
    return total


@shared_task(acks_late=True, soft_time_limit=60)
def nightly_scores() -> int:
    """Beat, nightly: a full recompute (behaviour points decay with time even when nothing changes)."""
    from sales.scoring.services import request_recompute

    return request_recompute(by=None, reason="nightly").pk

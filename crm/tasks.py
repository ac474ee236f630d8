"""Thin Celery tasks for the core: outbox relay and the worker heartbeat."""

from celery import shared_task
from django.db import OperationalError

from crm import outbox, services


@shared_task(bind=True, autoretry_for=(OperationalError,), retry_backoff=True, retry_backoff_max=300, max_retries=5)
def run_outbox_message(self, message_id: int) -> bool:
    return outbox.run(message_id)


@shared_task
def relay_outbox() -> int:
    return outbox.relay()


@shared_task(bind=True)
def heartbeat(self) -> str:
    services.record_heartbeat(hostname=self.request.hostname or "worker")
    return "ok"


@shared_task(bind=True, acks_late=True, autoretry_for=(OperationalError,), retry_backoff=True, max_retries=5,
             soft_time_limit=120)
def send_notification_emails(self, limit: int = 100) -> dict:
    """Send pending notification e-mails (after a commit, and from beat for whatever a lost message left)."""
    from crm import notifications

    return notifications.send_pending_emails(limit=limit)

"""Work that must not be lost: an outbox row per job, written with the change that needs it.

    enqueue("crm.send_invitation", user_id=user.pk)   # inside the caller's transaction

After commit the row is published to Celery (`crm.tasks.run_outbox_message`). The worker
runs the job and marks the row done in one transaction, so a worker killed mid-job leaves
the row pending; `relay` (run by beat) re-publishes rows whose message never arrived or
never finished. Jobs must therefore be idempotent.
"""

import logging
from collections.abc import Callable
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from crm.models import OutboxMessage

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 10
_jobs: dict[str, Callable[..., object]] = {}


def job(name: str):
    """Register a function as an outbox job under `name`."""

    def register(func):
        _jobs[name] = func
        return func

    return register


def enqueue(name: str, *, dedupe_key: str | None = None, **kwargs) -> OutboxMessage | None:
    """Record a job in the current transaction and publish it once that commits.

    With `dedupe_key`, a job still pending under the same key is not recorded twice.
    """
    if name not in _jobs:
        raise KeyError(f"No outbox job named {name!r}")
    try:
        with transaction.atomic():
            message = OutboxMessage.objects.create(job=name, kwargs=kwargs, dedupe_key=dedupe_key)
    except IntegrityError:
        return None
    transaction.on_commit(lambda: publish(message.pk))
    return message


def publish(message_id: int) -> bool:
    """Send the Celery trigger for one message; a broker outage leaves it for `relay`."""
    from crm.tasks import run_outbox_message

    try:
        run_outbox_message.apply_async(args=[message_id], retry=False)
    except Exception:  # broker down: the row stays pending and relay sends it later
        log.warning("outbox: could not publish message %s; relay will retry", message_id, exc_info=True)
        return False
    OutboxMessage.objects.filter(pk=message_id).update(published_at=timezone.now())
    return True


def run(message_id: int) -> bool:
    """Run one pending message and mark it done, in one transaction. False if nothing to do."""
    with transaction.atomic():
        message = (
            OutboxMessage.objects.select_for_update(skip_locked=True)
            .filter(pk=message_id, done_at__isnull=True)
            .first()
        )
        if message is None:
            return False
        message.attempts += 1
        try:
            with transaction.atomic():
                _jobs[message.job](**message.kwargs)
        except Exception as exc:
            message.last_error = f"{type(exc).__name__}: {exc}"[:2000]
            message.save(update_fields=["attempts", "last_error"])
            log.exception("outbox: job %s (message %s) failed", message.job, message.pk)
            return False
        message.done_at = timezone.now()
        message.save(update_fields=["attempts", "done_at"])
    return True


def relay(*, now=None) -> int:
    """Re-publish pending messages that were never sent or whose run never finished."""
    now = now or timezone.now()
    retry_before = now - settings.OUTBOX_RETRY_AFTER
    # give a fresh commit's own on_commit publish a moment before stepping in
    unsent_before = now - timedelta(seconds=10)
    due = OutboxMessage.objects.filter(
        Q(published_at__isnull=True, created_at__lt=unsent_before) | Q(published_at__lt=retry_before),
        done_at__isnull=True,
        attempts__lt=MAX_ATTEMPTS,
    ).values_list("pk", flat=True)
    return sum(publish(pk) for pk in due[:1000])

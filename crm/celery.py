"""The Celery app. Configuration lives in settings (CELERY_*); tasks are discovered per app."""

import os

from celery import Celery
from celery.signals import worker_ready

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "crm.settings")

app = Celery("crm")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@worker_ready.connect
def _first_heartbeat(sender=None, **kwargs):
    from crm.services import record_heartbeat

    record_heartbeat(hostname=sender.hostname)

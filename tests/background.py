"""A real Celery worker for tests about background work (a fixture every app's tests can use)."""

import os
import signal
import subprocess
import sys
import time
import uuid
from urllib.parse import urlsplit, urlunsplit

import pytest
from django.conf import settings
from django.db import connection

from crm.celery import app
from crm.models import WorkerHeartbeat


def wait_for(predicate, timeout=30.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.2)
    return False


@pytest.fixture
def worker(transactional_db):
    """A real `celery worker -P solo` on this test's database and its queue; stopped by its pid.

    Settings give every pytest-xdist worker its own queue, so this worker only sees messages
    about its own test database; what an earlier run left in the queue is purged first.
    """
    queue = app.conf.task_default_queue
    with app.connection_for_write() as conn:
        conn.default_channel.queue_declare(queue=queue, durable=True, auto_delete=False)
        conn.default_channel.queue_purge(queue)
    name = f"{queue}-{uuid.uuid4().hex[:6]}"
    url = urlsplit(os.environ["DATABASE_URL"])._replace(path="/" + connection.settings_dict["NAME"])
    env = {**os.environ, "DATABASE_URL": urlunsplit(url), "CELERY_QUEUE": queue,
           "CRM_TESTING": "1", "EMAIL_URL": "consolemail://"}
    (settings.BASE_DIR / ".local").mkdir(exist_ok=True)
    log = open(settings.BASE_DIR / ".local" / f"{name}.log", "w")  # noqa: SIM115 (closed below)
    proc = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "crm", "worker", "-P", "solo", "-Q", queue, "-n", f"{name}@%h",
         "--without-mingle", "--without-gossip", "-l", "warning"],
        cwd=settings.BASE_DIR, env=env, start_new_session=True, stdout=log, stderr=subprocess.STDOUT,
    )
    try:
        started = wait_for(lambda: WorkerHeartbeat.objects.filter(hostname__startswith=name).exists(), 60)
        assert started, f"worker did not start; its log: {log.name}"
        yield proc
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
        log.close()

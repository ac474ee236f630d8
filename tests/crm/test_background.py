"""Background work against a real Celery worker on the real Redis: outbox, relay, heartbeat, /healthz."""

import contextlib
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
from django.urls import reverse
from django.utils import timezone

from crm import outbox, services
from crm.celery import app
from crm.models import OutboxMessage, Role, User, WorkerHeartbeat


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


def make_admin():
    from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret

    admin = User.objects.create_user("boss@example.com", "correct-horse-battery", full_name="Boss", role=Role.ADMIN)
    TOTP.activate(admin, generate_totp_secret())
    return admin


def test_invitation_is_sent_by_the_worker_after_commit(worker):
    user = services.invite_user(by=make_admin(), email="new@example.com", full_name="New", role=Role.SALES_REP)
    assert wait_for(lambda: OutboxMessage.objects.filter(done_at__isnull=False).exists(), 60), \
        list(OutboxMessage.objects.values())
    user.refresh_from_db()
    assert user.invitation_sent_at is not None


def test_relay_resends_work_whose_message_was_lost(transactional_db):
    user = User.objects.create_user("lost@example.com", None, full_name="Lost")
    # the row exists but its Celery message never reached Redis (e.g. Redis was down at commit)
    message = OutboxMessage.objects.create(
        job="crm.send_password_email", kwargs={"user_id": user.pk, "purpose": "invite"},
        created_at=timezone.now() - timezone.timedelta(minutes=5))
    assert outbox.relay() == 1
    message.refresh_from_db()
    assert message.published_at is not None
    assert outbox.relay() == 0  # sent again only after OUTBOX_RETRY_AFTER
    assert outbox.run(message.pk)
    assert outbox.relay(now=timezone.now() + timezone.timedelta(days=1)) == 0  # done work is never resent


def test_running_a_message_twice_does_its_work_once(transactional_db):
    user = User.objects.create_user("twice@example.com", None, full_name="Twice")
    message = OutboxMessage.objects.create(job="crm.send_password_email", kwargs={"user_id": user.pk, "purpose": "invite"})
    assert outbox.run(message.pk) is True
    assert outbox.run(message.pk) is False
    from django.core import mail

    assert len(mail.outbox) == 1


def test_failed_job_stays_pending_with_its_error(transactional_db):
    message = OutboxMessage.objects.create(job="crm.send_password_email", kwargs={"user_id": 999999, "purpose": "x"})
    assert outbox.run(message.pk) is False
    message.refresh_from_db()
    assert message.done_at is None and message.attempts == 1 and "DoesNotExist" in message.last_error


def test_healthz_reports_the_worker_heartbeat(worker, client):
    response = client.get(reverse("healthz"))
    data = response.json()
    assert response.status_code == 200, data
    assert data["database"] == data["redis"] == data["worker"] == "ok"
    assert data["worker_heartbeat"]["age_seconds"] < 60


def test_healthz_is_503_without_a_worker(db, client):
    response = client.get(reverse("healthz"))
    assert response.status_code == 503 and response.json()["worker"].startswith("error")


def test_healthz_is_503_when_redis_is_down(db, client, settings):
    from django.core.cache import caches

    WorkerHeartbeat.objects.create(hostname="w", seen_at=timezone.now())
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache",
                                   "LOCATION": "redis://127.0.0.1:1/0"}}
    caches._settings = None
    with contextlib.suppress(AttributeError):
        del caches["default"]
    response = client.get(reverse("healthz"))
    assert response.status_code == 503 and response.json()["redis"].startswith("error")

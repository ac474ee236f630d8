"""Background work against a real Celery worker on the real Redis: outbox, relay, heartbeat, /healthz."""

import contextlib

from django.urls import reverse
from django.utils import timezone

from crm import outbox, services
from crm.models import OutboxMessage, Role, User, WorkerHeartbeat
from tests.background import wait_for


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

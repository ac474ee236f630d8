"""In-app notifications (the bell) and their e-mails.

A notification is a row written in the transaction of its event, so it is never lost; the row is its own
outbox for e-mail: `email_wanted` and an empty `emailed_at` say what is still to send, a worker sends it
after commit and the beat task `crm.tasks.send_notification_emails` sends whatever a lost message left.
`dedupe_key` makes "once per event" a constraint.

The text of a notification is written in its recipient's language when it is created (the person who
caused it may read another language).
"""

import logging

from django.conf import settings
from django.core import mail
from django.core.cache import cache
from django.db import IntegrityError, transaction
from django.db.models import F
from django.http import Http404
from django.urls import NoReverseMatch, reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from crm.models import Notification, User

log = logging.getLogger(__name__)

#: A notification whose e-mail failed this many times is left alone (it stays in the bell).
MAX_EMAIL_ATTEMPTS = 5
UNREAD_CACHE_SECONDS = 60

#: Record kinds that can be assigned, by model label: (URL name of the record's page, its name in words).
RECORD_PAGES = {
    "contacts.Contact": "contacts:contact",
    "contacts.Company": "contacts:company",
    "sales.Deal": "sales:deal",
    "sales.Task": "sales:task",
}


class Kind:
    TASK_REMINDER = "task_reminder"
    ASSIGNED = "assigned"
    ASSIGNED_MANY = "assigned_many"


def language_of(user: User) -> str:
    return user.language or settings.LANGUAGE_CODE


# --- The unread count of the bell (cached: it shows on every page) -------------------------------------


def _unread_key(user_id: int) -> str:
    return f"notifications:unread:{user_id}"


def unread_count(user: User) -> int:
    """How many unread notifications `user` has: one COUNT, then cached until something changes it."""
    key = _unread_key(user.pk)
    count = cache.get(key)
    if count is None:
        count = Notification.objects.visible_to(user).unread().count()
        cache.set(key, count, UNREAD_CACHE_SECONDS)
    return count


def forget_unread_counts(user_ids) -> None:
    """Drop the cached counts of these users now and once the transaction commits (the next page counts again)."""
    keys = [_unread_key(pk) for pk in set(user_ids)]
    if keys:
        cache.delete_many(keys)
        # again after commit: a page may have counted the old rows in between
        transaction.on_commit(lambda: cache.delete_many(keys))


# --- Writing -------------------------------------------------------------------------------------------


def send_emails_after_commit() -> None:
    """Ask a worker to send pending e-mails once the transaction commits; beat sends them if this is lost."""

    def publish():
        from crm.tasks import send_notification_emails

        try:
            send_notification_emails.apply_async(retry=False)
        except Exception:  # broker down: the rows stay pending and the beat task sends them
            log.warning("notifications: could not enqueue e-mail sending; beat will", exc_info=True)

    transaction.on_commit(publish)


@transaction.atomic
def notify(
    *, recipient: User, kind: str, title: str, body: str = "", url: str = "", email: bool = False,
    dedupe_key: str | None = None,
) -> Notification | None:
    """Tell `recipient` something; None when a notification with `dedupe_key` already exists."""
    notification = Notification(recipient=recipient, kind=kind, title=title[:300], body=body, url=url[:500],
                                email_wanted=email, dedupe_key=dedupe_key)
    try:
        with transaction.atomic():
            notification.save()
    except IntegrityError:
        if dedupe_key is None:
            raise
        return None
    forget_unread_counts([recipient.pk])
    if email:
        send_emails_after_commit()
    return notification


def record_url(record) -> str:
    name = RECORD_PAGES.get(record._meta.label)
    try:
        return reverse(name, args=[record.pk]) if name else ""
    except NoReverseMatch:
        return ""


def notify_assigned(record, by: User) -> Notification | None:
    """Tell a record's owner that `by` gave it to them (nothing when they gave it to themselves)."""
    owner = record.owner
    if owner is None or owner.pk == by.pk or not owner.is_active:
        return None
    with translation.override(language_of(owner)):
        kind_name = str(record._meta.verbose_name)
        title = _("%(by)s assigned you the %(kind)s “%(name)s”") % {"by": by, "kind": kind_name, "name": record}
    return notify(recipient=owner, kind=Kind.ASSIGNED, title=title, url=record_url(record))


def notify_assigned_many(*, owner: User, by: User, count: int, model, url: str = "") -> Notification | None:
    """One summary notification for a bulk change of owner (never one per record)."""
    if count <= 0 or owner.pk == by.pk or not owner.is_active:
        return None
    with translation.override(language_of(owner)):
        title = _("%(by)s assigned you %(count)s %(kind)s") % {
            "by": by, "count": count,
            "kind": model._meta.verbose_name if count == 1 else model._meta.verbose_name_plural,
        }
    return notify(recipient=owner, kind=Kind.ASSIGNED_MANY, title=title, url=url)


@transaction.atomic
def mark_read(*, user: User, notification: Notification) -> Notification:
    """Mark one of the user's own notifications read (someone else's is not found)."""
    if notification.recipient_id != user.pk:
        raise Http404
    if notification.read_at is None:
        notification.read_at = timezone.now()
        Notification.objects.filter(pk=notification.pk, read_at__isnull=True).update(read_at=notification.read_at)
        forget_unread_counts([user.pk])
    return notification


@transaction.atomic
def mark_all_read(*, user: User) -> int:
    """Mark every unread notification of the user read; how many were."""
    count = Notification.objects.visible_to(user).unread().update(read_at=timezone.now())
    forget_unread_counts([user.pk])
    return count


# --- E-mail --------------------------------------------------------------------------------------------


def _message(notification: Notification) -> mail.EmailMessage:
    recipient = notification.recipient
    with translation.override(language_of(recipient)):
        lines = [notification.title]
        if notification.body:
            lines += ["", notification.body]
        if notification.url:
            lines += ["", _("Open it in Sampark: %(url)s") % {"url": settings.SITE_URL.rstrip("/") + notification.url}]
        lines += ["", "—", _("You receive this because of your notifications in Sampark.")]
        return mail.EmailMessage(subject=notification.title.replace("\n", " "), body="\n".join(lines),
                                 to=[recipient.email])


def send_pending_emails(*, limit: int = 100, now=None) -> dict[str, int]:
    """Send the e-mails of up to `limit` pending notifications, oldest first; counts sent, failed, skipped.

    Rows are claimed with FOR UPDATE SKIP LOCKED, so workers running at once never send one twice; a failure
    counts an attempt (given up after MAX_EMAIL_ATTEMPTS); an inactive recipient's e-mail is not wanted any more.
    """
    now = now or timezone.now()
    with transaction.atomic():
        pending = list(
            Notification.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("recipient")
            .filter(email_wanted=True, emailed_at__isnull=True, email_attempts__lt=MAX_EMAIL_ATTEMPTS)
            .order_by("created_at", "id")[:limit]
        )
        sent, failed, skipped = [], [], []
        mailer = mail.mailers.default
        for notification in pending:
            if not notification.recipient.is_active or not notification.recipient.email:
                skipped.append(notification.pk)
                continue
            try:
                mailer.send_messages([_message(notification)])
            except Exception:  # one bad address or a mail server hiccup must not stop the others
                log.warning("notifications: e-mail %s failed", notification.pk, exc_info=True)
                failed.append(notification.pk)
            else:
                sent.append(notification.pk)
        if sent:
            Notification.objects.filter(pk__in=sent).update(emailed_at=now, email_attempts=_plus_one())
        if failed:
            Notification.objects.filter(pk__in=failed).update(email_attempts=_plus_one())
        if skipped:
            Notification.objects.filter(pk__in=skipped).update(email_wanted=False)
    return {"sent": len(sent), "failed": len(failed), "skipped": len(skipped)}


def _plus_one():
    return F("email_attempts") + 1

"""Thin Celery tasks of the support app: each calls a service, is idempotent and safe to retry."""

from celery import shared_task
from django.db import OperationalError

_RETRY = {"acks_late": True, "autoretry_for": (OperationalError,), "retry_backoff": True, "max_retries": 5}


@shared_task(soft_time_limit=60, **_RETRY)
def auto_assign_ticket(ticket_id: int) -> int | None:
    """Assign a new ticket by its queue's mode (round-robin or fewest open tickets); the agent's id or None."""
    from support.assignment import auto_assign

    agent = auto_assign(ticket_id=ticket_id)
    return agent.pk if agent else None


@shared_task(soft_time_limit=120, **_RETRY)
def assign_waiting_tickets() -> int:
    """Beat, every minute: tickets of automatic queues still unassigned (a lost message) get their agent."""
    from support.assignment import assign_waiting

    return assign_waiting()


@shared_task(soft_time_limit=120, **_RETRY)
def watch_sla() -> dict:
    """Beat, every minute: mark tickets at risk and breached, alert once per event, record breaches."""
    from support.watcher import watch

    return watch()


@shared_task(soft_time_limit=240, **_RETRY)
def auto_close_solved() -> int:
    """Beat, hourly: close solved tickets the customer has not answered within the configured days."""
    from support.watcher import auto_close

    return auto_close()


@shared_task(soft_time_limit=60, **_RETRY)
def send_ticket_confirmation(ticket_id: int) -> bool:
    """E-mail the customer that their ticket was received, with the link to follow it."""
    from support.mail import send_confirmation

    return send_confirmation(ticket_id=ticket_id)


@shared_task(soft_time_limit=60, **_RETRY)
def send_ticket_reply(message_id: int) -> bool:
    """E-mail an agent's public reply to the customer (threaded by Message-ID)."""
    from support.mail import send_reply

    return send_reply(message_id=message_id)


@shared_task(soft_time_limit=60, **_RETRY)
def send_csat_request(ticket_id: int) -> bool:
    """E-mail the customer of a solved ticket the link to rate it."""
    from support.mail import send_csat_request as send

    return send(ticket_id=ticket_id)


@shared_task(soft_time_limit=120, **_RETRY)
def process_inbound_email(inbound_id: int) -> int | None:
    """Turn a stored raw e-mail into a new ticket or a message on the ticket it answers; the ticket's id."""
    from support.inbound import process

    return process(inbound_id=inbound_id)


@shared_task(soft_time_limit=240, **_RETRY)
def process_pending_inbound() -> int:
    """Beat, every minute: stored e-mails whose processing message was lost."""
    from support.inbound import process_pending

    return process_pending()


@shared_task(soft_time_limit=240, **_RETRY)
def retime_sla_clocks() -> int:
    """After an admin changed SLA targets, working hours or holidays: re-time the open tickets' clocks."""
    from support.sla import retime_open_tickets

    return retime_open_tickets()

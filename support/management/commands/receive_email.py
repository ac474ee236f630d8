"""`manage.py receive_email < message.eml`: take one raw e-mail from stdin (a mail server's pipe) and file it."""

import sys

from django.core.management.base import BaseCommand, CommandError

from support import inbound
from support.models import InboundEmail, Ticket


class Command(BaseCommand):
    help = "Read one raw RFC 822 e-mail from standard input and turn it into a ticket or a reply on one."

    def handle(self, *args, **options):
        raw = sys.stdin.buffer.read()
        if not raw.strip():
            raise CommandError("No message on standard input.")
        stored = inbound.receive(raw, enqueue=False)  # processed right here, not by a worker
        already = stored.processed_at is not None
        ticket_id = inbound.process(inbound_id=stored.pk)
        if ticket_id is None:
            stored = InboundEmail.objects.get(pk=stored.pk)
            if stored.processed_at is not None:  # an auto-reply, a bounce, our own mail: not an error (no bounce)
                self.stdout.write(f"not filed: {stored.error}")
                return
            raise CommandError(f"Not filed (inbound e-mail {stored.pk}): {stored.error or 'no reason recorded'}")
        ticket = Ticket.objects.get(pk=ticket_id)
        if already:
            outcome = "already received"
        elif ticket.created_at >= stored.received_at:
            outcome = "new ticket"
        else:
            outcome = "reply"
        self.stdout.write(f"#{ticket.number} {outcome}")

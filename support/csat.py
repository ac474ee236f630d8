"""The customer's CSAT link: a signed token (no login) naming one ticket, valid for 30 days.

The token carries the ticket's id and a digest of its secret `public_token`, signed with the project's key and a
salt of its own: changing the id breaks the signature, and a token signed for another ticket (or before the
ticket's public token changed) names a digest that does not match. One answer per ticket is the
`CsatResponse` constraint's job (`services.record_csat`), so a valid token cannot be used twice.
"""

import hashlib
import hmac
from datetime import timedelta

from django.core import signing

from support.models import Ticket

SALT = "support.csat"
MAX_AGE = timedelta(days=30)


def token_digest(ticket: Ticket) -> str:
    """A short digest of the ticket's public token (the token itself stays out of links that are not its own)."""
    return hashlib.sha256(ticket.public_token.encode()).hexdigest()[:16]


def make_csat_token(ticket: Ticket) -> str:
    return signing.dumps([ticket.pk, token_digest(ticket)], salt=SALT, compress=True)


def ticket_for_csat_token(token: str, *, max_age: timedelta = MAX_AGE) -> Ticket:
    """The ticket a CSAT token names; `signing.BadSignature` (or its `SignatureExpired`) for any other token."""
    value = signing.loads(token, salt=SALT, max_age=max_age)
    try:
        ticket_id, digest = value
        ticket = Ticket.objects.select_related("contact", "csat").get(pk=int(ticket_id))
    except (TypeError, ValueError, Ticket.DoesNotExist):
        raise signing.BadSignature("No such ticket.") from None
    if not isinstance(digest, str) or not hmac.compare_digest(digest, token_digest(ticket)):
        raise signing.BadSignature("The token belongs to another ticket.")
    return ticket

"""Ways in: session login (allauth + axes lockout), personal API tokens, and their lockout.

Lockout is per (username, IP): 5 failures lock that pair for 15 minutes. For API tokens the
"username" is the token's public lookup part, so a wrong secret for one token locks that
token from that address, and every malformed or unknown token counts against the address.
"""

import hmac
import logging

from allauth.account.adapter import DefaultAccountAdapter
from axes.handlers.proxy import AxesProxyHandler
from django.conf import settings
from django.contrib.auth.signals import user_login_failed
from django.http import HttpResponse
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.translation import gettext as _
from rest_framework import authentication, exceptions

log = logging.getLogger("crm.security")


class AccountAdapter(DefaultAccountAdapter):
    def is_open_for_signup(self, request):
        return False  # admins invite users; nobody signs themselves up


def axes_username(request, credentials) -> str | None:
    credentials = credentials or {}
    for key in ("email", "username", "login"):
        if credentials.get(key):
            return str(credentials[key]).strip().lower()
    data = getattr(request, "POST", {}) or {}
    value = data.get("login") or data.get("email") or data.get("username")
    return value.strip().lower() if value else None


def client_ip(request) -> str:
    """The client address: REMOTE_ADDR, or the proxy's X-Forwarded-For when behind a trusted proxy."""
    if settings.SECURE_PROXY_SSL_HEADER:
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
        if forwarded:
            return forwarded.split(",")[-1].strip()
    return request.META.get("REMOTE_ADDR", "")


LOCKOUT_MESSAGE = (
    "Too many failed sign-in attempts for this account from your network. "
    "For your security it is locked for 15 minutes; try again later or reset your password."
)


def lockout_response(request, original_response=None, credentials=None, *args, **kwargs):
    log.warning("lockout user=%s ip=%s path=%s", axes_username(request, credentials), client_ip(request), request.path)
    message = _(LOCKOUT_MESSAGE)
    if request.path.startswith("/api/") or "application/json" in request.headers.get("Accept", ""):
        import json

        body = json.dumps({"errors": {"detail": [message]}})
        return HttpResponse(body, status=429, content_type="application/json")
    html = render_to_string("account/lockout.html", {"message": message}, request=request)
    return HttpResponse(html, status=429)


class ApiTokenAuthentication(authentication.BaseAuthentication):
    """`Authorization: Token smp_<lookup>_<secret>`; failures feed the same lockout as logins."""

    keyword = "Token"

    def authenticate_header(self, request):
        return self.keyword

    def authenticate(self, request):
        from crm.models import ApiToken

        header = authentication.get_authorization_header(request).split()
        if not header or header[0].lower() != self.keyword.lower().encode():
            return None
        if len(header) != 2:
            raise exceptions.AuthenticationFailed(_("Invalid token header."))
        try:
            key = header[1].decode()
        except UnicodeError:
            raise exceptions.AuthenticationFailed(_("Invalid token header.")) from None
        prefix, _sep, rest = key.partition("_")
        lookup, _sep2, secret = rest.partition("_")
        credentials = {"username": f"token:{lookup or '?'}"}
        django_request = request._request
        if not AxesProxyHandler.is_allowed(django_request, credentials):
            raise TokenLocked()
        token = None
        if prefix == ApiToken.PREFIX and lookup and secret:
            token = ApiToken.objects.select_related("user").filter(lookup=lookup).first()
        if (
            token is None
            or not hmac.compare_digest(token.key_hash, ApiToken.hash_secret(secret))
            or token.revoked_at is not None
            or not token.user.is_active
        ):
            user_login_failed.send(sender=__name__, credentials=credentials, request=django_request)
            raise exceptions.AuthenticationFailed(_("Invalid or revoked token."))
        now = timezone.now()
        if token.last_used_at is None or (now - token.last_used_at).total_seconds() > 60:
            ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        return token.user, token


class TokenLocked(exceptions.APIException):
    status_code = 429
    default_code = "locked"

    @property
    def default_detail(self):
        return _(LOCKOUT_MESSAGE)

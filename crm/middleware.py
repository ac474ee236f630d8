"""Request-wide rules: session timeouts, the user's language and time zone, required MFA, no-store."""

import time
import zoneinfo
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.http import HttpResponse, JsonResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.cache import add_never_cache_headers
from django.utils.translation import gettext as _
from django_htmx.http import HttpResponseClientRedirect

from crm.models import Role


class SessionTimeoutMiddleware:
    """End a session after SESSION_IDLE_SECONDS without a request (shorter for admins).

    The absolute lifetime is SESSION_COOKIE_AGE, set at login and not extended.
    """

    TOUCH_EVERY = 60  # seconds; avoids a session write on every request

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and hasattr(request, "session"):
            now = int(time.time())
            idle = settings.SESSION_IDLE_SECONDS_ADMIN if user.role == Role.ADMIN else settings.SESSION_IDLE_SECONDS
            last_seen = request.session.get("_last_seen", now)
            if now - last_seen > idle:
                logout(request)
                messages.info(request, _("You were signed out after a period of inactivity."))
                return redirect(f"{reverse('account_login')}?next={request.path}")
            if now - last_seen >= self.TOUCH_EVERY or "_last_seen" not in request.session:
                request.session["_last_seen"] = now
        return self.get_response(request)


class UserPreferencesMiddleware:
    """Use the signed-in user's language and time zone (the language switch stores them)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            if user.language:
                translation.activate(user.language)
                request.LANGUAGE_CODE = user.language
            tz = user.time_zone or settings.TIME_ZONE
            try:
                timezone.activate(zoneinfo.ZoneInfo(tz))
            except (zoneinfo.ZoneInfoNotFoundError, ValueError):
                timezone.deactivate()
        response = self.get_response(request)
        timezone.deactivate()
        return response


MFA_EXEMPT_PREFIXES = ("/accounts/", "/static/", "/i18n/", "/healthz")


def mfa_required(user) -> bool:
    return user.role == Role.ADMIN or user.org().require_mfa_for_all


def has_mfa(user) -> bool:
    from allauth.mfa.models import Authenticator

    if "_has_mfa" not in user.__dict__:
        user.__dict__["_has_mfa"] = Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).exists()
    return user.__dict__["_has_mfa"]


class MfaRequiredMiddleware:
    """Admins (and everyone, when the org says so) set up two-factor sign-in before anything else."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if (
            user is not None
            and user.is_authenticated
            and not request.path.startswith(MFA_EXEMPT_PREFIXES)
            and mfa_required(user)
            and not has_mfa(user)
        ):
            if request.path.startswith("/api/"):
                message = _("Set up two-factor sign-in before using the API.")
                return JsonResponse({"errors": {"detail": [message]}}, status=403)
            if request.htmx and urlsplit(request.htmx.current_url or "").path.startswith(MFA_EXEMPT_PREFIXES):
                # A fragment the set-up (or sign-in) page loads by itself, the bell: nothing. A redirect would
                # load the set-up page again behind the user's back and give it a new secret, so the code
                # from the QR code being scanned would never match.
                return HttpResponse(status=204)
            messages.warning(request, _("Your organisation requires two-factor sign-in. Set it up to continue."))
            if request.htmx:  # an action on a page opened before MFA was required: the whole page goes
                return HttpResponseClientRedirect(reverse("mfa_activate_totp"))
            return redirect("mfa_activate_totp")
        return self.get_response(request)


class NoStoreMiddleware:
    """Pages and API answers for a signed-in user are never stored by browsers or proxies."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        user = getattr(request, "user", None)
        if (user is not None and user.is_authenticated) or request.headers.get("Authorization"):
            add_never_cache_headers(response)
            response["Cache-Control"] = "no-store, private"
        return response

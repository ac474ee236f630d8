"""Ways in: lockout per (username, IP) on login and on API tokens, MFA, sessions."""

from datetime import timedelta

import pytest
from allauth.mfa.totp.internal.auth import format_hotp_value, hotp_value, yield_hotp_counters_from_time
from axes.models import AccessAttempt
from django.test import Client
from django.urls import reverse

from crm import services
from crm.models import OrgSettings
from tests.conftest import activate_totp

PASSWORD = "correct-horse-battery"


def login(email, password, ip="10.0.0.1"):
    client = Client(REMOTE_ADDR=ip)
    return client, client.post(reverse("account_login"), {"login": email, "password": password})


def fail(email, times, ip="10.0.0.1"):
    """Fail `times` times; the fifth failure is answered with the lockout itself."""
    for attempt in range(1, times + 1):
        _client, response = login(email, "wrong-password", ip)
        assert response.status_code == (429 if attempt >= 5 else 200)


def test_correct_password_signs_in(world):
    client, response = login(world.rep_a.email, PASSWORD)
    assert response.status_code == 302
    assert client.get(reverse("home")).status_code == 200


def test_five_failures_lock_that_username_from_that_ip(world):
    fail(world.rep_a.email, 5)
    _client, response = login(world.rep_a.email, PASSWORD)
    assert response.status_code == 429
    assert b"15 minutes" in response.content


def test_lockout_is_per_username_and_ip_not_per_ip_alone(world):
    fail(world.rep_a.email, 5)
    assert login(world.rep_a.email, PASSWORD, ip="10.0.0.2")[1].status_code == 302  # other address
    assert login(world.rep_b.email, PASSWORD)[1].status_code == 302  # colleague behind the same NAT


def test_lockout_ends_after_fifteen_minutes(world):
    fail(world.rep_a.email, 5)
    AccessAttempt.objects.update(attempt_time=AccessAttempt.objects.first().attempt_time - timedelta(minutes=16))
    from axes.models import AccessAttemptExpiration

    for row in AccessAttemptExpiration.objects.all():
        row.expires_at -= timedelta(minutes=16)
        row.save()
    assert login(world.rep_a.email, PASSWORD)[1].status_code == 302


def test_wrong_api_token_five_times_locks_that_token_from_that_ip(world):
    token, key = services.create_api_token(user=world.rep_a, name="sync")
    wrong = f"smp_{token.lookup}_not-the-secret"
    for attempt in range(1, 6):
        response = Client(REMOTE_ADDR="10.0.0.9", HTTP_AUTHORIZATION=f"Token {wrong}").get("/api/v1/me/")
        assert response.status_code == (429 if attempt == 5 else 401)
    locked = Client(REMOTE_ADDR="10.0.0.9", HTTP_AUTHORIZATION=f"Token {key}").get("/api/v1/me/")
    assert locked.status_code == 429
    assert "15 minutes" in locked.json()["errors"]["detail"][0]
    assert Client(REMOTE_ADDR="10.0.0.8", HTTP_AUTHORIZATION=f"Token {key}").get("/api/v1/me/").status_code == 200


def test_admin_without_mfa_is_sent_to_set_it_up(world):
    from tests.factories import UserFactory

    admin = UserFactory(role="admin")
    client = Client()
    client.force_login(admin)
    response = client.get(reverse("home"))
    assert response.status_code == 302 and response["Location"] == reverse("mfa_activate_totp")
    assert client.get("/api/v1/me/").status_code == 403


def test_setting_up_mfa_works_while_the_page_loads_its_fragments(world):
    """The set-up page's own htmx requests (the bell) get nothing (204), not a redirect that would load the
    page again and give it a new secret: the code from the QR code the admin scans still matches."""
    from allauth.mfa.models import Authenticator

    from tests.factories import UserFactory

    admin = UserFactory(role="admin")
    client, _response = login(admin.email, PASSWORD)
    assert client.get(reverse("home"))["Location"] == reverse("mfa_activate_totp")
    client.post(reverse("account_reauthenticate"), {"password": PASSWORD})  # allauth asks before MFA changes
    page = client.get(reverse("mfa_activate_totp"))
    assert page.status_code == 200, page.get("Location")
    secret = page.context["form"].secret
    on_setup_page = {"HX-Request": "true", "HX-Current-URL": f"http://testserver{reverse('mfa_activate_totp')}"}
    assert client.get(reverse("notification_count"), headers=on_setup_page).status_code == 204
    on_a_page = {"HX-Request": "true", "HX-Current-URL": "http://testserver/contacts/"}
    action = client.get(reverse("notification_count"), headers=on_a_page)  # a page opened before MFA was required
    assert action.status_code == 200 and action["HX-Redirect"] == reverse("mfa_activate_totp")
    assert client.get(reverse("home")).status_code == 302  # a page is still sent to set up MFA
    response = client.post(reverse("mfa_activate_totp"), {"code": current_code(secret)})
    assert response.status_code == 302, response.context["form"].errors
    assert Authenticator.objects.filter(user=admin, type=Authenticator.Type.TOTP).exists()
    assert client.get(reverse("home")).status_code == 200


def test_org_can_require_mfa_for_everyone(world, client_for):
    assert client_for(world.rep_a).get(reverse("home")).status_code == 200
    OrgSettings.objects.filter(pk=1).update(require_mfa_for_all=True)
    assert client_for(world.rep_a).get(reverse("home")).status_code == 302


def current_code(secret):
    counter = next(iter(yield_hotp_counters_from_time()))
    return format_hotp_value(hotp_value(secret, counter))


def test_login_with_mfa_asks_for_the_code(world):
    secret = activate_totp(world.rep_a)
    client, response = login(world.rep_a.email, PASSWORD)
    assert response.status_code == 302 and response["Location"] == reverse("mfa_authenticate")
    assert client.get(reverse("home")).status_code == 302  # not signed in yet
    response = client.post(reverse("mfa_authenticate"), {"code": current_code(secret)})
    assert response.status_code == 302
    assert client.get(reverse("home")).status_code == 200


@pytest.mark.parametrize("idle_minutes,signed_in", [(30, True), (61, False)])
def test_idle_session_ends_after_an_hour(world, client_for, idle_minutes, signed_in):
    import time

    client = client_for(world.rep_a)
    session = client.session
    session["_last_seen"] = int(time.time()) - idle_minutes * 60
    session.save()
    assert (client.get(reverse("home")).status_code == 200) is signed_in


def test_deactivated_user_is_signed_out_at_once(world, client_for):
    client = client_for(world.rep_a)
    services.deactivate_user(by=world.admin, user=world.rep_a)
    assert client.get(reverse("home")).status_code == 302

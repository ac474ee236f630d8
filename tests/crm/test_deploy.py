"""Production settings pass Django's deployment checklist with no warnings."""

import os
import subprocess
import sys

from django.conf import settings


def test_check_deploy_is_clean_with_production_settings():
    env = {k: v for k, v in os.environ.items() if k not in ("DEBUG", "CRM_TESTING")}
    env.update(DEBUG="0", CRM_TESTING="0", SECRET_KEY="k3y-" + "abcdefghij0123456789" * 3,
               ALLOWED_HOSTS="crm.example.com", CSRF_TRUSTED_ORIGINS="https://crm.example.com")
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=settings.BASE_DIR, env=env, capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_production_refuses_to_start_without_a_secret_key():
    env = {k: v for k, v in os.environ.items() if k not in ("DEBUG", "CRM_TESTING", "SECRET_KEY")}
    env.update(DEBUG="0", CRM_TESTING="0")
    result = subprocess.run([sys.executable, "manage.py", "check"], cwd=settings.BASE_DIR, env=env,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode != 0 and "SECRET_KEY" in result.stderr

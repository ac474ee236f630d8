"""Sampark settings: one module, configured from the environment (12-factor).

Every variable is documented in `.env.example`. Without DATABASE_URL / REDIS_URL
the embedded PostgreSQL and Valkey under `.local/` are started (see crm/embedded.py),
so `make run` and `make test` work on a machine with neither service.
"""

import os
import sys
from datetime import timedelta
from pathlib import Path

import environ
from celery.schedules import crontab
from django.utils.csp import CSP
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

DEBUG = env.bool("DEBUG", default=False)
TESTING = env.bool("CRM_TESTING", default="pytest" in sys.modules)

SECRET_KEY = env.str("SECRET_KEY", default="")
if not SECRET_KEY:
    if not (DEBUG or TESTING):
        from django.core.exceptions import ImproperlyConfigured

        raise ImproperlyConfigured("Set SECRET_KEY (see .env.example); only DEBUG=1 runs without one.")
    SECRET_KEY = "dev-only-" + "x" * 60  # never used with DEBUG off

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"] if DEBUG or TESTING else [])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

# --- Services -----------------------------------------------------------------------------------
if not os.environ.get("DATABASE_URL") or not os.environ.get("REDIS_URL"):
    from crm import embedded

    embedded.ensure_services(BASE_DIR / ".local")  # sets DATABASE_URL / REDIS_URL for children too

DATABASES = {"default": env.db("DATABASE_URL")}
DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=600)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DATABASES["default"]["ATOMIC_REQUESTS"] = False
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = env.str("REDIS_URL")
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": REDIS_URL,
        "KEY_PREFIX": env.str(
            "CACHE_KEY_PREFIX",
            default="sampark-test-" + os.environ.get("PYTEST_XDIST_WORKER", "main") if TESTING else "sampark",
        ),
        "TIMEOUT": 300,
    }
}

# --- Apps ---------------------------------------------------------------------------------------
INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django.contrib.postgres",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_htmx",
    "allauth",
    "allauth.account",
    "allauth.mfa",
    "axes",
    "pgtrigger",
    "pghistory",
    "crm",
    "contacts",
    "sales",
    "support",
    "analytics",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "crm.middleware.UserPreferencesMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "crm.middleware.SessionTimeoutMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "crm.middleware.MfaRequiredMiddleware",
    "crm.middleware.NoStoreMiddleware",
    "pghistory.middleware.HistoryMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "crm.urls"
WSGI_APPLICATION = "crm.wsgi.application"
AUTH_USER_MODEL = "crm.User"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.template.context_processors.tz",
                "django.template.context_processors.csp",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "crm.context_processors.shell",
            ],
        },
    }
]

# --- Auth, MFA, lockout -------------------------------------------------------------------------
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",  # first: refuses locked (username, IP) pairs
    "allauth.account.auth_backends.AuthenticationBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 12}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
if TESTING:
    PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # speed only; never in prod

LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "account_login"

ACCOUNT_ADAPTER = "crm.auth.AccountAdapter"
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_EMAIL_VERIFICATION = "none"
ACCOUNT_LOGOUT_ON_PASSWORD_CHANGE = False
ACCOUNT_SESSION_REMEMBER = False
ACCOUNT_LOGIN_ON_PASSWORD_RESET = False
ACCOUNT_PASSWORD_RESET_BY_CODE_ENABLED = False
ACCOUNT_PREVENT_ENUMERATION = True
# Lockout per (username, IP) is django-axes' job; allauth keeps a wide per-IP cap and the
# per-account ceiling of 100 failures an hour (ASVS 2.2.1) against spraying from many IPs.
ACCOUNT_RATE_LIMITS = {
    "login_failed": "30/m/ip,100/h/key",
    "reset_password": "20/m/ip,5/m/key",
    "reset_password_from_key": "20/m/ip",
}
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes"]
MFA_TOTP_ISSUER = env.str("MFA_TOTP_ISSUER", default="Sampark CRM")

AXES_FAILURE_LIMIT = 5
AXES_COOLOFF_TIME = timedelta(minutes=15)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_USE_ATTEMPT_EXPIRATION = True
AXES_USERNAME_CALLABLE = "crm.auth.axes_username"
AXES_LOCKOUT_CALLABLE = "crm.auth.lockout_response"
AXES_CLIENT_IP_CALLABLE = "crm.auth.client_ip"
AXES_VERBOSE = False

# Sessions: 60 min idle (30 for admins), 12 h absolute (see crm.middleware.SessionTimeoutMiddleware).
SESSION_COOKIE_AGE = 12 * 3600
SESSION_IDLE_SECONDS = env.int("SESSION_IDLE_SECONDS", default=3600)
SESSION_IDLE_SECONDS_ADMIN = env.int("SESSION_IDLE_SECONDS_ADMIN", default=1800)
SESSION_ENGINE = "django.contrib.sessions.backends.db"

# --- Security headers ---------------------------------------------------------------------------
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if env.bool("BEHIND_TLS_PROXY", default=False) else None
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=not (DEBUG or TESTING))
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0 if DEBUG or TESTING else 31_536_000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=True)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = env.bool("SECURE_COOKIES", default=not (DEBUG or TESTING))
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = CSRF_COOKIE_SAMESITE = "Lax"
if SESSION_COOKIE_SECURE:
    SESSION_COOKIE_NAME = "__Host-sessionid"
    CSRF_COOKIE_NAME = "__Host-csrftoken"
X_FRAME_OPTIONS = "DENY"
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF, CSP.NONCE],
    "style-src": [CSP.SELF],
    "img-src": [CSP.SELF, "data:"],
    "font-src": [CSP.SELF],
    "connect-src": [CSP.SELF],
    "object-src": [CSP.NONE],
    "base-uri": [CSP.NONE],
    "form-action": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
}

# --- I18N ---------------------------------------------------------------------------------------
LANGUAGE_CODE = env.str("LANGUAGE_CODE", default="en")
LANGUAGES = [("en", _("English")), ("bn", _("Bengali"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = env.str("TIME_ZONE", default="Asia/Dhaka")
USE_I18N = True
USE_TZ = True
FORMAT_MODULE_PATH = ["crm.formats"]
DEFAULT_CURRENCY = env.str("DEFAULT_CURRENCY", default="BDT")

# --- Static -------------------------------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = env.path("STATIC_ROOT", default=BASE_DIR / ".local" / "staticfiles")
if DEBUG or TESTING:
    Path(STATIC_ROOT).mkdir(parents=True, exist_ok=True)  # whitenoise warns on every request without it
    WHITENOISE_USE_FINDERS = True
STATICFILES_DIRS = [BASE_DIR / "static"]
if (BASE_DIR / "node_modules").is_dir():
    STATICFILES_DIRS.append(("vendor", BASE_DIR / "node_modules"))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG or TESTING
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}
MEDIA_ROOT = env.path("MEDIA_ROOT", default=BASE_DIR / ".local" / "media")

_mail = env.email_url("EMAIL_URL", default="consolemail://" if DEBUG or TESTING else "smtp://localhost:25")
_mail_options = {
    "host": _mail.get("EMAIL_HOST"),
    "port": _mail.get("EMAIL_PORT"),
    "username": _mail.get("EMAIL_HOST_USER"),
    "password": _mail.get("EMAIL_HOST_PASSWORD"),
    "use_tls": _mail.get("EMAIL_USE_TLS"),
    "use_ssl": _mail.get("EMAIL_USE_SSL"),
}
MAILERS = {
    "default": {
        "BACKEND": _mail["EMAIL_BACKEND"],
        "OPTIONS": {k: v for k, v in _mail_options.items() if v} if "smtp" in _mail["EMAIL_BACKEND"] else {},
    }
}
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="Sampark CRM <noreply@localhost>")

# --- API ----------------------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "crm.auth.ApiTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PAGINATION_CLASS": "crm.rest.PageNumberPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_FILTER_BACKENDS": [
        "django_filters.rest_framework.DjangoFilterBackend",
        "rest_framework.filters.SearchFilter",
        "rest_framework.filters.OrderingFilter",
    ],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_METADATA_CLASS": None,  # OPTIONS must not list related-field choices
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "crm.rest.exception_handler",
    "DEFAULT_THROTTLE_CLASSES": ["rest_framework.throttling.UserRateThrottle"],
    "DEFAULT_THROTTLE_RATES": {"user": env.str("API_RATE_PER_USER", default="1200/min")},
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Sampark CRM API",
    "DESCRIPTION": "Contacts, companies, deals, tickets. Errors: {\"errors\": {field: [messages]}}.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "ENUM_NAME_OVERRIDES": {
        "LanguageEnum": LANGUAGES,  # users and contacts share the language choices
        # several records have a `status`: each its own enum name
        "OrderStatusEnum": "sales.models.orders.OrderStatus",
        "InvoiceStatusEnum": "sales.models.orders.InvoiceStatus",
        "CampaignMemberStatusEnum": "sales.models.campaigns.MemberStatus",
        "ScoreRunStatusEnum": "sales.models.scoring.RunStatus",
        "TicketStatusEnum": "support.models.TicketStatus",
        "TicketPriorityEnum": "support.models.TicketPriority",
        "TicketChannelEnum": "support.models.TicketChannel",
        "TicketTypeEnum": "support.models.TicketType",
        "TicketMessageKindEnum": "support.models.MessageKind",
    },
}

# --- Celery -------------------------------------------------------------------------------------
CELERY_TIMEZONE = TIME_ZONE  # crontab entries are in the organisation's time
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default=REDIS_URL)
CELERY_RESULT_BACKEND = env.str("CELERY_RESULT_BACKEND", default=REDIS_URL)
# Tests use a queue per pytest-xdist worker, so a test worker only sees its own database's messages.
CELERY_TASK_DEFAULT_QUEUE = env.str(
    "CELERY_QUEUE", default="sampark-test-" + os.environ.get("PYTEST_XDIST_WORKER", "main") if TESTING else "sampark"
)
CELERY_TASK_SOFT_TIME_LIMIT = 240
CELERY_TASK_TIME_LIMIT = 300
CELERY_VISIBILITY_TIMEOUT = 1800  # above the longest hard limit, countdown and retry backoff
CELERY_RETRY_BACKOFF_MAX = 300
OUTBOX_RETRY_AFTER = timedelta(seconds=env.int("OUTBOX_RETRY_AFTER", default=CELERY_VISIBILITY_TIMEOUT + 60))
CELERY_BEAT_SCHEDULE = {
    "heartbeat": {"task": "crm.tasks.heartbeat", "schedule": 30.0},
    "relay-outbox": {"task": "crm.tasks.relay_outbox", "schedule": 60.0},
    "contacts-purge-trash": {"task": "contacts.tasks.purge_trash", "schedule": crontab(hour=3, minute=15)},
    "contacts-requeue-stuck-imports": {"task": "contacts.tasks.requeue_stuck_imports", "schedule": 300.0},
    "sales-send-task-reminders": {"task": "sales.tasks.send_task_reminders", "schedule": 60.0},
    "sales-mark-overdue-invoices": {"task": "sales.tasks.mark_overdue_invoices", "schedule": crontab(hour=0, minute=10)},
    "crm-send-notification-emails": {"task": "crm.tasks.send_notification_emails", "schedule": 120.0},
    "sales-rescore-dirty-contacts": {"task": "sales.tasks.rescore_dirty_contacts", "schedule": 10.0},
    "sales-nightly-scores": {"task": "sales.tasks.nightly_scores", "schedule": crontab(hour=2, minute=30)},
    "support-watch-sla": {"task": "support.tasks.watch_sla", "schedule": 60.0},
    "support-assign-waiting": {"task": "support.tasks.assign_waiting_tickets", "schedule": 60.0},
    "support-process-pending-inbound": {"task": "support.tasks.process_pending_inbound", "schedule": 60.0},
    "support-auto-close": {"task": "support.tasks.auto_close_solved", "schedule": crontab(minute=20)},
}
WORKER_HEARTBEAT_STALE_AFTER = timedelta(seconds=120)

# --- Logging ------------------------------------------------------------------------------------
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {"axes": {"level": "WARNING"}, "django.security": {"level": "INFO"}},
}

CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SERIALIZER = CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_RESULT_EXPIRES = 3600
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": CELERY_VISIBILITY_TIMEOUT}
CELERY_RESULT_BACKEND_TRANSPORT_OPTIONS = {"visibility_timeout": CELERY_VISIBILITY_TIMEOUT}
CELERY_WORKER_SOFT_SHUTDOWN_TIMEOUT = 30
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TASK_PUBLISH_RETRY = False  # the outbox retries; a request must not hang on a dead broker
CELERY_BEAT_SCHEDULE_FILENAME = str(BASE_DIR / ".local" / "celerybeat-schedule")
SITE_URL = env.str("SITE_URL", default="http://127.0.0.1:8000")
# Support desk: the inbound mail webhook's bearer secret (empty: the endpoint is off) and the From of customer mail
# (its domain names our Message-IDs, so replies thread back into their tickets).
SUPPORT_INBOUND_SECRET = env.str("SUPPORT_INBOUND_SECRET", default="")
# Lead scoring: how many chunks a full recompute scores at once (each on its own database connection).
SCORING_PARALLEL = env.int("SCORING_PARALLEL", default=2)
SUPPORT_FROM_EMAIL = env.str("SUPPORT_FROM_EMAIL", default=DEFAULT_FROM_EMAIL)

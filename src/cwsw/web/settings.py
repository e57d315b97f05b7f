"""Django settings for the cwsw web app.

Everything comes from the environment through :class:`cwsw.settings.Settings` (12-factor, as
find-moj-data does): nothing here is secret and nothing needs editing per deployment.

- ``CWSW_HOME``: where state lives (SQLite app database, the generated secret key).
- ``DATABASE_URL``: ``sqlite:////abs/path`` (default ``<home>/app.sqlite3``) or ``postgresql://``.
- ``CWSW_SECRET_KEY``: if empty, a random key is generated once into ``<home>/secret_key`` (0600).
- ``CWSW_DEBUG=1``: Django debug mode (never in production).
- ``CWSW_ALLOWED_HOSTS``: comma-separated host names (default ``127.0.0.1,localhost``).
- ``CWSW_HTTPS=1``: served over HTTPS (secure cookies, HSTS, trust ``X-Forwarded-Proto``).
- ``CWSW_GOVUK_FRONTEND_DIR``: GOV.UK Frontend's ``dist/govuk`` folder (default: the npm one).
- ``CWSW_REQUIRE_TOTP_FOR_CHILD_LEVEL``: on by default, child-level roles and administrators must
  set up a TOTP second factor before any page; ``0`` makes it optional, for a demonstration
  only (ADR 0015).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

from cwsw.settings import SettingError, Settings
from cwsw.web.database import parse_database_url
from cwsw.web.keys import load_or_create_secret_key

try:
    CWSW = Settings.from_env()
except SettingError as error:  # a bad value stops the app with what to fix, as the CLI does
    raise ImproperlyConfigured(str(error)) from None

BASE_DIR = Path(__file__).resolve().parent
REPO_ROOT = BASE_DIR.parents[2]

SECRET_KEY = load_or_create_secret_key(CWSW.home, CWSW.secret_key)
# The key of children's pseudonymous keys (children/keys.py): separate from SECRET_KEY, so
# rotating Django's key does not change every child's key in URLs and the audit log.
PSEUDONYM_KEY = load_or_create_secret_key(CWSW.home, CWSW.pseudonym_key, name="pseudonym_key")
DEBUG = CWSW.debug
ALLOWED_HOSTS = list(CWSW.allowed_hosts)
HTTPS = CWSW.https

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    # WhiteNoise serves static files in development too (same headers as production).
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "axes",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "rules.apps.AutodiscoverRulesConfig",
    "cwsw.web.audit",
    "cwsw.web.accounts",
    "cwsw.web.children",
    "cwsw.web.data",
    "cwsw.web.insight",
]
AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    # Lockout first: a locked account is refused before its password is checked.
    "axes.backends.AxesStandaloneBackend",
    # Object-level permissions (accounts/rules.py), then passwords.
    "rules.permissions.ObjectPermissionBackend",
    "django.contrib.auth.backends.ModelBackend",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "cwsw.web.middleware.ContentSecurityPolicyMiddleware",
    "cwsw.web.middleware.StaticFilesMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # request.user.is_verified(): has this session passed the TOTP second factor (django-otp).
    "django_otp.middleware.OTPMiddleware",
    # Every view needs a signed-in user unless it is marked @login_not_required (the login page).
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    "cwsw.web.middleware.SessionLifetimeMiddleware",
    # Default deny: a view without a declared access rule is refused (cwsw.web.access).
    "cwsw.web.access.DefaultDenyMiddleware",
    # Then the steps after the password: TOTP code, one-time password change, TOTP set-up.
    "cwsw.web.accounts.second_factor.SignInStepsMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Account lockout after repeated failed sign-ins (django-axes); last, as axes asks.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "cwsw.web.urls"
WSGI_APPLICATION = "cwsw.web.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "cwsw.web.context_processors.service",
            ],
        },
    },
]

DATABASES = {"default": parse_database_url(CWSW.app_database_url)}
if test_database := CWSW.test_database_name:
    # The test run's own database on a shared PostgreSQL server (tests/web/test_postgres.py).
    DATABASES["default"]["TEST"] = {"NAME": test_database}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "insight:dashboard"
LOGOUT_REDIRECT_URL = "accounts:login"

LANGUAGE_CODE = "en-gb"
TIME_ZONE = "Europe/London"
USE_I18N = False
USE_TZ = True

# Static files: GOV.UK Frontend straight from node_modules, served by WhiteNoise from the finders
# (no collectstatic, no CDN: deployments run on closed networks).
GOVUK_FRONTEND_DIR = CWSW.govuk_frontend_dir
STATIC_URL = "/static/"
STATICFILES_DIRS = [BASE_DIR / "static", ("govuk", GOVUK_FRONTEND_DIR)]
WHITENOISE_USE_FINDERS = True

# Security defaults.
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
# Sessions end after 30 idle minutes (each request renews the expiry) and 8 hours after
# signing in whatever happens (middleware.SessionLifetimeMiddleware), and when the browser closes.
SESSION_COOKIE_AGE = 30 * 60
SESSION_SAVE_EVERY_REQUEST = True
SESSION_ABSOLUTE_AGE = 8 * 60 * 60
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_NAME = "__Host-cwsw-session" if HTTPS else "cwsw-session"
CSRF_COOKIE_NAME = "__Host-cwsw-csrf" if HTTPS else "cwsw-csrf"
CSRF_COOKIE_HTTPONLY = True
SESSION_COOKIE_SECURE = HTTPS
CSRF_COOKIE_SECURE = HTTPS
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
if HTTPS:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = True
    SECURE_HSTS_SECONDS = 365 * 24 * 60 * 60
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
# Request size limits: no page takes uploads yet, so any body over 1 MB is refused (400).
DATA_UPLOAD_MAX_MEMORY_SIZE = 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 1024 * 1024
DATA_UPLOAD_MAX_NUMBER_FIELDS = 200

# Account lockout (django-axes 8; ADR 0015): 5 failures for an account lock it for 30 minutes,
# whatever browser or address they came from. An address is locked after 20 failures across
# any usernames (a council office shares one address, so more than one person's mistakes;
# one address can then lock at most four accounts in 30 minutes). The browser (User-Agent) is
# not a parameter: it is the client's to choose, so it cannot be what a lock depends on.
# The handler (accounts/lockout.py) counts the two parameters against their own limits and
# clears only the account's failures on a successful sign-in, never the address's.
AXES_FAILURE_LIMIT = 5
AXES_ADDRESS_FAILURE_LIMIT = 20
AXES_COOLOFF_TIME = dt.timedelta(minutes=30)
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_HANDLER = "cwsw.web.accounts.lockout.AccountLockoutHandler"
# Usernames are counted as they are stored (NFKC, case-folded): "Analyst" is "analyst".
AXES_USERNAME_CALLABLE = "cwsw.web.accounts.lockout.username_of"
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "accounts/locked.html"
AXES_VERBOSE = False  # axes would log what was typed as a username
AXES_IPWARE_PROXY_COUNT = 1 if HTTPS else 0
# Wrong TOTP codes count as failed sign-ins too (accounts/second_factor.py): never store them.
AXES_SENSITIVE_PARAMETERS = ["username", "ip_address", "code", "recovery_code"]

# The TOTP second factor (django-otp). Each wrong code also doubles the wait before the device
# checks another (1 s, 2 s, 4 s, ...), kept on the device across sign-ins.
# Required by default (ADR 0015); CWSW_REQUIRE_TOTP_FOR_CHILD_LEVEL=0 is for demonstrations.
REQUIRE_TOTP_FOR_CHILD_LEVEL = CWSW.require_totp_for_child_level
OTP_TOTP_ISSUER = "CWSW"
OTP_TOTP_THROTTLE_FACTOR = 1
# Recovery codes (accounts/recovery.py): how many are made, each usable once in place of a code.
RECOVERY_CODE_COUNT = 10

CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self'",
        "font-src 'self'",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)

# Logging: one line per event on stderr. Request bodies are never logged (no handler formats
# the request, and the mail_admins handler, which would include POST data, is not configured).
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "loggers": {
        "django": {"handlers": ["console"], "level": "INFO", "propagate": False},
        "django.request": {"handlers": ["console"], "level": "WARNING", "propagate": False},
        "django.server": {"handlers": ["console"], "level": "INFO", "propagate": False},
        "cwsw": {"handlers": ["console"], "level": "INFO", "propagate": False},
        "axes": {"handlers": ["console"], "level": "WARNING", "propagate": False},
    },
}

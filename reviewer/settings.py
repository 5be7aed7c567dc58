"""Settings for the prediction reviewer, read from the environment."""

import os
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from reviewer.env import env_bool, env_float, env_list, env_str

BASE_DIR = Path(__file__).resolve().parent.parent

DEBUG = env_bool("DEBUG", default=False)

SECRET_KEY = env_str("SECRET_KEY")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "SECRET_KEY is not set. Set it to a long random string, or set "
            "DEBUG=true for local development only."
        )
    SECRET_KEY = "django-insecure-local-development-only"  # noqa: S105

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django_htmx",
    # Before django_tasks_db, so that its db_worker command is the project's own.
    "reviewer",
    "django_tasks",
    "django_tasks_db",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "reviewer.security.IdleSessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "reviewer.security.TrustedProxyUserMiddleware",
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "reviewer.security.ContentSecurityPolicyMiddleware",
]

ROOT_URLCONF = "reviewer.urls"
WSGI_APPLICATION = "reviewer.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.config(
        env="DATABASE_URL",
        default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}",
        conn_max_age=60,
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Several processes share the file (web, worker): take the write lock when a
    # transaction starts and wait for it, rather than fail halfway through.
    DATABASES["default"]["OPTIONS"] = {"transaction_mode": "IMMEDIATE", "timeout": 20}
    # Tests run workers in threads; an in-memory database cannot wait for a lock.
    DATABASES["default"]["TEST"] = {
        "NAME": BASE_DIR / f".test-db-{os.getpid()}.sqlite3"
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": f"django.contrib.auth.password_validation.{name}"}
    for name in (
        "UserAttributeSimilarityValidator",
        "MinimumLengthValidator",
        "CommonPasswordValidator",
        "NumericPasswordValidator",
    )
]
# Single sign-on behind an authenticating proxy (Azure App Service authentication,
# oauth2-proxy): the header naming the user, and the proxies allowed to send it.
SSO_HEADER = env_str("SSO_HEADER")
SSO_TRUSTED_PROXIES = env_list("SSO_TRUSTED_PROXIES")
# Reverse proxies in front of the app, whose X-Forwarded-For names the client: login
# throttling counts that address instead of the proxy's.
TRUSTED_PROXIES = env_list("TRUSTED_PROXIES")
AUTHENTICATION_BACKENDS = [
    "reviewer.auth.ReviewerBackend",
    *(["django.contrib.auth.backends.RemoteUserBackend"] if SSO_HEADER else []),
]
# Failed logins allowed per username or address before a pause.
LOGIN_FAILURE_LIMIT = int(env_float("LOGIN_FAILURE_LIMIT", 5, minimum=1))
LOGIN_FAILURE_WINDOW_MINUTES = env_float("LOGIN_FAILURE_WINDOW_MINUTES", 15, minimum=1)
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "reviewer:project-list"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en-gb"
TIME_ZONE = "UTC"
USE_I18N = False
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}

TASKS = {
    "default": {
        "BACKEND": env_str("TASKS_BACKEND", "django_tasks_db.DatabaseBackend"),
    }
}

CUSTOMVISION_ENDPOINT = env_str("CUSTOMVISION_ENDPOINT", "http://127.0.0.1:5010")
CUSTOMVISION_TRAINING_KEY = env_str("CUSTOMVISION_TRAINING_KEY")
# Besides the service's own host, the image proxy fetches signed links only from
# these hosts ("*." matches subdomains).
IMAGE_HOSTS = env_list("IMAGE_HOSTS", "*.blob.core.windows.net")
CUSTOMVISION_CONNECT_TIMEOUT = env_float("CUSTOMVISION_CONNECT_TIMEOUT", 3.05)
CUSTOMVISION_READ_TIMEOUT = env_float("CUSTOMVISION_READ_TIMEOUT", 30.0)

# The share of bulk-accepted items flagged for a lead to audit.
AUDIT_SAMPLE_SHARE = env_float("AUDIT_SAMPLE_SHARE", 0.05)

# Promotion: calls a second to CreateImagesFromPredictions, how long a worker's
# claim on a batch lasts, and whether promoted predictions leave the service's store.
PROMOTION_RATE = env_float("PROMOTION_RATE", 10.0, minimum=0.1)
PROMOTION_LEASE_SECONDS = env_float("PROMOTION_LEASE_SECONDS", 300.0, minimum=5)
PROMOTION_DELETE_PREDICTIONS = env_bool("PROMOTION_DELETE_PREDICTIONS", default=False)

# Behind TLS in production; local development stays on plain HTTP.
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", default=not DEBUG)
SESSION_COOKIE_SECURE = not DEBUG
CSRF_COOKIE_SECURE = not DEBUG
SECURE_HSTS_SECONDS = 0 if DEBUG else 31_536_000
SECURE_HSTS_INCLUDE_SUBDOMAINS = not DEBUG
SECURE_HSTS_PRELOAD = not DEBUG
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_REFERRER_POLICY = "same-origin"
SESSION_COOKIE_HTTPONLY = True
# htmx sends the token from the page (hx-headers), so no script needs the cookie.
CSRF_COOKIE_HTTPONLY = True
# Sessions end after this long without a request (to within SESSION_REFRESH_SECONDS).
SESSION_COOKIE_AGE = int(env_float("SESSION_IDLE_MINUTES", 480, minimum=1) * 60)
SESSION_REFRESH_SECONDS = 300
X_FRAME_OPTIONS = "DENY"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
    },
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": "plain"},
    },
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    # urllib3 logs whole URLs at DEBUG, signed links' signatures included.
    "loggers": {"urllib3": {"level": "WARNING"}},
}

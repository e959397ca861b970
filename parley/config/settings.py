"""Settings read from the environment (PRODUCT.md, "Configuration"), with safe defaults."""

import os
import secrets
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import dj_database_url

BASE_DIR = Path(__file__).resolve().parent.parent
DATA_DIR = Path(os.environ.get("PARLEY_DATA_DIR", "data")).resolve()
DATA_DIR.mkdir(parents=True, exist_ok=True)


def _secret_key() -> str:
    """Generated once per installation and kept in the data dir, never in the code."""
    path = DATA_DIR / "secret_key"
    if not path.exists():
        # Written whole under a name of its own, then linked into place: a process starting
        # at the same time never reads a half-written (empty) key, and the first link wins.
        draft = path.with_name(f".secret_key.{os.getpid()}.{secrets.token_hex(4)}")
        fd = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(secrets.token_urlsafe(50))
        try:
            os.link(draft, path)
        except FileExistsError:
            pass
        finally:
            draft.unlink()
    return path.read_text().strip()


SECRET_KEY = _secret_key()
DEBUG = os.environ.get("PARLEY_DEBUG") == "1"

PUBLIC_URL = os.environ.get("PARLEY_PUBLIC_URL", "").rstrip("/")
_hosts = os.environ.get("ALLOWED_HOSTS", "127.0.0.1,localhost")
ALLOWED_HOSTS = [h.strip() for h in _hosts.split(",") if h.strip()]
if PUBLIC_URL and (public_host := urlsplit(PUBLIC_URL).hostname):
    ALLOWED_HOSTS.append(public_host)
CSRF_TRUSTED_ORIGINS = [PUBLIC_URL] if PUBLIC_URL else []

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "ninja",
    "django_tasks",
    "django_tasks_db",
    "parley.core",
    "parley.sites",
    "parley.articles",
    "parley.comments",
    "parley.realtime",
    "parley.moderation",
    "parley.embed",
    "parley.notifications",
    "parley.accounts",
    "parley.funding",
    "parley.imports",
]

MIDDLEWARE = [
    # Outermost: it times, counts and logs what every other middleware does too.
    "parley.core.middleware.RequestMiddleware",
    # Next, so that every response gets the security headers, whichever layer answered.
    "parley.core.security.SecurityHeadersMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "parley.embed.middleware.CorsMiddleware",
    "parley.core.middleware.CrossSiteCookieMiddleware",
    "parley.core.middleware.ApiErrorShapeMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.middleware.gzip.GZipMiddleware",
    # An ETag on every GET that has none of its own (counts, a comment, a campaign, pages),
    # and 304 to a client that has the same.
    "django.middleware.http.ConditionalGetMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "parley.core.middleware.ParleyErrorMiddleware",
]

ROOT_URLCONF = "parley.config.urls"
WSGI_APPLICATION = "parley.config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
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

_sqlite_path = DATA_DIR / "parley.sqlite3"
DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL", f"sqlite:///{_sqlite_path}"), conn_max_age=600
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # psycopg's pool, one per process: a request takes a connection and gives it back when
    # it ends, instead of opening one (a few ms) or keeping one per thread forever. Each
    # connection is checked before it is handed out, so one that PostgreSQL closed (a
    # restart, pg_terminate_backend) is replaced, not given to a request. At most
    # PARLEY_DB_POOL_SIZE per process (granian runs 4 request threads per worker), one kept
    # open when idle; docs/deploy.md sizes them against PostgreSQL's max_connections.
    _pool_size = int(os.environ.get("PARLEY_DB_POOL_SIZE", "4"))
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
    DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {
        "min_size": 1,
        "max_size": _pool_size,
        # A request waits this long for a free connection, then fails (a 500) rather
        # than hang until the proxy gives up.
        "timeout": 10,
    }
elif DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["OPTIONS"] = {
        # Writers queue on BEGIN IMMEDIATE instead of failing on a lock upgrade.
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": (
            "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;"
        ),
    }
    DATABASES["default"]["TEST"] = {"NAME": str(DATA_DIR / "test.sqlite3")}

REDIS_URL = os.environ.get("REDIS_URL", "")
# "default" holds what every app process must agree on (thread generations, rate limits):
# Redis when configured, else a SQLite file in the data dir, which all workers of one server
# share (with atomic add and incr, unlike Django's file cache: core/sqlitecache.py).
# "rendered" holds rendered thread pages, per process, keyed by the thread's generation, so
# a warm read costs one small shared look-up and no database work.
CACHES: dict[str, dict[str, Any]] = {
    "default": (
        {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}
        if REDIS_URL
        else {
            "BACKEND": "parley.core.sqlitecache.SQLiteCache",
            "LOCATION": str(DATA_DIR / "cache.sqlite3"),
        }
    ),
    "rendered": {
        "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
        "LOCATION": "parley-rendered",
        "OPTIONS": {"MAX_ENTRIES": 2000},
    },
}

TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
# A task still marked running whose worker has not been heard of for this long was left by a
# worker that died, and is run again (core/taskworker.py). Workers say they are alive every
# quarter of it.
PARLEY_TASK_LEASE_SECONDS = int(os.environ.get("PARLEY_TASK_LEASE_SECONDS", "60"))

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]

LANGUAGE_CODE = "en"
LANGUAGES = [
    ("en", "English"),
    ("de", "Deutsch"),
    ("es", "Español"),
    ("ru", "Русский"),
    ("ar", "العربية"),
]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
# Serve app static files straight from the package: `pip install` then run, no collectstatic.
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = False
MEDIA_URL = "/media/"
MEDIA_ROOT = DATA_DIR / "media"

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
LOGIN_URL = "/admin/login/"
CSRF_FAILURE_VIEW = "parley.core.views.csrf_failure"

# A JSON write is small; a larger request is refused before it is parsed (answered 413).
DATA_UPLOAD_MAX_MEMORY_SIZE = 256 * 1024

# Where browsers open a thread's live stream (set by `parley serve`; see README).
PARLEY_STREAM_URL = os.environ.get("PARLEY_STREAM_URL", "")

# How many reverse proxies in front of Parley append to X-Forwarded-For (0: none, trust
# only the connection's address).
PARLEY_PROXY_COUNT = int(os.environ.get("PARLEY_PROXY_COUNT", "0"))
if PARLEY_PROXY_COUNT:
    # The proxy that terminated TLS says so (docs/deploy.md's nginx sets it).
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# Security headers (Django's SecurityMiddleware and parley.core.security). Readers reach
# Parley over HTTPS when its public URL says so: then browsers are told to come back only
# that way, and no cookie of Parley's travels over plain HTTP.
_PUBLIC_HTTPS = urlsplit(PUBLIC_URL).scheme == "https"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = _PUBLIC_HTTPS
PARLEY_HSTS_SECONDS = 365 * 24 * 3600 if _PUBLIC_HTTPS else 0
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
# Nothing frames Parley: the widget is a script on the publisher's page, not an iframe.
X_FRAME_OPTIONS = "DENY"
PARLEY_PERMISSIONS_POLICY = (
    "accelerometer=(), browsing-topics=(), camera=(), geolocation=(), gyroscope=(), "
    "magnetometer=(), microphone=(), payment=(), usb=()"
)


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}" if parts.scheme and parts.netloc else ""


# The Content-Security-Policy of every page (parley.core.security): scripts and styles only
# from Parley's own files, never inline, never eval. A view widens it for its response only
# (allow_in_policy), as the support page does for Stripe's checkout.
PARLEY_CSP: dict[str, list[str]] = {
    "default-src": ["'self'"],
    "script-src": ["'self'"],
    "style-src": ["'self'"],
    # Staff-written articles may show pictures from other hosts (imported posts); readers'
    # comments never load one (core/markdown.py). data: for the API docs' icons.
    "img-src": ["'self'", "data:", "https:"],
    # The live stream may have an address of its own (PARLEY_STREAM_URL).
    "connect-src": ["'self'", *filter(None, [_origin(PARLEY_STREAM_URL)])],
    "object-src": ["'none'"],
    "base-uri": ["'none'"],
    "form-action": ["'self'"],
    "frame-ancestors": ["'none'"],
}

# "off" disables every limit (benchmarks seeding thousands of comments).
PARLEY_RATE_LIMITS_ENABLED = os.environ.get("PARLEY_RATE_LIMITS", "on") != "off"

# Mail: PARLEY_SMTP_URL (smtp://[user:password@]host:port, smtps:// for TLS from the start,
# ?starttls for STARTTLS); without it every message is written to files in the data dir.
PARLEY_SMTP_URL = os.environ.get("PARLEY_SMTP_URL", "")
if PARLEY_SMTP_URL:
    _smtp = urlsplit(PARLEY_SMTP_URL)
    EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    EMAIL_HOST = _smtp.hostname or "127.0.0.1"
    EMAIL_PORT = _smtp.port or (465 if _smtp.scheme == "smtps" else 25)
    EMAIL_HOST_USER = unquote(_smtp.username or "")
    EMAIL_HOST_PASSWORD = unquote(_smtp.password or "")
    EMAIL_USE_SSL = _smtp.scheme == "smtps"
    EMAIL_USE_TLS = "starttls" in _smtp.query
else:
    EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
    EMAIL_FILE_PATH = str(DATA_DIR / "mail")
# A stalled mail server must not hold a claimed message past its lease.
EMAIL_TIMEOUT = 20
DEFAULT_FROM_EMAIL = os.environ.get(
    "PARLEY_MAIL_FROM", f"Parley <parley@{urlsplit(PUBLIC_URL).hostname or 'localhost'}>"
)
# The outbox: how long a worker holds a claimed message before another may take it over
# (longer than EMAIL_TIMEOUT), and the first retry's delay, doubled on each failure.
PARLEY_OUTBOX_LEASE_SECONDS = int(os.environ.get("PARLEY_OUTBOX_LEASE_SECONDS", "60"))
PARLEY_OUTBOX_RETRY_SECONDS = 60
PARLEY_OUTBOX_MAX_ATTEMPTS = 8
# Instant notifications one address gets per hour; the rest wait for its next digest.
PARLEY_NOTIFY_PER_HOUR = 10
# Daily digests go out at this hour (UTC).
PARLEY_DIGEST_HOUR = int(os.environ.get("PARLEY_DIGEST_HOUR", "7"))

# Stripe: real keys come only from the environment; STRIPE_API_BASE points the client at the
# fake Stripe that the demo and the tests run (parley/funding/fake_stripe.py).
STRIPE_SECRET_KEY = os.environ.get("STRIPE_SECRET_KEY", "")
STRIPE_WEBHOOK_SECRET = os.environ.get("STRIPE_WEBHOOK_SECRET", "")
STRIPE_API_BASE = os.environ.get("STRIPE_API_BASE", "")
# A webhook's signed timestamp may be this far from now, either way (replays, clock skew).
STRIPE_WEBHOOK_TOLERANCE_SECONDS = 300

# /metrics (Prometheus): answered to the loopback address (a Prometheus on the same box, or
# a scrape through a local proxy that PARLEY_PROXY_COUNT counts), and elsewhere only with
# "Authorization: Bearer <PARLEY_METRICS_TOKEN>" when that is set.
PARLEY_METRICS_TOKEN = os.environ.get("PARLEY_METRICS_TOKEN", "")

# Logs go to stderr: PARLEY_LOG_FORMAT=json writes one JSON object per line (for a log
# shipper), "text" (the default) lines for people. PARLEY_ACCESS_LOG=on|off: one line per
# request (default on with json; off with text, where the proxy's access log serves).
PARLEY_LOG_FORMAT = os.environ.get("PARLEY_LOG_FORMAT", "text").lower()
PARLEY_ACCESS_LOG = (
    os.environ.get("PARLEY_ACCESS_LOG", "on" if PARLEY_LOG_FORMAT == "json" else "off") == "on"
)
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"redact": {"()": "parley.core.logs.Redact"}},
    "formatters": {
        "text": {"()": "parley.core.logs.TextFormatter"},
        "json": {"()": "parley.core.logs.JsonFormatter"},
    },
    "handlers": {
        "stderr": {
            "class": "logging.StreamHandler",
            "formatter": "json" if PARLEY_LOG_FORMAT == "json" else "text",
            "filters": ["redact"],
        }
    },
    "root": {"handlers": ["stderr"], "level": "WARNING"},
    "loggers": {
        "parley.access": {"level": "INFO"},
        # Django's "Not Found: …" warnings would repeat the access log's 4xx lines.
        **({"django.request": {"level": "ERROR"}} if PARLEY_ACCESS_LOG else {}),
    },
}

"""Periscope settings: one module, every value from the environment (see .env.example)."""

import os
import re
import secrets
from datetime import timedelta
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent


def env_str(name: str, default: str = "") -> str:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool = False) -> bool:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    if raw.lower() in {"1", "true", "yes", "on"}:
        return True
    if raw.lower() in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"{name} must be true or false, not {raw!r}")


def env_int(name: str, default: int, minimum: int = 0) -> int:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a whole number, not {raw!r}") from None
    if value < minimum:
        raise ImproperlyConfigured(f"{name} must be at least {minimum}, not {value}")
    return value


def env_list(name: str) -> list[str]:
    return [item.strip() for item in os.environ.get(name, "").split(",") if item.strip()]


def env_secret(name: str, fallback_file: Path) -> str:
    """NAME, else the file named by NAME_FILE, else a generated value kept in fallback_file."""
    if value := os.environ.get(name):
        return value
    if path := os.environ.get(f"{name}_FILE"):
        try:
            return Path(path).read_text().strip()
        except OSError as exc:
            raise ImproperlyConfigured(f"{name}_FILE={path} cannot be read: {exc}") from None
    if fallback_file.exists():
        return fallback_file.read_text().strip()
    fallback_file.parent.mkdir(parents=True, exist_ok=True)
    value = secrets.token_urlsafe(48)
    fallback_file.touch(mode=0o600)
    fallback_file.write_text(value)
    return value


def env_optional_secret(name: str) -> str:
    """NAME, else the file named by NAME_FILE, else empty."""
    if value := os.environ.get(name):
        return value
    if path := os.environ.get(f"{name}_FILE"):
        return Path(path).read_text().strip()
    return ""


VAR_DIR = Path(env_str("PERISCOPE_VAR_DIR", str(BASE_DIR / "var")))
DEBUG = env_bool("DJANGO_DEBUG", False)
SECRET_KEY = env_secret("DJANGO_SECRET_KEY", VAR_DIR / "secrets" / "django-secret-key")
# The vault keyring (key-encryption keys and the audit chain key) is only ever read from this
# file, never from the environment; `manage.py vault_keyring create` makes it (mode 0600).
PERISCOPE_VAULT_KEYRING_FILE = Path(
    env_str("PERISCOPE_VAULT_KEYRING_FILE", str(VAR_DIR / "secrets" / "vault-keyring.json"))
)
API_KEY_PEPPER = env_secret("PERISCOPE_API_KEY_PEPPER", VAR_DIR / "secrets" / "api-key-pepper")
ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS") or ["127.0.0.1", "localhost", "[::1]"]
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS")
PUBLIC_URL = env_str("PERISCOPE_PUBLIC_URL").rstrip("/")
# How long a web process trusts an API key it has checked before asking the database again.
PERISCOPE_API_KEY_CACHE_SECONDS = env_int("PERISCOPE_API_KEY_CACHE_SECONDS", 5)

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_htmx",
    "axes",
    "ninja",  # its bundled Swagger UI for /api/docs (no CDN)
    "channels",
    "core",
    "teams_app",
    "sessions_app",
    "personas_app",
    "vaults_app",
    "agents_app",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "teams_app.middleware.CurrentTeamMiddleware",
    # Last, as its documentation asks: turns a lockout into the page that explains it.
    "axes.middleware.AxesMiddleware",
]

# Console sign-in throttling: after PERISCOPE_LOGIN_FAILURE_LIMIT wrong passwords for one
# username, or from one client address, sign-in pauses for PERISCOPE_LOGIN_LOCKOUT_MINUTES.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = env_int("PERISCOPE_LOGIN_FAILURE_LIMIT", 10, minimum=1)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("PERISCOPE_LOGIN_LOCKOUT_MINUTES", 15, minimum=1))
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "teams_app.views.login_locked_out"
# Behind a reverse proxy the client address is in a header the proxy sets (e.g.
# HTTP_X_FORWARDED_FOR); without one, every client would share the proxy's address.
if client_ip_header := env_str("PERISCOPE_CLIENT_IP_HEADER"):
    AXES_IPWARE_META_PRECEDENCE_ORDER = [client_ip_header, "REMOTE_ADDR"]

ROOT_URLCONF = "console.urls"
ASGI_APPLICATION = "console.asgi.application"
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.csp",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "teams_app.context_processors.current_team",
            ],
        },
    },
]


def database_from_url(url: str) -> dict:
    """DATABASE_URL as Django settings, query options (sslmode=require, ...) included."""
    try:
        config = dj_database_url.parse(url, conn_max_age=0)
    except ValueError as exc:
        raise ImproperlyConfigured(f"DATABASE_URL cannot be used: {exc}") from None
    if config["ENGINE"] == "django.db.backends.sqlite3":
        return _sqlite(Path(config["NAME"]))
    if config["ENGINE"] != "django.db.backends.postgresql":
        raise ImproperlyConfigured("DATABASE_URL must be a postgres:// or sqlite:// URL")
    return config


def _sqlite(path: Path) -> dict:
    return {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": path,
        # WAL + immediate transactions: the web views and the embedded worker write concurrently.
        "OPTIONS": {
            "timeout": 20,
            "transaction_mode": "IMMEDIATE",
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        },
        # Per process, so two test runs on one machine never share a file.
        "TEST": {"NAME": VAR_DIR / f"test-{os.getpid()}.sqlite3"},
    }


DATABASE_URL = env_str("DATABASE_URL")
DATABASES = {
    "default": database_from_url(DATABASE_URL)
    if DATABASE_URL
    else _sqlite(VAR_DIR / "periscope.sqlite3")
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = env_str("REDIS_URL")
CHANNEL_LAYER_PREFIX = env_str("PERISCOPE_CHANNEL_PREFIX", "periscope")
if REDIS_URL:
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "core.redis_layer.OneTripRedisChannelLayer",
            "CONFIG": {
                "hosts": [REDIS_URL],
                "prefix": CHANNEL_LAYER_PREFIX,
                "capacity": 500,
                "expiry": 60,
            },
        }
    }
else:
    CHANNEL_LAYERS = {
        "default": {"BACKEND": "channels.layers.InMemoryChannelLayer", "CONFIG": {"capacity": 500}}
    }

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "sessions_app:list"
LOGOUT_REDIRECT_URL = "login"
# Request bodies above this answer 413 (API) or 400 (console forms) before they are read whole.
DATA_UPLOAD_MAX_MEMORY_SIZE = env_int("PERISCOPE_MAX_REQUEST_BYTES", 5 * 1024 * 1024, minimum=1024)
SESSION_COOKIE_AGE = 12 * 3600
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = False
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = VAR_DIR / "static"

MEDIA_ROOT = Path(env_str("PERISCOPE_MEDIA_ROOT", str(VAR_DIR / "media")))
MEDIA_URL = "media/"

from django.utils.csp import CSP  # noqa: E402

SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF, CSP.NONCE],
    "style-src": [CSP.SELF],
    "img-src": [CSP.SELF, "data:", "blob:"],
    "connect-src": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
    "form-action": [CSP.SELF],
    "base-uri": [CSP.NONE],
}
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

# Served over https (PERISCOPE_PUBLIC_URL says so): cookies only travel encrypted, plain http is
# redirected and browsers are told to use https for a year (HSTS). Behind a proxy that ends TLS,
# DJANGO_BEHIND_TLS_PROXY=true trusts its X-Forwarded-Proto header.
HTTPS = PUBLIC_URL.startswith("https://")
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = HTTPS
SECURE_SSL_REDIRECT = env_bool("DJANGO_SECURE_SSL_REDIRECT", HTTPS)
SECURE_HSTS_SECONDS = env_int("DJANGO_HSTS_SECONDS", 365 * 24 * 3600 if HTTPS else 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("DJANGO_HSTS_INCLUDE_SUBDOMAINS", HTTPS)
# The preload flag only matters once the domain is submitted to the browsers' preload list,
# which is the operator's own, separate step.
SECURE_HSTS_PRELOAD = env_bool("DJANGO_HSTS_PRELOAD", HTTPS)
if env_bool("DJANGO_BEHIND_TLS_PROXY", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env_str("PERISCOPE_LOG_LEVEL", "INFO")},
    # aiosmtpd ("mail.log") logs every SMTP command at INFO; axes greets every start.
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        "mail.log": {"level": "WARNING"},
        "axes": {"level": "WARNING"},
    },
}

# --- Browser sessions -------------------------------------------------------------------------
PERISCOPE_CHROMIUM = env_str("PERISCOPE_CHROMIUM")
PERISCOPE_HEADLESS_SHELL = env_str("PERISCOPE_HEADLESS_SHELL")
PERISCOPE_USE_HEADLESS_SHELL = env_bool("PERISCOPE_USE_HEADLESS_SHELL", True)
PERISCOPE_RUNTIME_DIR = Path(env_str("PERISCOPE_RUNTIME_DIR", str(VAR_DIR / "run")))
PERISCOPE_WORKER_CAPACITY = env_int("PERISCOPE_WORKER_CAPACITY", 40, minimum=1)
PERISCOPE_WARM_CONTEXTS = env_int("PERISCOPE_WARM_CONTEXTS", 2)
PERISCOPE_TEAM_SESSION_CAP = env_int("PERISCOPE_TEAM_SESSION_CAP", 10, minimum=1)
PERISCOPE_START_TIMEOUT = env_int("PERISCOPE_START_TIMEOUT", 30, minimum=1)
PERISCOPE_COMMAND_TIMEOUT = env_int("PERISCOPE_COMMAND_TIMEOUT", 45, minimum=1)
PERISCOPE_HEARTBEAT_SECONDS = env_int("PERISCOPE_HEARTBEAT_SECONDS", 3, minimum=1)
PERISCOPE_WORKER_STALE_SECONDS = env_int("PERISCOPE_WORKER_STALE_SECONDS", 9, minimum=2)
# What one session may use, whatever its pages try: open tabs (each is a renderer process),
# one download's size and all of its downloads together (stopped while they are written).
PERISCOPE_MAX_TABS_PER_SESSION = env_int("PERISCOPE_MAX_TABS_PER_SESSION", 8, minimum=1)
PERISCOPE_MAX_DOWNLOAD_BYTES = env_int("PERISCOPE_MAX_DOWNLOAD_BYTES", 50 * 1024 * 1024, minimum=1)
PERISCOPE_MAX_SESSION_DOWNLOAD_BYTES = env_int(
    "PERISCOPE_MAX_SESSION_DOWNLOAD_BYTES", 100 * 1024 * 1024, minimum=1
)
# How long a session's full-size screencast runs after an observe or an action: observes then
# answer with its latest frame instead of a 30-70 ms capture, for about 30 MB per session while it
# runs. 0 trades that speed for density (bench/concurrency.py measures both).
PERISCOPE_PERCEPTION_SCREENCAST_SECONDS = env_int("PERISCOPE_PERCEPTION_SCREENCAST_SECONDS", 60)
PERISCOPE_ALLOW_CDP_URL = env_bool("PERISCOPE_ALLOW_CDP_URL", False)
PERISCOPE_ALLOW_EXTERNAL_PROXIES = env_bool("PERISCOPE_ALLOW_EXTERNAL_PROXIES", False)
# Non-public hosts the browser may still reach: comma-separated host, host:port
# or CIDR. Everything else that is not a public address is refused by the egress proxy.
PERISCOPE_EGRESS_ALLOW = env_str("PERISCOPE_EGRESS_ALLOW")
# The live view: a lease on a session's page ends after this long without input from its holder;
# viewer links (viewer_url) work this long, and only while their session runs; pages that may
# embed the viewer in an iframe (CSP frame-ancestors), e.g. "https://app.example.com".
PERISCOPE_CONTROL_LEASE_SECONDS = env_int("PERISCOPE_CONTROL_LEASE_SECONDS", 60, minimum=5)
PERISCOPE_VIEWER_URL_SECONDS = env_int("PERISCOPE_VIEWER_URL_SECONDS", 3600, minimum=60)
PERISCOPE_VIEWER_FRAME_ANCESTORS = env_list("PERISCOPE_VIEWER_FRAME_ANCESTORS")
# The token in a cdp_url works this long at most, and never past the latest end of its session.
PERISCOPE_CDP_TOKEN_SECONDS = env_int("PERISCOPE_CDP_TOKEN_SECONDS", 3600, minimum=60)
# evaluate_js runs arbitrary script in a session's page: off unless the operator trusts every key.
PERISCOPE_ALLOW_EVALUATE_JS = env_bool("PERISCOPE_ALLOW_EVALUATE_JS", False)
# What a session recorded (steps, screenshots, replay) is deleted this many days after it ended
# by `manage.py purge_session_data`; the session row and the audit log stay. 0: kept forever.
PERISCOPE_SESSION_RETENTION_DAYS = env_int("PERISCOPE_SESSION_RETENTION_DAYS", 30)

# --- LLM (any OpenAI-compatible endpoint) and search -----------------------------------------------
LLM_BASE_URL = env_str("LLM_BASE_URL")
LLM_API_KEY = env_optional_secret("LLM_API_KEY")
LLM_MODEL = env_str("LLM_MODEL", "gpt-4o-mini")
LLM_TIMEOUT_SECONDS = env_int("LLM_TIMEOUT_SECONDS", 30, minimum=1)
# How agents ask for their structured answer: "json_schema" (response_format with a JSON schema,
# which OpenAI, vLLM, Ollama and LM Studio accept) or "tools" (a forced function call, for servers
# that constrain tool arguments but not response formats).
LLM_STRUCTURED_OUTPUT = env_str("LLM_STRUCTURED_OUTPUT", "json_schema")
if LLM_STRUCTURED_OUTPUT not in ("json_schema", "tools"):
    raise ImproperlyConfigured(
        f"LLM_STRUCTURED_OUTPUT must be json_schema or tools, not {LLM_STRUCTURED_OUTPUT!r}"
    )


def _model_map(raw: str) -> dict[str, str]:
    mapping = {}
    for item in raw.split(","):
        if not item.strip():
            continue
        requested, sep, actual = item.partition("=")
        if not sep or not requested.strip() or not actual.strip():
            raise ImproperlyConfigured(f"LLM_MODEL_MAP: {item.strip()!r} is not requested=served")
        mapping[requested.strip()] = actual.strip()
    return mapping


# An agent's reasoning_model (notte-sdk always sends one, e.g. gemini/gemini-2.5-flash) is looked up
# here, "requested=served,..."; a name not listed runs LLM_MODEL. The run records which one ran.
LLM_MODEL_MAP = _model_map(env_str("LLM_MODEL_MAP"))
# Agents: an answer that does not validate is sent back with the error this many times; a run
# ends after this many failed steps in a row (failed actions, unusable or missing answers).
PERISCOPE_AGENT_REPAIR_ATTEMPTS = env_int("PERISCOPE_AGENT_REPAIR_ATTEMPTS", 1)
PERISCOPE_AGENT_MAX_FAILURES = env_int("PERISCOPE_AGENT_MAX_FAILURES", 3, minimum=1)
SEARCH_URL = env_str("SEARCH_URL").rstrip("/")

# --- Personas: inbound mail (SMTP) and SMS -----------------------------------------------------
# Persona addresses are <local>@PERISCOPE_MAIL_DOMAIN; the SMTP server accepts mail for nothing else.
PERISCOPE_MAIL_DOMAIN = env_str("PERISCOPE_MAIL_DOMAIN", "periscope.localhost").strip().lower()
PERISCOPE_SMTP_HOST = env_str("PERISCOPE_SMTP_HOST", "127.0.0.1")
PERISCOPE_SMTP_PORT = env_int("PERISCOPE_SMTP_PORT", 2525, minimum=1)
PERISCOPE_SMTP_EMBEDDED = env_bool("PERISCOPE_SMTP_EMBEDDED", True)  # `manage.py serve` runs it too
PERISCOPE_MAIL_MAX_BYTES = env_int("PERISCOPE_MAIL_MAX_BYTES", 10 * 1024 * 1024, minimum=1024)
PERISCOPE_MAIL_RATE_PER_SENDER = env_int(
    "PERISCOPE_MAIL_RATE_PER_SENDER", 30, minimum=1
)  # per minute
PERISCOPE_SMS_AUTH_TOKEN = env_optional_secret("PERISCOPE_SMS_AUTH_TOKEN")
PERISCOPE_SMS_NUMBERS = env_list("PERISCOPE_SMS_NUMBERS")
for _number in PERISCOPE_SMS_NUMBERS:
    if not re.fullmatch(r"\+[1-9]\d{6,14}", _number):
        raise ImproperlyConfigured(
            f"PERISCOPE_SMS_NUMBERS: {_number!r} is not an E.164 number like +15551234567"
        )
PERISCOPE_PERSONA_RETENTION_DAYS = env_int(
    "PERISCOPE_PERSONA_RETENTION_DAYS", 30
)  # 0: keep forever

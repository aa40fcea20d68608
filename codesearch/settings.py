"""Settings for codesearch, read from the environment. They fail closed: debug is off and a secret key
is required unless DJANGO_DEBUG=1 says this is a developer's machine (`make demo` and `make serve` say so).

DJANGO_DEBUG=1            development mode (debug pages, a fixed insecure key); never on a public server
DJANGO_SECRET_KEY         the secret key (required unless DJANGO_DEBUG=1)
DJANGO_ALLOWED_HOSTS      comma-separated host names
DJANGO_CSRF_TRUSTED_ORIGINS  comma-separated origins (https://search.example.org) behind a TLS proxy
DJANGO_SECURE_SSL_REDIRECT=1, DJANGO_HSTS_SECONDS=N   when the site is served over HTTPS
DATABASE_URL              e.g. postgres://user:password@db:5432/codesearch (default: SQLite)
CODESEARCH_INDEXES        where models and Annoy indexes live (default: indexes/)
CODESEARCH_INDEXES_MEMORY_MB  how much of the repositories' indexes each process keeps loaded (default 1024)
CODESEARCH_CACHE_URL      redis://host:6379/0: the cache shared by every process, which rate limits need
                          when more than one process serves (default: this process's memory)
CODESEARCH_CLIENT_IP_HEADER  the request header holding the client's address when a proxy sets it
                          (e.g. HTTP_X_REAL_IP; default: the connection's address)
"""
import os
from pathlib import Path

import dj_database_url

BASE_DIR = Path(__file__).resolve().parent.parent


def _env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


DEBUG = os.environ.get("DJANGO_DEBUG", "0") == "1"
SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY") or ("dev-only-insecure-key" if DEBUG else None)
if not SECRET_KEY:
    raise RuntimeError("DJANGO_SECRET_KEY must be set when DJANGO_DEBUG is off")
ALLOWED_HOSTS = _env_list("DJANGO_ALLOWED_HOSTS", "127.0.0.1,localhost,testserver")
CSRF_TRUSTED_ORIGINS = _env_list("DJANGO_CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "corsheaders",
    "django_ratelimit",
    "ninja",  # serves the API docs' Swagger UI from static files, not from a CDN
    "codesearch.repositories",
    "codesearch.search",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "codesearch.search.middleware.ContentSecurityPolicyMiddleware",
    "codesearch.search.middleware.ApiErrorsAsJson",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "corsheaders.middleware.CorsMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "codesearch.urls"
TEMPLATES = [{
    "BACKEND": "django.template.backends.django.DjangoTemplates",
    "DIRS": [],
    "APP_DIRS": True,
    "OPTIONS": {"context_processors": [
        "django.template.context_processors.request",
        "django.contrib.auth.context_processors.auth",
        "django.contrib.messages.context_processors.messages",
    ]},
}]
WSGI_APPLICATION = "codesearch.wsgi.application"

DATABASES = {"default": dj_database_url.config(default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}", conn_max_age=60)}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Several processes share the file (web, worker, add_repository): write transactions take the lock
    # when they begin instead of failing halfway, and wait for it; WAL lets searches read meanwhile.
    DATABASES["default"]["OPTIONS"] = {"transaction_mode": "IMMEDIATE", "timeout": 30,
                                       "init_command": "PRAGMA journal_mode=WAL;"}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True
STATIC_URL = "static/"
# WhiteNoise serves static files: from the apps' sources in development, from `collectstatic`'s output
# (hashed and compressed; the Docker image builds it) in production.
STATIC_ROOT = None if DEBUG else BASE_DIR / "staticfiles"
WHITENOISE_USE_FINDERS = WHITENOISE_AUTOREFRESH = DEBUG
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage" if DEBUG
                    else "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}

# Production hardening; TLS is expected to end at a proxy that sets X-Forwarded-Proto.
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = os.environ.get("DJANGO_SECURE_SSL_REDIRECT", "0") == "1"
SECURE_HSTS_SECONDS = int(os.environ.get("DJANGO_HSTS_SECONDS", "0"))
SECURE_HSTS_INCLUDE_SUBDOMAINS = SECURE_HSTS_SECONDS > 0
# Joining the browsers' HSTS preload list is a per-domain commitment made by hand, not a default.
SILENCED_SYSTEM_CHECKS = ["security.W021"]
SECURE_REFERRER_POLICY = "same-origin"
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = os.environ.get("DJANGO_SECURE_COOKIES", "0" if DEBUG else "1") == "1"
X_FRAME_OPTIONS = "DENY"
# Inline scripts and styles are refused, so markup that slipped into a page could not run.
CONTENT_SECURITY_POLICY = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
                           "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'")

# The API answers github.com (the browser extension's content scripts) and the extension itself.
CORS_URLS_REGEX = r"^/api/"
CORS_ALLOWED_ORIGIN_REGEXES = [r"^https://github\.com$", r"^chrome-extension://[a-z0-9]+$",
                               r"^moz-extension://[0-9a-f-]+$"]
CORS_ALLOW_METHODS = ["GET", "POST", "OPTIONS"]

# Rate limits (django-ratelimit) count in the default cache, which must be shared by every process
# that serves: Redis in production. Without CODESEARCH_CACHE_URL it is this process's memory, which is
# right for `runserver` (one process) and the tests only, hence the two silenced checks.
if os.environ.get("CODESEARCH_CACHE_URL"):
    CACHES = {"default": {"BACKEND": "django_redis.cache.RedisCache", "LOCATION": os.environ["CODESEARCH_CACHE_URL"]}}
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    SILENCED_SYSTEM_CHECKS += ["django_ratelimit.E003", "django_ratelimit.W001"]
RATELIMIT_IP_META_KEY = os.environ.get("CODESEARCH_CLIENT_IP_HEADER") or None
# Per user and, separately, per address (django-ratelimit's "count/period" syntax).
RATE_INDEXING = "20/h"
RATE_CODE_SEARCH = "60/m"
RATE_LOGIN = "5/m"  # sign-in attempts, on the site and in the admin
LOGIN_REDIRECT_URL = LOGOUT_REDIRECT_URL = "/"

# Indexing: who may make the service fetch code, what it may fetch, and how builds share the work.
# "file" lets the tests' workers fetch local repositories; never on a public server.
CODESEARCH_CLONE_SCHEMES = tuple(_env_list("CODESEARCH_CLONE_SCHEMES", "https"))
CODESEARCH_CLONE_HOSTS = tuple(_env_list("CODESEARCH_CLONE_HOSTS", "github.com"))
CODESEARCH_FINETUNE_MIN_DOCUMENTED = 200
CODESEARCH_LEASE_SECONDS = int(os.environ.get("CODESEARCH_LEASE_SECONDS", "60"))  # jobs' and build locks'
CODESEARCH_JOB_MAX_ATTEMPTS = 3          # starts of a job whose worker keeps dying, before it fails
CODESEARCH_BUILD_TIMEOUT_SECONDS = 3600  # a build that runs longer is stopped and fails
CODESEARCH_LOCK_WAIT_SECONDS = 3600      # how long add_repository waits for another build of the same repository
# A superseded version's files stay this long after a newer one goes live, for searches still reading them.
CODESEARCH_VERSION_GRACE_SECONDS = int(os.environ.get("CODESEARCH_VERSION_GRACE_SECONDS", "600"))

# Where models and Annoy indexes live (runtime artefacts, ignored by git).
INDEXES_DIR = Path(os.environ.get("CODESEARCH_INDEXES", BASE_DIR / "indexes"))
BASE_MODEL_DIR = Path(os.environ.get("CODESEARCH_BASE_MODEL", INDEXES_DIR / "base"))

# Input limits shared by the pages and the API.
QUERY_MAX_CHARS = 300
PATH_FILTERS_MAX = 10  # `path:` filters in one search
# Pasted code is parsed with tree-sitter on every search: this bounds that work (64 ms at most for the
# worst inputs measured here, 8,000 brackets or nested definitions, in any grammar); longer pastes get a 400.
CODE_MAX_CHARS = 8_000
RESULTS_DEFAULT = 10
RESULTS_MAX = 50
RESULT_CODE_MAX_CHARS = 20_000  # a longer function's `code` is cut there (and says so)
# Bytes held by each per-process LRU cache of search results and rendered answers.
SEARCH_CACHE_BYTES = 64 * 2**20
# What the repositories' loaded indexes may hold in each process (their files' bytes, most of them
# memory-mapped and shared between processes), least recently searched first out.
SEARCH_INDEXES_MEMORY_BYTES = int(os.environ.get("CODESEARCH_INDEXES_MEMORY_MB", "1024")) * 2**20

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": "INFO"},
}

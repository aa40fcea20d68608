"""The settings the tests run under: production's (debug off), with a secret key that only tests use.
Subprocesses the tests start (manage.py, the worker) inherit the key through the environment."""
import os

os.environ.setdefault("DJANGO_SECRET_KEY", "tests-only-secret-key-" + "x" * 40)

from codesearch.settings import *  # noqa: E402,F401,F403

# A file, not memory, for the test database: the tests start workers and add_repository as processes
# of their own, which must see the same database (tests pass them its name through DATABASE_URL).
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":  # noqa: F405
    DATABASES["default"]["TEST"] = {"NAME": f"/tmp/codesearch-tests-{os.getpid()}.sqlite3"}  # noqa: F405

# Static files straight from the apps' sources, as in development: production's hashed manifest is
# made by `collectstatic` when the image is built, which the tests do not run.
STATIC_ROOT = None  # noqa: F811
WHITENOISE_USE_FINDERS = WHITENOISE_AUTOREFRESH = True
STORAGES = {**STORAGES, "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}  # noqa: F405

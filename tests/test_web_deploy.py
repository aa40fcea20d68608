"""Production: docker-compose.yml, the Dockerfile and settings from the environment.

Docker can't run here, so the compose file is checked as data (and by `docker-compose config`
where that tool is installed), and the production settings by Django's own deployment checks.
"""
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
PRODUCTION = {"DJANGO_SECRET_KEY": "a-long-random-production-secret-" + "x" * 40,
              "DJANGO_ALLOWED_HOSTS": "search.example.org", "DJANGO_HSTS_SECONDS": "31536000",
              "DJANGO_SECURE_SSL_REDIRECT": "1", "CODESEARCH_CACHE_URL": "redis://cache:6379/0"}


def manage(*args: str, **env: str) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DATABASE_URL", "CODESEARCH_"))}
    return subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, capture_output=True, text=True,
                          env={**clean, **env}, timeout=120)


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def test_compose_runs_postgres_web_and_worker_on_one_image(compose):
    services = compose["services"]
    assert set(services) == {"db", "cache", "migrate", "web", "worker"}
    assert services["cache"]["image"].startswith("redis:")
    assert services["db"]["image"].startswith("postgres:")
    for name in ("migrate", "web", "worker"):
        service = services[name]
        assert service["build"] == "." and service["depends_on"]["db"]["condition"] == "service_healthy"
        assert "./indexes:/app/indexes" in service["volumes"]
        env = service["environment"]
        assert env["DJANGO_DEBUG"] == "0" and env["DATABASE_URL"].startswith("postgres://codesearch:")
        assert env["DATABASE_URL"].endswith("@db:5432/codesearch")
        assert ":?" in env["DJANGO_SECRET_KEY"]  # compose refuses to start without one
        assert env["CODESEARCH_CACHE_URL"] == "redis://cache:6379/0"
    assert services["worker"]["command"] == ["python", "manage.py", "run_worker"]
    assert services["migrate"]["command"][:3] == ["python", "manage.py", "migrate"]
    assert services["web"]["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
    assert "/api/v1/health" in " ".join(services["web"]["healthcheck"]["test"])
    assert "pgdata" in compose["volumes"]


@pytest.mark.skipif(not shutil.which("docker-compose"), reason="docker-compose is not installed")
def test_compose_file_is_valid_for_docker_compose():
    env = {**os.environ, "DJANGO_SECRET_KEY": "s", "POSTGRES_PASSWORD": "p"}
    done = subprocess.run(["docker-compose", "config", "--quiet"], cwd=ROOT, env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    missing = subprocess.run(["docker-compose", "config", "--quiet"], cwd=ROOT, capture_output=True, text=True,
                             env={k: v for k, v in env.items() if k != "DJANGO_SECRET_KEY"})
    assert missing.returncode != 0 and "set DJANGO_SECRET_KEY" in missing.stderr


def test_dockerfile_serves_with_gunicorn_as_a_user():
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert dockerfile.count("FROM python:3.11") == 2
    assert "-r /tmp/requirements.txt" in dockerfile and "download.pytorch.org/whl/cpu" in dockerfile
    assert "collectstatic" in dockerfile and "USER codesearch" in dockerfile
    assert 'CMD ["gunicorn", "codesearch.wsgi"' in dockerfile
    ignored = (ROOT / ".dockerignore").read_text().split()
    assert {".venv", "node_modules", "indexes", ".git", "db.sqlite3"} <= set(ignored)


def test_requirements_pin_the_serving_stack():
    pins = {line.split("==")[0] for line in (ROOT / "requirements.txt").read_text().splitlines() if "==" in line}
    assert {"gunicorn", "whitenoise", "django-cors-headers", "psycopg[binary]", "dj-database-url"} <= pins


def test_settings_fail_closed_without_a_secret_key():
    """Debug is off unless turned on, and then there is no key to fall back on."""
    done = manage("check")
    assert done.returncode != 0 and "DJANGO_SECRET_KEY must be set" in done.stderr
    assert manage("check", DJANGO_DEBUG="1").returncode == 0  # a developer's machine says so


def test_production_settings_pass_djangos_deployment_checks_without_a_warning():
    done = manage("check", "--deploy", "--fail-level", "WARNING", **PRODUCTION)
    assert done.returncode == 0, done.stderr + done.stdout
    assert "WARNING" not in done.stderr + done.stdout and "issues" in done.stdout, done.stdout


def test_production_settings_come_from_the_environment():
    code = ("from django.conf import settings as s; import json; print(json.dumps([s.DEBUG, s.ALLOWED_HOSTS, "
            "s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE, s.SECURE_HSTS_SECONDS, s.SECURE_SSL_REDIRECT, "
            "s.DATABASES['default']['ENGINE'], s.DATABASES['default']['NAME'], "
            "s.STORAGES['staticfiles']['BACKEND'], 'whitenoise.middleware.WhiteNoiseMiddleware' in s.MIDDLEWARE]))")
    done = manage("shell", "-c", code, DATABASE_URL="postgres://u:p@db:5432/codesearch", **PRODUCTION)
    # Django's shell imports the settings only: no connection to db or cache is made.
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1] == (
        '[false, ["search.example.org"], true, true, 31536000, true, "django.db.backends.postgresql", "codesearch", '
        '"whitenoise.storage.CompressedManifestStaticFilesStorage", true]')

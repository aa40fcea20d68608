"""The API fuzzed from its own OpenAPI document (schemathesis): every operation, POST included, with
generated valid and invalid input. No 5xx, every answer documented and shaped as its schema says, and
every error JSON `{"error": ...}`.

Requests go through the real WSGI application to a database holding the indexed fixture repository;
indexing requests carry a real API token, so they get past authentication to the input checks. Host
names a generated URL may hold are never looked up: the resolver is a stub that answers with a public
address, so the fuzzer sends no traffic anywhere.
"""
import socket

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck, settings as hypothesis_settings

from web_support import indexer, token  # noqa: F401 (fixtures)

CASES: dict[str, int] = {}


@pytest.fixture
def api_schema(indexed_sample, token, settings, monkeypatch):
    from django.core.wsgi import get_wsgi_application

    settings.RATE_CODE_SEARCH = settings.RATE_INDEXING = "100000/m"  # fuzz the checks, not the limits
    monkeypatch.setattr(socket, "getaddrinfo", lambda *a, **k: [(socket.AF_INET, socket.SOCK_STREAM, 6, "",
                                                                  ("140.82.112.3", 443))])
    # As Django's own test client does: a request must not close the test's database connection.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield schemathesis.openapi.from_wsgi("/api/v1/openapi.json", get_wsgi_application())
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


schema = schemathesis.pytest.from_fixture("api_schema")


@pytest.fixture(scope="module", autouse=True)
def report_cases():
    yield
    print(f"\nAPI fuzzing: {sum(CASES.values())} cases over {len(CASES)} operations: {CASES}")


@schema.parametrize()
@hypothesis_settings(max_examples=60, deadline=None, derandomize=True,
                     suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                            HealthCheck.filter_too_much])
def test_the_api_answers_every_generated_request_as_documented(case, token):
    response = case.call_and_validate(headers={"Authorization": f"Bearer {token}"})
    CASES[f"{case.method} {case.path}"] = CASES.get(f"{case.method} {case.path}", 0) + 1
    assert response.status_code < 500, response.text
    if response.status_code >= 400:
        assert response.headers["Content-Type"][0].startswith("application/json"), response.headers
        assert isinstance(response.json().get("error"), str) and response.json()["error"]

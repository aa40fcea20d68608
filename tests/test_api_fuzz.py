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
from schemathesis.specs.openapi.checks import positive_data_acceptance

from web_support import indexer, token  # noqa: F401 (fixtures)

CASES: dict[str, int] = {}


def wsgi_application():
    from django.core.wsgi import get_wsgi_application

    return get_wsgi_application()


# The document is read once, when the tests are collected; it needs no database.
schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", wsgi_application())


@pytest.fixture
def fuzzable(indexed_sample, token, settings, monkeypatch):
    """The fixture repository indexed, a token, limits out of the way and no name lookups."""
    settings.RATE_CODE_SEARCH = settings.RATE_INDEXING = "100000/m"  # fuzz the checks, not the limits
    monkeypatch.setattr(socket, "getaddrinfo", lambda *a, **k: [(socket.AF_INET, socket.SOCK_STREAM, 6, "",
                                                                  ("140.82.112.3", 443))])
    # As Django's own test client does: a request must not close the test's database connection.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield token
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture(scope="module", autouse=True)
def report_cases():
    yield
    documented = {op: n for op, n in CASES.items() if n > 1}
    print(f"\nAPI fuzzing: {sum(CASES.values())} cases over {len(CASES)} method/path pairs; "
          f"documented operations: {documented}")


@schema.parametrize()
@hypothesis_settings(max_examples=60, deadline=None, derandomize=True,
                     suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                            HealthCheck.filter_too_much])
def test_the_api_answers_every_generated_request_as_documented(case, fuzzable):
    # Every check but "schema-valid input is accepted": a clone URL can be well-formed and still be refused
    # (a host off the allow-list, an address that is not public), which no schema can say.
    response = case.call_and_validate(headers={"Authorization": f"Bearer {fuzzable}"},
                                      excluded_checks=[positive_data_acceptance])
    CASES[f"{case.method} {case.path}"] = CASES.get(f"{case.method} {case.path}", 0) + 1
    assert response.status_code < 500, response.text
    if response.status_code >= 400:
        content_type = {k.lower(): v for k, v in response.headers.items()}.get("content-type")
        assert "application/json" in str(content_type), response.headers
        assert isinstance(response.json().get("error"), str) and response.json()["error"]

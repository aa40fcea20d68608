"""Who may make the service fetch code, and what it may be told to fetch: every attack of issue 16 as a
request to the real API and pages, each refused with a clear JSON or page answer and nothing created.

No test here sends traffic anywhere: refusals happen before any connection (addresses are literal IPs,
or host names whose lookups are answered by a stub resolver).
"""
import json
import socket

import pytest
from django.contrib.auth.models import User
from django.test import Client

from codesearch.repositories.models import ApiToken, IndexingJob, Repository
from web_support import bearer, get_json, indexer, indexer_client, post_json, token  # noqa: F401 (fixtures)

INDEX = "repositories/django/django/index"


pytestmark = pytest.mark.usefixtures("loopback_network_only")


@pytest.fixture
def public_dns(monkeypatch):
    """Host names resolve, without a lookup, to a public address."""
    monkeypatch.setattr(socket, "getaddrinfo", lambda *a, **k: [(socket.AF_INET, socket.SOCK_STREAM, 6, "",
                                                                  ("140.82.112.3", 443))])


def nothing_created():
    return not IndexingJob.objects.exists() and not Repository.objects.exists()


# Who may index -------------------------------------------------------------------------------------------

@pytest.mark.parametrize("content_type", ["application/json", "text/plain"])
def test_anonymous_index_requests_get_401_saying_how_to_get_access(client, db, content_type):
    response = client.post(f"/api/v1/{INDEX}", data=json.dumps({"url": "https://127.0.0.1:9/evil/django.git"}),
                           content_type=content_type)
    assert response.status_code == 401 and response["Content-Type"].startswith("application/json")
    assert "access token" in response.json()["error"] and "Bearer" in response.json()["error"]
    assert nothing_created()


def test_a_cross_site_post_with_a_session_cookie_does_nothing(db, indexer):
    """What a page on another site can make a signed-in user's browser send: the cookie, no CSRF token."""
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(indexer)
    response = browser.post(f"/api/v1/{INDEX}", data='{"commit": "main"}', content_type="text/plain",
                            HTTP_ORIGIN="https://evil.example")
    assert response.status_code == 403 and "CSRF" in response.json()["error"]
    assert nothing_created()
    # The same session with the page's CSRF token is the site's own form: accepted.
    browser.get("/")
    response = browser.post(f"/api/v1/{INDEX}", data="{}", content_type="application/json",
                            HTTP_X_CSRFTOKEN=browser.cookies["csrftoken"].value)
    assert response.status_code == 202


def test_a_token_of_a_permitted_user_may_request_indexing(client, token):
    status, job = post_json(client, INDEX, {}, **bearer(token))
    assert status == 202 and job["status"] == "queued"
    assert IndexingJob.objects.get().requested_by.username == "indexer"
    assert ApiToken.objects.get().last_used is not None


def test_tokens_are_stored_hashed(token):
    record = ApiToken.objects.get()
    assert token not in (record.key_hash, record.prefix) and record.key_hash == ApiToken.hash(token)
    assert token.startswith(record.prefix)


@pytest.mark.parametrize("case", ["unknown", "revoked", "inactive user", "no permission"])
def test_bad_tokens_are_refused(client, token, case):
    sent = token
    if case == "unknown":
        sent = token[:-4] + "AAAA"
    elif case == "revoked":
        ApiToken.objects.update(revoked=True)
    elif case == "inactive user":
        User.objects.update(is_active=False)
    elif case == "no permission":
        User.objects.get().user_permissions.clear()
    status, answer = post_json(client, INDEX, {}, **bearer(sent))
    assert status == (403 if case == "no permission" else 401) and answer["error"]
    assert nothing_created()


def test_the_page_form_needs_a_permitted_user(client, db):
    page = client.get("/").content.decode()
    assert "needs an account" in page and 'action="/jobs/"' not in page
    response = client.post("/jobs/", {"repository": "django/django"})
    assert response.status_code == 403 and nothing_created()
    User.objects.create_user("reader", password="pw-for-tests-only")
    client.login(username="reader", password="pw-for-tests-only")
    assert "which reader does not have" in client.get("/").content.decode()
    assert client.post("/jobs/", {"repository": "django/django"}).status_code == 403
    assert nothing_created()


def test_the_page_form_refuses_a_cross_site_post(db, indexer):
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(indexer)
    assert browser.post("/jobs/", {"repository": "django/django"}).status_code == 403
    assert nothing_created()


def test_searching_needs_no_account(client, db):
    assert client.get("/api/v1/search", {"q": "send mail"}).status_code == 200


# What may be fetched -------------------------------------------------------------------------------------

@pytest.mark.parametrize("path", ["repositories/django/./index", "repositories/django/../index",
                                  "repositories/django/django.git/index", "repositories/-django/django/index",
                                  "repositories/django/%2E/index", "repositories/django/%2E%2E/index"])
def test_names_that_are_not_githubs_are_refused(client, token, path):
    response = client.post(f"/api/v1/{path}", data="{}", content_type="application/json", **bearer(token))
    assert response.status_code in (400, 404) and response.json()["error"]
    assert nothing_created()


@pytest.mark.parametrize("url", [
    "https://127.0.0.1:9/evil/django.git", "https://127.0.0.1/django/django.git", "https://[::1]/django/django.git",
    "https://10.0.0.5/django/django.git", "https://192.168.1.1/django/django.git",
    "https://169.254.169.254/latest/meta-data", "https://[fc00::1]/django/django.git",
    "https://[::ffff:10.0.0.1]/django/django.git", "https://gitlab.example/django/django.git",
    "http://github.com/django/django.git", "file:///etc/passwd", "https://github.com:8443/django/django.git",
])
def test_urls_off_the_allow_list_or_to_private_addresses_are_refused(client, token, url):
    status, answer = post_json(client, INDEX, {"url": url}, **bearer(token))
    assert status == 400 and answer["error"], answer
    assert nothing_created()


def test_a_private_address_behind_an_allowed_name_is_refused(client, token, indexer, settings, monkeypatch):
    """Even for staff, who may give any URL on an allowed host."""
    User.objects.filter(pk=indexer.pk).update(is_staff=True)
    settings.CODESEARCH_CLONE_HOSTS = ("git.internal.example",)
    monkeypatch.setattr(socket, "getaddrinfo", lambda *a, **k: [(socket.AF_INET, socket.SOCK_STREAM, 6, "",
                                                                  ("10.1.2.3", 443))])
    status, answer = post_json(client, INDEX, {"url": "https://git.internal.example/django/django.git"},
                               **bearer(token))
    assert status == 400 and "10.1.2.3" not in answer["error"], answer
    assert nothing_created()


def test_only_staff_may_change_the_url_a_repository_is_indexed_from(client, token, indexer, public_dns):
    Repository.objects.create(owner="django", name="django", url="https://github.com/django/django.git")
    status, answer = post_json(client, INDEX, {"url": "https://github.com/evil/django.git"}, **bearer(token))
    assert status == 403 and "only staff" in answer["error"]
    assert not IndexingJob.objects.exists()
    assert Repository.objects.get().url == "https://github.com/django/django.git"
    # Its own URL, spelt differently, is no change.
    assert post_json(client, INDEX, {"url": "https://github.com/Django/django"}, **bearer(token))[0] == 202
    IndexingJob.objects.all().delete()
    indexer.is_staff = True
    indexer.save()
    assert post_json(client, INDEX, {"url": "https://github.com/evil/django.git"}, **bearer(token))[0] == 202


def test_a_new_repositorys_url_must_be_its_own_unless_staff_give_it(client, token):
    status, answer = post_json(client, "repositories/pallets/flask/index",
                               {"url": "https://github.com/evil/flask.git"}, **bearer(token))
    assert status == 403 and nothing_created()


# Rate limits ---------------------------------------------------------------------------------------------

def test_indexing_requests_are_limited_per_user_and_per_address(client, token, settings):
    settings.RATE_INDEXING = "2/m"
    for owner in ("a1", "a2"):
        assert post_json(client, f"repositories/{owner}/x/index", {}, **bearer(token))[0] == 202
    response = client.post("/api/v1/repositories/a3/x/index", data="{}", content_type="application/json",
                           **bearer(token))
    assert response.status_code == 429 and "try again in 60 s" in response.json()["error"]
    assert response["Retry-After"] == "60"
    # The same user from another address is still the same user.
    status, _ = post_json(client, "repositories/a4/x/index", {}, REMOTE_ADDR="10.9.9.9", **bearer(token))
    assert status == 429
    assert not Repository.objects.filter(owner__in=["a3", "a4"]).exists()


def test_code_search_is_limited_per_address(client, db, settings):
    settings.RATE_CODE_SEARCH = "3/m"
    path = "repositories/nobody/nothing/search-by-code"
    statuses = [post_json(client, path, {"code": "x = 1"})[0] for _ in range(4)]
    assert statuses == [404, 404, 404, 429]
    assert post_json(client, path, {"code": "x = 1"}, REMOTE_ADDR="10.1.1.1")[0] == 404  # another address


def test_admin_logins_are_throttled(client, db):
    User.objects.create_superuser("admin", password="the-right-password")
    statuses = [client.post("/admin/login/", {"username": "admin", "password": f"guess-{i}"}).status_code
                for i in range(6)]
    assert statuses[:5] == [200] * 5 and statuses[5] == 429
    # Even the right password waits: a throttle that let it through would tell the guesser.
    assert client.post("/admin/login/", {"username": "admin", "password": "the-right-password"}).status_code == 429


# Jobs through the API -----------------------------------------------------------------------------------

def test_a_queued_job_can_be_cancelled_by_its_requester(client, token):
    status, job = post_json(client, INDEX, {}, **bearer(token))
    assert post_json(client, f"jobs/{job['id']}/cancel", {})[0] == 401
    status, cancelled = post_json(client, f"jobs/{job['id']}/cancel", {}, **bearer(token))
    assert status == 200 and cancelled["status"] == "cancelled"
    assert get_json(client, f"jobs/{job['id']}")[1]["status"] == "cancelled"
    status, again = post_json(client, INDEX, {}, **bearer(token))  # a cancelled job is not an active one
    assert status == 202 and again["id"] != job["id"]


def test_staff_follow_cancel_and_retry_jobs_and_create_tokens_in_the_admin(client, db):
    admin = User.objects.create_superuser("admin", password="pw-for-tests-only")
    client.force_login(admin)
    repository = Repository.objects.create(owner="pallets", name="flask")
    job = IndexingJob.objects.create(repository=repository)
    listing = client.get("/admin/repositories/indexingjob/")
    assert listing.status_code == 200 and "pallets/flask" in listing.content.decode()
    client.post("/admin/repositories/indexingjob/", {"action": "cancel", "_selected_action": [job.pk]})
    job.refresh_from_db()
    assert job.status == "cancelled"
    client.post("/admin/repositories/indexingjob/", {"action": "retry", "_selected_action": [job.pk]})
    assert IndexingJob.objects.filter(repository=repository, status="queued").count() == 1

    page = client.post("/admin/repositories/apitoken/add/", {"user": admin.pk, "name": "extension"}, follow=True)
    shown = [m.message for m in page.context["messages"] if "new token is" in m.message]
    secret = shown[0].split("new token is ")[1].split(" ")[0]
    record = ApiToken.objects.get(name="extension")
    assert record.key_hash == ApiToken.hash(secret) and secret not in page.content.decode().replace(shown[0], "")

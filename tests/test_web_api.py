"""Search by code, search everywhere, snippets, indexing requests and CORS in /api/v1/."""
import pytest

from codesearch.repositories.models import IndexingJob, Repository
from web_support import (bearer, get_json, indexed_hostile, hostile_repo, indexer, post_json,  # noqa: F401
                         token)

CHECKSUM = ("def digest_of(path):\n    with open(path, 'rb') as f:\n"
            "        return hashlib.sha256(f.read()).hexdigest()\n")
RUBY = "def greet(name)\n  puts \"hello #{name}\"\nend\n"
CODE_SEARCH = "repositories/example/sample/search-by-code"


def test_search_by_code_detects_the_language_and_finds_similar_functions(client, indexed_sample):
    status, body = post_json(client, CODE_SEARCH, {"code": CHECKSUM, "language": None, "limit": 3})
    assert status == 200
    assert body["repository"] == "example/sample" and body["commit"] == "0123abc" and body["language"] == "python"
    assert len(body["results"]) == 3
    assert body["results"][0]["func_name"] == "fingerprint"
    status, given = post_json(client, CODE_SEARCH, {"code": CHECKSUM, "language": "python", "limit": 3})
    assert status == 200 and given["results"] == body["results"]


@pytest.mark.parametrize("body, message", [
    ({"code": ""}, "paste the code"),
    ({"code": " \n\t "}, "paste the code"),
    ({"code": "x = 1\n" * 5000}, "limit is 8000"),
    ({"code": "x = 1\x00"}, "NUL"),
    ({"code": CHECKSUM, "language": "cobol"}, "unknown language 'cobol'"),
    ({"code": CHECKSUM, "language": "ruby"}, "no indexed ruby functions"),
    ({"code": RUBY}, "looks like ruby code"),
    ({"code": CHECKSUM, "limit": 0}, "limit"),
    ({"code": CHECKSUM, "limit": 1000}, "limit"),
    ({"language": "python"}, "code"),
    ({"code": 42}, "code"),
    ([CHECKSUM], "code"),
    ('{"code": "def f(:', "Cannot parse request body"),
    ("", "body: Field required"),
    (b"\xff\xfe\x00binary", "Cannot parse request body"),
])
def test_bad_code_search_input_is_a_json_400(client, indexed_sample, body, message):
    status, answer = post_json(client, CODE_SEARCH, body)
    assert status == 400, answer
    assert message in answer["error"]


def test_code_search_in_an_unknown_repository_is_a_404(client, db):
    status, answer = post_json(client, "repositories/nobody/nothing/search-by-code", {"code": CHECKSUM})
    assert status == 404 and "nobody/nothing" in answer["error"]


def test_search_everywhere_merges_repositories_by_score(client, indexed_hostile):
    status, body = get_json(client, "search", q="html banner markup", limit=6)
    assert status == 200 and body["query"] == "html banner markup"
    results = body["results"]
    assert len(results) == 6
    assert {r["repository"] for r in results} == {"example/sample", "example/hostile"}
    assert [r["score"] for r in results] == sorted((r["score"] for r in results), reverse=True)
    assert get_json(client, "search", q="banner", language="python")[0] == 200


@pytest.mark.parametrize("params, message", [
    ({"q": ""}, "type what the code should do"),
    ({"q": "mail", "language": "cobol"}, "unknown language"),
    ({"q": "mail", "limit": 99}, "limit"),
])
def test_bad_search_everywhere_input_is_a_json_400(client, indexed_sample, params, message):
    status, body = get_json(client, "search", **params)
    assert status == 400 and message in body["error"]


def test_snippet_and_its_similar_functions(client, indexed_sample):
    first = get_json(client, "repositories/example/sample/search", q="send an email", limit=1)[1]["results"][0]
    status, snippet = get_json(client, f"snippets/{first['id']}")
    assert status == 200
    assert snippet == {key: value for key, value in first.items() if key not in ("score", "match_percent", "matched")}
    status, similar = get_json(client, f"snippets/{first['id']}/similar", limit=4)
    assert status == 200 and similar["snippet"] == snippet
    assert len(similar["results"]) == 4
    assert first["id"] not in {r["id"] for r in similar["results"]}
    assert {r["repository"] for r in similar["results"]} == {"example/sample"}


def test_unknown_snippets_and_bad_limits(client, indexed_sample):
    assert get_json(client, "snippets/999999")[0] == 404
    assert "999999" in get_json(client, "snippets/999999/similar")[1]["error"]
    assert client.get("/api/v1/snippets/abc").status_code == 404
    some_id = get_json(client, "repositories/example/sample/search", q="mail", limit=1)[1]["results"][0]["id"]
    assert get_json(client, f"snippets/{some_id}/similar", limit=0)[0] == 400


def test_markup_in_code_and_docs_is_returned_as_data(client, indexed_hostile):
    status, body = get_json(client, "repositories/example/hostile/search", q="banner")
    assert status == 200
    by_name = {r["func_name"]: r for r in body["results"]}
    banner, widget = by_name["render_banner"], by_name["inject_widget"]
    assert '<script>alert("doc")</script>' in banner["code"] and "<img src=x onerror=alert('code')>" in banner["code"]
    assert "".join(text for _, text in banner["highlight"]) == banner["code"]
    assert widget["summary"].startswith('Put a widget on the page if 1 < 2 & "quotes" are kept; <iframe')


def test_index_request_queues_one_job_per_repository(client, token):
    status, job = post_json(client, "repositories/pallets/flask/index", {"commit": "3.0.0"}, **bearer(token))
    assert status == 202
    assert set(job) == {"id", "repository", "status", "stage", "progress", "message", "created", "started", "finished"}
    assert job["repository"] == "pallets/flask" and job["status"] == "queued" and job["progress"] == 0
    assert IndexingJob.objects.get(pk=job["id"]).commit == "3.0.0"
    status, again = post_json(client, "repositories/pallets/flask/index", {}, **bearer(token))
    assert status == 202 and again["id"] == job["id"]
    assert IndexingJob.objects.count() == 1
    assert get_json(client, f"jobs/{job['id']}") == (200, job)

    listed = get_json(client, "repositories/pallets/flask")[1]
    assert listed["indexed_commit"] is None and listed["job"] == {
        "id": job["id"], "status": "queued", "stage": "", "progress": 0, "message": ""}

    IndexingJob.objects.filter(pk=job["id"]).update(status="failed", message="clone failed: no such repository")
    assert get_json(client, "repositories")[1][0]["job"]["message"] == "clone failed: no such repository"
    status, retry = post_json(client, "repositories/pallets/flask/index", {}, **bearer(token))
    assert status == 202 and retry["id"] != job["id"]
    IndexingJob.objects.filter(pk=retry["id"]).update(status="succeeded", progress=1)
    assert get_json(client, "repositories/pallets/flask")[1]["job"] is None


@pytest.mark.parametrize("path, body, message", [
    ("repositories/pallets/fl%20ask/index", {}, "repository name of the form"),
    ("repositories/pallets/../index", {}, "repository name of the form"),
    ("repositories/pallets/flask/index", {"url": "http://example.com/x.git"}, "https://"),
    ("repositories/pallets/flask/index", {"url": "file:///etc/passwd"}, "https://"),
    ("repositories/pallets/flask/index", {"commit": "--upload-pack=evil"}, "not a commit"),
    ("repositories/pallets/flask/index", {"commit": "x" * 101}, "not a commit"),
    ("repositories/pallets/flask/index", "{url:", "Cannot parse request body"),
    ("repositories/pallets/flask/index", "[null, null]", "body"),
    ("repositories/pallets/flask/index", "", "body"),
])
def test_bad_index_requests_are_a_json_400(client, token, path, body, message):
    status, answer = post_json(client, path, body, **bearer(token))
    assert status == 400 and message in answer["error"]
    assert not IndexingJob.objects.exists() and not Repository.objects.exists()


def test_unknown_job_is_a_json_404(client, db):
    assert get_json(client, "jobs/12345") == (404, {"error": "no indexing job 12345"})


@pytest.mark.parametrize("origin, allowed", [
    ("https://github.com", True),
    ("chrome-extension://abcdefghijklmnopabcdefghijklmnop", True),
    ("moz-extension://0b6ac9d4-6b0b-4c39-9d7c-0b1b4c7c0f7e", True),
    ("https://evil.example", False),
    ("https://github.com.evil.example", False),
    ("http://github.com", False),
])
def test_cors_is_open_only_to_github_and_the_extension(client, indexed_sample, origin, allowed):
    response = client.get("/api/v1/repositories", HTTP_ORIGIN=origin)
    assert (response.headers.get("Access-Control-Allow-Origin") == origin) is allowed
    preflight = client.options(f"/api/v1/{CODE_SEARCH}", HTTP_ORIGIN=origin,
                               HTTP_ACCESS_CONTROL_REQUEST_METHOD="POST",
                               HTTP_ACCESS_CONTROL_REQUEST_HEADERS="content-type")
    assert ("Access-Control-Allow-Origin" in preflight.headers) is allowed
    assert "Access-Control-Allow-Origin" not in client.get("/", HTTP_ORIGIN=origin).headers


def test_an_index_that_cannot_be_loaded_is_a_json_503_not_a_500(client, indexed_sample):
    import shutil

    shutil.rmtree(indexed_sample.directory)
    status, body = get_json(client, "repositories/example/sample/search", q="send mail")
    assert status == 503 and "must be rebuilt" in body["error"]
    page = client.get("/example/sample/", {"q": "send mail"})
    assert page.status_code == 503 and "must be rebuilt" in page.content.decode()

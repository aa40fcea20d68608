"""What a search costs the database: one query once the process has seen the repository, for a new
search or a repeated one, through the API and the page; and never an answer from a version that is no
longer live (re-indexed, or the repository deleted)."""
import json
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from codesearch.repositories.indexing import index_repository
from codesearch.repositories.models import Repository
from conftest import SAMPLE_REPO

SEARCH = "/api/v1/repositories/example/sample/search"
CODE = "/api/v1/repositories/example/sample/search-by-code"
PAGE = "/example/sample/"
CODE_PAGE = "/example/sample/code/"


def counted(request):
    """request()'s response and the SQL of the queries it made."""
    with CaptureQueriesContext(connection) as captured:
        response = request()
    return response, [query["sql"] for query in captured.captured_queries]


@pytest.fixture
def seen(client, indexed_sample):
    """example/sample, searched once by this process (which may remember an older build of it from an
    earlier test: this search finds that out)."""
    assert client.get(SEARCH, {"q": "send mail"}).status_code == 200
    return indexed_sample


def test_a_new_api_search_costs_one_query_and_a_repeated_one_at_most_one(client, seen):
    new, sql = counted(lambda: client.get(SEARCH, {"q": "parse a date", "limit": 4}))
    assert new.status_code == 200 and new["X-Cache"] == "miss" and len(new.json()["results"]) == 4
    assert len(sql) == 1 and "snippet" in sql[0] and "live_version" in sql[0]  # the rows, proving the version live
    again, sql = counted(lambda: client.get(SEARCH, {"q": "parse a date", "limit": 4}))
    assert again["X-Cache"] == "hit" and again.content == new.content
    assert len(sql) <= 1
    by_code, sql = counted(lambda: client.post(CODE, json.dumps({"code": "def f(path): return open(path).read()"}),
                                               content_type="application/json"))
    assert by_code.status_code == 200 and by_code.json()["results"] and len(sql) == 1


def test_a_new_search_on_the_page_costs_one_query(client, seen):
    page, sql = counted(lambda: client.get(PAGE, {"q": "hash digest of a file"}))
    assert page.status_code == 200 and page.content.decode().count('class="result"') == 10
    assert len(sql) == 1
    again, sql = counted(lambda: client.get(PAGE, {"q": "hash digest of a file"}))
    assert again.content == page.content and len(sql) <= 1
    by_code, sql = counted(lambda: client.post(CODE_PAGE, {"code": "def f(path): return open(path).read()"}))
    assert by_code.status_code == 200 and 'class="result"' in by_code.content.decode() and len(sql) == 1


def test_errors_cost_one_query(client, seen):
    """A 400 is checked against the live version first (its languages may have changed), and a 404 looked up."""
    response, sql = counted(lambda: client.get(SEARCH, {"q": "send mail", "language": "go"}))
    assert response.status_code == 400 and "no indexed go functions" in response.json()["error"] and len(sql) == 1
    response, sql = counted(lambda: client.get("/api/v1/repositories/nobody/nothing/search", {"q": "mail"}))
    assert response.status_code == 404 and len(sql) == 1


def commit_searched(client, surface: str, params: dict) -> tuple[int, str | None]:
    """The status of a search through the API or the page, and the commit its answer says it searched."""
    if surface == "api":
        response = client.get(SEARCH, params)
        body = response.json()
        if response.status_code == 200:
            assert all(f"/blob/{body['commit']}/" in r["url"] for r in body["results"])
        return response.status_code, body.get("commit")
    response = client.get(PAGE, params)
    shown = re.findall(r"indexed at <code>(\w+)</code>", page := response.content.decode())
    linked = set(re.findall(r"/blob/(\w+)/", page))
    assert linked <= set(shown)
    return response.status_code, shown[0] if shown else None


SEARCHES = {"repeated search": {"q": "send mail"}, "new search": {"q": "read a file"},
            "no results": {"q": "send mail path:*.go"}}


@pytest.mark.parametrize("surface", ["api", "page"])
@pytest.mark.parametrize("params", SEARCHES.values(), ids=SEARCHES.keys())
def test_the_search_after_a_re_index_answers_from_the_new_version(client, seen, surface, params):
    """Even with no results, which have no rows to prove their version live by."""
    index_repository("example/sample", SAMPLE_REPO, commit="4567def")
    assert commit_searched(client, surface, params) == (200, "4567def")
    index_repository("example/sample", SAMPLE_REPO, commit="89abcde")
    assert commit_searched(client, surface, params) == (200, "89abcde")


@pytest.mark.parametrize("surface", ["api", "page"])
@pytest.mark.parametrize("params", [*SEARCHES.values(), {"q": "send mail", "language": "go"}],
                         ids=[*SEARCHES.keys(), "bad input"])
def test_a_deleted_repository_is_a_404_whatever_the_search(client, seen, surface, params):
    Repository.objects.filter(owner="example", name="sample").delete()
    assert commit_searched(client, surface, params)[0] == 404
    assert client.post(CODE, json.dumps({"code": "x = 1"}), content_type="application/json").status_code == 404


def test_a_repository_no_longer_indexed_says_so(client, seen):
    Repository.objects.filter(owner="example", name="sample").update(live_version=None)
    response = client.get(SEARCH, {"q": "read a file"})
    assert response.status_code == 400 and "not indexed yet" in response.json()["error"]

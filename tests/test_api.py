import json
"""The repository and search endpoints of /api/v1/ and their contract with the browser extension."""
import pytest

from web_support import get_json

RESULT_FIELDS = {"id", "repository", "language", "kind", "func_name", "path", "start_line", "end_line", "code",
                 "code_truncated", "summary", "url", "score", "match_percent", "highlight", "matched"}


@pytest.fixture
def api(client, indexed_sample):
    def get(endpoint, **params):
        return client.get(f"/api/v1/{endpoint}", params)
    return get


def test_search_returns_ranked_functions_with_links(api):
    response = api("repositories/example/sample/search", q="hash digest of a file", limit=3)
    assert response.status_code == 200
    body = response.json()
    assert body == {**body, "repository": "example/sample", "commit": "0123abc", "query": "hash digest of a file"}
    results = body["results"]
    assert len(results) == 3
    for result in results:
        assert set(result) == RESULT_FIELDS
        assert result["repository"] == "example/sample" and result["language"] == "python"
        assert result["url"] == (f"https://github.com/example/sample/blob/0123abc/{result['path']}"
                                 f"#L{result['start_line']}-L{result['end_line']}")
        assert result["match_percent"] == round(max(result["score"], 0) * 100)
        assert 0 <= result["match_percent"] <= 100


def test_highlight_is_a_token_stream_that_rebuilds_the_code(api):
    result = api("repositories/example/sample/search", q="send an email").json()["results"][0]
    tokens = result["highlight"]
    assert all(isinstance(css, str) and isinstance(text, str) for css, text in tokens)
    assert "".join(text for _, text in tokens) == result["code"]
    classes = {css for css, _ in tokens}
    assert {"k", "nf"} <= classes  # Pygments' short classes: keyword, function name


@pytest.mark.parametrize("params, message", [
    ({"q": ""}, "type what the code should do"),
    ({"q": "   "}, "type what the code should do"),
    ({"q": "x" * 301}, "limit is 300"),
    ({}, "q"),
    ({"q": "mail", "limit": 0}, "limit"),
    ({"q": "mail", "limit": 51}, "limit"),
    ({"q": "mail", "limit": "many"}, "limit"),
    ({"q": "mail", "language": "cobol"}, "unknown language 'cobol'"),
    ({"q": "mail", "language": "go"}, "no indexed go functions"),
    ({"q": "mail\x00"}, "NUL"),
    ({"q": "mail\x1b[31m"}, "control character"),
    ({"q": "?!*"}, "no words"),
    ({"q": "mail", "kind": "module"}, "unknown kind 'module'; kinds: function, class, block"),
    ({"q": "path:sample"}, "type what the code should do"),
    ({"q": "mail", "path": [f"p{i}" for i in range(11)]}, "11 path filters; the limit is 10"),
    ({"q": "mail", "path": "x" * 201}, "a path filter is 201 characters long"),
    ({"q": "mail path:a\x07b"}, "control character"),
])
def test_bad_search_input_is_a_json_400(api, params, message):
    response = api("repositories/example/sample/search", **params)
    assert response.status_code == 400
    assert message in response.json()["error"]


def test_undecodable_query_bytes_are_a_json_400(client, indexed_sample):
    response = client.get("/api/v1/repositories/example/sample/search?q=%FF%FEmail")
    assert response.status_code == 400 and "control character" in response.json()["error"]


def test_unknown_repository_is_a_json_404(api):
    response = api("repositories/nobody/nothing/search", q="mail")
    assert response.status_code == 404 and "nobody/nothing" in response.json()["error"]
    assert api("repositories/nobody/nothing").status_code == 404
    assert "error" in api("repositories/nobody/nothing").json()


def test_unknown_api_paths_are_a_json_404(client, db):
    for path in ("/api/v1/nothing", "/api/v1/jobs/abc", "/api/v2/search"):
        response = client.get(path)
        assert response.status_code == 404 and "no API endpoint" in response.json()["error"]


def test_repository_list_detail_and_health(api):
    assert api("health").json() == {"status": "ok", "repositories": 1}
    listed = api("repositories").json()
    assert [r["full_name"] for r in listed] == ["example/sample"]
    detail = api("repositories/example/sample").json()
    assert detail == listed[0]
    assert set(detail) == {"owner", "name", "full_name", "description", "indexed_commit", "languages", "functions",
                           "kinds", "job"}
    assert detail["indexed_commit"] == "0123abc" and detail["languages"] == ["python"] and detail["functions"] > 10
    assert detail["kinds"] == {"function": detail["functions"], "class": 2, "block": 3}
    assert detail["job"] is None


def test_openapi_schema_lists_every_endpoint(client, db):
    paths = client.get("/api/v1/openapi.json").json()["paths"]
    assert set(paths) >= {
        "/api/v1/health", "/api/v1/repositories", "/api/v1/repositories/{owner}/{name}",
        "/api/v1/repositories/{owner}/{name}/index", "/api/v1/jobs/{job_id}",
        "/api/v1/repositories/{owner}/{name}/search", "/api/v1/repositories/{owner}/{name}/search-by-code",
        "/api/v1/search", "/api/v1/snippets/{snippet_id}", "/api/v1/snippets/{snippet_id}/similar"}


def test_openapi_document_is_valid_openapi(client, db):
    from openapi_spec_validator import validate

    document = client.get("/api/v1/openapi.json").json()
    validate(document)  # raises on any violation of the OpenAPI specification
    assert document["openapi"].startswith("3.")


def test_docs_page_needs_no_cdn(client, db):
    page = client.get("/api/v1/docs").content.decode()
    assert "/static/ninja/swagger-ui-bundle.js" in page
    assert "cdn" not in page.lower() and "https://" not in page
    assert client.get("/static/ninja/swagger-ui-bundle.js").status_code == 200


def test_repeated_searches_are_answered_from_the_cache_until_a_new_version_is_live(client, indexed_sample,
                                                                                   monkeypatch):
    from codesearch.repositories.indexing import index_repository
    from conftest import SAMPLE_REPO
    from training.index import RepositoryIndex

    calls = []
    real_search = RepositoryIndex.search
    monkeypatch.setattr(RepositoryIndex, "search",
                        lambda self, *a, **kw: calls.append(a) or real_search(self, *a, **kw))
    first = get_json(client, "repositories/example/sample/search", q="parse a date", limit=4)
    again = get_json(client, "repositories/example/sample/search", q="parse a date", limit=4)
    assert first == again and len(calls) == 1
    get_json(client, "repositories/example/sample/search", q="parse a date", limit=5)
    assert len(calls) == 2
    index_repository("example/sample", SAMPLE_REPO, commit="4567def")
    status, fresh = get_json(client, "repositories/example/sample/search", q="parse a date", limit=4)
    assert status == 200 and len(calls) == 3 and fresh["commit"] == "4567def"
    assert all("/blob/4567def/" in r["url"] for r in fresh["results"])


def test_answers_match_the_documented_schemas(client, indexed_sample):
    from codesearch.search import schemas

    def check(schema, body):
        assert schema.model_validate(body).model_dump(mode="json") == body

    status, found = get_json(client, "repositories/example/sample/search", q="send mail", limit=2)
    check(schemas.SearchResults, found)
    first = found["results"][0]
    check(schemas.Snippet, get_json(client, f"snippets/{first['id']}")[1])
    check(schemas.SimilarResults, get_json(client, f"snippets/{first['id']}/similar", limit=2)[1])
    check(schemas.GlobalSearchResults, get_json(client, "search", q="send mail", limit=2)[1])
    code = client.post("/api/v1/repositories/example/sample/search-by-code", {"code": first["code"]},
                       content_type="application/json").json()
    check(schemas.CodeSearchResults, code)
    for repository in get_json(client, "repositories")[1]:
        check(schemas.Repository, repository)


def test_long_code_is_cut_and_says_so(api, settings):
    settings.RESULT_CODE_MAX_CHARS = 40
    result = api("repositories/example/sample/search", q="send an email", limit=1).json()["results"][0]
    assert len(result["code"]) == 40 and result["code_truncated"] is True
    assert "".join(text for _, text in result["highlight"]) == result["code"]


def test_results_say_their_kind_and_a_kind_narrows_them(api, client):
    """Classes and blocks are found beside functions, each saying what it is; `kind` narrows every
    kind of search, and a block's lines lie inside its function's."""
    everything = api("repositories/example/sample/search", q="sales report per product", limit=20).json()["results"]
    assert {"function", "class", "block"} <= {r["kind"] for r in everything}
    for kind in ("class", "block", "function"):
        results = api("repositories/example/sample/search", q="sales report per product", kind=kind).json()["results"]
        assert results and {r["kind"] for r in results} == {kind}
    block = api("repositories/example/sample/search", q="add up the revenue of each product", kind="block").json()
    top = block["results"][0]
    assert top["func_name"] == "monthly_report" and top["summary"] == "add up the revenue of each product"
    assert [r["func_name"] for r in everything].count("monthly_report") == 1  # the function or one of its blocks
    assert "revenue" in top["code"] and top["url"].endswith(f"#L{top['start_line']}-L{top['end_line']}")
    by_code = client.post("/api/v1/repositories/example/sample/search-by-code", content_type="application/json",
                          data=json.dumps({"code": "spent = {}\nfor order in paid:\n    spent[order] = 1",
                                           "language": "python", "kind": "block"})).json()
    assert by_code["results"] and {r["kind"] for r in by_code["results"]} == {"block"}
    similar = api(f"snippets/{top['id']}/similar", kind="function").json()["results"]
    assert similar and {r["kind"] for r in similar} == {"function"}
    assert "monthly_report" not in {r["func_name"] for r in similar}  # its own function is left out


def test_path_filters_in_the_query_and_as_parameters(api):
    """`path:` in the query and `path` parameters (several allowed) narrow the results to folders,
    files or globs, as on GitHub."""
    def paths(**params):
        response = api("repositories/example/sample/search", **params)
        assert response.status_code == 200, response.json()
        return [r["path"] for r in response.json()["results"]]

    assert len(set(paths(q="send mail"))) > 2
    assert set(paths(q="send mail path:sample/mailer.py")) == {"sample/mailer.py"}
    assert set(paths(q="send mail", path="mailer.py")) == {"sample/mailer.py"}
    assert set(paths(q="send mail", path=["mailer.py", "/sample/web.py"])) == {"sample/mailer.py", "sample/web.py"}
    assert paths(q="send mail path:*.go") == []
    body = api("repositories/example/sample/search", q="send mail path:mailer.py").json()
    assert body["query"] == "send mail path:mailer.py"  # as typed
    everywhere = api("search", q="send mail", path="*mailer*").json()["results"]
    assert everywhere and {r["path"] for r in everywhere} == {"sample/mailer.py"}


def test_results_say_which_tokens_they_matched_by(api, client):
    results = api("repositories/example/sample/search", q="hash digest of a file").json()["results"]
    top = results[0]
    assert top["func_name"] == "fingerprint" and top["matched"]
    assert {m["token"] for m in top["matched"]} & {"hash", "digest", "sha256", "hexdigest", "fingerprint", "file"}
    for result in results:
        assert all(set(m) == {"token", "share", "source"} and m["source"] in ("name", "code", "doc")
                   for m in result["matched"])
        code = (result["code"] + " " + result["func_name"]).lower()
        assert all(m["token"] in code or m["source"] == "doc" for m in result["matched"])
    by_code = client.post("/api/v1/repositories/example/sample/search-by-code", content_type="application/json",
                          data=json.dumps({"code": "def f(path): return open(path).read()", "language": "python"}))
    assert all(r["matched"] == [] for r in by_code.json()["results"])


def test_a_mistyped_query_says_what_was_searched(api, client):
    """`corrected`: the query as it was searched, its mistyped words corrected (`path:` filters as typed),
    also when the answer comes from the cache; null when every word was searched as typed."""
    search = "/api/v1/repositories/example/sample/search"
    typed = api("repositories/example/sample/search", q=" Sned  mial path:mailer.py", limit=3).json()
    assert typed["query"] == "Sned  mial path:mailer.py" and typed["corrected"] == "send mail path:mailer.py"
    clean = api("repositories/example/sample/search", q="send mail path:mailer.py", limit=3).json()
    assert clean["corrected"] is None and clean["results"] == typed["results"]  # what it says was searched was
    again = client.get(search, {"q": " Sned  mial path:mailer.py", "limit": 3})
    assert again["X-Cache"] == "hit" and again.json()["corrected"] == "send mail path:mailer.py"

    everywhere = api("search", q="hash digset of a flie", limit=3).json()
    assert everywhere["corrected"] == "hash digest of a file"
    assert api("search", q="hash digest of a file", limit=3).json()["corrected"] is None


@pytest.mark.parametrize("query, paths", [
    ("  ", ()), ("x" * 301, ()), ("mial\x00", ()), ("?!*", ()), ("path:sample", ()),
    ("sned mial", [f"p{i}" for i in range(11)]), ("sned mial path:a\x07b", ()),
])
def test_the_correction_checks_a_query_as_the_search_does(indexed_sample, query, paths):
    from codesearch.search import engine

    repository = engine.live_repository("example", "sample")
    for search, correct in [(lambda: engine.search(repository, query, paths=paths),
                             lambda: engine.corrected(repository, query, paths)),
                            (lambda: engine.search_all(query, paths=paths), lambda: engine.corrected_all(query, paths))]:
        with pytest.raises(engine.SearchError) as searched:
            search()
        with pytest.raises(engine.SearchError) as corrected:
            correct()
        assert str(corrected.value) == str(searched.value)

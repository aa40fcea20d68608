import pytest


@pytest.fixture
def api(client, indexed_sample):
    def get(path, **params):
        return client.get(f"/api/v1/{path}", params)
    return get


def test_search_returns_ranked_functions_with_links(api):
    response = api("repositories/example/sample/search", q="hash digest of a file", limit=3)
    assert response.status_code == 200
    body = response.json()
    assert body["repository"] == "example/sample" and body["commit"] == "0123abc"
    results = body["results"]
    assert len(results) == 3
    assert [r["score"] for r in results] == sorted((r["score"] for r in results), reverse=True)
    first = results[0]
    assert set(first) >= {"func_name", "path", "start_line", "end_line", "code", "url", "score", "match_percent"}
    assert first["url"].endswith(f"#L{first['start_line']}-L{first['end_line']}")


@pytest.mark.parametrize("params, status, message", [
    ({"q": ""}, 400, "type what the code should do"),
    ({"q": "   "}, 400, "type what the code should do"),
    ({"q": "x" * 301}, 400, "limit is 300"),
    ({}, 400, "q"),
    ({"q": "mail", "limit": 0}, 400, "limit"),
    ({"q": "mail", "limit": "many"}, 400, "limit"),
    ({"q": "mail", "language": "cobol"}, 400, "no indexed cobol"),
])
def test_bad_search_input_is_a_json_4xx(api, params, status, message):
    response = api("repositories/example/sample/search", **params)
    assert response.status_code == status
    assert message in response.json()["error"]


def test_unknown_repository_is_a_json_404(api):
    response = api("repositories/nobody/nothing/search", q="mail")
    assert response.status_code == 404 and "nobody/nothing" in response.json()["error"]
    assert api("repositories/nobody/nothing").status_code == 404


def test_repository_list_detail_and_health(api):
    assert api("health").json()["status"] == "ok"
    listed = api("repositories").json()
    assert [r["full_name"] for r in listed] == ["example/sample"]
    detail = api("repositories/example/sample").json()
    assert detail["indexed_commit"] == "0123abc" and detail["languages"] == ["python"] and detail["functions"] > 10


def test_openapi_schema_lists_the_search_endpoint(client, db):
    schema = client.get("/api/v1/openapi.json").json()
    assert "/api/v1/repositories/{owner}/{name}/search" in schema["paths"]

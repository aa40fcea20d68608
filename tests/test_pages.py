def test_home_lists_repositories(client, indexed_sample):
    page = client.get("/").content.decode()
    assert "example/sample" in page and "0123abc" in page


def test_search_page_shows_highlighted_results_with_github_links(client, indexed_sample):
    response = client.get("/example/sample/", {"q": "hash digest of a file"})
    page = response.content.decode()
    assert response.status_code == 200
    assert page.count('class="result"') == 10
    assert "https://github.com/example/sample/blob/0123abc/sample/" in page
    assert 'class="hl"' in page and 'class="rating"' in page


def test_search_page_explains_bad_input(client, indexed_sample):
    response = client.get("/example/sample/", {"q": "  "})
    assert response.status_code == 400 and "type what the code should do" in response.content.decode()
    assert client.get("/nobody/nothing/", {"q": "x"}).status_code == 404


def test_markup_in_queries_is_rendered_as_text(client, indexed_sample):
    page = client.get("/example/sample/", {"q": "<script>alert(1)</script>"}).content.decode()
    assert "<script>alert(1)</script>" not in page and "&lt;script&gt;" in page

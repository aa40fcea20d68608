"""The server-rendered pages: repository list, search, search by code, snippet, search everywhere."""
import re

import pytest

from codesearch.repositories.models import IndexingJob, Repository, Snippet
from web_support import hostile_repo, indexed_hostile, indexer, indexer_client  # noqa: F401 (fixtures)

CHECKSUM = ("def digest_of(path):\n    with open(path, 'rb') as f:\n"
            "        return hashlib.sha256(f.read()).hexdigest()\n")


def test_home_lists_repositories_with_their_index_and_jobs(client, indexed_sample):
    flask = Repository.objects.create(owner="pallets", name="flask", description="The web framework")
    IndexingJob.objects.create(repository=flask, status="running", stage="embedding", progress=0.42)
    page = client.get("/").content.decode()
    assert "example/sample" in page and "0123abc" in page and "python" in page
    functions = Snippet.objects.filter(version=indexed_sample, kind="function").count()
    assert f"{functions} functions, 2 classes, 3 blocks" in page
    assert "The web framework" in page and "not indexed yet" in page
    assert "Indexing: embedding (42%)" in page and 'value="0.420000"' in page
    assert 'id="repo-filter"' in page and 'action="/search/"' in page and "needs an account" in page


def test_search_page_shows_highlighted_results_with_github_links(client, indexed_sample):
    response = client.get("/example/sample/", {"q": "hash digest of a file"})
    page = response.content.decode()
    assert response.status_code == 200
    assert page.count('class="result"') == 10
    assert "https://github.com/example/sample/blob/0123abc/sample/" in page
    assert re.search(r'#L\d+-L\d+"', page)
    assert 'class="hl"' in page and 'class="rating' in page and "Similar snippets" in page
    assert re.search(r'title="match score -?[01]\.\d{3}">\d{1,3}%', page)


def test_language_filter_limits_the_results(client, indexed_sample):
    page = client.get("/example/sample/", {"q": "send mail", "language": "python"}).content.decode()
    assert '<option value="python" selected>' in page and page.count('class="result"') == 10
    response = client.get("/example/sample/", {"q": "send mail", "language": "ruby"})
    assert response.status_code == 400 and "no indexed ruby functions" in response.content.decode().lower()


def test_kind_filter_and_badges(client, indexed_sample):
    page = client.get("/example/sample/", {"q": "sales report per product"}).content.decode()
    assert '<option value="class">class</option>' in page
    badges = re.findall(r'class="badge kind kind-(\w+)"', page)
    assert len(badges) == page.count('class="result"') and {"function", "class", "block"} <= set(badges)
    assert 'title="lines of monthly_report"' in page
    page = client.get("/example/sample/", {"q": "sales report per product", "kind": "class"}).content.decode()
    assert '<option value="class" selected>' in page
    assert set(re.findall(r'class="badge kind kind-(\w+)"', page)) == {"class"}
    response = client.get("/example/sample/", {"q": "sales", "kind": "<b>x</b>"})
    assert response.status_code == 400 and "unknown kind" in response.content.decode().lower()
    assert "<b>x" not in response.content.decode()


def test_results_mark_what_they_matched_by(client, indexed_sample):
    page = client.get("/example/sample/", {"q": "hash digest of a file"}).content.decode()
    assert page.count('<p class="matched">Matched by') == page.count('class="result"') > 0
    first = page.split('class="result"')[1]
    marked = re.findall(r"<mark>(\w+)</mark>", first)
    assert marked and {m.lower() for m in marked} <= set(re.findall(r'class="token token-\w+"[^>]*>(\w+)', first))
    assert "<mark>" not in page.split('class="results"')[0]  # only in results' code


def test_path_filter_typed_in_the_query(client, indexed_sample):
    page = client.get("/example/sample/", {"q": "send mail path:mailer.py"}).content.decode()
    assert 'value="send mail path:mailer.py"' in page and "path:*.py" in page  # kept in the box; the hint
    locations = re.findall(r'>(sample/[\w.]+):\d+–\d+<', page)
    assert locations and set(locations) == {"sample/mailer.py"}


@pytest.mark.parametrize("query, message", [
    ("  ", "type what the code should do"),
    ("x" * 400, "limit is 300"),
    ("mail\x00", "NUL"),
    ("%%%", "no words"),
])
def test_search_page_explains_bad_input(client, indexed_sample, query, message):
    response = client.get("/example/sample/", {"q": query})
    assert response.status_code == 400 and message.lower() in response.content.decode().lower()


def test_unknown_pages_are_404(client, indexed_sample):
    assert client.get("/nobody/nothing/", {"q": "x"}).status_code == 404
    assert client.get("/nobody/nothing/code/").status_code == 404
    assert client.get("/example/sample/functions/999999/").status_code == 404
    assert client.get("/api/v1/nothing").status_code == 404


def test_markup_in_queries_is_rendered_as_text(client, indexed_sample):
    page = client.get("/example/sample/", {"q": "<script>alert(1)</script>"}).content.decode()
    assert "<script>alert(1)</script>" not in page and "&lt;script&gt;" in page


def test_a_mistyped_query_shows_what_was_searched(client, indexed_hostile):
    """One line above the results, the query as text; none when every word was searched as typed."""
    response = client.get("/example/sample/", {"q": "<b>sned</b> mial"})
    page = response.content.decode()
    line = '<p class="corrected">Showing results for <strong>&lt;b&gt;send&lt;/b&gt; mail</strong></p>'
    assert response.status_code == 200 and page.count(line) == 1
    assert "<b>" not in page and page.index(line) < page.index('class="result-count"') < page.index('class="results"')
    assert "Showing results for" not in client.get("/example/sample/", {"q": "send mail"}).content.decode()

    everywhere = client.get("/search/", {"q": "html baner markup"}).content.decode()
    assert everywhere.count('<p class="corrected">Showing results for <strong>html banner markup</strong></p>') == 1
    assert "Showing results for" not in client.get("/search/", {"q": "html banner markup"}).content.decode()


def test_markup_in_code_and_docs_is_rendered_as_text(client, indexed_hostile):
    response = client.get("/example/hostile/", {"q": "banner"})
    page = response.content.decode()
    assert "<script>alert" not in page and "<img src=x" not in page and "<iframe" not in page
    assert "&lt;script&gt;alert" in page and "&lt;iframe" in page
    assert "1 &lt; 2 &amp; &quot;quotes&quot; are kept" in page
    assert "script-src 'self'" in response.headers["Content-Security-Policy"]


def test_code_search_page_detects_the_language(client, indexed_sample):
    form = client.get("/example/sample/code/").content.decode()
    assert 'name="csrfmiddlewaretoken"' in form and "Detect automatically" in form
    page = client.post("/example/sample/code/", {"code": CHECKSUM, "language": ""}).content.decode()
    assert "Detected language: <strong>python</strong>" in page
    assert page.count('class="result"') == 10 and "fingerprint" in page
    assert "def digest_of(path):" in page  # the pasted code stays in the box


@pytest.mark.parametrize("code, message", [
    ("", "paste the code"),
    ("def greet(name)\n  puts \"hi #{name}\"\nend\n", "looks like ruby code"),
    ("x" * 8001, "limit is 8000"),
])
def test_code_search_page_explains_bad_input(client, indexed_sample, code, message):
    response = client.post("/example/sample/code/", {"code": code})
    assert response.status_code == 400 and message.lower() in response.content.decode().lower()


def test_snippet_page_shows_the_function_and_similar_ones(client, indexed_sample):
    deliver = Snippet.objects.get(version=indexed_sample, func_name="deliver")
    response = client.get(f"/example/sample/functions/{deliver.pk}/")
    page = response.content.decode()
    assert response.status_code == 200
    assert ">smtplib<" in page and ">SMTP<" in page and deliver.github_url in page
    assert page.count('class="result"') == 10 and f'/functions/{deliver.pk}/"' not in page
    assert 'id="similar"' in page
    assert client.get(f"/example/other/functions/{deliver.pk}/").status_code == 404


def test_search_everywhere_page(client, indexed_hostile):
    page = client.get("/search/", {"q": "html banner"}).content.decode()
    assert page.count('class="result"') == 10
    assert 'class="repo-link" href="/example/hostile/"' in page and 'href="/example/sample/"' in page
    assert client.get("/search/", {"q": ""}).status_code == 400
    assert client.get("/search/").status_code == 200


def test_index_request_form_queues_a_job(indexer_client):
    client = indexer_client
    response = client.post("/jobs/", {"repository": "https://github.com/pallets/flask", "url": "", "commit": ""},
                           follow=True)
    page = response.content.decode()
    assert response.status_code == 200 and "pallets/flask is queued for indexing (job " in page
    assert "Queued for indexing" in page
    job = IndexingJob.objects.get()
    assert job.repository.full_name == "pallets/flask" and job.status == "queued"
    again = client.post("/jobs/", {"repository": "pallets/flask"}, follow=True).content.decode()
    assert "pallets/flask is queued for indexing" in again and IndexingJob.objects.count() == 1


@pytest.mark.parametrize("fields, message", [
    ({"repository": "flask"}, "repository name of the form"),
    ({"repository": "<script>/x"}, "repository name of the form"),
    ({"repository": "pallets/flask", "url": "ftp://x/y"}, "https://"),
])
def test_index_request_form_explains_bad_input(indexer_client, fields, message):
    response = indexer_client.post("/jobs/", fields)
    page = response.content.decode()
    assert response.status_code == 400 and message in page.lower() and 'aria-invalid="true"' in page
    assert "<script>/x" not in page
    assert not IndexingJob.objects.exists()


def test_pygments_stylesheet_matches_the_highlighter():
    from pathlib import Path

    from codesearch.search.highlight import stylesheet

    css = Path(__file__).parent.parent / "codesearch" / "search" / "static" / "search" / "pygments.css"
    assert css.read_text() == stylesheet() + "\n", "regenerate it from codesearch.search.highlight.stylesheet()"

"""What a search request does and does not do: highlighting is made when a repository is indexed and
only read afterwards (what a search costs the database: test_query_count.py)."""
import importlib
import re

import pytest
from django.apps import apps

from codesearch.repositories.models import Snippet
from codesearch.search import highlight
from web_support import get_json


@pytest.fixture
def fresh_highlighting():
    """The cache of highlighting made on request, empty, so that a test can tell whether a request made any."""
    highlight._highlighted_now.cache_clear()
    yield
    highlight._highlighted_now.cache_clear()


def _highlighted_on_request() -> int:
    return highlight._highlighted_now.cache_info().misses


def test_indexing_stores_each_units_highlighting(indexed_sample):
    # Made by the build, beside the index, so that publishing only copies it.
    assert (indexed_sample.directory / "highlighting.jsonl.gz").is_file()
    snippets = Snippet.objects.filter(version=indexed_sample)
    assert snippets.count() > 10
    for snippet in snippets:
        assert "".join(text for _, text in snippet.highlight) == snippet.code
        assert snippet.html.startswith('<div class="hl"><pre>')
        assert re.search(rf'class="linenos"> *{snippet.start_line}<', snippet.html)  # its lines in the file
        assert snippet.highlight == highlight.highlighting(snippet.code, snippet.language, snippet.start_line)["highlight"]


def test_searches_and_pages_read_the_stored_highlighting(client, indexed_sample, fresh_highlighting):
    status, body = get_json(client, "repositories/example/sample/search", q="hash digest of a file")
    assert status == 200 and body["results"]
    for result in body["results"]:
        assert result["highlight"] == Snippet.objects.get(pk=result["id"]).highlight
    page = client.get("/example/sample/", {"q": "hash digest of a file"}).content.decode()
    first = Snippet.objects.get(pk=re.search(r'id="result-(\d+)"', page).group(1))
    assert "<mark>" in page and first.html in re.sub(r"</?mark>", "", page)
    client.get(f"/example/sample/{first.pk}/")
    assert _highlighted_on_request() == 0


def test_code_cut_for_showing_is_highlighted_on_request_and_the_page_says_so(client, indexed_sample, settings,
                                                                            fresh_highlighting):
    settings.RESULT_CODE_MAX_CHARS = 40  # shorter than what was stored when indexing
    page = client.get("/example/sample/", {"q": "send an email"}).content.decode()
    assert "Cut at 40 characters" in page and "the rest on GitHub" in page
    assert _highlighted_on_request() > 0
    result = get_json(client, "repositories/example/sample/search", q="send an email", limit=1)[1]["results"][0]
    assert "".join(text for _, text in result["highlight"]) == result["code"] and len(result["code"]) == 40


TRICKY = ('<div class="hl"><pre><span></span><code><span class="linenos">7</span><span class="k">def</span> '
          '<span class="nf">send_mail</span><span class="p">(</span><span class="n">self</span>, '
          '<span class="n">spanClass</span>=<span class="s2">&quot;a &lt;mail&gt; &amp;amp; class&quot;</span>'
          '<span class="p">):</span> <span class="n">sendHTMLMail</span>(<span class="n">_mail_</span>, 3mail, '
          '<span class="n">Ärger_mail</span>)\n</code></pre></div>\n')


def _marked_by_text_runs(html: str, marks: frozenset[str]) -> str:
    """The rule `marked` implements, written the plain way: every identifier of every text run."""
    return highlight._TEXT.sub(lambda t: ">" + highlight._IDENTIFIER.sub(
        lambda m: highlight._mark_identifier(m.group(), marks), t.group(1)) + "<", html)


@pytest.mark.parametrize("marks", [
    {"mail"}, {"send", "mail"}, {"span", "class", "n"}, {"lt", "amp", "quot"}, {"html"}, {"self", "p"},
    {"linenos", "code", "7"}, {"mail", "ärger"}, set(),
])
def test_marks_go_on_identifiers_of_the_code_only(marks):
    marks = frozenset(marks)
    assert str(highlight.marked(TRICKY, marks)) == _marked_by_text_runs(TRICKY, marks)


def test_marks_on_a_real_index_match_the_plain_rule(indexed_sample):
    for snippet in Snippet.objects.filter(version=indexed_sample):
        for marks in ({"mail", "send"}, {"file", "path", "read"}, {"self", "class", "n", "lt"}):
            assert str(highlight.marked(snippet.html, frozenset(marks))) == _marked_by_text_runs(snippet.html,
                                                                                               frozenset(marks))


def test_the_migration_highlights_the_live_versions_snippets(indexed_sample, fresh_highlighting):
    Snippet.objects.filter(version=indexed_sample).update(highlight=[], html="")
    migration = importlib.import_module("codesearch.repositories.migrations.0006_snippet_highlight")
    migration.highlight_live_snippets(apps, None)
    for snippet in Snippet.objects.filter(version=indexed_sample):
        assert snippet.html == highlight.highlighting(snippet.code, snippet.language, snippet.start_line)["html"]


def test_publishing_takes_the_builds_highlighting_when_it_made_it(settings):
    record = {"original_string": "def f():\n    return 1\n" * 3, "language": "python", "start_line": 4}
    made = highlight.record_highlighting(record)
    assert made == highlight.highlighting(record["original_string"], "python", 4)
    settings.RESULT_CODE_MAX_CHARS = 10
    assert "".join(text for _, text in highlight.record_highlighting(record)["highlight"]) == "def f():\n "
    assert highlight.record_highlighting({**record, **made}) == made  # the build's, not made again

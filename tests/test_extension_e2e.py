"""The browser extension in real Chromium and real Firefox against a live server with the fixture
repository indexed (and a second, example/hostile, whose code is full of markup, for the search across
every repository) and an API token allowed to request indexing.

extension/test/e2e/ serves imitation GitHub pages over HTTPS, installs the extension's build for the
browser and runs the same steps in both (sidebar.scenarios.mjs): the options page, the shortcut, query
results with their kinds (function, class, block) and the kind filter, the tokens a result matched by
(listed, and marked in its code), path: filters in the query, a mistyped query (the line saying what the
server searched instead, in both scopes), the scope "All indexed repositories"
(results of both repositories, each naming its own; also on a repository that is not indexed), similar
code, search by code from the context menu, indexing requests with and without a token, an unreachable
server. Screenshots go to test-artifacts/screenshots/extension/ (Firefox's in its firefox/ folder).
"""
import io
import re
import urllib.request

import pytest
from django.core.management import call_command

from conftest import SAMPLE_REPO
from extension_support import explain, node_test, require_browser
from web_support import hostile_repo, indexer  # noqa: F401 (fixtures)

STEPS = 16  # the `it` blocks of extension/test/e2e/sidebar.scenarios.mjs


def warmed_up(url: str) -> None:
    """The server answers, and has loaded its model and the index, before a browser starts: the first
    search otherwise pays for that inside the browser test's waits."""
    for path in ("/api/v1/health", "/api/v1/repositories/example/sample/search?q=read+a+file",
                 "/api/v1/search?q=read+a+file"):
        with urllib.request.urlopen(url + path, timeout=120) as response:
            assert response.status == 200, path


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("browser", ["chromium", "firefox"])
def test_extension_searches_from_github_pages(browser, live_server, indexes_dir, indexer, hostile_repo):  # noqa: F811
    require_browser(browser)
    call_command("add_repository", "example/sample", "--path", str(SAMPLE_REPO), "--commit", "0123abc")
    call_command("add_repository", "example/hostile", "--path", str(hostile_repo), "--commit", "feedbee")
    out = io.StringIO()
    call_command("create_api_token", indexer.username, stdout=out)
    token = out.getvalue().strip().splitlines()[-1]
    warmed_up(live_server.url)

    done = node_test(f"extension/test/e2e/{browser}.test.mjs",
                     env={"CODESEARCH_SERVER": live_server.url, "CODESEARCH_TOKEN": token})
    assert done.returncode == 0, explain(done)
    # The suite skips itself without a server and a token: make sure every step ran and passed.
    assert re.search(rf"\bpass {STEPS}\b", done.stdout) and re.search(r"\bskipped 0\b", done.stdout), explain(done)
    assert token not in done.stdout + done.stderr, "the token must never be printed"

"""The browser extension in real Chromium against a live server with the fixture repository indexed.

extension/test/e2e/ serves imitation GitHub pages over HTTPS, loads the extension's Chromium build and
checks the shortcut, query results, similar functions, search by code and indexing requests;
screenshots go to test-artifacts/screenshots/extension/.
"""
import re

import pytest
from django.core.management import call_command

from conftest import SAMPLE_REPO
from extension_support import explain, node_test, require_browser


@pytest.mark.django_db(transaction=True)
def test_extension_searches_from_github_pages(live_server, indexes_dir):
    require_browser()
    call_command("add_repository", "example/sample", "--path", str(SAMPLE_REPO), "--commit", "0123abc")
    done = node_test("extension/test/e2e/", env={"CODESEARCH_SERVER": live_server.url})
    assert done.returncode == 0, explain(done)
    # The suite skips itself without a server: make sure it ran.
    assert re.search(r"\bpass [1-9]", done.stdout) and re.search(r"\bskipped 0\b", done.stdout), explain(done)

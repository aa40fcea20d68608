"""The pages in a real browser: tests/browser/pages.test.mjs (playwright-core driving Debian's
Chromium) against a live server holding the indexed fixture repositories. Screenshots of every page
land in test-artifacts/screenshots/."""
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from codesearch.repositories.models import IndexingJob, Repository
from web_support import hostile_repo, indexed_hostile, indexer  # noqa: F401 (fixtures)

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = Path("/usr/bin/chromium")
SCREENSHOTS = ROOT / "test-artifacts" / "screenshots"

needs_browser = pytest.mark.skipif(
    not (CHROMIUM.exists() and shutil.which("node") and (ROOT / "node_modules" / "playwright-core").is_dir()),
    reason="needs /usr/bin/chromium, node and node_modules (make test installs them)")


@needs_browser
@pytest.mark.django_db(transaction=True)
def test_pages_in_a_real_browser(live_server, indexed_hostile, indexer):
    flask = Repository.objects.create(owner="pallets", name="flask", description="The Python micro framework")
    IndexingJob.objects.create(repository=flask, status="running", stage="embedding", progress=0.42)
    done = subprocess.run(["node", "--test", "--test-reporter=spec", "tests/browser/pages.test.mjs"], cwd=ROOT,
                          env={**os.environ, "BASE_URL": live_server.url, "SCREENSHOT_DIR": str(SCREENSHOTS),
                               "INDEXER_USERNAME": "indexer", "INDEXER_PASSWORD": "a-long-password-for-tests"},
                          capture_output=True, text=True, timeout=300)
    output = done.stdout + done.stderr
    assert done.returncode == 0, output[-6000:]
    assert "# fail 0" in output or "ℹ fail 0" in output, output[-3000:]
    assert {p.name for p in SCREENSHOTS.glob("*.png")} >= {
        "home-desktop.png", "home-phone.png", "repository-search-desktop.png", "repository-search-phone.png",
        "snippet-desktop.png", "snippet-phone.png", "code-search-desktop.png", "search-all-phone.png",
        "api-docs-desktop.png"}

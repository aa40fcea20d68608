"""extract -> train -> index -> search, through the real commands and a real HTTP server.

The model is trained by `python -m training train` on the standard library (conftest); the fixture
repository is indexed with `manage.py add_repository`; the queries share no word with the names of
the functions they should find, so they only win if the learned retrieval works.
"""
import json
import urllib.parse
import urllib.request

import pytest
from django.core.management import call_command

from conftest import SAMPLE_REPO, run_cli
from training.corpus import read_jsonl

# query -> the function it describes (no identifier in common with the function's name)
EXPECTED = {
    "compute a checksum of a file": "fingerprint",
    "parse a date": "when",
    "list all files in a directory": "walk_tree",
    "wait a few seconds": "pause",
    "create an email": "compose",
    "read json configuration": "load_settings",
}


def test_extract_command_writes_codesearchnet_jsonl(tmp_path):
    out = tmp_path / "sample.jsonl.gz"
    done = run_cli("extract", str(SAMPLE_REPO), "--out", str(out), "--repo", "example/sample", "--sha", "0123abc")
    records = {r["func_name"]: r for r in read_jsonl(out)}
    assert {"deliver", "fingerprint", "Stopwatch.lap", "survives"} <= set(records)
    assert records["when"]["summary"] == "Turn text such as 2024-01-31 into a calendar day."
    assert json.loads(done.stderr.strip().splitlines()[-1])["parse_errors"] == 1


@pytest.mark.django_db(transaction=True)
def test_search_over_http_finds_functions_by_what_they_do(live_server, indexes_dir):
    call_command("add_repository", "example/sample", "--path", str(SAMPLE_REPO), "--commit", "0123abc")
    ranks = {}
    for query, expected in EXPECTED.items():
        url = f"{live_server.url}/api/v1/repositories/example/sample/search?" + urllib.parse.urlencode({"q": query})
        with urllib.request.urlopen(url) as response:
            names = [r["func_name"] for r in json.load(response)["results"]]
        ranks[query] = names.index(expected) + 1
    # 17 functions are indexed: chance puts the right one first about 6% of the time.
    assert sum(rank == 1 for rank in ranks.values()) >= 4, ranks
    assert all(rank <= 3 for rank in ranks.values()), ranks

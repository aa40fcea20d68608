"""The browser extension's pure logic (URL parsing, languages, rendering, API client, packaging), tested by Node."""
from extension_support import explain, node_test


def test_extension_unit_tests_pass():
    done = node_test("extension/test/unit/")
    assert done.returncode == 0, explain(done)

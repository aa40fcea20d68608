import builtins
import io
from pathlib import Path

from training.extract import TOO_LARGE, ExtractStats, extract_path, extractor, read_snippet, skip_reason

SOURCE = '''\
import functools


def plain(a, b):
    """Add two numbers.

    :param a: the first
    """
    total = a + b
    return total


# A comment that is not documentation.
@functools.lru_cache(maxsize=None)
def cached(x):
    return x


class Outer:
    """The class docstring is not a function's."""

    def method(self):
        r"""Return ``self`` unchanged."""
        def inner():
            return "é"
        return inner

    class Nested:
        @staticmethod
        def deep():
            pass
'''


def extract(source: str):
    return {f.func_name: f for f in extractor("python").extract(source.encode(), "pkg/mod.py",
                                                                  repo="o/r", sha="abc").functions}


def test_qualified_names_cover_methods_nested_and_decorated_functions():
    assert set(extract(SOURCE)) == {"plain", "cached", "Outer.method", "Outer.method.inner", "Outer.Nested.deep"}


def test_docstring_is_split_from_code_and_summarised():
    plain = extract(SOURCE)["plain"]
    assert plain.docstring == "Add two numbers.\n\n:param a: the first"
    assert plain.summary == "Add two numbers."
    assert plain.docstring_tokens == ["Add", "two", "numbers"]
    assert '"""' not in plain.code and "Add two" not in plain.code
    assert plain.code.splitlines() == ["def plain(a, b):", "    total = a + b", "    return total"]
    assert "Add two numbers." in plain.original_string
    assert "Add" not in plain.code_tokens and "total" in plain.code_tokens


def test_lines_and_url_include_decorators():
    fns = extract(SOURCE)
    assert (fns["plain"].start_line, fns["plain"].end_line) == (4, 10)
    cached = fns["cached"]
    assert (cached.start_line, cached.end_line) == (14, 16)
    assert cached.original_string.startswith("@functools.lru_cache")
    assert cached.docstring == ""  # a comment above is not a docstring
    assert cached.url == "https://github.com/o/r/blob/abc/pkg/mod.py#L14-L16"


def test_markup_is_removed_from_summary_and_strings_are_one_token():
    method = extract(SOURCE)["Outer.method"]
    assert method.summary == "Return self unchanged."
    assert '"é"' in extract(SOURCE)["Outer.method.inner"].code_tokens


def test_crlf_and_syntax_errors_do_not_stop_extraction(tmp_path: Path):
    (tmp_path / "crlf.py").write_bytes(b'def a():\r\n    """Doc."""\r\n    return 1\r\n')
    (tmp_path / "broken.py").write_text("def good():\n    return 1\n\ndef bad(:\n    pass\n")
    (tmp_path / "latin1.py").write_bytes(b"def f():\n    return '\xe9'\n")
    (tmp_path / "binary.py").write_bytes(b"\x00\x01\x02def x(): pass")
    (tmp_path / "test_skipped.py").write_text("def test_x():\n    pass\n")
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "helpers.py").write_text("def helper():\n    pass\n")
    stats = ExtractStats()
    fns = {f.func_name: f for f in extract_path(tmp_path, stats=stats)}
    assert fns["a"].docstring == "Doc." and (fns["a"].start_line, fns["a"].end_line) == (1, 3)
    assert "good" in fns and "f" in fns
    assert "test_x" not in fns and "helper" not in fns
    assert stats.parse_errors == 1 and stats.decode_errors == 1
    assert stats.skipped["binary"] == 1 and stats.skipped["test"] == 1


def test_a_file_over_the_size_limit_is_skipped_unread(tmp_path: Path, monkeypatch):
    (tmp_path / "small.py").write_text("def small():\n    return 1\n")
    with open(tmp_path / "huge.py", "wb") as f:
        f.truncate(1 << 30)  # sparse: 1 GiB that costs no disk
    opened, real_open = [], io.open

    def recording_open(file, *args, **kwargs):
        opened.append(Path(file).name)
        return real_open(file, *args, **kwargs)
    monkeypatch.setattr(io, "open", recording_open)  # what pathlib reads with
    monkeypatch.setattr(builtins, "open", recording_open)
    stats = ExtractStats()
    assert [f.func_name for f in extract_path(tmp_path, stats=stats)] == ["small"]
    assert stats.skipped[TOO_LARGE] == 1 and opened == ["small.py"]
    stats = ExtractStats()  # a lower limit applies to every file, and again before reading
    assert list(extract_path(tmp_path, stats=stats, max_file_bytes=10)) == [] and stats.skipped[TOO_LARGE] == 2
    assert opened == ["small.py"]


def test_skip_rules():
    assert skip_reason("node_modules/x/index.js") == "excluded directory"
    assert skip_reason("pkg/foo_test.go") == "test"
    assert skip_reason("api/service.pb.go") == "generated or minified"
    assert skip_reason("dist/app.min.js") is not None
    assert skip_reason("pkg/mail.py") is None


def test_a_snippets_leaves_drop_comments():
    leaves, _ = read_snippet("x = 1  # note\ndef f(): return 'hi'", "python")
    assert "# note" not in leaves and "'hi'" in leaves and "f" in leaves


def test_methods_are_dedented_as_a_whole():
    functions = extract(SOURCE)
    assert functions["Outer.method"].original_string.splitlines() == [
        "def method(self):", '    r"""Return ``self`` unchanged."""', "    def inner():", '        return "é"',
        "    return inner"]
    assert functions["Outer.method"].code.splitlines()[0:2] == ["def method(self):", "    def inner():"]
    assert functions["Outer.Nested.deep"].original_string.splitlines() == [
        "@staticmethod", "def deep():", "    pass"]

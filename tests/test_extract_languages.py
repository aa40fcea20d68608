"""Function extraction for Go, Java, JavaScript, PHP and Ruby, on the fixtures under
tests/fixtures/extract/<language>/ (each one a file of the hard cases for that language)."""
from __future__ import annotations

from pathlib import Path

import pytest

from training.extract import EXTRACTORS, ExtractStats, extract_file, extract_path, extractor, read_snippet

FIXTURES = Path(__file__).parent / "fixtures" / "extract"

# (func_name, start_line, end_line, summary) for every function of each fixture, in file order.
EXPECTED = {
    ("go", "shapes.go"): [
        ("Rect.Area", 17, 19, "Area returns the area of the rectangle."),  # value receiver
        ("Rect.Scale", 23, 26, "Scale multiplies both sides by f."),  # pointer receiver, directive
        ("NewRect", 30, 34, ""),  # comment above a blank line is not its doc; func literal skipped
        ("Größe", 39, 41, "Größe returns a label; unicode is fine: π ≈ 3.14159."),
        ("Pair.Key", 49, 49, "Key returns the key."),  # generic receiver *Pair[K, V]
        ("Limit", 52, 52, ""),  # the comment above trails code on its line
    ],
    ("java", "Outer.java"): [
        ("Outer.Outer", 12, 12, "Creates an outer."),
        ("Outer.add", 23, 27, "Returns the sum of a and b, see Math#addExact."),  # <p> ends it
        ("Outer.noDoc", 31, 33, ""),
        ("Outer.Inner.grüß", 37, 37, "Inner greeting — ünïcödé."),
        ("Outer.Visitor.visit", 42, 42, "Visits a node."),
        ("Outer.Visitor.done", 44, 44, ""),
        ("Outer.Color.lower", 51, 51, "Lower-case name."),
        ("Outer.run", 54, 58, ""),
        ("Outer.run.run", 56, 56, ""),  # a method of an anonymous class
        ("Outer.late", 60, 62, "Written after the annotation."),
        ("Outer.size", 67, 67, "Returns the int size of this."),  # {@return ...} nesting {@code}
    ],
    ("javascript", "widgets.js"): [
        ("add", 11, 13, "Adds two numbers. See sub."),  # `export function`
        ("double", 16, 16, "Doubles a value."),  # `export const double = (x) => ...`
        ("noDoc", 20, 22, ""),
        ("helpers.greet", 26, 26, "Greets someone."),  # object literal pair
        ("helpers.shout", 27, 27, ""),
        ("module.exports.handler", 30, 33, ""),  # its forEach callback has no name: skipped
        ("Widget.render", 39, 43, "Renders the widget."),  # decorated method
        ("Widget.render.inner", 41, 41, ""),
        ("Widget.create", 45, 45, ""),
        ("Widget.onClick", 47, 47, ""),  # class field holding an arrow function
        ("counter", 50, 50, ""),  # generator
        ("café", 53, 53, "Café déjà vu."),
        ("default", 56, 56, "The default export."),
    ],
    ("php", "Shapes.php"): [
        ("circle_area", 12, 15, "Computes the area of a circle."),
        ("no_doc", 19, 22, ""),
        ("HasArea.area", 27, 27, "Returns the area."),
        ("Named.name", 36, 39, "The name, e.g. square."),  # trait; <p> ends the summary
        ("Square.__construct", 48, 48, "Builds a square."),
        ("Square.area", 50, 56, "Side squared."),  # doc after the attribute, inside the span
        ("Square.größe", 59, 59, "Größe — ünïcödé."),
    ],
    ("ruby", "shapes.rb"): [
        ("Geometry.Rect.initialize", 12, 15, "Builds a rectangle."),
        ("Geometry.Rect.area", 18, 18, "The area."),  # endless method
        ("Geometry.Rect.no_doc", 22, 24, ""),
        ("Geometry.Rect.square", 27, 29, "Makes a square."),  # def self.square
        ("Geometry.Rect.unit", 33, 35, "Unit rectangle."),  # class << self
        ("Geometry.Rect.größe", 39, 41, "Größe — ünïcödé."),  # private def
        ("helper", 51, 51, "Top-level helper."),  # =begin/=end block comment
        ("reset_cache", 57, 57, "Resets the cache."),  # leading `@private`, `:nocov:` directive
    ],
}

# A comment inside each fixture's functions (never a code token) and a string literal holding
# comment-like text (one whole code token).
COMMENT_AND_STRING = {
    "go": ("multiply", "`raw // not a comment`"),
    "java": ("plus", '"/* not a comment */"'),
    "javascript": ("plus", "`template ${1 + 1} // not a comment`"),
    "php": ("squared", '"interpolated {$r} /* not a comment */"'),
    "ruby": ("height", '"interpolated #{@w} # not a comment"'),
}

# Functions around a syntax error that must still come out, with their docs.
BROKEN = {
    "go": ("broken.go", {"Good": "Good works.", "After": "After is fine too."}),
    "java": ("Broken.java", {"Broken.good": "Good works.", "Broken.after": "After is fine too."}),
    "javascript": ("broken.js", {"good": "Good works.", "after": "After is fine too."}),
    "php": ("broken.php", {"good": "Good works.", "after": "After is fine too."}),
    "ruby": ("broken.rb", {"good": "Good works.", "after": "After is fine too."}),
}


def _source(language: str, name: str, crlf: bool = False) -> bytes:
    data = (FIXTURES / language / name).read_bytes()
    return data.replace(b"\n", b"\r\n") if crlf else data


def _extract(language: str, name: str, crlf: bool = False):
    return extractor(language).extract(_source(language, name, crlf), f"{language}/{name}",
                                       repo="owner/repo", sha="abc123")


def _function(language: str, name: str, func_name: str, crlf: bool = False):
    return next(f for f in _extract(language, name, crlf).functions if f.func_name == func_name)


@pytest.mark.parametrize("crlf", [False, True], ids=["lf", "crlf"])
@pytest.mark.parametrize("language,name", list(EXPECTED))
def test_names_lines_and_summaries(language, name, crlf):
    result = _extract(language, name, crlf)
    assert not result.parse_error
    got = [(f.func_name, f.start_line, f.end_line, f.summary) for f in result.functions]
    assert got == EXPECTED[(language, name)]


@pytest.mark.parametrize("crlf", [False, True], ids=["lf", "crlf"])
@pytest.mark.parametrize("language,name", list(EXPECTED))
def test_records_are_consistent(language, name, crlf):
    source = _source(language, name, crlf)
    lines = source.decode("utf-8").splitlines()
    for f in _extract(language, name, crlf).functions:
        assert f.language == language
        assert f.url == f"https://github.com/owner/repo/blob/abc123/{language}/{name}#L{f.start_line}-L{f.end_line}"
        # The lines say where original_string is (it may start or end mid-line: `export const f = ...`).
        assert f.original_string.splitlines()[0].strip() in lines[f.start_line - 1]
        assert f.original_string.splitlines()[-1].strip() in lines[f.end_line - 1]
        assert "\r" not in f.docstring and "\r" not in f.code
        assert not any(line.strip() == "" for line in f.code.splitlines())
        if f.docstring:
            assert f.docstring.splitlines()[0] not in f.code
            assert f.docstring_tokens
        for marker in ("/**", "*/", "//", "# "):
            assert not f.docstring.startswith(marker)


@pytest.mark.parametrize("language,name", list(EXPECTED))
def test_comments_are_not_tokens_but_strings_are_whole(language, name):
    comment, string = COMMENT_AND_STRING[language]
    tokens = [t for f in _extract(language, name).functions for t in f.code_tokens]
    assert string in tokens
    assert not any(comment in token for token in tokens)
    assert not any(t.startswith(("/*", "//")) for t in tokens)


def test_full_docstrings():
    assert _function("go", "shapes.go", "Rect.Area").docstring == (
        "Area returns the area of the rectangle.\n\nIt never fails.")
    # Tool directives are not documentation.
    assert _function("go", "shapes.go", "Rect.Scale").docstring == "Scale multiplies both sides by f."
    assert _function("java", "Outer.java", "Outer.add").docstring == (
        "Returns the sum of {@code a} and {@code b}, see {@link Math#addExact}.\n\n<p>\n"
        "Overflow wraps around.\n\n@param a the first\n@param b the second\n@return the sum")
    assert _function("javascript", "widgets.js", "add").docstring == (
        "Adds two numbers.\nSee {@link sub}.\n\n@param {number} a - first\n"
        "@param {number} b - second\n@returns {number}")
    assert _function("php", "Shapes.php", "circle_area").docstring == (
        "Computes the area of a circle.\n\n@param float $r radius\n@return float")
    assert _function("ruby", "shapes.rb", "Geometry.Rect.initialize").docstring == (
        "Builds a rectangle.\n\n@param w [Numeric] width")
    assert _function("ruby", "shapes.rb", "Geometry.Rect.initialize").docstring_tokens == [
        "Builds", "a", "rectangle"]
    assert _function("ruby", "shapes.rb", "reset_cache").docstring == "Resets the cache.\n\n@private"


@pytest.mark.parametrize("language,name,func_name,doc", [
    ("java", "Outer.java", "Outer.late", "Written after the annotation."),
    ("php", "Shapes.php", "Square.area", "Side squared."),
])
def test_doc_inside_the_span_is_cut_from_code(language, name, func_name, doc):
    f = _function(language, name, func_name)
    assert f.docstring == doc
    assert doc in f.original_string
    assert doc not in f.code and "/**" not in f.code
    assert not any(doc.split()[0] in t for t in f.code_tokens)


def test_doc_outside_the_span_is_not_in_code():
    f = _function("javascript", "widgets.js", "double")
    assert f.original_string == "(x) => x * 2"
    f = _function("java", "Outer.java", "Outer.add")
    assert f.original_string.startswith("@Override") and "Returns the sum" not in f.code


@pytest.mark.parametrize("language", list(BROKEN))
def test_syntax_errors_keep_the_good_functions(language):
    name, docs = BROKEN[language]
    stats = ExtractStats()
    functions = extract_file(FIXTURES / language / name, name, language, stats=stats)
    assert stats.parse_errors == 1 and stats.files == 1
    got = {f.func_name: f.summary for f in functions}
    for func_name, summary in docs.items():
        assert got[func_name] == summary


def test_languages_picked_by_extension_and_go_non_sources_skipped():
    stats = ExtractStats()
    functions = list(extract_path(FIXTURES / "mixed", stats=stats))
    assert {f.language: (f.func_name, f.summary) for f in functions} == {
        "go": ("GoFunc", "GoFunc is Go."),
        "java": ("B.javaMethod", "Java method."),
        "javascript": ("jsFunc", "JavaScript function."),
        "php": ("php_func", "PHP function."),
        "python": ("py_func", "Python function."),
        "ruby": ("ruby_method", "Ruby method."),
    }
    assert len(functions) == 6 and stats.files == 6 and stats.documented == 6
    # a_test.go is a test; api.pb.go and stringer.go ("DO NOT EDIT") are generated.
    assert stats.skipped == {"test": 1, "generated or minified": 2}


def test_every_language_is_registered():
    assert set(EXTRACTORS) == {"go", "java", "javascript", "php", "python", "ruby"}
    assert {ext for cls in EXTRACTORS.values() for ext in cls.extensions} >= {
        ".go", ".java", ".js", ".php", ".py", ".rb"}


@pytest.mark.parametrize("language", ["go", "java", "javascript", "php", "ruby"])
def test_garbage_does_not_crash(language):
    for data in (b"", b"\xff\xfe\x00garbage", "}{ ) ( ünïcödé /** */ # //".encode()):
        result = extractor(language).extract(data, "x")
        assert isinstance(result.functions, list)


@pytest.mark.parametrize("language, snippet, name", [
    ("go", "func (r *Reader) Read(p []byte) (int, error) { return 0, nil }", "Reader.Read"),
    ("java", "public int add(int a, int b) { return a + b; }", "add"),
    ("javascript", "function add(a, b) { const twice = x => 2 * x; return twice(a) + b; }", "add"),
    ("php", "<?php function add($a, $b) { return $a + $b; }", "add"),
    ("python", "def send_mail(to):\n    def inner():\n        pass\n    return inner\n", "send_mail"),
    ("ruby", "def add(a, b)\n  a + b\nend\n", "add"),
    ("python", "x = 1\ny = send(x)\n", ""),  # a fragment: no function
    ("python", "def a():\n    pass\n\n\ndef b():\n    pass\n", ""),  # two functions: no one name
])
def test_a_snippet_is_named_by_the_one_function_it_defines(language, snippet, name):
    leaves, func_name = read_snippet(snippet, language)
    assert func_name == name and leaves

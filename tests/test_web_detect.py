"""Language detection of pasted code (training.extract.detect), used by search by code."""
import time
from pathlib import Path

import pytest

from training.extract import LANGUAGES, extract_file, language_of
from training.extract.detect import detect_language, rank_languages, standalone_source

FIXTURES = Path(__file__).parent / "fixtures"

SNIPPETS = {
    "python": "def add(a, b):\n    return a + b\n",
    "go": "func Add(a, b int) int {\n\treturn a + b\n}\n",
    "java": "public int add(int a, int b) {\n    return a + b;\n}\n",
    "javascript": "const add = (a, b) => {\n  return a + b;\n};\n",
    "ruby": "def add(a, b)\n  a + b\nend\n",
    "php": "function add($a, $b) {\n    return $a + $b;\n}\n",
}
# Methods pasted without their class, which the grammars only accept inside one.
METHODS = {
    "java": "@Override\npublic String toString() {\n    return name;\n}\n",
    "javascript": "getChildNodes(node) {\n    return this.children.get(node);\n}\n",
    "php": "public function getName()\n{\n    return $this->name;\n}\n",
}


@pytest.mark.parametrize("language, code", [*SNIPPETS.items(), *METHODS.items()])
def test_short_snippets_are_recognised(language, code):
    assert detect_language(code) == language


# Valid, identical code in more than one language: no detector can tell.
AMBIGUOUS = {"d.php:php_func"}  # `function php_func() {}` is JavaScript too


def fixture_functions():
    for path in sorted(FIXTURES.rglob("*")):
        language = language_of(path)
        if language and "broken" not in path.name.lower():
            for fn in extract_file(path, path.name, language):
                name = f"{path.name}:{fn.func_name}"
                if name not in AMBIGUOUS:
                    yield pytest.param(language, fn.original_string, id=name)


@pytest.mark.parametrize("language, code", fixture_functions())
def test_every_fixture_function_is_recognised(language, code):
    assert detect_language(code) == language


def test_ranking_scores_every_candidate_and_errors_count_against():
    ranking = rank_languages(SNIPPETS["go"])
    assert [g.language for g in ranking][0] == "go" and {g.language for g in ranking} == set(LANGUAGES)
    go, python = (next(g for g in ranking if g.language == name) for name in ("go", "python"))
    assert go.errors == 0 and python.errors > 0 and go.score > python.score


def test_candidates_restrict_the_answer():
    assert detect_language(SNIPPETS["ruby"], candidates=["python", "go"]) in ("python", "go")
    with pytest.raises(ValueError, match="cobol"):
        rank_languages("x", candidates=["cobol"])


def test_keywords_inside_strings_do_not_outweigh_syntax():
    code = 'def describe():\n    return "function $x() { echo $y; } end"\n'
    assert detect_language(code) == "python"


@pytest.mark.parametrize("code", ["", "   \n", "\x00\x01binary", "日本語のテキスト", "x" * 20_000, "a<" * 10_000,
                                  "a:" * 10_000, "x " * 10_000])
def test_odd_input_still_gets_an_answer_quickly(code):
    started = time.perf_counter()
    assert detect_language(code) in LANGUAGES
    assert time.perf_counter() - started < 1.0


def test_php_without_its_open_tag_is_parsed_as_php():
    assert standalone_source("echo $x;", "php") == "<?php\necho $x;"
    assert standalone_source("<?php echo $x;", "php") == "<?php echo $x;"
    assert standalone_source("x = 1", "python") == "x = 1"

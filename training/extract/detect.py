"""Guess the language of a pasted snippet: parse it with every grammar, prefer the one that finds the
fewest syntax errors, and let keyword hints decide between grammars that accept it equally well.

    detect_language("def f(x):\\n    return x")   # -> "python"
    rank_languages(code)[0]                       # the same, with the scores of the others

Grammars are forgiving (Ruby and JavaScript accept much of Python, PHP's accepts anything outside
`<?php` as text), so errors alone can't decide; hints alone are fooled by keywords in strings.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from training.extract import LANGUAGES, extractor

PHP_OPEN_TAG = "<?php"
# One syntax error weighs as much as this many keyword hints.
ERROR_WEIGHT = 3.0
# Hints seen more often than this stop adding up (a long file shouldn't drown out its errors).
MAX_HITS_PER_HINT = 3
# Enough to tell a language by; grammars recovering from errors in long garbage can take seconds.
MAX_CHARS = 4000

_M = re.MULTILINE
HINTS: dict[str, list[re.Pattern]] = {
    "python": [re.compile(p, _M) for p in (
        r"^\s*def \w+\(.*\)\s*(->[^:]+)?:\s*$", r"^\s*(el)?if .+:\s*$", r"^\s*for \w+(, \w+)* in .+:\s*$",
        r"^\s*(from [\w.]+ )?import [\w., ]+$", r"\bself\.\w+", r"\b(None|True|False)\b", r"^\s*class \w+.*:\s*$",
        r"^\s*@[a-z_][\w.]*", r'^\s*("""|\'\'\')', r"\b(elif|except|lambda|yield|raise)\b", r"^\s*with .+ as \w+:\s*$",
    )],
    "go": [re.compile(p, _M) for p in (
        r"^func (\(\w+ \*?\w+(\[[\w, ]+\])?\) )?\w+\(", r"\b\w+ :=", r"^package \w+", r"\berr != nil\b",
        r"\bfmt\.\w+", r"\b(chan|defer|go func|struct \{|interface \{)", r"\[\](string|int|byte|\*?\w+)\b",
        r"\bfunc\(", r"^\s*import \($",
    )],
    "java": [re.compile(p, _M) for p in (
        r"\b(public|private|protected)\s+(static\s+)?(final\s+)?(?![^(\n]*\bfunction\b)[\w<>\[\], ]+\s+\w+\s*\(",
        r"\b(void|boolean|String|int|long)\s+\w+\s*[(=;]", r"@Override\b", r"\bSystem\.\w+",
        r"\bnew \w+<[\w<>, ]*>\(", r"\bthrows \w+", r"\b(final|extends|implements|instanceof)\b",
        r"\b\w+<[\w<>, ?]+> \w+", r"^\s*import [\w.]+(\.\*)?;$", r"^\s*@[A-Z]\w*",
    )],
    "javascript": [re.compile(p, _M) for p in (
        r"\bfunction\s*\w*\s*\(", r"\b(const|let|var)\s+\w+\s*=", r"=>", r"\bconsole\.\w+", r"===|!==",
        r"\brequire\(", r"\b(document|window|module\.exports|exports)\b", r"\b(undefined|null)\b",
        r"\bthis\.[\w#]+", r"\b(async|await|typeof)\b", r"^\s*(export|import) ",
        r"^\s*(async\s+)?((get|set|static)\s+)?\w+\s*\([\w\s,.={}\[\]]*\)\s*\{",
    )],
    "ruby": [re.compile(p, _M) for p in (
        r"^\s*end\s*$", r"^\s*def (self\.)?\w+[?!=]?(\(.*\))?\s*$", r"\bdo(\s*\|[^|]*\|)?\s*$", r"\belsif\b",
        r"\bnil\b", r"\bputs\b", r"(?<![\w@])@[a-z_]\w*", r"\.each\b", r"^\s*(require|require_relative) ['\"]",
        r"\b(unless|until)\b", r"^\s*(module|class) [A-Z]\w*(\s*<\s*[\w:]+)?\s*$", r":\w+\s*=>|\b\w+: ",
    )],
    "php": [re.compile(p, _M) for p in (
        r"<\?php", r"\$\w+", r"\$this->", r"\bfunction\s+\w+\s*\(\s*(\??\w+\s+)?&?\$", r"\becho\b",
        r"\b(public|private|protected)( static)? function\b", r"\b\w+::\w+", r"\bnamespace [\w\\]+;",
        r"\$\w+\s*\.=",
    )],
}


@dataclass(frozen=True)
class Guess:
    language: str
    errors: int     # ERROR and MISSING nodes in the parse
    hints: int      # keyword hints seen (each pattern counted at most MAX_HITS_PER_HINT times)

    @property
    def score(self) -> float:
        return self.hints - ERROR_WEIGHT * self.errors


# A method pasted on its own is only valid inside a class body in these languages.
CLASS_BODY = {"java": ("class _ {\n", "\n}"), "javascript": ("class _ {\n", "\n}"), "php": ("class _ {\n", "\n}")}


def standalone_source(code: str, language: str) -> str:
    """`code` as its grammar expects a free-standing snippet: PHP's treats text before `<?php` as HTML."""
    if language == "php" and PHP_OPEN_TAG not in code:
        return f"{PHP_OPEN_TAG}\n{code}"
    return code


def count_errors(code: str, language: str) -> int:
    """Syntax errors in `code` alone or, where that parses better, as the body of a class."""
    errors = _errors(standalone_source(code, language), language)
    if errors and language in CLASS_BODY and PHP_OPEN_TAG not in code:
        before, after = CLASS_BODY[language]
        errors = min(errors, _errors(standalone_source(before + code + after, language), language))
    return errors


def _errors(source: str, language: str) -> int:
    errors = 0
    stack = [extractor(language).parser.parse(source.encode("utf-8", "replace")).root_node]
    while stack:
        node = stack.pop()
        if node.is_error or node.is_missing:
            errors += 1
        elif node.has_error:
            stack.extend(node.children)
    return errors


def count_hints(code: str, language: str) -> int:
    return sum(min(len(pattern.findall(code)), MAX_HITS_PER_HINT) for pattern in HINTS[language])


def rank_languages(code: str, candidates: tuple[str, ...] | list[str] = LANGUAGES) -> list[Guess]:
    """Every candidate language, most likely first (ties keep the candidates' order).

    Only the first MAX_CHARS characters are looked at, cut at a line end.
    """
    unknown = set(candidates) - set(LANGUAGES)
    if unknown:
        raise ValueError(f"unknown language(s) {', '.join(sorted(unknown))}; supported: {', '.join(LANGUAGES)}")
    if len(code) > MAX_CHARS:
        code = code[:MAX_CHARS].rsplit("\n", 1)[0]
    guesses = [Guess(lang, count_errors(code, lang), count_hints(code, lang)) for lang in candidates]
    return sorted(guesses, key=lambda g: -g.score)


def detect_language(code: str, candidates: tuple[str, ...] | list[str] = LANGUAGES) -> str:
    return rank_languages(code, candidates)[0].language

"""Pygments highlighting of a unit's code, done once, when its repository is indexed (`highlighting`,
stored in Snippet.highlight and Snippet.html): a token stream of [css_class, text] pairs for API clients
that build the markup themselves, and HTML with its real line numbers for the pages. A request only
reads them (`shown`) and marks in the HTML what a search matched by (`marked`)."""
from __future__ import annotations

import io
import re
from dataclasses import dataclass
from functools import lru_cache

from django.conf import settings
from django.utils.safestring import SafeString, mark_safe
from pygments.formatters import HtmlFormatter
from pygments.lexers import get_lexer_by_name
from pygments.token import STANDARD_TYPES
from pygments.util import ClassNotFound

CSS_CLASS = "hl"
STYLE = "friendly"
# Units whose stored highlighting can't serve (see `shown`), highlighted on request and kept.
CACHED_FUNCTIONS = 1024


@lru_cache(maxsize=16)
def _lexer(language: str):
    # Every character kept (no newlines stripped or added), so that the token texts join back into the code.
    options = {"stripnl": False, "ensurenl": False}
    try:
        return get_lexer_by_name(language, startinline=True, **options)
    except ClassNotFound:
        return get_lexer_by_name("text", **options)


def _css_class(token_type) -> str:
    while token_type not in STANDARD_TYPES:
        token_type = token_type.parent
    return STANDARD_TYPES[token_type]


def _merged(tokens) -> list[list[str]]:
    """[[css_class, text], ...] with neighbours of one class merged; "" is plain text."""
    merged: list[list[str]] = []
    for token_type, value in tokens:
        css = _css_class(token_type)
        if merged and merged[-1][0] == css:
            merged[-1][1] += value
        else:
            merged.append([css, value])
    return merged


def highlighting(code: str, language: str, first_line: int = 1) -> dict:
    """The stored highlighting of `code` (already cut to what is shown): {"highlight": its token stream,
    "html": its HTML, lines numbered from `first_line`}. The code is lexed once for both."""
    tokens = list(_lexer(language).get_tokens(code))
    html = io.StringIO()
    # Pygments escapes the code itself, so its output can be marked safe when it is shown.
    HtmlFormatter(cssclass=CSS_CLASS, linenos="inline", linenostart=first_line, wrapcode=True).format(tokens, html)
    return {"highlight": _merged(tokens), "html": html.getvalue()}


def unit_highlighting(code: str, language: str, first_line: int) -> dict:
    """What a Snippet stores for a unit (see `highlighting`): its code as results show it, cut at
    RESULT_CODE_MAX_CHARS (a generated or minified "function" can be megabytes long)."""
    return highlighting(code[:settings.RESULT_CODE_MAX_CHARS], language, first_line)


def record_highlighting(record: dict) -> dict:
    """What a Snippet stores for a unit record of a build (functions.jsonl.gz): the highlighting the build
    made ("highlight" and "html", by `highlighting` of its code cut at RESULT_CODE_MAX_CHARS) when it made
    it, so that publishing, in one transaction, does not spend seconds in Pygments; made here otherwise."""
    if "html" in record:
        return {"highlight": record["highlight"], "html": record["html"]}
    return unit_highlighting(record["original_string"], record["language"], record["start_line"])


@lru_cache(maxsize=CACHED_FUNCTIONS)
def _highlighted_now(code: str, language: str, first_line: int) -> tuple[list, str]:
    found = highlighting(code, language, first_line)
    return found["highlight"], found["html"]


@dataclass
class Shown:
    """A unit's code as a result shows it: cut at RESULT_CODE_MAX_CHARS, with its highlighting."""
    code: str
    truncated: bool
    tokens: list  # [[css_class, text], ...], joining back into `code`
    html: SafeString


def shown(snippet) -> Shown:
    """`snippet`'s code and highlighting as stored when it was indexed; highlighted now only when the
    stored ones are not of the code shown (a version indexed before they were stored, or
    RESULT_CODE_MAX_CHARS changed since)."""
    code = snippet.code[:settings.RESULT_CODE_MAX_CHARS]
    tokens, html = snippet.highlight, snippet.html
    if not html or sum(len(text) for _, text in tokens) != len(code):
        tokens, html = _highlighted_now(code, snippet.language, snippet.start_line)
    return Shown(code, len(code) < len(snippet.code), tokens, mark_safe(html))


# Identifiers in the highlighted HTML's text: never inside a tag (text runs between > and <) nor an
# entity such as &lt; (the lookbehind).
_TEXT = re.compile(r">([^<]+)<")
_IDENTIFIER = re.compile(r"(?<![&#\w$])[A-Za-z_$][\w$]*")
_WORD_CHARS = re.compile(r"[\w$]*")
_PART = re.compile(r"[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z]+|[A-Z]+|\d+")


def _mark_identifier(identifier: str, marks: frozenset[str]) -> str:
    if identifier.strip("_$").lower() in marks:
        return f"<mark>{identifier}</mark>"
    return _PART.sub(lambda m: f"<mark>{m.group()}</mark>" if m.group().lower() in marks else m.group(), identifier)


def _identifier_at(html: str, position: int) -> tuple[int, int] | None:
    """The bounds of the identifier of the HTML's text that holds `position`, if there is one."""
    start = position
    while start and (html[start - 1].isalnum() or html[start - 1] in "_$"):
        start -= 1
    end = _WORD_CHARS.match(html, position).end()
    if not _IDENTIFIER.match(html, start) or (start and html[start - 1] in "&#"):
        return None
    closing, opening = html.find(">", end), html.find("<", end)
    return (start, end) if opening != -1 and (closing == -1 or opening < closing) else None  # not in a tag


def _marked_by_search(html: str, marks: frozenset[str]) -> str | None:
    """`marked`, visiting only the identifiers that hold a mark (found by str.find, ignoring case):
    a few per result, where a regex pass calls back for every text run. None when lower-casing
    changes the text's length (a few non-ASCII letters do), which would shift every position."""
    lower = html.lower()
    if len(lower) != len(html):
        return None
    found: dict[int, int] = {}
    for mark in filter(None, marks):
        position = lower.find(mark)
        while position != -1:
            bounds = _identifier_at(html, position)
            if bounds:
                found[bounds[0]] = bounds[1]
            position = lower.find(mark, position + 1)
    parts, done = [], 0
    for start in sorted(found):
        parts += [html[done:start], _mark_identifier(html[start:found[start]], marks)]
        done = found[start]
    return "".join(parts) + html[done:]


def marked(html: str, marks: frozenset[str]) -> SafeString:
    """Highlighted HTML with the identifiers, or parts of them, that are `marks` (lower-case tokens, as
    a search's `matched` names them) in <mark>: where a result matched its query."""
    if not marks:
        return mark_safe(html)
    by_search = _marked_by_search(html, marks)
    if by_search is not None:
        return mark_safe(by_search)
    return mark_safe(_TEXT.sub(lambda t: ">" + _IDENTIFIER.sub(
        lambda m: _mark_identifier(m.group(), marks), t.group(1)) + "<", html))


def stylesheet() -> str:
    return HtmlFormatter(style=STYLE).get_style_defs(f".{CSS_CLASS}")

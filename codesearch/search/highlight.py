"""Pygments highlighting of a function: HTML with its real line numbers for the pages, and a token
stream of [css_class, text] pairs for API clients that build the markup themselves."""
import re
from functools import lru_cache

from django.utils.safestring import SafeString, mark_safe
from pygments import highlight
from pygments.formatters import HtmlFormatter
from pygments.lexers import get_lexer_by_name
from pygments.token import STANDARD_TYPES
from pygments.util import ClassNotFound

CSS_CLASS = "hl"
STYLE = "friendly"
# Functions repeat across searches; highlighting them is the slowest part of rendering a result.
CACHED_FUNCTIONS = 4096


@lru_cache(maxsize=16)
def _lexer(language: str, exact: bool):
    # `exact` keeps every character, so that the token texts join back into the code.
    options = {"stripnl": False, "ensurenl": False} if exact else {}
    try:
        return get_lexer_by_name(language, startinline=True, **options)
    except ClassNotFound:
        return get_lexer_by_name("text", **options)


@lru_cache(maxsize=CACHED_FUNCTIONS)
def highlight_code(code: str, language: str, first_line: int = 1) -> SafeString:
    # Pygments escapes the code itself, so marking its output safe cannot let markup through.
    formatter = HtmlFormatter(cssclass=CSS_CLASS, linenos="inline", linenostart=first_line, wrapcode=True)
    return mark_safe(highlight(code, _lexer(language, exact=False), formatter))


# Identifiers in the highlighted HTML's text: never inside a tag (text runs between > and <) nor an
# entity such as &lt; (the lookbehind).
_TEXT = re.compile(r">([^<]+)<")
_IDENTIFIER = re.compile(r"(?<![&#\w$])[A-Za-z_$][\w$]*")
_PART = re.compile(r"[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z]+|[A-Z]+|\d+")


def _mark_identifier(identifier: str, marks: frozenset[str]) -> str:
    if identifier.strip("_$").lower() in marks:
        return f"<mark>{identifier}</mark>"
    return _PART.sub(lambda m: f"<mark>{m.group()}</mark>" if m.group().lower() in marks else m.group(), identifier)


@lru_cache(maxsize=CACHED_FUNCTIONS)
def highlight_marked(code: str, language: str, first_line: int, marks: frozenset[str]) -> SafeString:
    """`highlight_code` with the identifiers, or parts of them, that are `marks` (lower-case tokens, as
    a search's `matched` names them) in <mark>: where a result matched its query."""
    html = str(highlight_code(code, language, first_line))
    if not marks:
        return mark_safe(html)
    return mark_safe(_TEXT.sub(lambda t: ">" + _IDENTIFIER.sub(
        lambda m: _mark_identifier(m.group(), marks), t.group(1)) + "<", html))


def _css_class(token_type) -> str:
    while token_type not in STANDARD_TYPES:
        token_type = token_type.parent
    return STANDARD_TYPES[token_type]


@lru_cache(maxsize=CACHED_FUNCTIONS)
def highlight_tokens(code: str, language: str) -> tuple[tuple[str, str], ...]:
    """[(css_class, text), ...] with neighbours of one class merged; "" is plain text."""
    merged: list[list[str]] = []
    for token_type, value in _lexer(language, exact=True).get_tokens(code):
        css = _css_class(token_type)
        if merged and merged[-1][0] == css:
            merged[-1][1] += value
        else:
            merged.append([css, value])
    return tuple((css, value) for css, value in merged)


def stylesheet() -> str:
    return HtmlFormatter(style=STYLE).get_style_defs(f".{CSS_CLASS}")

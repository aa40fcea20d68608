"""Pygments highlighting of a function: HTML with its real line numbers for the pages, and a token
stream of [css_class, text] pairs for API clients that build the markup themselves."""
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

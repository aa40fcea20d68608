"""Pygments highlighting of a function, with its real line numbers."""
from functools import lru_cache

from django.utils.safestring import SafeString, mark_safe
from pygments import highlight
from pygments.formatters import HtmlFormatter
from pygments.lexers import get_lexer_by_name
from pygments.util import ClassNotFound

CSS_CLASS = "hl"


@lru_cache(maxsize=8)
def _lexer(language: str):
    try:
        return get_lexer_by_name("php" if language == "php" else language, startinline=True)
    except ClassNotFound:
        return get_lexer_by_name("text")


def highlight_code(code: str, language: str, first_line: int = 1) -> SafeString:
    # Pygments escapes the code itself, so marking its output safe cannot let markup through.
    formatter = HtmlFormatter(cssclass=CSS_CLASS, linenos="inline", linenostart=first_line, wrapcode=True)
    return mark_safe(highlight(code, _lexer(language), formatter))


def stylesheet() -> str:
    return HtmlFormatter(style="friendly").get_style_defs(f".{CSS_CLASS}")

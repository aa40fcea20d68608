from django import template

from codesearch.search.highlight import Shown, marked, shown

register = template.Library()


@register.filter
def shown_code(snippet) -> Shown:
    """The snippet's code as shown (cut at RESULT_CODE_MAX_CHARS) and its highlighted HTML, numbered from
    its first line in the file."""
    return shown(snippet)


@register.filter
def shown_result(result) -> Shown:
    """A result's code as shown, with the tokens it matched by (code and name) marked in its HTML."""
    code = shown(result.snippet)
    code.html = marked(code.html, frozenset(m["token"] for m in result.matched if m["source"] != "doc"))
    return code

from django import template

from codesearch.search.highlight import highlight_code, highlight_marked

register = template.Library()


@register.filter
def highlighted(snippet):
    """The snippet's code as highlighted HTML, numbered from its first line in the file."""
    return highlight_code(snippet.code, snippet.language, snippet.start_line)


@register.filter
def highlighted_result(result):
    """A result's code as highlighted HTML, with the tokens it matched by (code and name) marked."""
    snippet = result.snippet
    marks = frozenset(m["token"] for m in result.matched if m["source"] != "doc")
    return highlight_marked(snippet.code, snippet.language, snippet.start_line, marks)

from django import template

from codesearch.search.highlight import highlight_code

register = template.Library()


@register.filter
def highlighted(snippet):
    """The snippet's code as highlighted HTML, numbered from its first line in the file."""
    return highlight_code(snippet.code, snippet.language, snippet.start_line)

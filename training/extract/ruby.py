"""Ruby: `method` and `singleton_method`, named `Module.Class.method` (`def self.foo` is `Class.foo`).
The doc is the run of `#` comments (or an `=begin` block) right above the method."""
from __future__ import annotations

import re

import tree_sitter
import tree_sitter_ruby

from training.extract.base import LanguageExtractor, text
from training.extract.comments import clean_line_comments, comments_above

# Magic comments and tool markers (rubocop, rdoc `:nodoc:`, simplecov `:nocov:`) are not documentation.
_DIRECTIVE = re.compile(r"^\s*#\s*(?:rubocop:|frozen_string_literal:|(?:en)?coding:|-\*-|typed:|:nodoc:|:nocov:)")
# YARD visibility tags carry no text but often open a comment (`# @private`, `# @api public`).
_VISIBILITY = re.compile(r"^@(?:private|public|protected|api\s+\w+|!visibility\s+\w+)\s*$")


def _constant_path(node, source) -> str:
    """`A::B` (a scope_resolution) as `A.B`; a leading `::` (top level) is dropped."""
    return text(node, source).replace("::", ".").lstrip(".")


class RubyExtractor(LanguageExtractor):
    name = "ruby"
    extensions = (".rb",)
    function_types = frozenset({"method", "singleton_method"})
    atomic_types = frozenset({"string", "heredoc_body", "regex"})
    class_types = frozenset({"class", "module"})
    block_types = frozenset({"body_statement", "then", "else", "do", "block_body"})
    line_comment = "#"

    def language(self) -> tree_sitter.Language:
        return tree_sitter.Language(tree_sitter_ruby.language())

    def name_of(self, node, source):
        name = node.child_by_field_name("name")
        if name is None:
            return None
        if node.type in self.class_types:
            return _constant_path(name, source)
        obj = node.child_by_field_name("object")
        if obj is None or obj.type == "self":
            return text(name, source)
        return f"{_constant_path(obj, source)}.{text(name, source)}"

    def scopes_of(self, node, source):
        # Only modules and classes: a `def` nested in a method still defines a method of the class.
        names = []
        parent = node.parent
        while parent is not None:
            if parent.type in ("class", "module"):
                name = parent.child_by_field_name("name")
                if name is not None:
                    names.append(_constant_path(name, source))
            parent = parent.parent
        return names[::-1]

    def documentation(self, node, source):
        anchor = node
        # `private def foo`: the comment sits above the call that wraps the definition.
        if (node.parent is not None and node.parent.type == "argument_list"
                and node.parent.parent is not None and node.parent.parent.type == "call"):
            anchor = node.parent.parent
        comments = [text(c, source) for c in comments_above(anchor, source, self.comment_types)]
        return _visibility_last(clean_line_comments(comments, "#", skip=_DIRECTIVE)), []


def _visibility_last(doc: str) -> str:
    """Move leading visibility tags after the text, so that `summarize` (which stops at the first
    tag) finds the description."""
    lines = doc.splitlines()
    head = 0
    while head < len(lines) and (_VISIBILITY.match(lines[head]) or not lines[head].strip()):
        head += 1
    tags = [line for line in lines[:head] if line.strip()]
    if not tags or head == len(lines):
        return doc
    return "\n".join([*lines[head:], "", *tags])

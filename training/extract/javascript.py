"""JavaScript: declared functions and methods, and function/arrow expressions that something names:
`const f = () => ...` is `f`, `obj.method = function () {}` is `obj.method`, `{key: function () {}}`
is `key`. Callbacks passed as arguments have no name and are skipped. Names are qualified by the
enclosing named classes, functions and object literals (`Class.method`, `exports.obj.key`). The doc
is the `/** */` block above the statement that introduces the function (`export`, `const`, ...)."""
from __future__ import annotations

import tree_sitter
import tree_sitter_javascript

from training.extract.base import LanguageExtractor, text
from training.extract.comments import clean_block, doc_block_above

_FUNCTIONS = frozenset({
    "function_declaration", "generator_function_declaration", "method_definition",
    "function_expression", "generator_function", "arrow_function",
})
_DECLARED = frozenset({"function_declaration", "generator_function_declaration", "method_definition",
                       "class_declaration"})
_SCOPES = _FUNCTIONS | {"class_declaration", "class", "object"}
# Nodes between a function and the statement its doc comment sits above.
_WRAPPERS = frozenset({
    "export_statement", "variable_declarator", "lexical_declaration", "variable_declaration",
    "assignment_expression", "expression_statement", "pair", "field_definition",
})


def _key(node, source) -> str:
    """A property or method name; a quoted key loses its quotes."""
    name = text(node, source)
    return name[1:-1] if node.type == "string" else name


def _given_name(node, source) -> str | None:
    """The name a function, class or object literal is known by, from itself or where it is put."""
    if node.type in _DECLARED:
        return _key(node.child_by_field_name("name"), source)
    parent = node.parent
    if parent is not None:
        if parent.type == "variable_declarator" and parent.child_by_field_name("value") == node:
            name = parent.child_by_field_name("name")
            return text(name, source) if name.type == "identifier" else None  # not destructuring
        if parent.type == "assignment_expression" and parent.child_by_field_name("right") == node:
            target = "".join(text(parent.child_by_field_name("left"), source).split())
            # `this.x = function` in a constructor: `this` is the enclosing scope already.
            return target.removeprefix("this.")
        if parent.type == "pair" and parent.child_by_field_name("value") == node:
            return _key(parent.child_by_field_name("key"), source)
        if parent.type == "field_definition" and parent.child_by_field_name("value") == node:
            return _key(parent.child_by_field_name("property"), source)
        if parent.type == "export_statement" and any(c.type == "default" for c in parent.children):
            return "default"
    name = node.child_by_field_name("name")
    return _key(name, source) if name is not None else None


class JavaScriptExtractor(LanguageExtractor):
    name = "javascript"
    extensions = (".js", ".mjs", ".cjs", ".jsx")
    function_types = _FUNCTIONS
    atomic_types = frozenset({"string", "template_string", "regex"})
    comment_types = frozenset({"comment", "html_comment"})
    class_types = frozenset({"class_declaration", "class"})
    block_types = frozenset({"statement_block", "switch_body", "switch_case"})

    def language(self) -> tree_sitter.Language:
        return tree_sitter.Language(tree_sitter_javascript.language())

    def name_of(self, node, source):
        return _given_name(node, source)

    def scopes_of(self, node, source):
        names = []
        parent = node.parent
        while parent is not None:
            if parent.type in _SCOPES:
                name = _given_name(parent, source)
                if name:
                    names.append(name)
            parent = parent.parent
        return names[::-1]

    def documentation(self, node, source):
        anchor = node
        while anchor.parent is not None and anchor.parent.type in _WRAPPERS:
            anchor = anchor.parent
        comment = doc_block_above(anchor, source, self.comment_types)
        return (clean_block(text(comment, source)), []) if comment is not None else ("", [])

"""Python: `function_definition` nodes; the docstring is the body's first string statement."""
from __future__ import annotations

import ast
import inspect

import tree_sitter
import tree_sitter_python

from training.extract.base import LanguageExtractor, text


class PythonExtractor(LanguageExtractor):
    name = "python"
    extensions = (".py", ".pyw")
    function_types = frozenset({"function_definition"})
    atomic_types = frozenset({"string", "concatenated_string"})
    class_types = frozenset({"class_definition"})
    block_types = frozenset({"block"})
    line_comment = "#"

    def language(self) -> tree_sitter.Language:
        return tree_sitter.Language(tree_sitter_python.language())

    def span_node(self, node):
        parent = node.parent
        return parent if parent is not None and parent.type == "decorated_definition" else node

    def scopes_of(self, node, source):
        names = []
        parent = node.parent
        while parent is not None:
            if parent.type in ("class_definition", "function_definition"):
                name = parent.child_by_field_name("name")
                if name is not None:
                    names.append(text(name, source))
            parent = parent.parent
        return names[::-1]

    def documentation(self, node, source):
        body = node.child_by_field_name("body")
        if body is None or body.named_child_count == 0:
            return "", []
        first = body.named_children[0]
        if first.type != "expression_statement" or first.named_child_count != 1:
            return "", []
        string = first.named_children[0]
        if string.type not in ("string", "concatenated_string"):
            return "", []
        return _string_value(text(string, source)), [(first.start_byte, first.end_byte)]


def _string_value(literal: str) -> str:
    try:
        value = ast.literal_eval(literal)
    except (ValueError, SyntaxError, MemoryError, RecursionError):
        value = literal.strip("rRuUbBfF").strip("\"'")
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    return inspect.cleandoc(value) if isinstance(value, str) else ""

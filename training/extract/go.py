"""Go: `function_declaration` and `method_declaration`; methods are named `Type.Method` after their
receiver's type. The doc is the run of `//` comments right above the function."""
from __future__ import annotations

import re

import tree_sitter
import tree_sitter_go

from training.extract.base import LanguageExtractor, iter_nodes, text
from training.extract.comments import clean_line_comments, comments_above

# Tool directives (`//go:generate`, `//nolint:errcheck`, cgo's `//export F`) are not documentation.
_DIRECTIVE = re.compile(r"^\s*//(?:[a-z0-9]+:[a-z0-9]|line |export |extern |nolint\b)")


class GoExtractor(LanguageExtractor):
    name = "go"
    extensions = (".go",)
    function_types = frozenset({"function_declaration", "method_declaration"})
    atomic_types = frozenset({"interpreted_string_literal", "raw_string_literal", "rune_literal"})
    # Named types (structs, interfaces, ...) with their methods' names, which Go declares outside them.
    class_types = frozenset({"type_spec"})
    block_types = frozenset({"block", "statement_list"})

    def language(self) -> tree_sitter.Language:
        return tree_sitter.Language(tree_sitter_go.language())

    def scopes_of(self, node, source):
        receiver = node.child_by_field_name("receiver")
        if receiver is None:
            return []
        # `*T`, `T[K, V]`, `(*T)`: the first type name inside is the receiver's base type.
        base = next(iter_nodes(receiver, frozenset({"type_identifier"})), None)
        return [text(base, source)] if base is not None else []

    def span_node(self, node):
        # `type T struct {...}` spans from `type`; a spec inside `type ( ... )` is its own line.
        parent = node.parent
        if node.type == "type_spec" and parent is not None and parent.type == "type_declaration" \
                and parent.named_child_count == 1:
            return parent
        return node

    def member_names(self, unit_name, functions):
        return [f.func_name.rsplit(".", 1)[-1] for f in functions if f.func_name.startswith(unit_name + ".")]

    def documentation(self, node, source):
        comments = [text(c, source) for c in comments_above(self.span_node(node), source, self.comment_types)]
        return clean_line_comments(comments, "//", skip=_DIRECTIVE), []

"""PHP: functions, and methods of classes, interfaces, traits and enums named `Class.method`
(namespaces left out). The doc is the `/** */` block above, or one written after the attributes."""
from __future__ import annotations

import tree_sitter
import tree_sitter_php

from training.extract.base import LanguageExtractor, text
from training.extract.comments import clean_block, doc_block_above, doc_block_inside

_SCOPES = frozenset({"class_declaration", "interface_declaration", "trait_declaration", "enum_declaration"})


class PhpExtractor(LanguageExtractor):
    name = "php"
    extensions = (".php",)
    function_types = frozenset({"function_definition", "method_declaration"})
    atomic_types = frozenset({"string", "encapsed_string", "heredoc", "nowdoc"})
    class_types = _SCOPES
    block_types = frozenset({"compound_statement", "switch_block", "case_statement"})

    def language(self) -> tree_sitter.Language:
        return tree_sitter.Language(tree_sitter_php.language_php())

    def scopes_of(self, node, source):
        # A function declared inside another is global in PHP, so only class-likes qualify a name.
        names = []
        parent = node.parent
        while parent is not None:
            if parent.type in _SCOPES:
                name = parent.child_by_field_name("name")
                if name is not None:
                    names.append(text(name, source))
            parent = parent.parent
        return names[::-1]

    def documentation(self, node, source):
        comment = doc_block_above(node, source, self.comment_types)
        if comment is not None:
            return clean_block(text(comment, source)), []
        comment = doc_block_inside(node, source, self.comment_types, node.child_by_field_name("name"))
        if comment is not None:
            return clean_block(text(comment, source)), [(comment.start_byte, comment.end_byte)]
        return "", []

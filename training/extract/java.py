"""Java: methods and constructors of classes, interfaces, enums and records, named
`Outer.Inner.method` (a constructor is named after its class). The doc is the `/** */` block above
the declaration, or one written between its annotations and the rest."""
from __future__ import annotations

import re

import tree_sitter
import tree_sitter_java

from training.extract.base import LanguageExtractor, text
from training.extract.comments import clean_block, doc_block_above, doc_block_inside

# Named scopes; methods count too, so a local or anonymous class's methods read `Outer.method.run`.
_SCOPES = frozenset({
    "class_declaration", "interface_declaration", "enum_declaration", "record_declaration",
    "annotation_type_declaration", "enum_constant", "method_declaration", "constructor_declaration",
})


class JavaExtractor(LanguageExtractor):
    name = "java"
    extensions = (".java",)
    function_types = frozenset({"method_declaration", "constructor_declaration", "compact_constructor_declaration"})
    atomic_types = frozenset({"string_literal", "character_literal"})
    comment_types = frozenset({"line_comment", "block_comment"})
    class_types = frozenset({"class_declaration", "interface_declaration", "enum_declaration", "record_declaration",
                             "annotation_type_declaration"})
    block_types = frozenset({"block", "constructor_body", "switch_block", "switch_block_statement_group"})

    def language(self) -> tree_sitter.Language:
        return tree_sitter.Language(tree_sitter_java.language())

    def scopes_of(self, node, source):
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
        cut = []
        if comment is None:
            comment = doc_block_inside(node, source, self.comment_types, node.child_by_field_name("name"))
            if comment is None:
                return "", []
            cut = [(comment.start_byte, comment.end_byte)]
        return _expand_return_tags(clean_block(text(comment, source))), cut


_RETURN_TAG = re.compile(r"\{@return\b")


def _expand_return_tags(doc: str) -> str:
    """`{@return the size}` (JDK 16+) is Javadoc for "Returns the size." and usually the whole first
    sentence; it may nest other inline tags, which `summarize`'s markup pattern can't unwrap."""
    while match := _RETURN_TAG.search(doc):
        start = match.start()
        depth, end = 0, start
        for end in range(start, len(doc)):
            depth += {"{": 1, "}": -1}.get(doc[end], 0)
            if depth == 0:
                break
        else:
            return doc  # unbalanced: leave it
        inner = doc[start + len("{@return"):end].strip()
        doc = f"{doc[:start]}Returns {inner}{'' if inner.endswith('.') else '.'}{doc[end + 1:]}"
    return doc

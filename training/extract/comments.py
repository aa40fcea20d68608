"""Documentation comments that sit above a function, shared by the Go, Java, JavaScript, PHP and Ruby
extractors: finding them in the syntax tree and stripping their markers.

Comments are "extras" in tree-sitter grammars, so the one above a function is not always its previous
sibling (Ruby puts the comments before a body's first method outside the body node). We therefore
look at the previous leaf in document order instead.
"""
from __future__ import annotations

import inspect
import re
import textwrap

import tree_sitter

from training.extract.base import text


def previous_leaf(node: tree_sitter.Node) -> tree_sitter.Node | None:
    """The last leaf that ends before `node` starts, comments included."""
    while node.prev_sibling is None:
        node = node.parent
        if node is None:
            return None
    node = node.prev_sibling
    while node.child_count:
        node = node.children[-1]
    return node


def comments_above(node: tree_sitter.Node, source: bytes, types: frozenset[str]) -> list[tree_sitter.Node]:
    """The run of comments right above `node`, in document order. A blank line ends the run, and so
    does a line comment that trails code on its line (it belongs to that code)."""
    run: list[tree_sitter.Node] = []
    row, current = node.start_point[0], node
    while True:
        comment = previous_leaf(current)
        if comment is None or comment.type not in types or comment.end_point[0] < row - 1:
            break
        before = previous_leaf(comment)
        if (before is not None and before.end_point[0] == comment.start_point[0]
                and not text(comment, source).startswith("/*")):
            break
        run.append(comment)
        row, current = comment.start_point[0], comment
    return run[::-1]


def doc_block_above(node: tree_sitter.Node, source: bytes, types: frozenset[str]) -> tree_sitter.Node | None:
    """The nearest `/** ... */` in the comment run above `node` (a `// eslint-disable` line or the
    like may sit between it and the function)."""
    for comment in reversed(comments_above(node, source, types)):
        if is_doc_block(text(comment, source)):
            return comment
    return None


def doc_block_inside(node: tree_sitter.Node, source: bytes, types: frozenset[str],
                     before: tree_sitter.Node | None) -> tree_sitter.Node | None:
    """A `/** */` written after the annotations/attributes that open a declaration (Java, PHP), which
    the grammars parse as part of the declaration; only children before `before` are looked at."""
    found = None
    limit = before.start_byte if before is not None else node.end_byte
    for child in node.children:
        if child.start_byte >= limit:
            break
        for part in (child, *(child.children if child.type == "modifiers" else ())):
            if part.type in types and is_doc_block(text(part, source)):
                found = part
    return found


def is_doc_block(comment: str) -> bool:
    return comment.startswith("/**") and comment != "/**/"


_STAR_PREFIX = re.compile(r"^\s*\*(?!/) ?")
_PARAGRAPH_TAG = re.compile(r"^\s*<p\b|^\s*<p/>", re.IGNORECASE)


def clean_block(comment: str) -> str:
    """Text of a `/* ... */` or `/** ... */` comment without its markers and leading `*`s. Javadoc
    starts a paragraph with `<p>` rather than a blank line; make that a blank line so `summarize`
    stops at the first paragraph."""
    body = re.sub(r"\*+/$", "", re.sub(r"^/\*+", "", comment.strip()))
    lines = []
    for line in body.splitlines():
        line = _STAR_PREFIX.sub("", line.rstrip())
        if _PARAGRAPH_TAG.match(line) and lines:
            lines.append("")
        lines.append(line)
    return inspect.cleandoc("\n".join(lines))


def clean_line_comments(comments: list[str], marker: str, skip: re.Pattern | None = None) -> str:
    """Text of a run of line comments (`//`, `#`), block comments among them included; lines that
    `skip` matches (tool directives such as `//go:generate`, `# rubocop:disable`) are left out."""
    lines: list[str] = []
    for comment in comments:
        if comment.startswith("/*"):
            lines.extend(clean_block(comment).splitlines())
        elif comment.startswith("=begin"):  # Ruby's block comment
            lines.extend(line.rstrip() for line in comment.splitlines()[1:-1])
        else:
            for line in comment.splitlines():
                line = line.rstrip()
                if skip is None or not skip.match(line):
                    lines.append(re.sub(rf"^\s*(?:{re.escape(marker)})+", "", line))
    return textwrap.dedent("\n".join(lines)).strip("\n")

"""What every language extractor shares: the Function record, doc clean-up, token leaves.

A language module subclasses `LanguageExtractor`, names its tree-sitter grammar and function node
types, and says how to find a function's documentation and enclosing scopes.
"""
from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from functools import cached_property

import tree_sitter


@dataclass
class Function:
    """One function in CodeSearchNet's schema (plus the lines it spans)."""

    repo: str
    path: str
    func_name: str
    original_string: str
    language: str
    code: str
    code_tokens: list[str]
    docstring: str
    docstring_tokens: list[str]
    summary: str
    url: str
    sha: str
    start_line: int
    end_line: int
    partition: str = ""

    def to_record(self) -> dict:
        return asdict(self)


@dataclass
class FileResult:
    functions: list[Function] = field(default_factory=list)
    parse_error: bool = False


_TAG_LINE = re.compile(r"^\s*(?:[:@]\w+|\.\.\s+\w+::|(?:Args|Arguments|Parameters|Returns?|Raises|Yields|"
                       r"Examples?|Notes?|See Also|Attributes|Keyword Arguments|Throws)\s*:?\s*$)")
_MARKUP = re.compile(r"`{1,2}([^`]*)`{1,2}|:\w+:`([^`]*)`|\{@\w+\s+([^}]*)\}|<[^>]+>")
WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*|\d+")


def summarize(docstring: str) -> str:
    """First paragraph of a documentation comment, without `@param`-style tags and markup."""
    lines = []
    for line in docstring.strip().splitlines():
        if not line.strip():
            if lines:
                break
            continue
        if _TAG_LINE.match(line):
            break
        lines.append(line.strip())
    text = " ".join(lines)
    text = _MARKUP.sub(lambda m: next((g for g in m.groups() if g is not None), ""), text)
    return re.sub(r"\s+", " ", text).strip()


def doc_tokens(text: str) -> list[str]:
    return WORD.findall(text)


class LanguageExtractor:
    """Finds functions in one file of one language. Subclasses fill in the class attributes."""

    name: str
    extensions: tuple[str, ...]
    function_types: frozenset[str]
    # Leaf-like nodes kept whole as one code token (string literals, as CodeSearchNet does).
    atomic_types: frozenset[str] = frozenset()
    comment_types: frozenset[str] = frozenset({"comment"})

    def language(self) -> tree_sitter.Language:
        raise NotImplementedError

    @cached_property
    def parser(self) -> tree_sitter.Parser:
        return tree_sitter.Parser(self.language())

    # --- per-language hooks -------------------------------------------------------------------
    def name_of(self, node: tree_sitter.Node, source: bytes) -> str | None:
        """The function's own name, or None for an anonymous function nobody named."""
        name = node.child_by_field_name("name")
        return text(name, source) if name is not None else None

    def scopes_of(self, node: tree_sitter.Node, source: bytes) -> list[str]:
        """Names of the enclosing classes/functions/modules, outermost first."""
        return []

    def documentation(self, node: tree_sitter.Node, source: bytes) -> tuple[str, list[tuple[int, int]]]:
        """(cleaned doc text, byte ranges of the doc inside the function's span to cut from `code`)."""
        return "", []

    def span_node(self, node: tree_sitter.Node) -> tree_sitter.Node:
        """The node whose text is the function's `original_string` (e.g. with its decorators)."""
        return node

    # --- shared machinery ---------------------------------------------------------------------
    def extract(self, source: bytes, path: str, repo: str = "", sha: str = "") -> FileResult:
        tree = self.parser.parse(source)
        result = FileResult(parse_error=tree.root_node.has_error)
        for node in iter_nodes(tree.root_node, self.function_types):
            own = self.name_of(node, source)
            if own is None:
                continue
            span = self.span_node(node)
            start, end = span.start_byte, span.end_byte
            original = source[start:end].decode("utf-8", "replace")
            doc, cut = self.documentation(node, source)
            code_bytes = bytearray(source[start:end])
            for lo, hi in sorted(cut, reverse=True):
                if start <= lo and hi <= end:
                    del code_bytes[lo - start:hi - start]
            code = _drop_blank_lines(code_bytes.decode("utf-8", "replace"))
            tokens = list(self.code_tokens(span, source, cut))
            start_line, end_line = span.start_point[0] + 1, span.end_point[0] + 1
            summary = summarize(doc)
            result.functions.append(Function(
                repo=repo, path=path,
                func_name=".".join([*self.scopes_of(node, source), own]),
                original_string=original, language=self.name, code=code, code_tokens=tokens,
                docstring=doc, docstring_tokens=doc_tokens(summary), summary=summary,
                url=github_url(repo, sha, path, start_line, end_line), sha=sha,
                start_line=start_line, end_line=end_line,
            ))
        return result

    def code_tokens(self, node: tree_sitter.Node, source: bytes, cut: list[tuple[int, int]]):
        """Leaves of the syntax tree, string literals whole, comments and the docs left out."""
        stack = [node]
        while stack:
            n = stack.pop()
            if n.type in self.comment_types or any(lo <= n.start_byte and n.end_byte <= hi for lo, hi in cut):
                continue
            if n.child_count == 0 or n.type in self.atomic_types:
                token = text(n, source).strip()
                if token:
                    yield token
                continue
            stack.extend(reversed(n.children))


def text(node: tree_sitter.Node, source: bytes) -> str:
    return source[node.start_byte:node.end_byte].decode("utf-8", "replace")


def iter_nodes(root: tree_sitter.Node, types: frozenset[str]):
    """Pre-order walk yielding nodes of the given types (nested ones included)."""
    cursor = root.walk()
    while True:
        if cursor.node.type in types:
            yield cursor.node
        if cursor.goto_first_child():
            continue
        while not cursor.goto_next_sibling():
            if not cursor.goto_parent():
                return


def github_url(repo: str, sha: str, path: str, start: int, end: int) -> str:
    if not (repo and sha):
        return ""
    return f"https://github.com/{repo}/blob/{sha}/{path}#L{start}-L{end}"


def _drop_blank_lines(code: str) -> str:
    """Removing a docstring leaves a blank line behind; drop such whitespace-only lines."""
    return "\n".join(line for line in code.splitlines() if line.strip())

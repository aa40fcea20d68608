"""What every language extractor shares: the Function record, doc clean-up, token leaves.

A language module subclasses `LanguageExtractor`, names its tree-sitter grammar and function node
types, and says how to find a function's documentation and enclosing scopes.
"""
from __future__ import annotations

import re
import textwrap
from bisect import bisect_left
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
    def extract(self, source: bytes, path: str, repo: str = "", sha: str = "",
                tree: tree_sitter.Tree | None = None) -> FileResult:
        """Every function of `source` (`tree`: its parse, when the caller has one already)."""
        tree = tree or self.parser.parse(source)
        result = FileResult(parse_error=tree.root_node.has_error)
        found = tree_sitter.QueryCursor(self._query).captures(tree.root_node)
        functions = sorted(found.get("function", []), key=_pre_order)
        spans = [self.span_node(node) for node in functions]
        leaves = _Leaves(_outermost(sorted(spans, key=_pre_order)), source, found)
        for node, span in zip(functions, spans):
            own = self.name_of(node, source)
            if own is None:
                continue
            start, end = span.start_byte, span.end_byte
            # A method's text starts at its `def` or name, its body keeps the file's indentation:
            # dedenting the text with the indentation before it puts both at the same depth again.
            before = source[source.rfind(b"\n", 0, start) + 1:start]
            indent = before.decode("utf-8", "replace") if not before.strip() else ""
            original = _dedent(indent, source[start:end].decode("utf-8", "replace"))
            doc, cut = self.documentation(node, source)
            code_bytes = bytearray(source[start:end])
            for lo, hi in sorted(cut, reverse=True):
                if start <= lo and hi <= end:
                    del code_bytes[lo - start:hi - start]
            code = _drop_blank_lines(_dedent(indent, code_bytes.decode("utf-8", "replace")))
            tokens = leaves.tokens(start, end, cut)
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

    @cached_property
    def _query(self) -> tree_sitter.Query:
        """Functions, comments and atomic literals in one pass in C: walking every node from Python
        would cost as much as parsing."""
        groups = {"function": self.function_types, "comment": self.comment_types, "atomic": self.atomic_types}
        return tree_sitter.Query(self.parser.language, " ".join(
            f"({t}) @{name}" for name, types in groups.items() for t in sorted(types)))

    def code_tokens(self, node: tree_sitter.Node, source: bytes, cut: list[tuple[int, int]]) -> list[str]:
        """Leaves of the syntax tree under `node`, string literals whole, comments and the docs left out."""
        found = tree_sitter.QueryCursor(self._query).captures(node)
        return _Leaves([node], source, found).tokens(node.start_byte, node.end_byte, cut)


class _Leaves:
    """The leaves under some nodes (a file's outermost functions), walked once and shared by all
    the functions inside (nested ones too).

    What a function's tokens are, as a walk from its node down would find them: at the first node on
    the way down to a leaf that is a comment or lies inside the cut documentation, skip; at the
    first that is an atomic literal, take the literal whole; else take the leaf. Since every
    ancestor of a leaf contains it, "the first on the way down" is the outermost comment, literal or
    cut range inside the function that contains the leaf. Those never partly overlap (they are node
    ranges), so the leaves between them are runs taken whole, found by bisection.
    """

    def __init__(self, roots: list[tree_sitter.Node], source: bytes, found: dict[str, list[tree_sitter.Node]]):
        # In ASCII, byte offsets are character offsets: decode once, not once per token.
        self.source = source.decode("ascii") if source.isascii() else source
        self.ranges: list[tuple[int, int]] = []
        add = self.ranges.append
        for root in roots:
            # Only leaves make nodes here: inner nodes are passed by the cursor alone, the cheapest walk.
            cursor = root.walk()
            first_child, next_sibling, parent = cursor.goto_first_child, cursor.goto_next_sibling, cursor.goto_parent
            while True:
                if first_child():
                    continue
                add(cursor.node.byte_range)
                while not next_sibling():
                    if not parent():  # back at `root`: a cursor never leaves the node it started on
                        break
                else:
                    continue
                break
        self.starts = [lo for lo, _ in self.ranges]
        special = [(n.start_byte, n.end_byte, False) for n in found.get("comment", ())]
        special += [(n.start_byte, n.end_byte, True) for n in found.get("atomic", ())]
        special.sort(key=lambda r: (r[0], -r[1]))
        self.special = special
        self.special_starts = [r[0] for r in special]

    def tokens(self, start: int, end: int, cut: list[tuple[int, int]]) -> list[str]:
        starts, ranges, source = self.starts, self.ranges, self.source
        # Outermost comments, literals and cut docs inside [start, end) as (lo, hi, take whole);
        # where a cut and a node have the same range the cut wins, as the walk checks it first.
        inside = [(lo, hi, 1, atomic) for lo, hi, atomic in
                  self.special[bisect_left(self.special_starts, start):bisect_left(self.special_starts, end)]
                  if hi <= end]
        inside += [(lo, hi, 0, False) for lo, hi in cut if start <= lo and hi <= end]
        inside.sort(key=lambda r: (r[0], -r[1], r[2]))
        tokens: list[str] = []
        i, stop = bisect_left(starts, start), bisect_left(starts, end)
        reach = -1
        for lo, hi, _, whole in inside:
            if lo < reach:  # inside the previous outermost one
                continue
            reach = hi
            j = bisect_left(starts, lo, i, stop)
            tokens += _texts(source, ranges[i:j])
            if whole:
                tokens += _texts(source, [(lo, hi)])
            i = max(j, bisect_left(starts, hi, j, stop))
        tokens += _texts(source, ranges[i:stop])
        return tokens


def _texts(source: bytes | str, ranges: list[tuple[int, int]]) -> list[str]:
    if isinstance(source, str):
        return [t for lo, hi in ranges if (t := source[lo:hi].strip())]
    return [t for lo, hi in ranges if (t := source[lo:hi].decode("utf-8", "replace").strip())]


def _pre_order(node: tree_sitter.Node) -> tuple[int, int]:
    return node.start_byte, -node.end_byte


def _outermost(nodes: list[tree_sitter.Node]) -> list[tree_sitter.Node]:
    """The nodes (given in pre-order) that no other one contains."""
    out, reach = [], -1
    for node in nodes:
        if node.start_byte >= reach:
            out.append(node)
            reach = node.end_byte
    return out


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


def _dedent(indent: str, text: str) -> str:
    return textwrap.dedent(indent + text) if indent else text


def _drop_blank_lines(code: str) -> str:
    """Removing a docstring leaves a blank line behind; drop such whitespace-only lines."""
    return "\n".join(line for line in code.splitlines() if line.strip())

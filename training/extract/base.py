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


KINDS = ("function", "class", "block")
# A function of at least LONG_FUNCTION lines also yields blocks, so that a query can land on the lines
# that do what it asks: runs of its statements that end where the author paused (a blank line or a
# comment) once they are BLOCK_MIN_LINES long, and before they outgrow BLOCK_MAX_LINES. A statement
# longer than that (a long loop or `try`) is split at the statements inside it.
LONG_FUNCTION = 30
BLOCK_MIN_LINES = 4
BLOCK_MAX_LINES = 20


@dataclass
class Function:
    """One unit of code in CodeSearchNet's schema (plus the lines it spans and its kind).

    `kind` is "function", "class" (classes, structs, interfaces, traits, modules: their header, doc,
    fields and member signatures) or "block" (some statements of a long function, named after it;
    `parent_line` is that function's first line)."""

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
    kind: str = "function"
    parent_line: int = 0

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
    # Class-like declarations that become units of their own (`extract(units=True)`).
    class_types: frozenset[str] = frozenset()
    # Nodes whose children are statements (a function's body, a loop's, a branch's): where blocks split.
    block_types: frozenset[str] = frozenset()
    line_comment = "//"
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

    def member_names(self, unit_name: str, functions: list[Function]) -> list[str]:
        """Names of a class's members declared outside it (Go's methods), from the file's functions."""
        return []

    # --- shared machinery ---------------------------------------------------------------------
    def extract(self, source: bytes, path: str, repo: str = "", sha: str = "",
                tree: tree_sitter.Tree | None = None, units: bool = False) -> FileResult:
        """Every function of `source` (`tree`: its parse, when the caller has one already); with
        `units`, its classes and the blocks of its long functions too, after the functions."""
        tree = tree or self.parser.parse(source)
        result = FileResult(parse_error=tree.root_node.has_error)
        found = tree_sitter.QueryCursor(self._query).captures(tree.root_node)
        functions = sorted(found.get("function", []), key=_pre_order)
        classes = sorted(found.get("class", []), key=_pre_order) if units else []
        spans = [self.span_node(node) for node in functions]
        class_spans = [self.span_node(node) for node in classes]
        leaves = _Leaves(_outermost(sorted(spans + class_spans, key=_pre_order)), source, found)
        unit = _UnitMaker(self, source, path, repo, sha, leaves)
        named = []
        for node, span in zip(functions, spans):
            own = self.name_of(node, source)
            if own is not None:
                result.functions.append(unit.make(node, span, ".".join([*self.scopes_of(node, source), own])))
                named.append(node)
        if not units:
            return result
        bodies = [(b.start_byte, b.end_byte) for b in (f.child_by_field_name("body") for f in functions) if b]
        for node, span in zip(classes, class_spans):
            own = self.name_of(node, source)
            if own is None:
                continue
            # A class is read as an outline: its members' signatures, not their bodies.
            inside = [(lo, hi) for lo, hi in bodies if span.start_byte <= lo and hi <= span.end_byte]
            record = unit.make(node, span, ".".join([*self.scopes_of(node, source), own]), "class", inside)
            record.code_tokens += self.member_names(record.func_name, result.functions)
            result.functions.append(record)
        for node, function in zip(named, list(result.functions)):
            if function.end_line - function.start_line + 1 >= LONG_FUNCTION:
                body = node.child_by_field_name("body")
                if body is not None and body.type in self.block_types:
                    doc = self.documentation(node, source)[1]
                    chunks = [[n for n in chunk if (n.start_byte, n.end_byte) not in doc] for chunk in self._chunks(body)]
                    result.functions += unit.blocks([c for c in chunks if c], function, node.start_byte)
        return result

    def _chunks(self, container: tree_sitter.Node, depth: int = 0) -> list[list[tree_sitter.Node]]:
        """Runs of consecutive statements, each with the comments above it (see LONG_FUNCTION)."""
        items = container.named_children
        statements = [n for n in items if n.type not in self.comment_types]
        while len(statements) == 1 and statements[0].type in self.block_types:  # Go: block > statement_list
            only = statements[0]
            items = sorted([*(n for n in items if n != only), *only.named_children], key=_pre_order)
            statements = [n for n in items if n.type not in self.comment_types]
        chunks: list[list[tree_sitter.Node]] = []
        current: list[tree_sitter.Node] = []
        for node in items:
            inner = _lines(node) > BLOCK_MAX_LINES and depth < 3 and self._inner_blocks(node)
            if inner:
                chunks += [current] if current else []
                current = []
                for block in inner:
                    chunks += self._chunks(block, depth + 1)
                continue
            if current:
                pause = node.start_point[0] > current[-1].end_point[0] + 1 or (
                    node.type in self.comment_types and current[-1].type not in self.comment_types)
                if (pause and _lines(current[0], current[-1]) >= BLOCK_MIN_LINES) or \
                        _lines(current[0], node) > BLOCK_MAX_LINES:
                    chunks.append(current)
                    current = []
            current.append(node)
        if current:
            if chunks and chunks[-1][-1].next_named_sibling == current[0] and _lines(current[0], current[-1]) < BLOCK_MIN_LINES:
                chunks[-1] += current  # a short tail joins the run before it
            else:
                chunks.append(current)
        return [c for c in chunks if any(n.type not in self.comment_types for n in c)]

    def _inner_blocks(self, node: tree_sitter.Node, depth: int = 0) -> list[tree_sitter.Node]:
        """The outermost statement lists inside a statement (a loop's body, an `if`'s branches)."""
        found = []
        for child in node.named_children:
            if child.type in self.block_types:
                found.append(child)
            elif depth < 2:
                found += self._inner_blocks(child, depth + 1)
        return found

    @cached_property
    def _query(self) -> tree_sitter.Query:
        """Functions, comments and atomic literals in one pass in C: walking every node from Python
        would cost as much as parsing."""
        groups = {"function": self.function_types, "class": self.class_types, "comment": self.comment_types,
                  "atomic": self.atomic_types}
        return tree_sitter.Query(self.parser.language, " ".join(
            f"({t}) @{name}" for name, types in groups.items() for t in sorted(types)))

    def code_tokens(self, node: tree_sitter.Node, source: bytes, cut: list[tuple[int, int]]) -> list[str]:
        """Leaves of the syntax tree under `node`, string literals whole, comments and the docs left out."""
        found = tree_sitter.QueryCursor(self._query).captures(node)
        return _Leaves([node], source, found).tokens(node.start_byte, node.end_byte, cut)


class _UnitMaker:
    """Function records of one file's units: the span's text, documentation and tokens."""

    def __init__(self, extractor: LanguageExtractor, source: bytes, path: str, repo: str, sha: str, leaves: "_Leaves"):
        self.extractor, self.source, self.path, self.repo, self.sha, self.leaves = extractor, source, path, repo, sha, leaves

    def make(self, node: tree_sitter.Node, span: tree_sitter.Node, func_name: str, kind: str = "function",
             skip: list[tuple[int, int]] = ()) -> Function:
        """The unit `node` spans (`span`: with its decorators); `skip`: byte ranges its tokens leave out."""
        source = self.source
        start, end = span.start_byte, span.end_byte
        doc, cut = self.extractor.documentation(node, source)
        code_bytes = bytearray(source[start:end])
        for lo, hi in sorted(cut, reverse=True):
            if start <= lo and hi <= end:
                del code_bytes[lo - start:hi - start]
        indent = self._indent(start)
        code = _drop_blank_lines(_dedent(indent, code_bytes.decode("utf-8", "replace")))
        tokens = self.leaves.tokens(start, end, [*cut, *skip])
        return self._record(func_name, kind, start, end, span.start_point[0] + 1, span.end_point[0] + 1,
                            doc, code, tokens)

    def blocks(self, chunks: list[list[tree_sitter.Node]], function: Function, function_start: int) -> list[Function]:
        """A block per run of statements, named after its function; its comments are its doc."""
        from training.extract.comments import clean_line_comments, comments_above  # they import this module

        # A few lines (an `else` of one statement) say too little alone; a long statement nothing
        # could split is most of its function again.
        chunks = [c for c in chunks if BLOCK_MIN_LINES <= _lines(c[0], c[-1]) <= 2 * BLOCK_MAX_LINES]
        out = []
        if len(chunks) < 2:
            return out
        comment_types = self.extractor.comment_types
        for chunk in chunks:
            # Grammars may leave the comments above a body's first statement outside the body.
            above = comments_above(chunk[0], self.source, comment_types) if chunk[0].type not in comment_types else []
            chunk = [n for n in above if n.start_byte > function_start] + chunk
            start, end = chunk[0].start_byte, chunk[-1].end_byte
            code_nodes = [n for n in chunk if n.type not in comment_types]
            if not code_nodes:  # comments alone (the function's own doc taken out)
                continue
            comments = [text(n, self.source) for n in chunk if n.type in comment_types]
            doc = clean_line_comments(comments, self.extractor.line_comment)
            code = _drop_blank_lines(_dedent(self._indent(code_nodes[0].start_byte),
                                             self.source[code_nodes[0].start_byte:end].decode("utf-8", "replace")))
            record = self._record(function.func_name, "block", start, end, chunk[0].start_point[0] + 1,
                                  chunk[-1].end_point[0] + 1, doc, code, self.leaves.tokens(start, end, []))
            record.parent_line = function.start_line
            out.append(record)
        return out

    def _indent(self, start: int) -> str:
        # A method's text starts at its `def` or name, its body keeps the file's indentation:
        # dedenting the text with the indentation before it puts both at the same depth again.
        before = self.source[self.source.rfind(b"\n", 0, start) + 1:start]
        return before.decode("utf-8", "replace") if not before.strip() else ""

    def _record(self, func_name, kind, start, end, start_line, end_line, doc, code, tokens) -> Function:
        summary = summarize(doc)
        return Function(
            repo=self.repo, path=self.path, func_name=func_name,
            original_string=_dedent(self._indent(start), self.source[start:end].decode("utf-8", "replace")),
            language=self.extractor.name, code=code, code_tokens=tokens, docstring=doc,
            docstring_tokens=doc_tokens(summary), summary=summary,
            url=github_url(self.repo, self.sha, self.path, start_line, end_line), sha=self.sha,
            start_line=start_line, end_line=end_line, kind=kind)


def _lines(first: tree_sitter.Node, last: tree_sitter.Node | None = None) -> int:
    return (last or first).end_point[0] - first.start_point[0] + 1


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

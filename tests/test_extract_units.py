"""Classes and blocks as units of their own (`extract(units=True)`), in all six languages."""
from __future__ import annotations

import pytest

from training.extract import extract_path, extractor
from training.extract.base import BLOCK_MAX_LINES, BLOCK_MIN_LINES
from conftest import SAMPLE_REPO

# Per language: a documented class-like declaration with a field and a method whose body uses a word
# (`secretword`) that must not reach the class's outline, and the qualified name it gets.
CLASSES = {
    "python": ('class Mailbox(Base):\n    """Keeps the messages of one user."""\n    limit = 10\n\n'
               '    def deliver(self, message):\n        secretword = message\n        return secretword\n',
               "Mailbox", ["deliver", "limit"]),
    "go": ("package mail\n\n// Mailbox keeps the messages of one user.\ntype Mailbox struct {\n\tlimit int\n}\n\n"
           "// Deliver stores a message.\nfunc (m *Mailbox) Deliver(message string) string {\n"
           "\tsecretword := message\n\treturn secretword\n}\n",
           "Mailbox", ["Deliver", "limit"]),
    "java": ("/** Keeps the messages of one user. */\npublic class Mailbox extends Base {\n  private int limit;\n\n"
             "  public String deliver(String message) {\n    String secretword = message;\n    return secretword;\n  }\n}\n",
             "Mailbox", ["deliver", "limit"]),
    "javascript": ("/** Keeps the messages of one user. */\nclass Mailbox extends Base {\n  limit = 10;\n\n"
                   "  deliver(message) {\n    const secretword = message;\n    return secretword;\n  }\n}\n",
                   "Mailbox", ["deliver", "limit"]),
    "php": ("<?php\n/** Keeps the messages of one user. */\nclass Mailbox extends Base {\n    private $limit;\n\n"
            "    public function deliver($message) {\n        $secretword = $message;\n        return $secretword;\n    }\n}\n",
            "Mailbox", ["deliver", "limit"]),
    "ruby": ("# Keeps the messages of one user.\nclass Mail::Mailbox < Base\n  LIMIT = 10\n\n"
             "  def deliver(message)\n    secretword = message\n    secretword\n  end\nend\n",
             "Mail.Mailbox", ["deliver", "LIMIT"]),
}


def _units(language: str, source: str, units: bool = True):
    return extractor(language).extract(source.encode(), f"src/file.{language}", units=units).functions


@pytest.mark.parametrize("language", sorted(CLASSES))
def test_a_class_is_a_unit_with_its_doc_and_member_names_not_their_bodies(language):
    source, name, members = CLASSES[language]
    units = _units(language, source)
    classes = [u for u in units if u.kind == "class"]
    assert [c.func_name for c in classes] == [name]
    cls = classes[0]
    assert cls.summary == ("Mailbox keeps the messages of one user." if language == "go"
                           else "Keeps the messages of one user.")
    assert all(member in cls.code_tokens for member in members)
    assert not any("secretword" in token for token in cls.code_tokens)
    assert cls.start_line <= 4 and cls.original_string.splitlines()[0].strip()
    # The method is still a function of its own, and the corpus (units=False) sees only functions.
    assert any(u.kind == "function" and u.func_name.endswith(("deliver", "Deliver")) for u in units)
    assert {u.kind for u in _units(language, source, units=False)} == {"function"}


def _long_function(language: str) -> tuple[str, str]:
    """A function of three commented paragraphs of eight statements each."""
    if language == "python":
        steps = "\n".join(f"    # step {n}: {'load parse save'.split()[n]} the data\n" + "".join(
            f"    v{n}{i} = work({n}, {i})\n" for i in range(8)) for n in range(3))
        return f"def pipeline():\n{steps}    return v25\n", "pipeline"
    steps = "\n".join(f"  // step {n}: {'load parse save'.split()[n]} the data\n" + "".join(
        f"  work({n}, {i});\n" for i in range(8)) for n in range(3))
    if language == "go":
        return "package p\n\nfunc Pipeline() {\n" + steps.replace(";", "") + "}\n", "Pipeline"
    if language == "java":
        return "class P {\n void pipeline() {\n" + steps + " }\n}\n", "P.pipeline"
    if language == "javascript":
        return "function pipeline() {\n" + steps + "}\n", "pipeline"
    if language == "php":
        return "<?php\nfunction pipeline() {\n" + steps + "}\n", "pipeline"
    ruby = "\n".join(f"  # step {n}: {'load parse save'.split()[n]} the data\n" + "".join(
        f"  work({n}, {i})\n" for i in range(8)) for n in range(3))
    return f"def pipeline\n{ruby}end\n", "pipeline"


@pytest.mark.parametrize("language", sorted(CLASSES))
def test_a_long_function_yields_blocks_that_end_where_its_comments_begin(language):
    source, name = _long_function(language)
    units = _units(language, source)
    function = next(u for u in units if u.kind == "function" and u.func_name == name)
    blocks = [u for u in units if u.kind == "block"]
    assert [b.summary for b in blocks] == [f"step {n}: {verb} the data" for n, verb in enumerate(["load", "parse", "save"])]
    for block in blocks:
        assert block.func_name == name and block.parent_line == function.start_line
        assert function.start_line < block.start_line <= block.end_line <= function.end_line
        assert BLOCK_MIN_LINES <= block.end_line - block.start_line + 1 <= BLOCK_MAX_LINES
        assert "work" in block.code_tokens and not any("step" in t for t in block.code_tokens)
    # Blocks cover different lines, in order.
    assert all(a.end_line < b.start_line for a, b in zip(blocks, blocks[1:]))


def test_short_functions_and_a_functions_own_doc_make_no_blocks():
    source = 'def short():\n    """Doc."""\n' + "".join(f"    x{i} = {i}\n" for i in range(10))
    assert [u.kind for u in _units("python", source)] == ["function"]
    long_doc = 'def f():\n    """Doc."""\n' + "".join(f"    x{i} = {i}\n\n" for i in range(20))
    blocks = [u for u in _units("python", long_doc) if u.kind == "block"]
    assert blocks and all('"""' not in b.original_string for b in blocks)


def test_a_statement_too_long_for_one_block_is_split_inside():
    body = "".join(f"        total += step({i})\n" + ("\n" if i % 5 == 4 else "") for i in range(40))
    source = f"def run(items):\n    total = 0\n    for item in items:\n{body}    return total\n"
    blocks = [u for u in _units("python", source) if u.kind == "block"]
    assert len(blocks) >= 4
    assert all(b.end_line - b.start_line + 1 <= BLOCK_MAX_LINES for b in blocks)


def test_go_types_carry_their_methods_names_from_the_same_file():
    source = ("package p\n\ntype Store struct{}\n\nfunc (s *Store) Save() {}\n\nfunc (s Store) Load() {}\n\n"
              "func Other() {}\n")
    store = next(u for u in _units("go", source) if u.kind == "class")
    assert store.func_name == "Store" and store.code_tokens[-2:] == ["Save", "Load"]
    assert "Other" not in store.code_tokens


def test_the_sample_repository_has_all_three_kinds():
    units = list(extract_path(SAMPLE_REPO, units=True))
    kinds = {u.kind for u in units}
    assert kinds == {"function", "class", "block"}
    assert {u.func_name for u in units if u.kind == "block"} == {"monthly_report"}


def test_a_run_left_with_comments_alone_once_the_doc_is_out_is_no_block():
    """The doc and a comment, then a statement too long for one block: the run before it holds the
    comment alone once the doc is taken out (django's xml_serializer once crashed the build here)."""
    branch = "".join(f"        x{i} = {i}\n" + ("\n" if i % 6 == 5 else "") for i in range(30))
    note = "".join(f"    # note {i} about the node\n" for i in range(4))
    source = f'def f(node):\n    """Doc."""\n{note}    if node:\n{branch}    return node\n'
    blocks = [u for u in _units("python", source) if u.kind == "block"]
    assert blocks and all("x" in b.original_string and '"""' not in b.original_string for b in blocks)

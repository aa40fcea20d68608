"""Queries that differ only in direction: a bag of words cannot tell them apart; ordered word pairs can
a little, and reading which way the query and each name say things go (training.direction) can where
names say it."""
import hashlib
import itertools
import json
import random
import shutil

import numpy as np
import pytest

from training.direction import (ALIKE, AGREE, DISAGREE, SIGNATURE_AGREE, SIGNATURE_DISAGREE, Direction, Said, adjustment,
                                agreement, name_direction, query_direction, said, said_from_text, said_text,
                                signature_direction)
from training.evaluate import direction_pairs, evaluate_direction
from training.extract import extract_path, extractor
from training.global_index import GlobalIndex, Part, build_global
from training.index import IndexCheckError, RepositoryIndex, build_index, check_index, shared_model
from training.model import ModelConfig
from training.tokenize import code_tokens, query_tokens
from training.train import TrainConfig, train

def sha256_of(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


TYPES = ["alpha", "beta", "gamma", "delta", "omega", "sigma", "kappa", "theta", "lambda", "zeta"]


def record(a: str, b: str, rng: random.Random, name: str = "f_{a}_{b}") -> dict:
    return {"language": "python", "summary": f"convert {a} to {b}", "func_name": name.format(a=a, b=b),
            "code_tokens": ["def", f"{a}_to_{b}", "(", "value", ")", ":", "return", f"noise{rng.randrange(50)}"]}


def words(*sides):
    return Direction(*(frozenset(side.split()) for side in sides))


@pytest.mark.parametrize("text, said", [
    ("convert int to string", words("int", "string")),
    # Each end's initials too, as names abbreviate it (`hex_to_bd`).
    ("Convert a hex string to binary data.", words("hex string hs", "binary data bd")),
    ("Convert from Gray coding to binary coding.", words("gray gc", "binary bc")),  # "coding" is on both ends
    ("Build a user from a dict", words("dict", "user")),
    ("convert a list to a map", words("list", "map")),  # a map, a set, a list are ends, not verbs
    ("Converts FieldMask into JSON", words("field mask fm", "json")),  # camelCase split as in code
    # An infinitive is no direction; the one after it is.
    ("A helper function to transfer a NDArray to torch.tensor.", words("nd array na", "torch tensor tt")),
    # Only the few words either side of the direction word count.
    ("Parse the configuration file of the server and its users into a dict",
     words("file server users su fsu cfsu", "dict")),
    ("Return the local directory corresponding to this URI.", words("uri", "local directory ld")),  # a "from"
    # ... and so do "bound to", "mapped to" ...
    ("Gets the prefix that is bound to a namespaceURI.", words("namespace uri nu", "prefix")),
    # A "to" that ends a conversion is one, whatever the word before it ("points to" is not one).
    ("Measurement conversion from points to millimeters.", words("", "millimeters")),
    ("Converts a sequence of unicode code points to Java characters.",
     words("sequence unicode code suc uc", "java characters jc")),
    ("The tracker points to the next frame", None),
    ("Used to determine how to split a bundle", None),
    ("send mail", None),
])
def test_what_a_query_says_goes_where(text, said):
    assert query_direction(text) == said


@pytest.mark.parametrize("name, said", [
    ("intToString", words("int", "string")),
    ("hex2bin", words("hex", "bin")),
    ("HSLtoRGB", words("hsl", "rgb")),
    ("bytes_to_hex_string", words("bytes", "hex string")),
    ("toString", words("", "string")),
    ("to_proto_run_config", words("", "proto")),  # a leading direction word's other end is the next word
    ("fromJson", words("json", "")),
    ("from_vector4", words("vector 4", "")),  # with the number that follows: not from_vector3
    ("_get_state_from_training_result", words("training result", "state")),
    ("is_autoscaler_v2", None),  # a version, not "to"
    # A direction word glued to a kind of data, Python's way, and verbs that make things into one.
    ("asbytes", words("", "bytes")),
    ("fromhex", words("hex", "")),
    ("today", None),
    ("asset", None),
    ("force_bytes", words("", "bytes")),
    ("ensure_str", words("", "str")),
    ("force_update", None),
    ("send_mail", None),
    ("", None),
])
def test_what_a_name_says_goes_where(name, said):
    assert name_direction(name) == said


def test_a_name_agrees_disagrees_or_says_nothing_about_a_query():
    to_string = query_direction("convert an integer to a string")
    assert agreement(to_string, name_direction("int2str")) == 1  # abbreviations are the same words
    assert agreement(to_string, name_direction("toString")) == 1
    assert agreement(to_string, name_direction("str_to_int")) == -1
    assert agreement(to_string, name_direction("parseInt")) == 0  # says no direction
    assert agreement(to_string, name_direction("hex_to_bytes")) == 0  # says one about other words
    assert agreement(None, name_direction("str_to_int")) == 0
    # A word said as it is outweighs one it abbreviates: "cmy" is the target of CmykToCmy.
    assert agreement(query_direction("convert CMYK to CMY"), name_direction("CmykToCmy")) == 1
    assert agreement(query_direction("convert CMYK to CMY"), name_direction("CmyToCmyk")) == -1
    assert agreement(query_direction("convert bytes to a string"), name_direction("b2s")) == 1  # one letter
    scores = adjustment(["convert an integer to a string", "send mail"], ["intToString", "stringToInt", "send_mail"])
    assert np.allclose(scores, [[AGREE, -DISAGREE, 0.0], [0.0, 0.0, 0.0]])


@pytest.mark.parametrize("language, source, said", [
    ("java", "class A {\n  @Override\n  public static String format(final Date date, Locale locale) { return null; }\n}",
     words("date locale", "string")),
    ("java", "class A { public void save(File file) { } }", None),  # returns nothing: takes no source
    # ... unless a parameter is named as where it writes.
    ("java", "class A { void convert(RowMatrix src, Map<String, BlockMatrix> dst) { } }",
     words("row src", "map string block dst")),
    ("go", "package a\nfunc (c *Codec) Decode(data []byte) (*Message, error) { return nil, nil }",
     words("data byte", "message")),
    ("go", "package a\nfunc Close(conn *Conn) { }", None),
    ("python", "def parse_header(line: bytes, strict=True) -> dict:\n    return {}\n", words("line bytes strict", "dict")),
    ("python", "def to_text(blob):\n    return blob.decode()\n", words("blob", "")),
    ("python", "def log(message) -> None:\n    print(message)\n", None),
    ("javascript", "const codec = {\n  stringify: function (wordArray) { return ''; }\n};\n", words("word array", "")),
    ("php", "<?php\nfunction hexEncode(string $binString): string { return ''; }\n", words("bin", "")),
    ("ruby", "def to_celsius(fahrenheit)\n  (fahrenheit - 32) / 1.8\nend\n", words("fahrenheit", "")),
    # A name that ends in its direction word says which end its parameters are, whatever it returns.
    ("java", "class A { public int copyTo(ByteBuffer buffer) { return 0; } }", words("", "byte buffer")),
    ("java", "class A { public void readFrom(InputStream stream) { } }", words("input stream", "")),
])
def test_what_a_signature_says_goes_where(language, source, said):
    """Parameters (names and types) are sources, a declared return type the target; words on both
    ends, modifiers, one-letter names and the types any function takes say nothing."""
    function = extractor(language).extract(source.encode(), "f").functions[0]
    name = function.func_name.rsplit(".", 1)[-1]
    assert signature_direction(name, function.code_tokens, language) == said


def test_a_signature_speaks_where_the_name_says_nothing():
    query = ["convert a string to a date"]
    functions = {"read": ["def", "read", "(", "text", ":", "str", ")", "->", "Date", ":", "return"],
                 "write": ["def", "write", "(", "when", ":", "Date", ")", "->", "str", ":", "return"],
                 "date_to_string": ["def", "date_to_string", "(", "text", ":", "str", ")", "->", "Date", ":"],
                 "send_mail": ["def", "send_mail", "(", ")", ":"]}
    read, write, named, _ = (said(name, leaves, "python") for name, leaves in functions.items())
    assert np.allclose(adjustment(query, [read, write]), [[SIGNATURE_AGREE, -SIGNATURE_DISAGREE]])
    # The name is asked first: a name that says the opposite outweighs the signature.
    assert np.allclose(adjustment(query, [named, "string_to_date"]), [[-DISAGREE, AGREE]])
    # An index stores each as one line and reads it back as it was.
    for name, leaves in functions.items():
        assert said_from_text(said_text(name, leaves, "python")) == said(name, leaves, "python")
    assert said_text("send_mail", functions["send_mail"], "python") == "" and said_from_text("") == Said(None, None)


def test_adjustment_asks_every_pair_at_once_as_agreement_asks_one():
    """`adjustment` computes all agreements as one product; asking `agreement` of each query and
    candidate (the name first, then the signature) must give the same, abbreviations and all."""
    rng = random.Random(3)
    nouns = ["string", "str", "s", "int", "integer", "bytes", "b", "hex", "json", "dict", "date", "dt", "time",
             "timestamp", "cmyk", "cmy", "rgb", "list", "array", "path", "url"]
    queries = [f"convert {rng.choice(nouns)} {rng.choice(['to', 'into', 'from'])} {rng.choice(nouns)}"
               for _ in range(150)] + ["send mail", "move the cursor to a column, then from there"]
    candidates: list = []
    for _ in range(150):
        a, b = rng.sample(nouns, 2)
        by_name = name_direction(rng.choice([f"{a}_to_{b}", f"{a}2{b}", f"to_{b}", f"{b}_from_{a}", f"get_{a}"]))
        by_signature = rng.choice([None, Direction(frozenset({b}), frozenset({a})), Direction(frozenset({a}), frozenset())])
        candidates.append(Said(by_name, by_signature))
    candidates += ["intToString", "str2int", "send_mail"]
    expected = np.zeros((len(queries), len(candidates)), np.float32)
    for i, query in enumerate(queries):
        for j, candidate in enumerate(candidates):
            by_name, by_signature = Said(name_direction(candidate)) if isinstance(candidate, str) else candidate
            for d, (agree, disagree) in ((by_name, (AGREE, DISAGREE)), (by_signature, (SIGNATURE_AGREE, SIGNATURE_DISAGREE))):
                if sign := agreement(query_direction(query), d):
                    expected[i, j] = agree if sign > 0 else -disagree
                    break
    got = adjustment(queries, candidates)
    assert np.array_equal(got, expected)
    assert (got > 0).sum() > 20 and (got < 0).sum() > 20 and (got == SIGNATURE_AGREE).sum() > 5


def test_ordered_pairs_are_extra_tokens():
    assert query_tokens("Convert an int to a string", with_bigrams=True) == [
        "convert", "an", "int", "convert_int", "to", "int_to", "a", "string", "to_string"]
    assert "int_to" not in query_tokens("Convert an int to a string")
    # Each pair follows its second word, so a query cut to its first tokens keeps its pairs too.
    assert "to_string" in query_tokens("int to string " + "word " * 40, with_bigrams=True)[:30]
    assert code_tokens(["int_to_str"], with_bigrams=True) == ["int_to_str", "int", "to", "str", "int_to", "to_str"]
    # A query's "to string" meets camelCase's toString as it meets snake_case's to_string.
    assert code_tokens(["toString", "to_string"], with_bigrams=True) == [
        "tostring", "to", "string", "to_string", "to_string", "to", "string"]


def test_direction_pairs_are_found():
    rng = random.Random(0)
    pairs = direction_pairs([record("alpha", "beta", rng), record("beta", "alpha", rng), record("gamma", "delta", rng)])
    assert len(pairs) == 1 and {p["summary"] for p in pairs[0]} == {"convert alpha to beta", "convert beta to alpha"}
    # Articles do not count; the same words in the same order are no pair; a pair needs a direction word.
    texts = ["Convert a hex string to bytes.", "Convert bytes to a hex string.", "Convert the hex string to bytes",
             "Read the file and parse it", "Parse the file and read it"]
    pairs = direction_pairs([{"language": "go", "summary": t, "code_tokens": [str(i)]} for i, t in enumerate(texts)])
    assert [{p["summary"] for p in pair} for pair in pairs] == [{texts[0], texts[1]}]
    # Nor do plural and third-person endings, "into" for "to", nor "given"-like words: each way of saying a thing is
    # told apart by the words it moves. "status" is no plural, so "statu" is another word.
    texts = ["Converts the given strings into ints.", "Convert an int to a string", "Matches classes to boxes",
             "Match a box to a class", "Return the status to a user", "Return a user to the statu"]
    pairs = direction_pairs([{"language": "go", "summary": t, "code_tokens": [str(i)]} for i, t in enumerate(texts)])
    assert [{p["summary"] for p in pair} for pair in pairs] == [{texts[0], texts[1]}, {texts[2], texts[3]}]
    # Only words moved across a direction word say the opposite; two copies of one function are no pair.
    texts = ["Reads atmospheric uncompensated pressure from the sensor.",
             "Reads uncompensated atmospheric pressure from the sensor.",
             "Copy fields to an outside source from the key fields.", "Copy fields from an outside source to the key fields.",
             "Parse a date to a string.", "Parse a string to a date."]
    code = [["a"], ["b"], ["c"], ["d"], ["same"], ["same"]]
    pairs = direction_pairs([{"language": "go", "summary": t, "code_tokens": c} for t, c in zip(texts, code)])
    assert [{p["summary"] for p in pair} for pair in pairs] == [{texts[2], texts[3]}]


@pytest.mark.parametrize("bigrams", [False, True])
def test_only_the_order_aware_model_tells_directions_apart(tmp_path, bigrams):
    """The names say nothing here (`f_alpha_beta`): the bag's cosine alone decides, and only with word
    pairs can it tell. Where the names say it, reading them tells every pair apart, bag or not."""
    rng = random.Random(0)
    ordered = list(itertools.permutations(TYPES, 2))
    rng.shuffle(ordered)
    held_out = {tuple(sorted(p)) for p in ordered[:12]}
    train_records = [record(a, b, rng) for a, b in ordered if tuple(sorted((a, b))) not in held_out] * 4
    test_records = [record(a, b, rng) for a, b in ordered if tuple(sorted((a, b))) in held_out]
    model, _ = train(train_records, test_records, tmp_path, model_config=ModelConfig(vocab_size=300, embedding_dim=32,
                                                                                      bigrams=bigrams),
                     config=TrainConfig(epochs=15, batch_size=64, patience=15, wandb=False, name_queries=False))
    result = evaluate_direction(model, direction_pairs(test_records))
    assert result["pairs"] == 12 and result["model"] == result["cosine"]
    if bigrams:
        assert result["model"] >= 0.8, result
    else:
        assert result["model"] == 0.5, result  # the same bag: one of each pair right, exactly
    named = [{**r, "func_name": r["func_name"].replace("f_", "").replace("_", "_to_")} for r in test_records]
    result = evaluate_direction(model, direction_pairs(named))
    assert result["model"] == result["hybrid"] == 1.0 and result["cosine"] == (0.5 if not bigrams else result["cosine"])


CONVERSIONS = '''
def int_to_string(number):
    """Format an integer as decimal digits."""
    return str(number)


def string_to_int(text):
    """Read decimal digits as an integer."""
    return int(text.strip())


def send_mail(to, subject, body):
    """Send an email message to a recipient."""
    return to, subject, body


def read_stamp(text: str) -> datetime:
    """Read a timestamp."""
    return datetime.fromisoformat(text)


def show_stamp(stamp: datetime) -> str:
    """Show a timestamp."""
    return stamp.isoformat()
'''


@pytest.fixture(scope="module")
def conversions(trained_model, trained_model_dir, tmp_path_factory):
    """A repository whose two conversions differ only in direction, indexed by the product's code."""
    root = tmp_path_factory.mktemp("conversions")
    (root / "repo").mkdir()
    (root / "repo" / "convert.py").write_text(CONVERSIONS)
    units = [f.to_record() for f in extract_path(root / "repo", repo="example/convert", sha="0" * 40)]
    build_index(trained_model, units, root / "index", n_trees=5,
                model_dir=shared_model(trained_model_dir, root / "models"))
    return root, RepositoryIndex(root / "index")


@pytest.mark.parametrize("mode", ["hybrid", "neural"])
def test_a_search_ranks_the_conversion_its_query_asks_for_first(conversions, mode):
    _, index = conversions
    names = {f["item"]: f["func_name"] for f in index.functions()}
    # Both conversions have the same words: the bag of words alone ranks them alike for either query
    # (this test fails with training.direction's weights at 0).
    for query, wanted in (("convert an integer to a string", "int_to_string"),
                          ("convert a string to an int", "string_to_int"),
                          ("int to string path:convert.py", "int_to_string")):
        hits = index.search(query, k=3, mode=mode)
        assert names[hits[0].item] == wanted, (query, [names[h.item] for h in hits])
        assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)
    # A name that says no direction is found as before.
    assert names[index.search("send mail to someone", k=1, mode=mode)[0].item] == "send_mail"
    # Where names say nothing, signatures do: the same bag of words for both queries, each its own first.
    # (`int_to_string` may come first for "... to a str": its name says so.)
    for query, wanted, other in (("convert a str to a datetime", "read_stamp", "show_stamp"),
                                 ("convert a datetime to a str", "show_stamp", "read_stamp")):
        found = [names[h.item] for h in index.search(query, k=5, mode=mode)]
        assert wanted in found and (other not in found or found.index(wanted) < found.index(other)), (query, found)


def test_what_units_say_goes_where_is_stored_and_checked(conversions):
    root, index = conversions
    stored = json.loads((root / "index" / "directions.json").read_text())
    names = {f["item"]: f["func_name"] for f in index.functions()}
    lines = {names[item]: line for item, line in enumerate(stored["python"])}
    assert lines["int_to_string"] == "int_to_string\tnumber\t" and lines["read_stamp"] == "\tstr text\tdatetime"
    assert index.directions == stored
    (root / "index" / "directions.json").write_text(json.dumps({"python": []}))
    try:
        with pytest.raises(IndexCheckError, match="directions.json"):
            check_index(root / "index")
    finally:
        (root / "index" / "directions.json").write_text(json.dumps(stored))


def test_an_index_built_with_names_only_still_reads_them(conversions):
    """Indexes built before signatures were read keep directed_names.json (item -> name)."""
    root, _ = conversions
    old = root / "names-only"  # beside the index: its model is a sibling folder
    shutil.copytree(root / "index", old)
    manifest = json.loads((old / "manifest.json").read_text())
    names = {str(f["item"]): f["func_name"] for f in RepositoryIndex(old).functions() if "_to_" in f["func_name"]}
    (old / "directions.json").unlink()
    (old / "directed_names.json").write_text(json.dumps({"python": names}))
    del manifest["directions"]
    manifest["directed_names"] = {"file": "directed_names.json", "sha256": sha256_of(old / "directed_names.json")}
    (old / "manifest.json").write_text(json.dumps(manifest))
    check_index(old)
    index = RepositoryIndex(old)
    by_item = {f["item"]: f["func_name"] for f in index.functions()}
    assert by_item[index.search("convert a string to an int", k=1)[0].item] == "string_to_int"
    assert index.directions["python"].count("") == len(by_item) - 2


def test_the_search_across_repositories_reads_direction_too(conversions, trained_model_dir):
    root, _ = conversions
    shared = shared_model(trained_model_dir, root / "models")
    build_global([Part("v/convert", "example/convert", root / "index")], shared, root / "global", root / "cache")
    index = GlobalIndex(root / "global")
    names = {f["item"]: f["func_name"] for f in RepositoryIndex(root / "index").functions()}
    assert names[index.search("convert an integer to a string", k=1)[0].item] == "int_to_string"
    assert names[index.search("convert a string to an int", k=1)[0].item] == "string_to_int"
    assert names[index.search("convert a str to a datetime", k=1)[0].item] == "read_stamp"
    assert names[index.search("convert a datetime to a str", k=1)[0].item] == "show_stamp"


def test_initials_of_a_querys_ends_meet_a_name_that_abbreviates_them():
    query = query_direction("Convert from Heliocentric Earth Ecliptic to Heliocentric Mean Ecliptic")
    assert agreement(query, name_direction("hee_to_hme")) == 1 and agreement(query, name_direction("hme_to_hee")) == -1
    # "copies" is a verb, not an end.
    assert query_direction("Copies this rectangle to another one") == words("rectangle", "another")


def test_words_alike_lean_a_candidate_where_its_name_and_signature_say_nothing_of_the_querys_words():
    axes = {"unicode": [1, 0, 0, 0], "text": [0.9, 0.1, 0, 0], "bytes": [0, 0, 1, 0], "blob": [0, 0, 0.9, 0.1],
            "socket": [0, 0, 0, 1], "mail": [0, 1, 0, 0]}

    def vectors(words):
        found = np.array([axes[w] for w in words], np.float32).reshape(len(words), 4)
        return found / np.linalg.norm(found, axis=1, keepdims=True)

    query = ["convert unicode to bytes"]
    candidates = [Said(None, words("text", "blob")), Said(None, words("blob", "text")),  # alike, either way
                  Said(None, words("unicode", "bytes")),  # the signature says it: no more is added
                  Said(None, words("socket", "mail")), Said(None, None)]  # nothing alike; nothing said
    assert np.allclose(adjustment(query, candidates, vectors=vectors), [[ALIKE, -ALIKE, SIGNATURE_AGREE, 0, 0]])
    assert np.allclose(adjustment(query, candidates), [[0, 0, SIGNATURE_AGREE, 0, 0]])  # without a model's vectors

"""Which way a query and a function say something goes: "int to string" against `intToString`, or
against `String format(int n)` where the name says nothing.

A bag of words gives "convert int to string" and "convert string to int" one vector, so the model alone
ranks `int_to_string` and `string_to_int` alike for both (evaluate's direction pairs: 0.57, where a coin
toss scores 0.5). Learned order features in the bag did not help (recipe.md, "Word order"): the two
functions of a pair differ in much more than their direction, and a feature that moves a query's vector
by ~0.01 cannot outweigh it. Direction is said in a few fixed ways, though: names say it as `x_to_y`,
`xToY`, `x2y`, `toY`, `asY`, `y_from_x`, `fromX`; queries as "x to y", "x into y", "from x to y",
"y from x" (each end also by its initials: "heliocentric earth ecliptic to ..." meets `hee_to_hme`).
Reading both gives each candidate of a search a sign (`agreement`); the search adds AGREE to the
cosine of a candidate that agrees and takes DISAGREE from one that disagrees. Where the name says
nothing about the query's words, the signature may (`signature_direction`: parameters are a source,
a declared return type or a parameter named `dst`, `out`, ... the target), more weakly; where
neither says anything about the query's words, words like them may, by the model's word vectors
("unicode to bytes" against `as_bytes(text)`), more weakly still. A query that says no direction, or
a function that says none, changes nothing.

    agreement(query_direction("convert int to string"), name_direction("intToString"))  # 1
    agreement(query_direction("convert int to string"), name_direction("string_to_int"))  # -1
"""
from __future__ import annotations

import itertools
import re
from bisect import bisect_left
from functools import lru_cache
from typing import Callable, NamedTuple, Sequence

import numpy as np

from training.tokenize import IDENTIFIER, subtokens

# Added to the cosine of a candidate whose name says the query's direction, and taken from one whose
# name says the opposite. The two functions of a direction pair differ by 0.1-0.3 in cosine for reasons
# of their own (recipe.md); a larger bonus also lifts every `to_json` for any query ending "to JSON", and
# cost MRR, where a name that says the opposite is rarely what was meant (recipe.md, "Word order").
AGREE, DISAGREE = 0.1, 0.3
# The same for a signature, where the name says nothing about the query's words. A parameter is a
# source less surely than a name's "from" is ("move the cursor to a column": `move_cursor(column)`), so
# a signature that seems to say the opposite takes nothing: on the validation split (macro MRR, model)
# a penalty of 0.15 cost 0.0055, none gained 0.0012 (recipe.md, "Word order, read from signatures").
# A bonus of 0.1 rather than 0.05 decides 98.6% of the pair queries it reads right instead of 96.7%, for
# 0.0012 of validation MRR (recipe.md, "Word order, words alike").
SIGNATURE_AGREE, SIGNATURE_DISAGREE = 0.1, 0.0

# Where neither the name nor the signature says anything about the query's words, they may about words
# like them ("unicode to bytes" against `as_bytes(text)`, by the model's word vectors): a candidate whose
# sides lean the query's way by more than ALIKE_MARGIN in cosine gains ALIKE, one that leans the other
# way loses as much. Larger weights or smaller margins decide more pairs and cost more MRR (recipe.md,
# "Word order, words alike").
ALIKE, ALIKE_MARGIN = 0.03, 0.2

_TOWARDS = frozenset({"to", "into", "as", "2"})  # what comes before goes to what comes after
_FROM = "from"  # what comes after goes to what comes before
# Verbs around "x to y" ("convert", "turn", ...) say nothing about what goes where; after "to" they make
# it an infinitive ("a helper to convert x to y"). Base forms: `_is_verb` takes "converts", "converted",
# "converting" too. Verbs that are also what things are converted to ("to map", "to set", "to format",
# "to list") are not among them.
_VERBS = frozenset("""
    convert transform translate turn change cast coerce get return make create build compute calculate encode
    decode serialize deserialize parse write read load save dump copy move send add append put go use be is
    are determine specify represent check allow ensure avoid help handle run call keep find support do
    perform provide indicate see apply prevent update remove generate wait start stop open close process
    show render draw wrap unwrap resolve fetch retrieve extract insert delete replace split join merge sort
    validate verify compare look obtain give take pass let enable disable register connect bind attach
    detach emit raise throw catch notify select choose pick define declare initialize reset clear fill
    flush import export install configure prepare execute invoke trigger dispatch manage restrict force
    reduce increase decrease transfer inject restore distribute fuse traverse identify describe mark
    """.split())
# "to" after these joins no source to a target: "used to", "how to", "in order to".
_NOT_DIRECTION_AFTER = frozenset("""
    according related relative equal similar compared belonging belongs
    pointing points refers referring due applies up next prior close how used able order need needs needed
    want wants tries try trying going has have ought allowed so is are be been
    """.split())
_FILLER = frozenset("""
    a an the of for and or in on at by with its it this that these those his her their our your my some
    any each every all which what who whom when where than then also only just same function method helper
    object value values instance class one specified given supplied
    """.split())
# "the AWT line join corresponding to the SWT line join" says it the other way round, as "from" does.
_CORRESPONDING = frozenset({"corresponding", "corresponds", "correspond"})
# So do "the prefix bound to a namespace URI", "the value mapped to the key".
_RELATED = _CORRESPONDING | frozenset("bound mapped assigned attached associated".split())
# Verbs of converting: a clause that starts with one ends its conversion at its "to", whatever the word
# before it ("converts unicode code points to characters").
_CONVERTING = frozenset("convert transform translate turn cast coerce change".split())
# A query's direction joins the few words either side of its direction word: the noun phrases it
# joins ("convert a premultiplied ARGB32 buffer to ..."), not the whole clause.
_NEAR = 3
# A query's clauses: direction is read within one ("x to y, returning z" is two). A full stop ends a
# clause only before a space: `torch.tensor` and `os.path` stay one; "input (user) to output" is one.
_CLAUSE = re.compile(r"[;,:!?]|\.(?:\s|$)")
# What Python's lower-case names glue to "to", "as" or "from" (`tobytes`, `asarray`, `fromhex`): kinds
# of data, so that `today`, `asset` and `fromage` stay words.
_GLUED = frozenset("""
    bytes str string unicode text list array dict tuple int float bool json xml html yaml csv hex bin binary
    buffer file native ascii number date datetime matrix tensor numpy frame series image
    """.split())
# Verbs that make what they are given into the kind of data after them: `force_bytes`, `ensure_str`,
# `smart_text`, `coerce_int`, `cast_float`.
_COERCING = frozenset("force ensure smart coerce cast".split())
# `HSLtoRGB` splits into "hs", "lto", "rgb" by camelCase alone: a direction word between two runs of
# capitals is cut out first.
_BETWEEN_CAPITALS = re.compile(r"(?<=[A-Z])(to|2|from|into)(?=[A-Z])")


class Direction(NamedTuple):
    """The words said to be where something starts (`source`) and where it ends (`target`)."""
    source: frozenset[str]
    target: frozenset[str]


def _is_verb(word: str) -> bool:
    """`word` is one of _VERBS, as it is or inflected ("converts", "mapped", "encoding")."""
    return not _stems(word).isdisjoint(_VERBS)


def _stems(word: str) -> set[str]:
    """What `word` may be inflected from, itself included: "converts" -> convert, "mapped" -> map."""
    stems = {word}
    if word.endswith("s"):
        stems |= {word[:-1], word[:-2] if word.endswith("es") else word}
        if word.endswith("ies"):
            stems.add(word[:-3] + "y")  # "copies", "applies"
    if word.endswith("ed"):
        stems |= {word[:-2], word[:-1], word[:-3]}  # "converted", "encoded", "mapped"
    if word.endswith("ing"):
        stems |= {word[:-3], word[:-3] + "e", word[:-4]}  # "converting", "encoding", "setting"
    return stems


def _content(words: Sequence[str]) -> list[str]:
    return [w for w in words if w not in _FILLER and w not in _NOT_DIRECTION_AFTER and w not in _RELATED
            and not _is_verb(w)]


def _initials(words: Sequence[str]) -> list[str]:
    """The initials of the first two, three and four of `words` that are letters ("heliocentric earth
    ecliptic" -> "he", "hee")."""
    letters = [w[0] for w in itertools.takewhile(str.isalpha, words)]
    return ["".join(letters[:n]) for n in range(2, min(len(letters), 4) + 1)]


def _read(words: Sequence[str], towards: frozenset[str], near: int | None) -> Direction | None:
    """Source and target words of one clause of sub-words: each direction word joins the stretch before
    it to the stretch after it (up to the next direction word), of which the `near` content words next
    to it count (all of them for None)."""
    marks = [i for i, w in enumerate(words) if w in towards or w == _FROM]
    source: set[str] = set()
    target: set[str] = set()
    for n, i in enumerate(marks):
        before = _content(words[(marks[n - 1] + 1 if n else 0):i])
        after = _content(words[i + 1:(marks[n + 1] if n + 1 < len(marks) else len(words))])
        if near is not None:
            # A name may say the stretch by its initials: "heliocentric earth ecliptic" is `hee`.
            before = before[-near:] + [said[::-1] for said in _initials(before[::-1])]
            after = after[:near] + _initials(after)
        if words[i] == _FROM:
            if any(words[j] in towards for j in marks[n + 1:]):
                continue  # "from x to y": the "to" reads it, and what is before "from" is neither end
            source.update(after)
            target.update(before)
        else:
            source.update(before)
            target.update(after)
    both = source & target  # a word on both ends ("a user location to a design location") points nowhere
    source -= both
    target -= both
    return Direction(frozenset(source), frozenset(target)) if source or target else None


@lru_cache(maxsize=4096)
def query_direction(text: str) -> Direction | None:
    """What `text` (a query, a summary) says goes where, if anything: "convert int to string" ->
    ({int}, {string}); "build a user from a dict" -> ({dict}, {user})."""
    source: set[str] = set()
    target: set[str] = set()
    for clause in _CLAUSE.split(text):
        words = subtokens(clause)
        # Only a "to" that joins two things: not an infinitive, nor "used to" (unless it ends a conversion:
        # "from points to inches"); "corresponding to" is a "from".
        words = [_FROM if w == "to" and i and words[i - 1] in _RELATED else w for i, w in enumerate(words)
                 if not (w == "to" and ((i + 1 < len(words) and _is_verb(words[i + 1]))
                                        or (i and words[i - 1] in _NOT_DIRECTION_AFTER
                                            and not _converting(words[:i]))))]
        read = _read(words, _TOWARDS - {"2", "as"}, _NEAR)  # a query's "2" and "as" are rarely directions
        if read:
            source |= read.source
            target |= read.target
    return Direction(frozenset(source - target), frozenset(target - source)) if source or target else None


def _converting(before: Sequence[str]) -> bool:
    """The words `before` a "to" make it the end of a conversion, whatever the word just before it: a
    "from" with no "to" since ("from points to inches", "from relative to absolute"), or a clause that
    starts with a verb of converting ("converts unicode code points to Java characters")."""
    directions = [w for w in before if w in ("to", _FROM)]
    if directions[-1:] == [_FROM]:
        return True
    first = next((w for w in before if w not in _FILLER), "")
    return not _stems(first).isdisjoint(_CONVERTING)


@lru_cache(maxsize=1 << 16)
def name_direction(name: str) -> Direction | None:
    """What a function's name says goes where, if anything: `hex2bin` -> ({hex}, {bin}), `toString` ->
    ((), {string}), `user_from_dict` -> ({dict}, {user}). A name that starts with its direction word
    says its other end with the first word after it: `to_proto_run_config` makes a run config into a
    proto. A "2" joins two words only: `autoscaler_v2` is a version."""
    parts = name_parts(name)
    if not parts:
        return None
    if len(parts) == 1:  # `asbytes`, `tolist`, `fromhex`: a direction word glued to a kind of data
        parts = next(([word, parts[0][len(word):]] for word in ("to", "as", _FROM)
                      if parts[0].startswith(word) and parts[0][len(word):] in _GLUED), parts)
    if parts[0] in _COERCING and parts[1:2] and parts[1] in _GLUED:  # `force_bytes`, `ensure_str`
        return Direction(frozenset(), frozenset(parts[1:2]))
    if parts[0] in _TOWARDS or parts[0] == _FROM:
        rest = _content(parts[1:])
        # The next word, with the number that may follow it: `from_vector4` is not `from_vector3`.
        following = frozenset(rest[:2] if rest[1:2] and rest[1].isdigit() else rest[:1])
        if not following:
            return None
        return Direction(following, frozenset()) if parts[0] == _FROM else Direction(frozenset(), following)
    parts = [p for i, p in enumerate(parts) if p != "2" or (0 < i < len(parts) - 1 and parts[i - 1] != "v")]
    return _read(parts, _TOWARDS, None)


def name_parts(name: str) -> list[str]:
    """A name's sub-words, a direction word between capitals split off: `HSLtoRGB` -> hsl, to, rgb."""
    return subtokens(_BETWEEN_CAPITALS.sub(r"_\1_", name))


# Words of a signature that say nothing about what it takes or gives: modifiers, keywords, and the types
# any function may take or return.
_NOT_SIGNATURE_WORDS = frozenset("""
    public private protected internal static final abstract synchronized native default strictfp transient
    volatile override virtual readonly def func function fn async await self this cls const let var ref out
    params throws throw new null none nil true false void error err any object mixed callable iterable args
    kwargs opts options interface chan struct
    """.split())
# Parameter names that say the function writes its result there.
_OUTPUT_PARAMETERS = frozenset("dst dest destination out output target result res into to sink".split())
_HEAD_END = frozenset({"{", "=>"})  # where a signature ends and the body starts (Python's ":" is checked apart)


def signature_direction(name: str, leaves: Sequence[str], language: str) -> Direction | None:
    """What a function's signature says goes where: its parameters (names and types) are where it
    starts, its declared return type where it ends, as do parameters named as an output (`void
    convert(RowMatrix src, BlockMatrix dst)` -> ({row, src}, {block, dst})). `String format(Date date)`
    -> ({date}, {string}); `def parse(text)` -> ({text}, {}). None for a function declared to return
    nothing with no output parameter (`void save(File file)`: what it takes is no source of what it
    gives), or whose parameters can't be found. `leaves`: the function's code tokens (tree-sitter's leaves)."""
    head = body_start(leaves, language)
    head = len(leaves) if head is None else head
    opening = next((i + 1 for i in range(min(head, len(leaves) - 1)) if leaves[i] == name and leaves[i + 1] == "("),
                   None)
    if opening is None:  # an anonymous function (`parse: function (text) {`, `(a, b) => ...`)
        opening = next((i for i in range(min(head, len(leaves))) if leaves[i] == "("
                        and (i == 0 or leaves[i - 1] in ("function", "fn", "=", ":"))), None)
    closing = _closing(leaves, opening) if opening is not None else None
    if closing is None:
        return None
    parameters = _split_parameters(leaves[opening + 1:closing])
    # A parameter named as where the result goes (`copy(Matrix src, BlockMatrix dst)`) is a target.
    outputs = [p for p in parameters if any(leaf.lower().lstrip("$") in _OUTPUT_PARAMETERS for leaf in p)]
    source = _signature_words([leaf for p in parameters if p not in outputs for leaf in p])
    output = _signature_words([leaf for p in outputs for leaf in p])
    # A name that ends in its direction word says which end its parameters are, whatever it returns.
    last = subtokens(name)[-1:]
    if last in (["to"], ["into"]):  # `copyTo(ByteBuffer buffer)`, `writeTo(OutputStream out)`
        return Direction(frozenset(), frozenset(source | output)) if source or output else None
    if last == [_FROM] and source:  # `readFrom(InputStream in)`
        return Direction(frozenset(source), frozenset())
    if language == "java":  # `public static String format(`: what precedes the name, less annotations
        declared = [leaf for i, leaf in enumerate(leaves[:opening - 1]) if leaf != "@" and (not i or leaves[i - 1] != "@")]
    elif language == "go":  # `func (r *T) Format(d Date) (string, error) {`
        declared = list(leaves[closing + 1:head])
    elif leaves[closing + 1:closing + 2] == (["->"] if language == "python" else [":"]):  # annotated
        end = next((i for i in range(closing + 2, len(leaves)) if leaves[i] in _HEAD_END or leaves[i] == ":"), len(leaves))
        declared = list(leaves[closing + 2:end])
    else:
        declared = None
    if declared is not None and (not declared or any(leaf in ("void", "None") for leaf in declared)):
        if not output:
            return None  # declared to return nothing, and takes nothing to fill in
        declared = ()
    target = _signature_words(declared or ()) | output
    both = source & target
    source, target = source - both, target - both
    return Direction(frozenset(source), frozenset(target)) if source or target else None


def body_start(leaves: Sequence[str], language: str) -> int | None:
    """Where a function's signature ends among its code tokens: its first `{` or `=>`, or Python's `:`
    after its parameters; None where none is among the first 200 (a Ruby `def` has none)."""
    return next((i for i, leaf in enumerate(leaves[:200]) if leaf in _HEAD_END
                 or (language == "python" and leaf == ":" and i and leaves[i - 1] in (")", "]"))), None)


def _split_parameters(leaves: Sequence[str]) -> list[list[str]]:
    """The leaves between a signature's parentheses, one list per parameter (split at top-level commas)."""
    out: list[list[str]] = [[]]
    depth = 0
    for leaf in leaves:
        depth += (leaf in "([{<") - (leaf in ")]}>") if len(leaf) == 1 else 0
        if leaf == "," and depth == 0:
            out.append([])
        else:
            out[-1].append(leaf)
    return [p for p in out if p]


def _closing(leaves: Sequence[str], opening: int) -> int | None:
    """Where the parenthesis at `opening` closes."""
    depth = 0
    for i in range(opening, len(leaves)):
        depth += (leaves[i] == "(") - (leaves[i] == ")")
        if depth == 0:
            return i
    return None


def _signature_words(leaves: Sequence[str]) -> set[str]:
    return {part for leaf in leaves if IDENTIFIER.match(leaf) and leaf.lower() not in _NOT_SIGNATURE_WORDS
            for part in _content(subtokens(leaf)) if part not in _NOT_SIGNATURE_WORDS and len(part) > 1}


def _same(word: str, part: str) -> bool:
    """A query's word and a name's part are the same, or one abbreviates the other: `str` and
    "string", `py` and "python", `dicts` and "dict", `b2s`'s `b` and "bytes"."""
    if word == part:
        return True
    short, long = (word, part) if len(word) < len(part) else (part, word)
    return long.startswith(short)


def agreement(query: Direction | None, name: Direction | None) -> int:
    """+1 when the name says the query's direction about their shared words, -1 when it says the
    opposite, 0 when either says none or they share no words (or as many agree as disagree). One pair
    at a time, as the definition: `adjustment` works out the same for every pair of a search at once."""
    if query is None or name is None:
        return 0
    score = 0
    for word in query.source:
        score += _side(word, name.source, name.target)
    for word in query.target:
        score += _side(word, name.target, name.source)
    return (score > 0) - (score < 0)


def _side(word: str, same: frozenset[str], opposite: frozenset[str]) -> int:
    """+1 when `word` is said on the `same` side more closely than on the `opposite` one (as it is
    rather than abbreviated: "cmy" is `CmykToCmy`'s target, though it abbreviates "cmyk"), -1 when on
    the opposite side, else 0."""
    here, there = _mentioned(word, same), _mentioned(word, opposite)
    return (here > there) - (there > here)


def _mentioned(word: str, parts: frozenset[str]) -> int:
    """2 when `parts` hold `word` as it is, 1 when one abbreviates the other (`_same`), else 0."""
    return 2 if word in parts else int(any(_same(word, part) for part in parts))


class Said(NamedTuple):
    """What a function says goes where: by its name (`name_direction`) and by its signature
    (`signature_direction`); the name is asked first."""
    name: Direction | None
    signature: Direction | None = None


def said(name: str, leaves: Sequence[str] = (), language: str = "") -> Said:
    """What the function `name`, with code tokens `leaves` of `language`, says goes where."""
    return Said(name_direction(name), signature_direction(name, leaves, language) if leaves else None)


def said_text(name: str, leaves: Sequence[str], language: str) -> str:
    """`said` as one line to store (an index keeps one per unit): "" when neither says anything."""
    by_name, by_signature = said(name, leaves, language)
    if by_name is None and by_signature is None:
        return ""
    return "\t".join([name if by_name else "", *(" ".join(sorted(side)) for side in by_signature or ((), ()))])


def said_from_text(text: str) -> Said:
    """What `said_text` stored."""
    name, source, target = (text.split("\t") + ["", "", ""])[:3]
    return Said(name_direction(name) if name else None,
                Direction(frozenset(source.split()), frozenset(target.split())) if source or target else None)


def adjustment(queries: Sequence[str], candidates: Sequence[Said | str],
               weights: tuple[float, float] = (AGREE, DISAGREE),
               signature_weights: tuple[float, float] = (SIGNATURE_AGREE, SIGNATURE_DISAGREE),
               vectors: Callable[[Sequence[str]], np.ndarray] | None = None,
               alike: tuple[float, float] = (ALIKE, ALIKE_MARGIN)) -> np.ndarray:
    """(queries, candidates): what the search adds to each cosine, by `agreement` with what each
    candidate (a `Said`, or just a function's name) says: the first of `weights` where its name agrees,
    minus the second where it disagrees; where the name says nothing about the query's words, the
    same by its signature with `signature_weights`. Where neither says anything about the query's
    words, and `vectors` (a model's `word_vectors`) are given, what they say about words like them
    (`_alike_leans`): the first of `alike` for a candidate that leans the query's way by more than the
    second, as much taken from one that leans the other way. Zero wherever the query or the candidate
    says no direction, which is most of both.

    All the agreements at once: each query word's lean towards each candidate direction's source or
    target (`_leans`), summed over the query's words with a sign for its side, is `agreement`'s score
    for every pair (an evaluation asks 1,000 queries of 1,000 candidates)."""
    out = np.zeros((len(queries), len(candidates)), np.float32)
    said_q = [(i, d) for i, d in enumerate(map(query_direction, queries)) if d is not None]
    if not said_q:
        return out
    kinds = []  # (the candidates that say it, their directions, weights): names first, then signatures
    candidates = [Said(name_direction(c)) if isinstance(c, str) else c for c in candidates]
    for kind, kind_weights in ((0, weights), (1, signature_weights)):
        found = [(j, c[kind]) for j, c in enumerate(candidates) if c[kind] is not None]
        if found:
            kinds.append(([j for j, _ in found], [d for _, d in found], kind_weights))
    if not kinds:
        return out
    words = sorted({w for _, d in said_q for w in d.source | d.target})
    column = {w: n for n, w in enumerate(words)}
    sides = np.zeros((len(said_q), len(words)), np.float32)  # +1 where a query starts, -1 where it ends
    for row, (_, d) in enumerate(said_q):
        sides[row, [column[w] for w in d.source]] = 1
        sides[row, [column[w] for w in d.target]] = -1
    rows = [i for i, _ in said_q]
    decided = np.zeros((len(said_q), len(candidates)), bool)
    for js, directions, (agree, disagree) in kinds:
        agreements = np.sign(sides @ _leans(words, directions))
        agreements[decided[:, js]] = 0  # a name that spoke decides: its signature is not asked
        added = np.where(agreements > 0, agree, -disagree) * (agreements != 0)
        out[np.ix_(rows, js)] += added
        decided[:, js] |= agreements != 0
    if vectors is not None and alike[0]:
        found = [(j, c.name if c.name is not None else c.signature) for j, c in enumerate(candidates)
                 if c.name is not None or c.signature is not None]
        leans = sides @ _alike_leans(words, [d for _, d in found], vectors)
        js = [j for j, _ in found]
        added = alike[0] * np.sign(leans) * (np.abs(leans) > alike[1]) * ~decided[:, js]
        out[np.ix_(rows, js)] += added
    return out


def _alike_leans(words: Sequence[str], directions: Sequence[Direction],
                 vectors: Callable[[Sequence[str]], np.ndarray]) -> np.ndarray:
    """(words, directions): how much closer each word is to a direction's source side than to its
    target side, each side as close as its closest word by cosine (`vectors`), a side with no words 0."""
    parts = sorted({p for d in directions for p in d.source | d.target})
    out = np.zeros((len(words), len(directions)), np.float32)
    if not parts:
        return out
    closeness = vectors(words) @ vectors(parts).T
    column = {p: n for n, p in enumerate(parts)}
    for col, d in enumerate(directions):
        for side, sign in ((d.source, 1), (d.target, -1)):
            if side:
                out[:, col] += sign * closeness[:, [column[p] for p in side]].max(1)
    return out


def _leans(words: Sequence[str], directions: Sequence[Direction]) -> np.ndarray:
    """(words, directions): +1 where a word is said more closely on a direction's source side than on
    its target side (`_side`), -1 where the other way round, else 0."""
    by_word = _closeness(words, {w for d in directions for w in d.source | d.target})
    out = np.zeros((len(words), len(directions)), np.float32)
    for col, d in enumerate(directions):
        here: dict[int, int] = {}
        there: dict[int, int] = {}
        for side, parts in ((here, d.source), (there, d.target)):
            for part in parts:
                for row, level in by_word.get(part, ()):
                    side[row] = max(side.get(row, 0), level)
        for row in here.keys() | there.keys():
            out[row, col] = np.sign(here.get(row, 0) - there.get(row, 0))
    return out


def _closeness(words: Sequence[str], parts: set[str]) -> dict[str, list[tuple[int, int]]]:
    """Each of `parts` -> (index of a word among `words`, 2 when they are the same word, 1 when one
    abbreviates the other: `_same`), for the words it is either."""
    ordered = sorted(parts)
    out: dict[str, list[tuple[int, int]]] = {}
    for row, word in enumerate(words):
        matched = {word[:n] for n in range(1, len(word)) if word[:n] in parts}  # parts that abbreviate it
        start = bisect_left(ordered, word)
        for part in ordered[start:]:  # parts it abbreviates (and itself)
            if not part.startswith(word):
                break
            matched.add(part)
        for part in matched:
            out.setdefault(part, []).append((row, 2 if part == word else 1))
    return out

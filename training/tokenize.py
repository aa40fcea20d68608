"""Tokens for the bag-of-words encoders.

Code: tree-sitter leaves; identifiers are kept whole (lower-cased) and split into sub-tokens
(camelCase, snake_case, digits); string literals become their words; punctuation is dropped.
Queries and docstrings: lower-cased words, split the same way; a camelCase word (sendMail) is kept
whole too, as code keeps the identifier.

A `Vocabulary` maps tokens to ids: the most frequent half of its size are whole tokens (a
`tokenizers` WordLevel model); anything else is spelled with BPE pieces learned by `tokenizers` on
the same data (the other half). Both are saved as `tokenizer.json` files. The model uses one
vocabulary for queries and all languages (`Vocabulary.build_shared`).
"""
from __future__ import annotations

import re
from collections import Counter
from functools import lru_cache
from itertools import chain, islice, repeat
from pathlib import Path
from typing import Callable, Collection, Container, Iterable, Iterator, Sequence

import numpy as np
from tokenizers import Tokenizer, models, pre_tokenizers, trainers

PAD, UNK = "[PAD]", "[UNK]"
PAD_ID, UNK_ID = 0, 1

_WORD = re.compile(r"[^\W_]+", re.UNICODE)
_SUBTOKEN = re.compile(r"[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z]+|[A-Z]+|\d+|[^\W\d_a-zA-Z]+")
IDENTIFIER = re.compile(r"^[A-Za-z_$][\w$]*$")  # a code leaf that names something
_MAX_WORD = 64
MIN_WORD_COUNT = 3
BPE_WORDS = 1_000_000  # the most distinct words BPE merges are learned from (`Vocabulary.from_counts`)
# Shorter words are left as typed by `Vocabulary.spelled`: two letters are one edit away from too many
# words to guess which was meant.
MIN_SPELLED = 3
_LETTERS = "abcdefghijklmnopqrstuvwxyz"
# How often a typed word is a slip for another (`Vocabulary.spelled`): the prior odds against a word
# that is a token itself being meant as typed.
TYPO_RATE = 0.05
# Code leaves whose ids a vocabulary keeps (`Vocabulary.encode_code`): every fine-tuned repository model
# of a process has its own vocabulary, so not the hundreds of thousands a whole corpus has.
LEAVES_CACHED = 1 << 16


def subtokens(word: str) -> list[str]:
    """`getHTTPResponse_code2` -> ['get', 'http', 'response', 'code', '2']"""
    return [s.lower() for part in _WORD.findall(word) for s in _SUBTOKEN.findall(part)]


_ARTICLES = frozenset({"a", "an", "the"})


def bigrams(words: list[str]) -> list[str]:
    """Ordered word pairs, the one order-aware feature of the bag: "int to string" gives
    `int_to`, `to_string`, which "string to int" does not. Articles are skipped so that
    "to a string" and "to string" agree."""
    words = [w for w in words if w not in _ARTICLES]
    return [f"{a}_{b}" for a, b in zip(words, words[1:])]


def code_tokens(leaves: Iterable[str], with_bigrams: bool = False) -> list[str]:
    tokens: list[str] = []
    for leaf in leaves:
        # Short leaves ("(", err, ctx, self, i) repeat far more than they vary, and training tokenises
        # every function two or three times: caching them makes that more than twice as fast. Long
        # ones (string literals of up to a file's size) rarely repeat and would only fill the cache.
        short = len(leaf) <= _MAX_WORD
        tokens.extend(_cached_leaf_tokens(leaf, with_bigrams) if short else _leaf_tokens(leaf, with_bigrams))
    return tokens


def iter_code_tokens(leaves: Iterable[str], with_bigrams: bool = False) -> Iterator[str]:
    """`code_tokens`, lazily: what reads only a function's first tokens stops early."""
    for leaf in leaves:
        yield from _cached_leaf_tokens(leaf, with_bigrams) if len(leaf) <= _MAX_WORD else _leaf_tokens(leaf, with_bigrams)


def _leaf_tokens(leaf: str, with_bigrams: bool) -> tuple[str, ...]:
    if IDENTIFIER.match(leaf):
        parts = subtokens(leaf)
        whole = leaf.strip("_$").lower()
        tokens = [whole[:_MAX_WORD]] if len(parts) > 1 and whole else []
        tokens += parts
        if with_bigrams:  # `to_string` is its own pair; `toString`'s pair must be spelled as a query's is
            tokens += [pair for pair in bigrams(parts) if pair != whole]
        return tuple(tokens)
    if leaf[:1].isalnum() or leaf[:1] in "\"'`" or len(leaf) > 3:
        return tuple(subtokens(leaf))
    return ()


_cached_leaf_tokens = lru_cache(maxsize=1 << 18)(_leaf_tokens)


def query_tokens(text: str, with_bigrams: bool = False, spell: Callable[[str], str] | None = None) -> list[str]:
    """Lower-cased words and sub-words; with bigrams, each word pair follows its second word, so
    that cutting a long query short keeps pairs and words alike. `spell` (`Vocabulary.spelled`)
    corrects each word and sub-word before pairs are made of them."""
    tokens: list[str] = []
    previous = None
    for word in _WORD.findall(text):
        parts = _word_parts(word)
        if len(parts) > 1:
            whole = word.lower()[:_MAX_WORD]
            tokens.append(spell(whole) if spell else whole)
        for part in (map(spell, parts) if spell else parts):
            tokens.append(part)
            if with_bigrams and part not in _ARTICLES:
                if previous is not None:
                    tokens.append(f"{previous}_{part}")
                previous = part
    return tokens


# A query's words recur (documentation is English): training splits two or three summaries per function.
_word_parts = lru_cache(maxsize=1 << 16)(subtokens)


def corrected_text(text: str, spell: Callable[[str], str]) -> str:
    """`text` with each word that `spell` (`Vocabulary.spelled`) corrects replaced by what it was taken
    for, as the search reads it, to show people what was searched: "sned mial" -> "send mail"."""
    def fix(match: re.Match) -> str:
        word = match.group()
        meant = spell(word.lower())
        return word if meant == word.lower() else meant
    return _WORD.sub(fix, text)


def one_edit(word: str) -> dict[str, float]:
    """Every string one edit from `word` (Damerau-Levenshtein distance 1, lower-case ASCII letters), with
    how likely `word` is as a mistyping of it: a noisy channel in which a typo is a letter added,
    dropped, replaced or swapped with the next, at any of the intended word's positions alike, and
    an added or replacing letter is any of 26. So a dropped or swapped letter explains a typo 25 times
    better than a replaced one, which had 25 letters to choose from."""
    splits = [(word[:i], word[i:]) for i in range(len(word) + 1)]
    likely: dict[str, float] = {}
    n = len(word)
    # Likeliest first, so that a string two kinds of edit reach keeps the likelier one's odds.
    for candidates, odds in (((a + b[1] + b[0] + b[2:] for a, b in splits if len(b) > 1), 1 / n),
                             ((a + c + b for a, b in splits for c in _LETTERS), 1 / (n + 1)),  # `word` lost one
                             ((a + b[1:] for a, b in splits if b), 1 / 26 / max(n - 1, 1)),  # `word` has one added
                             ((a + c + b[1:] for a, b in splits if b for c in _LETTERS if c != b[0]), 1 / 25 / n)):
        for candidate in candidates:
            likely.setdefault(candidate, odds)
    likely.pop("", None)
    return likely


def slip_odds(typed: str, meant: str) -> float | None:
    """How likely `typed` is as a mistyping of `meant` by `one_edit`'s noisy channel, or None when it
    is no one edit of it that `one_edit` makes."""
    n = len(typed)
    if len(meant) == n:
        differ = [i for i in range(n) if typed[i] != meant[i]]
        if len(differ) == 1:
            return 1 / 25 / n if meant[differ[0]] in _LETTERS else None
        if len(differ) == 2 and differ[1] == differ[0] + 1 and typed[differ[0]] == meant[differ[1]] \
                and typed[differ[1]] == meant[differ[0]]:
            return 1 / n
    elif len(meant) == n + 1:  # `typed` lost a letter
        i = next((i for i in range(n) if typed[i] != meant[i]), n)
        return 1 / (n + 1) if meant[i] in _LETTERS and meant[i + 1:] == typed[i:] else None
    elif len(meant) == n - 1:  # `typed` has one added
        i = next((i for i in range(n - 1) if typed[i] != meant[i]), n - 1)
        return 1 / 26 / max(n - 1, 1) if typed[i + 1:] == meant[i:] else None
    return None


def deletions(word: str) -> list[str]:
    """`word` less one letter, at each position."""
    return [word[:i] + word[i + 1:] for i in range(len(word))]


def deletion_index(words: Iterable[str]) -> dict[str, tuple[str, ...]]:
    """Each of `words` in plain letters, and each of its one-letter deletions -> those words: what
    `slips_in` looks words up in."""
    index: dict[str, list[str]] = {}
    for word in words:
        if word.isascii() and word.isalpha():
            for key in dict.fromkeys((word, *deletions(word))):
                index.setdefault(key, []).append(word)
    return {key: tuple(found) for key, found in index.items()}


def slips_in(word: str, index: dict[str, tuple[str, ...]]) -> dict[str, float]:
    """The words of `index` (`deletion_index`) one edit from `word`, each with `one_edit`'s odds. Two
    words one edit apart are one of the other less a letter or share a one-letter deletion (SymSpell's
    idea): `word` and its ~length deletions are looked up, not its ~50 x length edits."""
    found: dict[str, float] = {}
    for key in (word, *deletions(word)):
        for meant in index.get(key, ()):
            if meant != word and meant not in found and (odds := slip_odds(word, meant)):
                found[meant] = odds
    return found


class Words:
    """A fixed set of words (a lexical index's vocabulary, as `known` to `Vocabulary.spelled`) whose
    words one edit from a mistyped one are looked up by their deletions (`slips_in`), indexed at the
    first such word, instead of by trying each of its ~50 x length edits: an evaluation corrects
    thousands of mistyped words against each chunk's 1,000 functions (0.2 s saved per chunk of Java).
    A set of more than INDEXED words (a whole corpus's, as BEIR's and the annotations' evaluations
    search) is not indexed: its index would take gigabytes, for a few queries' words."""

    INDEXED = 100_000

    def __init__(self, words: Collection[str]):
        self._words = words
        self._index: dict[str, tuple[str, ...]] | None = None

    def __contains__(self, word: object) -> bool:
        return word in self._words

    def __len__(self) -> int:
        return len(self._words)

    def slips(self, word: str) -> dict[str, float]:
        """The words one edit from `word`, with `one_edit`'s odds."""
        if len(self._words) > self.INDEXED:
            return {meant: odds for meant, odds in one_edit(word).items() if meant in self._words}
        if self._index is None:
            self._index = deletion_index(self._words)
        return slips_in(word, self._index)


def known_tokens(tokens: Iterable[str], known: Container[str],
                 spell: Callable[[str, Container[str]], str] | None = None) -> list[str]:
    """The tokens that `known` (a lexical index's vocabulary) holds; with `spell` (`Vocabulary.spelled`),
    each one it does not hold is first corrected, to one of its words where it can, so a mistyped
    word still finds the right one."""
    out = []
    for token in tokens:
        if token not in known and spell is not None:
            token = spell(token, known)
        if token in known:
            out.append(token)
    return out


class Vocabulary:
    """Token -> id with BPE fallback. Ids: 0 padding, 1 unknown, then whole tokens, then BPE pieces."""

    def __init__(self, words: Tokenizer, bpe: Tokenizer):
        self.words, self.bpe = words, bpe
        self._word_ids = words.get_vocab()
        self._offset = len(self._word_ids)
        self.size = self._offset + bpe.get_vocab_size()
        self._bpe_unk = bpe.token_to_id(UNK)
        self._pieces = lru_cache(maxsize=200_000)(self._bpe_ids)
        self._spelled = lru_cache(maxsize=65_536)(self._nearest_words)
        self._deletion_index: dict[str, tuple[str, ...]] | None = None
        self.ids_of = lru_cache(maxsize=1 << 17)(self.ids_of)  # explaining a search looks up ~600 tokens
        self._leaf_ids = lru_cache(maxsize=LEAVES_CACHED)(self._ids_of_short_leaf)

    @classmethod
    def build(cls, token_lists: Iterable[list[str]], size: int) -> "Vocabulary":
        return cls.build_shared([token_lists], size)

    @classmethod
    def build_shared(cls, streams: Iterable[Iterable[list[str]]], size: int) -> "Vocabulary":
        """One vocabulary for several token streams (the queries, each language's code); see `from_counts`."""
        counted = []
        for token_lists in streams:
            stream: Counter = Counter()
            for tokens in token_lists:
                stream.update(tokens)
            counted.append(stream)
        return cls.from_counts(counted, size)

    @classmethod
    def from_counts(cls, streams: Sequence[Counter], size: int) -> "Vocabulary":
        """One vocabulary for several streams' token counts (the queries', each language's code's).

        A token's rank is its highest share of any one stream, so a small language's own words get
        in beside a big language's instead of being crowded out by raw counts.
        """
        counts: Counter = Counter()
        share: dict[str, float] = {}
        for stream in streams:
            total = sum(stream.values()) or 1
            for token, n in stream.items():
                share[token] = max(share.get(token, 0.0), n / total)
            counts.update(stream)
        # Ties broken by the token itself so the same corpus always gives the same vocabulary. Words
        # seen fewer than MIN_WORD_COUNT times are spelled with BPE pieces even when there is room for
        # them: that way the pieces occur in training (and are trained) on a small corpus too.
        frequent = [tok for tok in share if counts[tok] >= MIN_WORD_COUNT]
        ranked = sorted(frequent, key=lambda tok: (-share[tok], tok))[: max(size // 2 - 2, 1)]
        vocab = {PAD: PAD_ID, UNK: UNK_ID, **{tok: i + 2 for i, tok in enumerate(ranked)}}
        words = Tokenizer(models.WordLevel(vocab, unk_token=UNK))
        words.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
        bpe = Tokenizer(models.BPE(unk_token=UNK))
        trainer = trainers.BpeTrainer(vocab_size=max(size - len(vocab), 64), special_tokens=[UNK],
                                      show_progress=False)
        # Word frequencies are fed as repetition (capped) so BPE merges follow real usage. Words seen
        # once are left out, and on a large corpus all but the BPE_WORDS commonest: the rare words are
        # most of the distinct ones and make merge learning slow (62 s for the base model's 2.1 million
        # seen twice or more), while the merges worth learning recur.
        seen = np.fromiter(counts.values(), np.int64, len(counts))
        seen = seen[seen > 1]
        kth = len(seen) - BPE_WORDS  # the BPE_WORDS-th largest count, where there are more
        floor = max(2, int(np.partition(seen, kth)[kth])) if kth > 0 else 2
        # A word's repetitions as one line of it that the trainer splits at spaces (no token holds one):
        # the same merges as a string per repetition, a tenth of the strings to hand over (11 s less).
        lines = [" ".join(repeat(tok, min(n, 20))) for tok, n in sorted(kv for kv in counts.items() if kv[1] >= floor)]
        bpe.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
        bpe.train_from_iterator((lines[i:i + 10_000] for i in range(0, len(lines), 10_000)), trainer=trainer,
                                length=len(lines))
        bpe.pre_tokenizer = None
        return cls(words, bpe)

    def _bpe_ids(self, token: str) -> tuple[int, ...]:
        ids: list[int] = []
        for i in self.bpe.encode(token[:_MAX_WORD]).ids:
            i = UNK_ID if i == self._bpe_unk else i + self._offset
            if not (i == UNK_ID and ids and ids[-1] == UNK_ID):  # one [UNK] per run of unknown characters
                ids.append(i)
        return tuple(ids) or (UNK_ID,)

    def word_id(self, word: str) -> int | None:
        """`word`'s id as a whole token (None when it is spelled with BPE pieces)."""
        return self._word_ids.get(word)

    def spelled(self, word: str, known: Container[str] = ()) -> str:
        """`word` as meant, if it looks mistyped: of the whole tokens one edit away, the one the code
        searched uses (`known`), else the likeliest (`_nearest_words`). A word that is no token, with no
        token one edit away that the code uses, may be a slip for a rarer word the code uses: the likeliest
        such word (a repository's own names are often too rare to be tokens). A word that is a token itself
        is taken as typed unless a far commoner one is a likely slip away (`TYPO_RATE`); a word of the
        code searched (a repository's own words are not typos, however rare elsewhere), or one too
        short or not plain letters to guess at, always is. A mistyped word would otherwise fall apart
        into BPE pieces that mean little (measured in `evaluate`: clean and mistyped queries side by side)."""
        if len(word) < MIN_SPELLED or not (word.isascii() and word.isalpha()) or word in known:
            return word
        own = self.word_id(word)
        candidates = self._spelled(word) if own is None else self._commoner_slips(word, own)
        in_code = next(((c, p) for c, p in candidates if c in known), None)
        if in_code is None and own is None and known:
            likely = known.slips(word) if isinstance(known, Words) else one_edit(word)
            in_code = min(((c, p) for c, p in likely.items() if c in known), key=lambda cp: (-cp[1], cp[0]),
                          default=None)
        if in_code is None and not candidates:
            return word
        meant, likelihood = in_code or candidates[0]
        return meant if own is None or TYPO_RATE * likelihood > 1 / own else word

    def _nearest_words(self, word: str) -> tuple[tuple[str, float], ...]:
        """The whole tokens one edit from `word`, each with how likely it was meant, likeliest first:
        how likely the edit is (`one_edit`) times how common the token is, taken as Zipf's 1 / rank
        from its id (ids rank tokens by frequency)."""
        found = [(w, odds / self.word_id(w)) for w, odds in self._slips(word).items()]
        return tuple(sorted(found, key=lambda found: (-found[1], found[0])))

    def _commoner_slips(self, word: str, own: int) -> tuple[tuple[str, float], ...]:
        """`_nearest_words` of a word that is a token itself (id `own`), cut to the tokens `spelled`
        could take it for: those far commoner (`TYPO_RATE`)."""
        return tuple(c for c in self._spelled(word) if TYPO_RATE * c[1] > 1 / own)

    def _slips(self, word: str) -> dict[str, float]:
        """The whole tokens one edit from `word`, with `one_edit`'s odds (`slips_in`)."""
        # Built once, by the first mistyped word (the base model's: 0.2 s, 175,000 keys, 20 MB).
        if self._deletion_index is None:
            self._deletion_index = deletion_index(self._word_ids)
        return slips_in(word, self._deletion_index)

    def ids_of(self, token: str) -> tuple[int, ...]:
        """The token's ids: its own, or its BPE pieces'."""
        known = self.word_id(token)
        return (known,) if known is not None else self._pieces(token)

    def encode(self, tokens: Iterable[str], max_len: int) -> list[int]:
        ids: list[int] = []
        for token in tokens:
            known = self._word_ids.get(token)
            ids.extend((known,) if known is not None else self._pieces(token))
            if len(ids) >= max_len:
                return ids[:max_len]
        return ids

    def encode_code(self, leaves: Iterable[str], with_bigrams: bool, max_len: int) -> list[int]:
        """`encode(iter_code_tokens(leaves, with_bigrams), max_len)`, a leaf at a time: the ids of a short
        leaf are kept, since most of a function's leaves (`(`, `self`, `err`, `return`) recur in every
        function, and preparing the base model's training data encodes 1.8 million functions twice."""
        ids = map(self._ids_of_leaf, leaves, repeat(with_bigrams), repeat(max_len))
        return list(islice(chain.from_iterable(ids), max_len))

    def _ids_of_leaf(self, leaf: str, with_bigrams: bool, max_len: int) -> Sequence[int]:
        if len(leaf) <= _MAX_WORD:
            return self._leaf_ids(leaf, with_bigrams)
        return self.encode(_leaf_tokens(leaf, with_bigrams), max_len)  # a string literal: rarely seen twice

    def _ids_of_short_leaf(self, leaf: str, with_bigrams: bool) -> tuple[int, ...]:
        return tuple(self.encode(_cached_leaf_tokens(leaf, with_bigrams), 1 << 30))

    def save(self, directory: str | Path) -> None:
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        self.words.save(str(directory / "words.tokenizer.json"))
        self.bpe.save(str(directory / "bpe.tokenizer.json"))

    @classmethod
    def load(cls, directory: str | Path) -> "Vocabulary":
        directory = Path(directory)
        return cls(Tokenizer.from_file(str(directory / "words.tokenizer.json")),
                   Tokenizer.from_file(str(directory / "bpe.tokenizer.json")))


class ExtendedVocabulary(Vocabulary):
    """`base` with `added` words after its own (a fine-tuned repository model's vocabulary, see
    training.finetune): the same ids as a vocabulary built with those words, without copying the
    base's tables, which every repository of a process shares. Ids: the base's words, the added
    words, then the base's BPE pieces shifted past them."""

    def __init__(self, base: Vocabulary, added: Sequence[str]):
        self.base, self.added = base, list(added)
        self._added_ids = {word: base._offset + i for i, word in enumerate(self.added)}
        self._offset = base._offset + len(self.added)
        self.size = base.size + len(self.added)
        self._spelled = lru_cache(maxsize=65_536)(self._nearest_words)
        self._deletion_index: dict[str, tuple[str, ...]] | None = None  # of the added words
        self.ids_of = lru_cache(maxsize=1 << 17)(self.ids_of)
        self._leaf_ids = lru_cache(maxsize=LEAVES_CACHED)(self._ids_of_short_leaf)

    def word_id(self, word: str) -> int | None:
        known = self.base._word_ids.get(word)
        return known if known is not None else self._added_ids.get(word)

    def _slips(self, word: str) -> dict[str, float]:
        if self._deletion_index is None:
            self._deletion_index = deletion_index(self._added_ids)
        return {**slips_in(word, self._deletion_index), **self.base._slips(word)}

    def ids_of(self, token: str) -> tuple[int, ...]:
        known = self.word_id(token)
        if known is not None:
            return (known,)
        return tuple(i + len(self.added) if i >= self.base._offset else i for i in self.base._pieces(token))

    @property
    def words(self) -> Tokenizer:
        known = self.base.words.get_vocab()
        words = Tokenizer(models.WordLevel({**known, **self._added_ids}, unk_token=UNK))
        words.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
        return words

    @property
    def bpe(self) -> Tokenizer:
        return self.base.bpe

    def encode(self, tokens: Iterable[str], max_len: int) -> list[int]:
        ids: list[int] = []
        shift, base_words, base_pieces = len(self.added), self.base._word_ids, self.base._pieces
        for token in tokens:
            known = base_words.get(token)
            if known is None:
                known = self._added_ids.get(token)
            if known is not None:
                ids.append(known)
            else:
                ids.extend(i + shift if i >= self.base._offset else i for i in base_pieces(token))
            if len(ids) >= max_len:
                return ids[:max_len]
        return ids

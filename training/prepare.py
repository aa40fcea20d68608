"""A corpus made ready for training, on every core and without holding its records: the vocabulary
and the padded query/code id pairs of a sample of each language's records.

    prepared = prepare(["indexes/corpus/full"], languages, ModelConfig(...), max_per_language=320_000)
    train(None, None, out, model_config, config, prepared=prepared)   # training.train

Worker processes read each language's files in slices. A first read counts each file's records and
finds the direction pairs (training.evaluate.direction_pairs) anywhere in the corpus, whose functions
are left out, so that a sample can be drawn. Then each sampled record is parsed and tokenised once:
its tokens are counted for the vocabulary (which needs every count before any id exists) and its
pairs (training.train.record_pairs) are kept as numbered tokens in a scratch file. A child process
merges the counts and builds the vocabulary; then each slice's distinct tokens are looked up once and
its rows of ids made with numpy, and the caller only joins the arrays. `prepare_cached` keeps the
result for the next run on the same data and settings.
"""
from __future__ import annotations

import hashlib
import inspect
import json
import os
import pickle
import random
import resource
import shutil
import tempfile
import time
from collections import Counter
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass
from itertools import chain, islice
from multiprocessing import get_context
from pathlib import Path
from typing import Iterable, Iterator, Sequence

import numpy as np
import torch
from tqdm import tqdm

from training import tokenize as tokenize_module
from training.corpus import corpus_files, parse_record, read_lines
from training.direction_head import examples
from training.evaluate import direction_groups, direction_key, line_direction_key
from training.model import ModelConfig, function_name
from training.tokenize import PAD_ID, Vocabulary, code_tokens, query_tokens
from training.train import Pairs, record_pairs

SLICE = 20_000  # records per task: small enough to spread over the workers, big enough to be cheap


@dataclass(frozen=True)
class Slice:
    """Records of one file, by their line numbers (ascending), of one language."""
    path: str
    language: str
    lines: tuple[int, ...]


@dataclass
class Prepared:
    vocabulary: Vocabulary
    train: Pairs
    valid: Pairs
    seconds: float  # what preparing took
    worker_rss_mb: int  # the largest peak resident memory of a process it started


def prepare(corpora: Sequence[str | Path], languages: Sequence[str], config: ModelConfig,
            max_per_language: int | None = None, seed: int = 0, name_queries: bool = True,
            workers: int | None = None) -> Prepared:
    """The vocabulary (from the training records) and the train/valid pairs (training.train.record_pairs)
    of at most `max_per_language` train records per language and a tenth of that (at least 1,000) valid
    ones, the same records for the same seed."""
    started, workers = time.time(), workers or os.cpu_count() or 1
    with tempfile.TemporaryDirectory() as saved:
        # Counted and built in a child process: every slice's counts merged take gigabytes, which a
        # process gives back to the machine when it exits (freed here, they would stay this one's size).
        with ProcessPoolExecutor(1, get_context("forkserver")) as child:
            train, valid, rss = child.submit(_tokenise, list(map(str, corpora)), list(languages), asdict(config),
                                             max_per_language, seed, name_queries, workers, saved).result()
        vocabulary = Vocabulary.load(saved)
        with ProcessPoolExecutor(workers, get_context("forkserver"), initializer=_load_vocabulary,
                                 initargs=(saved, asdict(config))) as pool:
            train_pairs, train_rss = _pairs(pool, train, languages, config, "train ids")
            valid_pairs, valid_rss = _pairs(pool, valid, languages, config, "valid ids")
    return Prepared(vocabulary, train_pairs, valid_pairs, time.time() - started, max(rss, train_rss, valid_rss))


def _tokenise(corpora: list[str], languages: list[str], config: dict, max_per_language: int | None, seed: int,
              name_queries: bool, workers: int, out: str) -> tuple[list[tuple[str, str]], list[tuple[str, str]], int]:
    """Save to `out` the vocabulary of the sampled train records' tokens, and each slice's pairs as
    numbered tokens (`_tokenise_slice`), made by `workers` processes; returns the train and valid slices'
    (language, file), and the largest peak memory of a process here."""
    with ProcessPoolExecutor(workers, get_context("forkserver")) as pool:
        files = {partition: [(language, path) for language in languages for corpus in corpora
                             for path in corpus_files(corpus, language, partition)]
                 for partition in ("train", "valid", "test")}
        everything = [(language, path) for partition in files.values() for language, path in partition]
        lines, keyed = {}, []
        read = pool.map(_read_file, [str(path) for _, path in everything])
        for (language, path), (count, directions) in tqdm(zip(everything, read), total=len(everything),
                                                          desc="count records", unit="file"):
            lines[path] = count
            keyed += [(language, key, None) for key in directions]
        paired = {group for group, orders in direction_groups(keyed).items() if len(orders) >= 2}
        paired_in = {language: {key for key in paired if key[0] == language} for language in languages}
        valid_max = max(max_per_language // 10, 1000) if max_per_language else None
        parts = {"train": _slices(files["train"], lines, max_per_language, seed),
                 "valid": _slices(files["valid"], lines, valid_max, seed)}
        streams: dict[str, Counter] = {"query": Counter(), **{language: Counter() for language in languages}}
        saved: dict[str, list[tuple[str, str]]] = {"train": [], "valid": []}
        tasks = [(part, piece, f"{out}/{part}-{i}.pickle") for part, pieces in parts.items()
                 for i, piece in enumerate(pieces)]
        arguments = [(piece, config, name_queries and part == "train", part == "train", paired_in[piece.language], path)
                     for part, piece, path in tasks]
        done = pool.map(_tokenise_slice, *zip(*arguments))
        rss = 0
        for (part, piece, path), (queries, code, worker_rss) in tqdm(zip(tasks, done), total=len(tasks),
                                                                     desc="tokenise", unit="slice"):
            streams["query"].update(queries)
            streams[piece.language].update(code)
            saved[part].append((piece.language, path))
            rss = max(rss, worker_rss)
    Vocabulary.from_counts(list(streams.values()), config["vocab_size"]).save(out)
    return saved["train"], saved["valid"], max(rss, _peak_rss_mb())


def _slices(files: list[tuple[str, Path]], lines: dict[Path, int], limit: int | None, seed: int) -> list[Slice]:
    """Each language's records, or a sample of `limit` of them, in slices of SLICE."""
    rng = random.Random(seed)
    out = []
    for language in dict.fromkeys(language for language, _ in files):
        paths = [path for lang, path in files if lang == language]
        total = sum(lines[p] for p in paths)
        chosen = sorted(rng.sample(range(total), limit)) if limit and total > limit else range(total)
        starts = np.cumsum([0] + [lines[p] for p in paths])
        for i, path in enumerate(paths):
            mine = [n - starts[i] for n in chosen if starts[i] <= n < starts[i + 1]]
            out += [Slice(str(path), language, tuple(int(n) for n in mine[j:j + SLICE]))
                    for j in range(0, len(mine), SLICE)]
    return sorted(out, key=lambda s: -len(s.lines))  # the big ones first: the workers finish together


def _read_file(path: str) -> tuple[int, list[tuple[tuple, tuple]]]:
    """The file's record count, and the direction key of each summary that has one
    (training.evaluate.direction_key): functions whose summaries pair up anywhere in the corpus are
    held out of training, since every such pair tests a model's sense of word order."""
    count, directions = 0, []
    for line in read_lines(path):
        count += 1
        if key := line_direction_key(line, path, count):
            directions.append(key)
    return count, directions


def _records(piece: Slice) -> Iterator[dict]:
    wanted, last = set(piece.lines), piece.lines[-1] if piece.lines else -1
    for n, line in enumerate(read_lines(piece.path)):
        if n in wanted:
            yield parse_record(line, piece.path, n + 1)
        if n >= last:
            return


def _tokenise_slice(piece: Slice, config: dict, name_queries: bool, count: bool, paired: set[tuple],
                    out: str) -> tuple[Counter, Counter, int]:
    """Save to `out` the slice's pairs (`record_pairs`) as numbered tokens (`_Numbered`), leaving out the
    functions of direction pairs (`paired`); with `count`, return its summaries' and code's token counts."""
    model_config = ModelConfig(**config)
    numbered = _Numbered(model_config.bigrams)
    queries, leaves, rows = Counter(), Counter(), []
    for r in _records(piece):
        if count:
            queries.update(query_tokens(r["summary"], model_config.bigrams))
            leaves.update(r["code_tokens"])  # a code's tokens are its leaves', and most leaves recur
        if (key := direction_key(r["summary"])) and (piece.language, key[0]) in paired:
            continue
        rows += record_pairs(numbered, model_config, r, name_queries)
    code: Counter = Counter()
    for leaf, n in leaves.items():
        for token in code_tokens([leaf], model_config.bigrams):
            code[token] += n
    with open(out, "wb") as f:
        pickle.dump({"tokens": numbered.tokens, **_ragged("query", (query for query, _ in rows)),
                     **_ragged("code", (code for _, code in rows))}, f, protocol=pickle.HIGHEST_PROTOCOL)
    return queries, code, _peak_rss_mb()


class _Numbered:
    """Stands in for the vocabulary in `record_pairs` before there is one: each distinct token gets a
    number, from 1 so that a function name's tokens are negated as its ids are (training.model.code_ids),
    and `_slice_ids` later turns each number into the token's ids. A row is cut at as many tokens as
    the vocabulary's would be at ids: every token has at least one id, so they hold all the ids kept."""

    def __init__(self, with_bigrams: bool):
        self.with_bigrams = with_bigrams
        self.tokens = [""]  # by number
        self._numbers: dict[str, int] = {}
        self._leaves = _LeafNumbers(self)

    def number(self, token: str) -> int:
        number = self._numbers.get(token)
        if number is None:
            number = self._numbers[token] = len(self.tokens)
            self.tokens.append(token)
        return number

    def encode(self, tokens: Iterable[str], max_len: int) -> list[int]:
        return [self.number(token) for token in islice(tokens, max_len)]

    def encode_code(self, leaves: Iterable[str], with_bigrams: bool, max_len: int) -> list[int]:
        assert with_bigrams == self.with_bigrams
        return list(islice(chain.from_iterable(map(self._leaves.__getitem__, leaves)), max_len))


class _LeafNumbers(dict):
    """A code leaf -> its tokens' numbers, found once per slice: most of a function's leaves recur in
    every function (`Vocabulary.encode_code`)."""

    def __init__(self, numbered: _Numbered):
        super().__init__()
        self.numbered = numbered

    def __missing__(self, leaf: str) -> tuple[int, ...]:
        numbers = self[leaf] = tuple(map(self.numbered.number, code_tokens([leaf], self.numbered.with_bigrams)))
        return numbers


def _ragged(name: str, rows: Iterable[list[int]]) -> dict[str, np.ndarray]:
    """Rows of numbers as one array of them all and one of each row's length."""
    rows = list(rows)
    return {f"{name}_lengths": np.fromiter(map(len, rows), np.int64, len(rows)),
            f"{name}_numbers": np.fromiter(chain.from_iterable(rows), np.int32)}


def _peak_rss_mb() -> int:
    """This process's peak resident memory: each task of a worker reports its worker's."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024  # Linux reports kilobytes


# --- a cache of prepared data --------------------------------------------------------------------
KEEP = 2  # prepared corpora kept: each is about 1.7 GB for the base model


def prepare_cached(cache: str | Path, corpora: Sequence[str | Path], languages: Sequence[str], config: ModelConfig,
                   max_per_language: int | None = None, seed: int = 0, name_queries: bool = True,
                   workers: int | None = None) -> Prepared:
    """`prepare`, kept in a folder of `cache` named by all that decides its result: the corpus files
    (path, size, time), the arguments, the model config and the source of the code that turns records
    into ids. A second training run on the same data (an A/B of the loop, the loss or the learning
    rate) starts training at once instead of after minutes of preparing."""
    started, cache = time.time(), Path(cache)
    folder = cache / _cache_key(corpora, languages, config, max_per_language, seed, name_queries)
    if (folder / "pairs.pt").is_file():
        tqdm.write(f"prepared data from {folder}")
        folder.touch()
        saved = torch.load(folder / "pairs.pt", mmap=True, weights_only=True)
        train, valid = (Pairs(saved["languages"], *(saved[f"{part}_{field}"] for field in _FIELDS))
                        for part in ("train", "valid"))
        return Prepared(Vocabulary.load(folder / "tokenizer"), train, valid, time.time() - started, 0)
    prepared = prepare(corpora, languages, config, max_per_language, seed, name_queries, workers)
    cache.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(dir=cache))
    prepared.vocabulary.save(scratch / "tokenizer")
    parts = (("train", prepared.train), ("valid", prepared.valid))
    torch.save({"languages": prepared.train.languages,
                **{f"{part}_{field}": getattr(pairs, field) for part, pairs in parts for field in _FIELDS}},
               scratch / "pairs.pt")
    scratch.rename(folder)  # whole or not at all: a run killed while saving leaves only a scratch folder
    for old in sorted((f for f in cache.iterdir() if f.is_dir()), key=lambda f: f.stat().st_mtime)[:-KEEP]:
        shutil.rmtree(old, ignore_errors=True)
    return prepared


_FIELDS = ("language", "code", "query")


def direction_examples(corpora: Sequence[str | Path], languages: Sequence[str]) -> tuple[list, list]:
    """The direction head's examples (training.direction_head.examples) of the train split, and of the
    valid and test splits to measure it on, leaving out the functions of direction pairs as `prepare`
    does: the pairs test it too."""
    files = {partition: [(language, path) for corpus in corpora for language in languages
                         for path in corpus_files(corpus, language, partition)] for partition in ("train", "valid", "test")}
    keyed = [(language, key, None) for part in files.values() for language, path in part
             for n, line in enumerate(read_lines(path), 1) if (key := line_direction_key(line, path, n))]
    paired = {group for group, orders in direction_groups(keyed).items() if len(orders) >= 2}

    def functions(partitions: tuple[str, ...]) -> Iterator[tuple[str, tuple]]:
        for language, path in (file for partition in partitions for file in files[partition]):
            for n, line in enumerate(read_lines(path), 1):
                if (key := line_direction_key(line, path, n)) and (language, key[0]) in paired:
                    continue
                record = parse_record(line, path, n)
                yield record["summary"], (function_name(record), record["code_tokens"], language)

    return examples(functions(("train",))), examples(functions(("valid", "test")))


def _cache_key(corpora, languages, config: ModelConfig, max_per_language, seed, name_queries) -> str:
    from training import corpus, evaluate, model, train

    files = sorted((str(path.resolve()), path.stat().st_size, path.stat().st_mtime_ns) for corpus_dir in corpora
                   for language in languages for partition in ("train", "valid", "test")
                   for path in corpus_files(corpus_dir, language, partition))
    # Which functions are held out as direction pairs' is decided by the pair key and the words it leaves out.
    pair_key = [sorted(evaluate._UNSAID), sorted(evaluate._DIRECTIONS), evaluate.MAX_DIRECTION_WORDS]
    code = [Path(__file__).read_text(), inspect.getsource(tokenize_module), inspect.getsource(corpus.normalise),
            *(inspect.getsource(f) for f in (model.query_ids, model.code_ids, model.function_name, direction_key,
                                               evaluate._singular, train.record_pairs)), pair_key]
    described = json.dumps([files, list(languages), asdict(config), max_per_language, seed, name_queries, code])
    return hashlib.sha256(described.encode()).hexdigest()[:16]


_worker: dict = {}


def _load_vocabulary(vocabulary: str, config: dict) -> None:
    _worker.update(vocabulary=Vocabulary.load(vocabulary), config=ModelConfig(**config))


def _slice_ids(path: str) -> tuple[np.ndarray, np.ndarray, int]:
    """The padded query and code ids of a slice that `_tokenise_slice` saved: each distinct token looked
    up once, each row's ids gathered by numpy."""
    with open(path, "rb") as f:
        saved = pickle.load(f)
    ids = [_worker["vocabulary"].ids_of(token) for token in saved["tokens"][1:]]
    counts = np.fromiter(chain([0], map(len, ids)), np.int64, len(ids) + 1)
    table = np.fromiter(chain.from_iterable(ids), np.int32, int(counts.sum()))
    config = _worker["config"]
    return (_rows(saved["query_numbers"], saved["query_lengths"], counts, table, config.max_query_len),
            _rows(saved["code_numbers"], saved["code_lengths"], counts, table, config.max_code_len), _peak_rss_mb())


def _rows(numbers: np.ndarray, lengths: np.ndarray, counts: np.ndarray, table: np.ndarray, width: int) -> np.ndarray:
    """Rows of token numbers (`lengths` of `numbers`, negative for a name's) as rows of ids, padded or cut
    to `width`: token n's ids are `counts[n]` of `table`, after those of the tokens numbered before it."""
    tokens, sign = np.abs(numbers), np.sign(numbers).astype(np.int32)
    per_token = counts[tokens]
    starts = np.cumsum(counts) - counts
    # The place in `table` of each id of each token, in order.
    before = np.repeat(np.cumsum(per_token) - per_token, per_token)
    ids = table[np.repeat(starts[tokens], per_token) + np.arange(len(before)) - before] * np.repeat(sign, per_token)
    through = np.concatenate([[0], np.cumsum(per_token)])  # ids of the first n tokens
    ends = np.cumsum(lengths)
    per_row = through[ends] - through[ends - lengths]
    place = np.arange(len(ids)) - np.repeat(np.cumsum(per_row) - per_row, per_row)
    out = np.full((len(lengths), width), PAD_ID, np.int32)
    out[np.arange(width) < np.minimum(per_row, width)[:, None]] = ids[place < width]
    return out


def _pairs(pool: ProcessPoolExecutor, slices: list[tuple[str, str]], languages: Sequence[str], config: ModelConfig,
           what: str) -> tuple[Pairs, int]:
    """The pairs of the slices that `_tokenise_slice` saved (language, file), and the largest peak memory
    of a worker that made them."""
    index = {language: i for i, language in enumerate(languages)}
    langs = [np.zeros(0, np.int64)]
    queries = [np.zeros((0, config.max_query_len), np.int32)]
    codes = [np.zeros((0, config.max_code_len), np.int32)]
    rss = 0
    for (language, _), (query, code, worker_rss) in tqdm(zip(slices, pool.map(_slice_ids, [path for _, path in slices])),
                                                         total=len(slices), desc=what, unit="slice"):
        langs.append(np.full(len(query), index[language]))
        queries.append(query)
        codes.append(code)
        rss = max(rss, worker_rss)
    # The code ids are most of it: their slices are let go of as soon as they are joined.
    code = torch.from_numpy(np.concatenate(codes))
    del codes
    return Pairs(list(languages), torch.from_numpy(np.concatenate(langs)).long(), code,
                 torch.from_numpy(np.concatenate(queries))), rss

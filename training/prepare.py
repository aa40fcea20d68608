"""A corpus made ready for training, on every core and without holding its records: the vocabulary
and the padded query/code id pairs of a sample of each language's records.

    prepared = prepare(["indexes/corpus/full"], languages, ModelConfig(...), max_per_language=320_000)
    train(None, None, out, model_config, config, prepared=prepared)   # training.train

Reading every record into memory first, then tokenising it twice on one core (once for the
vocabulary, once for the ids) took 6.9 minutes and 12.6 GB for the six-language base model; this
takes 5.2 to 5.7 minutes, no process above 5.9 GB (benchmarks/results/base-model/training.json). Here
each language's file is read in slices by worker processes, twice: the first pass counts tokens
(the vocabulary needs every count before any id exists), the second turns the sampled records into
id arrays. A child process merges the counts and builds the vocabulary; the caller only joins the
arrays. The first pass also finds the direction pairs (training.evaluate.direction_pairs) anywhere
in the corpus, whose functions are left out. `prepare_cached` keeps the result for the next run on
the same data and settings.
"""
from __future__ import annotations

import hashlib
import inspect
import json
import os
import random
import resource
import shutil
import tempfile
import time
from collections import Counter
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass
from multiprocessing import get_context
from pathlib import Path
from typing import Iterator, Sequence

import numpy as np
import torch
from tqdm import tqdm

from training import tokenize as tokenize_module
from training.corpus import corpus_files, normalise, read_lines
from training.evaluate import direction_groups, direction_key, line_direction_key
from training.model import ModelConfig
from training.tokenize import Vocabulary, code_tokens, query_tokens
from training.train import Pairs, pad32, record_pairs

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
            train, valid, paired, rss = child.submit(_vocabulary, list(map(str, corpora)), list(languages), asdict(config),
                                                     max_per_language, seed, workers, saved).result()
        vocabulary = Vocabulary.load(saved)
        with ProcessPoolExecutor(workers, get_context("forkserver"), initializer=_load_ids,
                                 initargs=(saved, asdict(config), paired)) as pool:
            train_pairs, train_rss = _pairs(pool, train, languages, config, name_queries, "train pairs")
            valid_pairs, valid_rss = _pairs(pool, valid, languages, config, False, "valid pairs")
    return Prepared(vocabulary, train_pairs, valid_pairs, time.time() - started, max(rss, train_rss, valid_rss))


def _vocabulary(corpora: list[str], languages: list[str], config: dict, max_per_language: int | None, seed: int,
                workers: int, out: str) -> tuple[list[Slice], list[Slice], set[tuple], int]:
    """Save to `out` the vocabulary of the sampled train records' tokens, counted by `workers`
    processes; returns the train and valid slices, the direction pairs' keys (`_read_file`), and the
    largest peak memory of a process here."""
    with ProcessPoolExecutor(workers, get_context("forkserver")) as pool:
        files = {partition: [(language, path) for language in languages for corpus in corpora
                             for path in corpus_files(corpus, language, partition)]
                 for partition in ("train", "valid", "test")}
        everything = [(language, path) for partition in files.values() for language, path in partition]
        lines, keyed = {}, []
        for (language, path), (count, directions) in zip(everything, pool.map(_read_file, [str(p) for _, p in everything])):
            lines[path] = count
            keyed += [(language, key, None) for key in directions]
        paired = {group for group, orders in direction_groups(keyed).items() if len(orders) >= 2}
        valid_max = max(max_per_language // 10, 1000) if max_per_language else None
        train = _slices(files["train"], lines, max_per_language, seed)
        valid = _slices(files["valid"], lines, valid_max, seed)
        streams: dict[str, Counter] = {"query": Counter(), **{language: Counter() for language in languages}}
        rss = 0
        for language, queries, code, worker_rss in tqdm(pool.map(_count_tokens, train, [config["bigrams"]] * len(train)),
                                                        total=len(train), desc="count tokens", unit="slice"):
            streams["query"].update(queries)
            streams[language].update(code)
            rss = max(rss, worker_rss)
    Vocabulary.from_counts(list(streams.values()), config["vocab_size"]).save(out)
    return train, valid, paired, max(rss, _peak_rss_mb())


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
        if key := line_direction_key(line):
            directions.append(key)
    return count, directions


def _records(piece: Slice) -> Iterator[dict]:
    wanted, last = set(piece.lines), piece.lines[-1] if piece.lines else -1
    for n, line in enumerate(read_lines(piece.path)):
        if n in wanted:
            yield normalise(json.loads(line))
        if n >= last:
            return


def _count_tokens(piece: Slice, bigrams: bool) -> tuple[str, Counter, Counter, int]:
    queries, code = Counter(), Counter()
    for r in _records(piece):
        queries.update(query_tokens(r["summary"], bigrams))
        code.update(code_tokens(r["code_tokens"], bigrams))
    return piece.language, queries, code, _peak_rss_mb()


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


def _cache_key(corpora, languages, config: ModelConfig, max_per_language, seed, name_queries) -> str:
    from training import corpus, model, train

    files = sorted((str(path), path.stat().st_size, path.stat().st_mtime_ns) for corpus_dir in corpora
                   for language in languages for partition in ("train", "valid", "test")
                   for path in corpus_files(corpus_dir, language, partition))
    code = [Path(__file__).read_text(), inspect.getsource(tokenize_module), inspect.getsource(corpus.normalise),
            *(inspect.getsource(f) for f in (model.query_ids, model.code_ids, model.function_name, direction_key,
                                               train.record_pairs, train.pad32))]
    described = json.dumps([files, list(languages), asdict(config), max_per_language, seed, name_queries, code])
    return hashlib.sha256(described.encode()).hexdigest()[:16]


_worker: dict = {}


def _load_ids(vocabulary: str, config: dict, paired: set[tuple]) -> None:
    _worker.update(vocabulary=Vocabulary.load(vocabulary), config=ModelConfig(**config), paired=paired)


def _slice_pairs(piece: Slice, name_queries: bool) -> tuple[str, np.ndarray, np.ndarray, int]:
    queries, codes = [], []
    for r in _records(piece):
        if (key := direction_key(r["summary"])) and (piece.language, key[0]) in _worker["paired"]:
            continue
        for query, code in record_pairs(_worker["vocabulary"], _worker["config"], r, name_queries):
            queries.append(query)
            codes.append(code)
    config = _worker["config"]
    return (piece.language, pad32(queries, config.max_query_len).numpy(), pad32(codes, config.max_code_len).numpy(),
            _peak_rss_mb())


def _pairs(pool: ProcessPoolExecutor, slices: list[Slice], languages: Sequence[str], config: ModelConfig,
           name_queries: bool, what: str) -> tuple[Pairs, int]:
    """The slices' pairs, and the largest peak memory of a worker that made them."""
    index = {language: i for i, language in enumerate(languages)}
    langs = [np.zeros(0, np.int64)]
    queries = [np.zeros((0, config.max_query_len), np.int32)]
    codes = [np.zeros((0, config.max_code_len), np.int32)]
    rss = 0
    for language, query, code, worker_rss in tqdm(pool.map(_slice_pairs, slices, [name_queries] * len(slices)),
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

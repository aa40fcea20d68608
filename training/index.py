"""A repository's index (its units' vectors, BM25 and units table, per language) and searching it.

A built index is a directory:
    manifest.json        counts, dimensions, metric, trees, checksums, checks
    model/               the model that embedded the functions (queries must use the same one): a
                         fine-tuned model as its difference from the base (training.delta), or nothing
                         when the manifest's `model_dir` names a shared copy (`shared_model`) of the
                         base that serves the repository. Every process loads a base model once
    functions.jsonl.gz   the units (functions, classes, blocks), each with its `language`, `kind` and
                         `item` (its row in its language's files)
    {language}.vectors.npy for languages of up to EXACT_MAX units, searched exactly: their unit vectors
                         (float32, memory-mapped: worker processes share the pages)
    {language}.ann       for larger languages, an Annoy file of the vectors (memory-mapped when loaded)
    {language}.hnsw      for languages of more than HNSW_MIN units, an HNSW graph (training.hnsw) of
                         the same vectors, same item ids, which serves that language's searches
    {language}.units.npy each item's kind and group (int32, 2 x items): a block's group is its
                         function's item, every other unit's its own; a search shows one unit per group
    {language}.bm25      BM25 over the same functions, for hybrid and lexical search
    directions.json      what each unit's name and signature say goes where (`hex_to_bin`, `String
                         format(Date d)`; training.direction.said_text), per language, a line per item
                         ("" for most): a query that says a direction reads them. Indexes built before it
                         have directed_names.json (names only) or neither (no direction)
    {language}.directions.npy each item's vector for the model's direction head (float16, items x
                         training.direction_head.DIM), when the model has one

How a language's nearest neighbours are found depends on its size, from what was measured on real
vectors (benchmarks/results/annoy_recall_real.json, hnsw_recall_real.json): up to EXACT_MAX
functions exactly (numpy over the vectors; no Annoy file is built), up to HNSW_MIN with Annoy, above
that with the HNSW graph, which alone keeps recall@10 ≥ 0.95 under a millisecond at a million
functions.

    build_index(model, functions, "indexes/.../abc123")
    index = RepositoryIndex("indexes/.../abc123")
    index.search("send mail", k=10)  # -> [Hit(language, item, score), ...]
"""
from __future__ import annotations

import hashlib
import json
import os
import random
import re
import shutil
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass
from fnmatch import fnmatchcase
from functools import lru_cache, partial
from pathlib import Path
from typing import Container, Sequence

import bm25s
import numpy as np
from annoy import AnnoyIndex
from tqdm import tqdm

from training.corpus import code_hash, read_jsonl, write_jsonl
from training.delta import PatchedModel, is_delta
from training.direction import adjustment, query_direction, said_from_text, said_text
from training.direction_head import DIM
from training.evaluate import BM25
from training.extract.base import KINDS
from training.hybrid import BM25_WEIGHT, CANDIDATES, best_first, first_per_group, gathered, ranked
from training.hnsw import EF_CONSTRUCTION, HnswGraph, build_hnsw
from training.model import QUERY, CodeSearchModel, ModelConfig, function_name, read_tokens
from training.tokenize import code_tokens, corrected_text, known_tokens, query_tokens, subtokens

METRIC = "angular"
MIN_RECALL = 0.95
MODES = ("hybrid", "neural", "bm25")
FORMAT = 4  # bumped when an index built by older code can no longer be served (4: one shared vocabulary)
# Up to this many functions in a language, searching is exact (numpy) instead of Annoy: at 10,000
# real vectors exact search takes 0.25 ms and Annoy 0.7 ms for recall 0.95
# (benchmarks/results/annoy_recall_real.json). No Annoy file is built for them: on disk it took twice
# the vectors' room (50 trees), for searches that never read it.
EXACT_MAX = 20_000
# Above this many functions a language also gets an HNSW graph, which then serves it: at 100,000 real
# vectors Annoy needs about 5 ms a query for recall 0.95, and it gets worse with size. Below it, Annoy's
# build (seconds) is much cheaper than the graph's and its latency is still small beside encoding.
HNSW_MIN = 100_000
# A search narrowed (by kind or path) to at most this many units of a language too large for exact
# search scores those units alone, rather than asking the approximate index for ever more neighbours.
FEW = 2_000
# A function's documentation takes part in search (the CodeSearchNet protocol keeps it out of training
# pairs, but a repository's docs are the text most like what people type): its vector is the unit code
# vector plus DOC_WEIGHT times the unit vector of the doc through the query encoder, and BM25 reads the
# doc's words beside the code's. Undocumented functions keep their code vector (see product_eval).
DOC_WEIGHT = 0.5
# Whether BM25 also reads the words of a unit's path and enclosing classes (see product_eval).
WHERE = False
# What a class gives up in a hybrid ranking of every kind (in the mixed score's units, standard
# deviations): people mostly look for the code that does something, and an outline of members ranks
# high on words it merely names. Classes still come first when they match that much better, and
# kind=class asks for them alone. Chosen on the product evaluation's validation queries (see
# benchmarks/results/product_eval.md).
CLASS_PRIOR = 2.0


DIRECTIONS = "directions.json"

_PATH_FILTER = re.compile(r"(?<!\S)path:(\S+)")


def split_path_filters(query: str) -> tuple[str, tuple[str, ...]]:
    """`send mail path:django/core path:*.py` -> ("send mail", ("django/core", "*.py")), as GitHub's and
    Sourcegraph's users type them."""
    return " ".join(_PATH_FILTER.sub(" ", query).split()), tuple(_PATH_FILTER.findall(query))


@lru_cache(maxsize=4096)
def _path_globs(pattern: str) -> tuple[str, ...]:
    anchored, pattern = pattern.startswith("/"), pattern.strip("/")
    # A glob matches the whole path (`*` crosses folders, as on GitHub); anything else names a folder or
    # file. Unless it starts with "/", either may begin at any folder.
    globs = [pattern] if any(c in pattern for c in "*?[") else [pattern, pattern + "/*"]
    return tuple(globs + ([] if anchored else ["*/" + g for g in globs]))


def path_matches(path: str, patterns: Sequence[str]) -> bool:
    """Whether `path` is in one of `patterns` (split_path_filters): `django/core` (a folder anywhere),
    `/django/core` (from the root), `*.py`, `mail/*backend*.py`."""
    return any(fnmatchcase(path, glob) for pattern in patterns for glob in _path_globs(pattern))


def kind_of(fn: dict) -> str:
    return fn.get("kind", "function")  # records from before units had kinds are all functions


@dataclass(frozen=True)
class Hit:
    language: str
    item: int
    # In [-1, 1], higher first: the cosine similarity, or for the hybrid (and BM25) ranking that
    # ranking's score on the cosine's scale (training.hybrid.on_cosine_scale), so the order and the
    # scores shown always agree.
    score: float


class IndexCheckError(RuntimeError):
    """A built index failed its checks and must not go live."""


def cosine_from_angular(distance: float) -> float:
    """Annoy's angular distance is sqrt(2 (1 - cos))."""
    return 1.0 - distance * distance / 2.0


def shared_model(model_dir: str | Path, store: str | Path) -> Path:
    """A copy of the saved model in `model_dir` under `store`, named by its content, made once: indexes
    built with that model (a repository's base model) point at it rather than holding a copy."""
    model_dir, store = Path(model_dir), Path(store)
    digest = hashlib.sha256()
    for path in sorted(p for p in model_dir.rglob("*") if p.is_file()):
        digest.update(path.relative_to(model_dir).as_posix().encode() + b"\0" + _sha256(path).encode())
    target = store / digest.hexdigest()[:24]
    if not (target / "model.pt").is_file():
        store.mkdir(parents=True, exist_ok=True)
        scratch = store / f".copy-{uuid.uuid4().hex[:12]}"
        shutil.copytree(model_dir, scratch)
        try:
            os.rename(scratch, target)  # atomic; a concurrent build that made it first wins
        except OSError:
            shutil.rmtree(scratch, ignore_errors=True)
            if not (target / "model.pt").is_file():
                raise
    return target


def model_dir_of(directory: str | Path, manifest: dict | None = None) -> Path:
    """Where the model of the index in `directory` lives."""
    directory = Path(directory)
    manifest = manifest or json.loads((directory / "manifest.json").read_text())
    return (directory / manifest.get("model_dir", "model")).resolve()


_shared_models: dict[Path, CodeSearchModel] = {}
_shared_lock = threading.Lock()


def load_index_model(directory: str | Path, manifest: dict | None = None) -> CodeSearchModel:
    """The model an index was built with. A shared one (a base model) is loaded once per process; a
    fine-tuned one saved as its difference from a shared base (training.delta) reads its own rows."""
    manifest = manifest or json.loads((Path(directory) / "manifest.json").read_text())
    path = model_dir_of(directory, manifest)
    if is_delta(path):
        return PatchedModel.load(path, shared_base(PatchedModel.base_dir_of(path)))
    if not manifest.get("model_shared"):
        return CodeSearchModel.load(path, device="cpu")
    return shared_base(path)


def shared_base(path: Path) -> CodeSearchModel:
    """The model saved in `path`, loaded once per process (a base model, which many indexes share)."""
    path = Path(path).resolve()
    with _shared_lock:
        if path not in _shared_models:
            _shared_models[path] = CodeSearchModel.load(path, device="cpu")
        return _shared_models[path]


def model_saved(path: Path) -> bool:
    """Whether `path` holds a saved model, whole or as a delta over a base that is there too."""
    if is_delta(path):
        return (PatchedModel.base_dir_of(path) / "model.pt").is_file()
    return (path / "model.pt").is_file()


def build_index(model: CodeSearchModel, functions: Sequence[dict], out: str | Path, n_trees: int = 50,
                search_k: int = 20_000, n_jobs: int = -1, recall_sample: int = 1000, extra: dict | None = None,
                vectors: dict[tuple[str, str, str], Sequence[float]] | None = None, hnsw_min: int = HNSW_MIN,
                hnsw_m: int = 32, hnsw_ef_construction: int = EF_CONSTRUCTION, ef_search: int = 32,
                doc_weight: float = DOC_WEIGHT, model_dir: str | Path | None = None, where: bool = WHERE,
                exact_max: int = EXACT_MAX) -> dict:
    """Embed `functions`, write each language's vectors (exact search, up to `exact_max` units) or Annoy
    file (and HNSW graph), its BM25 index and units table, and a manifest; check before returning.

    `search_k` (nodes Annoy inspects per query) is where the recall check starts: it is doubled, up to
    64 times, until recall@10 against exact search reaches MIN_RECALL, since large indexes need a
    wider search, then narrowed back towards the smallest that passes (`_widen`); the value reached
    is stored per language and used when serving. Languages of more than `hnsw_min` functions get an
    HNSW graph with `hnsw_m` links per vector (built keeping `hnsw_ef_construction` candidates), and
    its `ef_search` (candidates kept per query) is widened the same way instead.
    `vectors` maps `vector_key(function)` to an embedding already computed by the same model: those
    functions are not embedded again (an update of a repository whose model did not change).
    `doc_weight`: how much a function's documentation adds to its vector (0: code alone).
    `model_dir`: a shared saved copy of `model` (`shared_model`) to point at instead of saving one.
    `where`: BM25 also reads the words of each unit's path and enclosing classes (`lexical_tokens`).
    Functions in languages the model has no encoder for are counted and left out.
    Raises IndexCheckError when the item counts or the recall against exact search fall short.
    """
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    started = time.time()
    by_language: dict[str, list[dict]] = {}
    skipped: dict[str, int] = {}
    for fn in functions:
        if fn["language"] in model.languages:
            by_language.setdefault(fn["language"], []).append(fn)
        else:
            skipped[fn["language"]] = skipped.get(fn["language"], 0) + 1
    if not by_language:
        raise IndexCheckError("no functions in a supported language to index")
    if model_dir is None:
        model.save(out / "model")
    languages = {}
    rows = []
    for language, fns in sorted(by_language.items()):
        embedded, reused = _embed(model, fns, language, vectors or {}, doc_weight)
        # The lexical half of hybrid search: BM25 over the same functions, item ids aligned.
        BM25([lexical_tokens(f, doc_weight > 0, where) for f in fns]).retriever.save(str(out / f"{language}.bm25"))
        units_path = out / f"{language}.units.npy"
        np.save(units_path, unit_table(fns))
        entry = {"count": len(fns), "items": len(fns), "reused_vectors": reused,
                 "kinds": {kind: n for kind in KINDS if (n := sum(kind_of(f) == kind for f in fns))},
                 "units": {"file": units_path.name, "sha256": _sha256(units_path)}}
        if model.direction_head is not None:
            learned_path = out / f"{language}.directions.npy"
            np.save(learned_path, model.direction_head.function_vectors(direction_inputs(fns)).astype(np.float16))
            entry["directions"] = {"file": learned_path.name, "sha256": _sha256(learned_path)}
        if len(fns) <= exact_max:  # searched exactly: the vectors are the whole index
            vectors_path = out / f"{language}.vectors.npy"
            np.save(vectors_path, _unit_rows(embedded))
            entry["vectors"] = {"file": vectors_path.name, "sha256": _sha256(vectors_path)}
            entry["recall_at_10"] = 1.0
        else:
            entry.update(_approximate(embedded, out / f"{language}.ann", recall_probes(model, fns, embedded, recall_sample),
                                      n_trees, search_k, n_jobs, hnsw_min, hnsw_m, hnsw_ef_construction, ef_search))
        languages[language] = entry
        for item, fn in enumerate(fns):
            rows.append({**fn, "item": item, "explained": explained_tokens(model.config, fn)})
    write_jsonl(out / "functions.jsonl.gz", rows)
    (out / DIRECTIONS).write_text(json.dumps(directions(rows)))
    manifest = {
        "format": FORMAT, "dims": model.config.embedding_dim, "metric": METRIC, "trees": n_trees,
        "doc_weight": doc_weight, "where_words": where, "model_dir": os.path.relpath(model_dir, out) if model_dir else "model",
        "model_shared": model_dir is not None,
        "languages": languages, "units": len(rows), "functions": sum(kind_of(f) == "function" for f in rows),
        "kinds": {kind: n for kind in KINDS if (n := sum(kind_of(f) == kind for f in rows))}, "skipped_languages": skipped, "seconds": round(time.time() - started, 2),
        "functions_sha256": _sha256(out / "functions.jsonl.gz"),
        "directions": {"file": DIRECTIONS, "sha256": _sha256(out / DIRECTIONS)}, **(extra or {}),
    }
    (out / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
    check_index(out)
    return manifest


def directions(units: Sequence[dict]) -> dict[str, list[str]]:
    """language -> what each item says goes where (training.direction.said_text; "" for most)."""
    out: dict[str, list[str]] = {}
    for name, leaves, language in direction_inputs(units):
        out.setdefault(language, []).append(said_text(name, leaves, language))
    return out


def direction_inputs(units: Sequence[dict]) -> list[tuple[str, Sequence[str], str]]:
    """What direction is read from in each unit: its name, its code tokens, its language. Only a
    function has a signature: a class's outline and a block do not start with one, so only its name counts."""
    return [(function_name(unit), unit.get("code_tokens", ()) if kind_of(unit) == "function" else (), unit["language"])
            for unit in units]


def _approximate(embedded: np.ndarray, path: Path, probes: dict[str, np.ndarray], n_trees: int, search_k: int,
                 n_jobs: int, hnsw_min: int, hnsw_m: int, hnsw_ef_construction: int, ef_search: int) -> dict:
    """A language too large for exact search: its Annoy file at `path` and, above `hnsw_min` vectors, an
    HNSW graph beside it, each searched as widely as recall@10 against exact search needs (`_widen`).
    Returns the manifest entry's fields for them."""
    ann = AnnoyIndex(embedded.shape[1], METRIC)
    for item, vector in enumerate(embedded):
        ann.add_item(item, vector)
    ann.build(n_trees, n_jobs=n_jobs)
    ann.save(str(path))
    exact = {kind: exact_top_10(embedded, p) for kind, p in probes.items()}  # once, whatever the width
    entry = {"file": path.name, "sha256": _sha256(path), "bytes": path.stat().st_size}
    if len(embedded) > hnsw_min:
        graph_path = path.with_suffix(".hnsw")
        build_hnsw(embedded, graph_path, m=hnsw_m, ef_construction=hnsw_ef_construction)
        graph = HnswGraph(graph_path, ef_search)
        entry["ef_search"], entry["recall_at_10"] = _widen(
            ef_search, lambda ef: worst_recall(lambda v, n: [i for i, _ in graph.nearest(v, n, ef)], probes, exact))
        entry["hnsw"] = {"file": graph_path.name, "sha256": _sha256(graph_path), "bytes": graph_path.stat().st_size,
                         "m": hnsw_m, "ef_construction": hnsw_ef_construction}
    else:
        entry["search_k"], entry["recall_at_10"] = _widen(
            search_k, lambda k: worst_recall(lambda v, n: ann.get_nns_by_vector(v, n, search_k=k), probes, exact))
    ann.unload()
    return entry


def stored_vectors(directory: Path, manifest: dict, language: str) -> np.ndarray:
    """The unit vectors an index in `directory` holds for `language`, in item order."""
    entry = manifest["languages"][language]
    if "vectors" in entry:
        return np.asarray(np.load(directory / entry["vectors"]["file"], mmap_mode="r"))
    ann = AnnoyIndex(manifest["dims"], manifest["metric"])
    ann.load(str(directory / entry["file"]))
    try:
        return np.array([ann.get_item_vector(i) for i in range(ann.get_n_items())], dtype=np.float32)
    finally:
        ann.unload()


def unit_table(fns: list[dict]) -> np.ndarray:
    """Row 0: each unit's kind (its index in KINDS); row 1: its group, the item of the function a block
    belongs to (found by path, name and first line), else its own item."""
    functions = {(f["path"], f["func_name"], f["start_line"]): item for item, f in enumerate(fns)
                 if kind_of(f) == "function"}
    table = np.zeros((2, len(fns)), dtype=np.int32)
    for item, fn in enumerate(fns):
        table[0, item] = KINDS.index(kind_of(fn))
        table[1, item] = functions.get((fn["path"], fn["func_name"], fn.get("parent_line")), item) \
            if kind_of(fn) == "block" else item
    return table


def vector_key(fn: dict) -> tuple[str, str, str, str, str]:
    """What a unit's vector depends on: its language, kind, name, code and documentation."""
    return (fn["language"], kind_of(fn), function_name(fn), code_hash(fn),
            hashlib.sha1(function_doc(fn).encode("utf-8")).hexdigest())


def function_doc(fn: dict) -> str:
    return (fn.get("docstring") or fn.get("summary") or "").strip()


def lexical_tokens(fn: dict, with_doc: bool = True, where: bool = False) -> list[str]:
    """What BM25 reads of a unit: its code's tokens, its documentation's words, and with `where` the
    words of where it lives (its file's path and the classes around it), which its code does not say."""
    tokens = code_tokens(fn["code_tokens"])
    if with_doc:
        tokens += query_tokens(function_doc(fn))
    if where:
        scopes = fn.get("func_name", "").split(".")[:-1]
        tokens += query_tokens(" ".join([fn.get("path", "").rsplit(".", 1)[0].replace("/", " "), *scopes]))
    return tokens


def _embed(model: CodeSearchModel, fns: list[dict], language: str, known: dict,
           doc_weight: float = DOC_WEIGHT) -> tuple[np.ndarray, int]:
    """Vectors for `fns` in order, taking those in `known` (by `vector_key`) and embedding the rest."""
    out = np.zeros((len(fns), model.config.embedding_dim), dtype=np.float32)
    todo = []
    for i, fn in enumerate(fns):
        vector = known.get(vector_key(fn))
        if vector is None:
            todo.append(i)
        else:
            out[i] = vector
    for start in tqdm(range(0, len(todo), 4096), desc=f"embed {language}", unit="chunk", leave=False):
        chunk = todo[start:start + 4096]
        records = [fns[i] for i in chunk]
        out[chunk] = with_docs(model, records, model.encode_functions(records, language), doc_weight)
    return out, len(fns) - len(todo)


def with_docs(model: CodeSearchModel, fns: list[dict], code: np.ndarray, doc_weight: float) -> np.ndarray:
    """The unit vector of each function's unit code vector plus `doc_weight` times the unit vector of its
    doc through the query encoder."""
    def unit(v):
        return v / np.linalg.norm(v, axis=1, keepdims=True).clip(1e-12)
    vectors = unit(code)
    documented = [i for i, fn in enumerate(fns) if function_doc(fn)]
    if doc_weight and documented:
        docs = [function_doc(fns[i]) for i in documented]
        vectors[documented] += doc_weight * unit(model.encode_queries(docs, spell=False))  # as written
    return unit(vectors)


def check_index(directory: str | Path) -> dict:
    """The checks a build must pass before it goes live; returns the manifest. Counts are taken from
    the files themselves, not from the manifest that was written beside them."""
    directory = Path(directory)
    manifest = json.loads((directory / "manifest.json").read_text())
    if _sha256(directory / "functions.jsonl.gz") != manifest["functions_sha256"]:
        raise IndexCheckError("functions.jsonl.gz does not match its checksum")
    counts = Counter(f["language"] for f in read_jsonl(directory / "functions.jsonl.gz"))
    indexed = manifest.get("units", manifest["functions"])  # indexes from before classes and blocks: functions
    if sum(counts.values()) != indexed or set(counts) != set(manifest["languages"]):
        raise IndexCheckError(f"{sum(counts.values())} units listed for {indexed} indexed")
    for language, entry in manifest["languages"].items():
        if "file" in entry:
            ann = AnnoyIndex(manifest["dims"], manifest["metric"])
            ann.load(str(directory / entry["file"]))
            items = ann.get_n_items()
            ann.unload()
        else:
            items = len(np.load(directory / entry["vectors"]["file"], mmap_mode="r"))
        if items != counts[language]:
            raise IndexCheckError(f"{language}: {items} items in the index for {counts[language]} units")
        if "units" in entry and np.load(directory / entry["units"]["file"], mmap_mode="r").shape != (2, items):
            raise IndexCheckError(f"{language}: {entry['units']['file']} does not describe {items} items")
        if "vectors" in entry and np.load(directory / entry["vectors"]["file"], mmap_mode="r").shape != (items, manifest["dims"]):
            raise IndexCheckError(f"{language}: {entry['vectors']['file']} does not hold {items} vectors")
        if entry["recall_at_10"] < MIN_RECALL:
            remedy = "more links per vector (hnsw_m) or hnsw_ef_construction" if "hnsw" in entry else "more trees"
            raise IndexCheckError(f"{language}: recall@10 {entry['recall_at_10']:.3f} against exact search "
                                  f"is below {MIN_RECALL}; build with {remedy}")
        if "directions" in entry and np.load(directory / entry["directions"]["file"], mmap_mode="r").shape[0] != items:
            raise IndexCheckError(f"{language}: {entry['directions']['file']} does not describe {items} items")
        for file in (entry if "file" in entry else None, entry.get("hnsw"), entry.get("units"), entry.get("vectors"),
                     entry.get("directions")):
            if file and _sha256(directory / file["file"]) != file["sha256"]:
                raise IndexCheckError(f"{language}: {file['file']} does not match its checksum")
    directed = manifest.get("directions") or manifest.get("directed_names")
    if directed and _sha256(directory / directed["file"]) != directed["sha256"]:
        raise IndexCheckError(f"{directed['file']} does not match its checksum")
    if not model_saved(model_dir_of(directory, manifest)):
        raise IndexCheckError(f"the model it was built with is missing ({manifest.get('model_dir', 'model')})")
    return manifest


def recall_probes(model: CodeSearchModel, fns: list[dict], vectors: np.ndarray,
                  sample: int) -> dict[str, np.ndarray]:
    """What the recall check searches with, in two kinds checked apart: "typed", what people type
    (sampled functions' summaries, or the words of their names, through the query encoder), and
    "code", sampled functions' own vectors, as search by code and similar snippets send. Query vectors
    lie farther from the code than code does from code, which makes them the harder kind: averaged
    together, the easy code probes would hide a shortfall for typed queries."""
    picked = random.Random(0).sample(range(len(fns)), min(sample, len(fns)))
    texts = [fns[i].get("summary") or " ".join(subtokens(function_name(fns[i])))
             for i in picked[::2]]
    probes = {"typed": model.encode_queries(texts), "code": vectors[picked[1::2]]}
    return {kind: p[np.linalg.norm(p, axis=1) > 0] for kind, p in probes.items()}


def exact_nearest(vectors: np.ndarray, probes: np.ndarray, k: int = 10,
                  block: int = 65_536) -> tuple[np.ndarray, np.ndarray]:
    """Each probe's `k` most cosine-similar rows of `vectors`, best first: (ids, cosines), each
    (probes, k). All probes meet a block of vectors in one matrix product: for a language of a
    million functions and 1,000 probes that is seconds, where one probe at a time took minutes."""
    k = min(k, len(vectors))
    probes = probes / np.linalg.norm(probes, axis=1, keepdims=True).clip(1e-12)
    best_sims = np.full((len(probes), k), -np.inf, dtype=np.float32)
    best_ids = np.zeros((len(probes), k), dtype=np.int64)
    for start in range(0, len(vectors), block):
        chunk = vectors[start:start + block]
        sims = (probes @ chunk.T) / np.linalg.norm(chunk, axis=1).clip(1e-12)
        top = np.argpartition(-sims, min(k, sims.shape[1]) - 1, axis=1)[:, :k]
        candidate_sims = np.concatenate([best_sims, np.take_along_axis(sims, top, axis=1)], axis=1)
        candidate_ids = np.concatenate([best_ids, top + start], axis=1)
        keep = np.argsort(-candidate_sims, axis=1, kind="stable")[:, :k]
        best_sims = np.take_along_axis(candidate_sims, keep, axis=1)
        best_ids = np.take_along_axis(candidate_ids, keep, axis=1)
    return best_ids, best_sims


def exact_top_10(vectors: np.ndarray, probes: np.ndarray, block: int = 65_536) -> list[set[int]]:
    """Each probe's exact cosine top 10 among `vectors`, which Annoy's and the graph's answers are
    checked against."""
    return [set(row.tolist()) for row in exact_nearest(vectors, probes, 10, block)[0]]


def recall_at_10(nearest, probes: np.ndarray, exact: list[set[int]]) -> float:
    """Share of the probes' exact top 10 (`exact_top_10`) that `nearest(vector, n)` (item ids) returns."""
    wanted = sum(len(top) for top in exact)
    if not wanted:
        return 1.0
    return sum(len(top & set(nearest(probe, len(top)))) for probe, top in zip(probes, exact)) / wanted


def worst_recall(nearest, probes: dict[str, np.ndarray], exact: dict[str, list[set[int]]]) -> float:
    """The lower recall@10 of the kinds of probes (`recall_probes`), each against its exact top 10."""
    return min(recall_at_10(nearest, probes[kind], exact[kind]) for kind in probes)


def _widen(start: int, recall_with, narrow_steps: int = 2) -> tuple[int, float]:
    """The search width to serve with: doubled from `start`, up to 64 times it, until
    `recall_with(width)` meets MIN_RECALL, then bisected `narrow_steps` times between the last width
    that failed and the first that passed. Query time grows with the width, and doubling alone can
    serve twice the width the bar needs; two bisections leave at most a quarter of that step."""
    failed, width, recall = None, start, recall_with(start)
    while recall < MIN_RECALL and width < 64 * start:
        failed, width = width, width * 2
        recall = recall_with(width)
    if recall < MIN_RECALL or failed is None:  # never met, or met at once: nothing to narrow
        return width, recall
    for _ in range(narrow_steps):
        middle = (failed + width) // 2
        if middle in (failed, width):
            break
        middle_recall = recall_with(middle)
        if middle_recall >= MIN_RECALL:
            width, recall = middle, middle_recall
        else:
            failed = middle
    return width, recall


def _unit_rows(vectors: np.ndarray) -> np.ndarray:
    vectors = np.asarray(vectors, dtype=np.float32)
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True).clip(1e-12)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def explained_tokens(config: ModelConfig, unit: dict) -> dict[str, list[str]]:
    """What `explain` reads of a unit (training.model.read_tokens): stored with it in the index's units,
    and by the web service with each snippet."""
    return read_tokens(config, unit["code_tokens"], function_name(unit), function_doc(unit))


def explain(model: CodeSearchModel, doc_weight: float, query: str, units: Sequence[dict], n: int = 5,
            vector: np.ndarray | None = None) -> list[list[dict]]:
    """Why each of `units` matched `query`: the `n` tokens that gave its vector's cosine with the query
    the most, each with its share of all the tokens' positive terms and where it came from ("name",
    "code" or "doc"). Exact for the bag of words: the unit's vector is its code's unit vector plus
    doc_weight times its doc's, normalised (see with_docs), so the terms of both parts, scaled alike
    by that norm, add up to the cosine, and the norm cancels out of the shares. A unit is a record
    of the index's units with its `explained` tokens (`explained_tokens`, made now for a record
    without them). `vector`: the query's, if already encoded."""
    if vector is None:
        vector = model.encode_queries([split_path_filters(query)[0]])[0]
    texts, parts = [], []  # parts: per unit, where its code is in `texts` and where its doc is (or None)
    for unit in units:
        read = unit.get("explained") or explained_tokens(model.config, unit)
        code, doc = len(texts), None
        texts.append((unit["language"], read["name"], read["code"]))
        if read["doc"] and doc_weight:
            doc = len(texts)
            texts.append((QUERY, (), read["doc"]))
        parts.append((code, doc))
    found = model.contributions_many(vector, texts)
    why = []
    for code, doc in parts:
        terms = [(token, "name" if in_name else "code", term) for token, in_name, term in found[code]]
        if doc is not None:
            terms += [(token, "doc", doc_weight * term) for token, _, term in found[doc]]
        positive = sum(term for *_, term in terms if term > 0) or 1.0
        best = sorted((t for t in terms if t[2] > 0), key=lambda t: -t[2])[:n]
        why.append([{"token": token, "share": round(term / positive, 3), "source": source}
                    for token, source, term in best])
    return why


class QueryVectors:
    """A query's words (without `path:` filters) through `model`'s query encoder, the last `keep` kept:
    a search and the explanation of its results encode the query once. `known`: the words of the code
    searched, which are never taken for typos (Vocabulary.spelled)."""

    def __init__(self, model: CodeSearchModel, known: Container[str] = (), keep: int = 64):
        self.model, self.known, self.keep = model, known, keep
        self._vectors: dict[str, np.ndarray] = {}
        self._lock = threading.Lock()

    def corrected(self, query: str) -> str:
        """The query as the search reads it, mistyped words corrected (`path:` filters left as typed);
        the query itself when nothing was corrected."""
        words, paths = split_path_filters(query)
        fixed = corrected_text(words, partial(self.model.vocabulary.spelled, known=self.known))
        return query if fixed == words else " ".join([fixed, *(f"path:{p}" for p in paths)])

    def __call__(self, query: str) -> np.ndarray:
        query = split_path_filters(query)[0]
        with self._lock:
            if query in self._vectors:
                return self._vectors[query]
        vector = self.model.encode_queries([query], known=self.known)[0]
        with self._lock:
            self._vectors[query] = vector
            if len(self._vectors) > self.keep:
                del self._vectors[next(iter(self._vectors))]
        return vector


class _Words:
    """The words of a repository: those of any of its languages' BM25 index. A mistyped word asks for
    hundreds of words one edit away (Vocabulary.spelled), so each asks the languages' vocabularies
    directly, loaded once."""

    def __init__(self, index: "RepositoryIndex"):
        self.index = index
        self._vocabularies: list[dict] | None = None

    def __contains__(self, word: object) -> bool:
        if self._vocabularies is None:
            self._vocabularies = [self.index._bm25(language).vocab_dict for language in self.index.languages]
        for vocabulary in self._vocabularies:
            if word in vocabulary:
                return True
        return False


class RepositoryIndex:
    """A built index, loaded once: the model plus memory-mapped vectors, Annoy files and HNSW graphs.

    Every search takes `kind` (None for all, or one of KINDS) and `paths` (patterns, see
    `path_matches`; none for all), and shows one unit per group: a block only when its function is
    not ranked above it, and neither again after the first."""

    def __init__(self, directory: str | Path):
        self.directory = Path(directory)
        self.manifest = json.loads((self.directory / "manifest.json").read_text())
        self.model = load_index_model(self.directory, self.manifest)
        self.bm25_weight = BM25_WEIGHT  # the hybrid's; evaluations try others
        self.class_prior = CLASS_PRIOR
        self.search_k = {language: entry["search_k"] for language, entry in self.manifest["languages"].items()
                         if "search_k" in entry}
        self._lexical: dict[str, bm25s.BM25] = {}
        self._exact: dict[str, np.ndarray | None] = {}
        self.annoy: dict[str, AnnoyIndex] = {}
        self.units: dict[str, np.ndarray] = {}
        self._paths: dict[str, tuple[list[str], np.ndarray]] | None = None  # language -> (paths, each item's)
        self._path_masks: dict[tuple[str, tuple[str, ...]], np.ndarray] = {}
        self.query_vector = QueryVectors(self.model, _Words(self))
        self.directions = self._directions()
        # Each unit's vector for the model's direction head (training.direction_head), per language; an
        # index built without one has none, and its searches read direction by the rules alone.
        self.learned_directions = {
            language: np.asarray(np.load(self.directory / entry["directions"]["file"], mmap_mode="r"))
            for language, entry in self.manifest["languages"].items()
            if "directions" in entry and self.model.direction_head is not None}
        for language, entry in self.manifest["languages"].items():
            if "file" in entry:  # a language searched approximately
                ann = AnnoyIndex(self.manifest["dims"], self.manifest["metric"])
                ann.load(str(self.directory / entry["file"]))  # mmap: workers share the pages
                self.annoy[language] = ann
            if "units" in entry:
                # A plain array over the mapping: indexing the np.memmap subclass costs far more per access.
                self.units[language] = np.asarray(np.load(self.directory / entry["units"]["file"], mmap_mode="r"))
            else:  # built before classes and blocks: every item a function, its own group
                items = np.arange(entry["items"], dtype=np.int32)
                self.units[language] = np.stack([np.zeros_like(items), items])
        self.hnsw = {language: HnswGraph(self.directory / entry["hnsw"]["file"], entry["ef_search"])
                     for language, entry in self.manifest["languages"].items() if "hnsw" in entry}

    def _directions(self) -> dict[str, list[str]]:
        """language -> what each item says goes where (`directions`). An index built before signatures
        were read has its names only (directed_names.json); one built before names were, nothing."""
        if "directions" in self.manifest:
            return json.loads((self.directory / self.manifest["directions"]["file"]).read_text())
        if "directed_names" not in self.manifest:
            return {}
        named = json.loads((self.directory / self.manifest["directed_names"]["file"]).read_text())
        out = {}
        for language, names in named.items():
            out[language] = [""] * self.manifest["languages"][language]["items"]
            for item, name in names.items():
                out[language][int(item)] = name
        return out

    @property
    def languages(self) -> list[str]:
        return sorted(self.manifest["languages"])

    def footprint(self) -> int:
        """Bytes of the files a search may read (most of them memory-mapped): what keeping this index
        loaded can cost. A shared base model is not counted: it stays loaded for the others."""
        return sum(p.stat().st_size for p in self.directory.rglob("*") if p.is_file() and p.name != "functions.jsonl.gz")

    def functions(self):
        return read_jsonl(self.directory / "functions.jsonl.gz")

    def _check(self, language: str | None, kind: str | None = None) -> None:
        if language is not None and language not in self.manifest["languages"]:
            raise ValueError(f"no {language} functions are indexed here; languages: {', '.join(self.languages) or 'none'}")
        if kind is not None and kind not in KINDS:
            raise ValueError(f"unknown kind {kind!r}; kinds: {', '.join(KINDS)}")

    def _allowed(self, language: str, kind: str | None, paths: tuple[str, ...] = ()) -> np.ndarray | None:
        """Which items of `language` are of `kind` and under `paths` (None: all are)."""
        if kind is None and not paths:
            return None
        units = np.asarray(self.units[language])
        allowed = np.ones(units.shape[1], bool) if kind is None else units[0] == KINDS.index(kind)
        return allowed & self._under(language, paths) if paths else allowed

    def _under(self, language: str, paths: tuple[str, ...]) -> np.ndarray:
        """Which items of `language` lie under `paths`; each path is matched once, not once per item."""
        key = (language, paths)
        if key not in self._path_masks:
            if self._paths is None:  # the first path filter reads every item's path, once
                found: dict[str, dict[int, str]] = {}
                for f in self.functions():
                    found.setdefault(f["language"], {})[f["item"]] = f["path"]
                self._paths = {}
                for lang, by_item in found.items():
                    unique = sorted(set(by_item.values()))
                    position = {path: i for i, path in enumerate(unique)}
                    self._paths[lang] = unique, np.array([position[by_item[i]] for i in range(len(by_item))])
            unique, of_item = self._paths[language]
            if len(self._path_masks) >= 256:
                self._path_masks.clear()
            self._path_masks[key] = np.array([path_matches(p, paths) for p in unique], bool)[of_item]
        return self._path_masks[key]

    def _candidates(self, language: str, vector: np.ndarray, n: int,
                    allowed: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """The `n` units of `language` (among the `allowed` ones, see `_allowed`) nearest to `vector`
        and their cosines (two arrays), best first."""
        exact = None if language in self.hnsw else self._exact_vectors(language)
        if exact is not None:
            cosines = exact @ (vector / max(float(np.linalg.norm(vector)), 1e-12))
            if allowed is not None:
                cosines = np.where(allowed, cosines, -np.inf)
            top = best_first(cosines, n)
            top = top[np.isfinite(cosines[top])]
            return top, cosines[top]
        if allowed is not None:
            items = np.flatnonzero(allowed)
            if len(items) <= FEW:  # a folder of a large repository: its few units, exactly
                cosines = self._cosines(language, vector, items)
                top = best_first(cosines, n)
                return items[top], cosines[top]
            wide = min(int(n * len(allowed) / len(items)) + n, len(allowed))  # enough, on average, to find n
            items, cosines = self._candidates(language, vector, wide)
            kept = allowed[items]
            return items[kept][:n], cosines[kept][:n]
        if language in self.hnsw:
            return self.hnsw[language].search(vector, n)
        items, distances = self.annoy[language].get_nns_by_vector(
            vector, n, search_k=self.search_k[language], include_distances=True)
        return np.array(items, np.int64), np.array([cosine_from_angular(d) for d in distances])

    def _cosines(self, language: str, vector: np.ndarray, items) -> np.ndarray:
        """Cosines of `vector` with indexed units `items` of `language`."""
        exact = self._exact_vectors(language)
        if exact is not None:
            return exact[items] @ (vector / max(float(np.linalg.norm(vector)), 1e-12))
        return np.array([float(np.dot(vector, self.annoy[language].get_item_vector(int(i)))) for i in items])

    def _exact_vectors(self, language: str) -> np.ndarray | None:
        """Unit vectors of a language small enough for exact search (None for the others): the
        memory-mapped file, or for an index built before there was one, a copy from the Annoy file."""
        if language not in self._exact:
            entry = self.manifest["languages"][language]
            vectors = None
            if "vectors" in entry:
                vectors = np.asarray(np.load(self.directory / entry["vectors"]["file"], mmap_mode="r"))
            elif entry["items"] <= EXACT_MAX and language not in self.hnsw:
                vectors = _unit_rows(stored_vectors(self.directory, self.manifest, language))
            self._exact[language] = vectors
        return self._exact[language]

    def _vector(self, language: str, item: int) -> np.ndarray:
        exact = self._exact_vectors(language)
        if exact is not None:
            return np.array(exact[item], dtype=np.float32)
        return np.array(self.annoy[language].get_item_vector(item), dtype=np.float32)

    def _starts(self, languages: list[str]) -> np.ndarray:
        """Where each of `languages`' items starts in the one space of rows that a search ranks them in."""
        return np.cumsum([0] + [self.manifest["languages"][language]["items"] for language in languages])

    def _located(self, languages: list[str], rows: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Each of `rows` as its language (a position in `languages`), its item there, and its units-table
        columns (kind, group; groups made distinct across languages)."""
        starts = self._starts(languages)
        language_of = np.searchsorted(starts[1:-1], rows, side="right")
        items = rows - starts[language_of]
        table = np.zeros((2, len(rows)), np.int64)
        for i, language in enumerate(languages):
            mine = language_of == i
            table[:, mine] = self.units[language][:, items[mine]]
            table[1, mine] |= i << 32
        return language_of, items, table

    def _nearest(self, vector: np.ndarray, languages: list[str], k: int, kind: str | None,
                 paths: tuple[str, ...] = (), exclude: tuple[str, int] | None = None, query: str = "") -> list[Hit]:
        """The `k` units nearest to `vector`, one per group; a `query`'s direction moves them (`_directed`)."""
        # A function's blocks lie near it: ask for more than k, so that k groups are left.
        n = 3 * k + 10
        starts = self._starts(languages)
        found = [self._candidates(language, vector, n, self._allowed(language, kind, paths)) for language in languages]
        rows = np.concatenate([start + items for start, (items, _) in zip(starts, found)]).astype(np.int64)
        located = self._located(languages, rows)
        cosines = np.concatenate([np.asarray(c, np.float64) for _, c in found])
        scores = cosines + self._directed(query, languages, located)
        order = np.argsort(-scores, kind="stable")
        excluded = None if exclude is None else (languages.index(exclude[0]) << 32) | exclude[1]
        return self._hits(languages, located, order, np.clip(scores, -1.0, 1.0), k, excluded)

    def _directed(self, query: str, languages: list[str], located: tuple[np.ndarray, np.ndarray, np.ndarray]
                  ) -> np.ndarray:
        """What the direction `query` says adds to the cosine of each of the `_located` rows, by whether
        its name or signature says the same or the opposite, of the query's words or of words like them
        (training.direction), and by the direction head where the index keeps its vectors
        (training.direction_head); zeros for most queries."""
        language_of, items, _ = located
        if not query or query_direction(query) is None:
            return np.zeros(len(items))
        said = [said_from_text(self.directions[languages[l]][i]) if languages[l] in self.directions else ""
                for l, i in zip(language_of, items)]
        out = adjustment([query], said, vectors=self.model.word_vectors)[0].astype(np.float64)
        if self.learned_directions:
            learned = np.zeros((len(items), DIM), np.float32)  # zeros, which add nothing, where a language has none
            for l in np.unique(language_of):
                if languages[l] in self.learned_directions:
                    learned[language_of == l] = self.learned_directions[languages[l]][items[language_of == l]]
            out += self.model.direction_head.adjustment([query], learned)[0]
        return out

    def _hits(self, languages: list[str], located: tuple[np.ndarray, np.ndarray, np.ndarray], order: np.ndarray,
              scores: np.ndarray, k: int, exclude: int | None = None) -> list[Hit]:
        """The first `k` rows in `order` (the rows `_located`, each with its score) whose group no row
        before them had, nor `exclude`: a search shows each function once."""
        language_of, items, table = located
        return [Hit(languages[language_of[i]], int(items[i]), float(scores[i]))
                for i in order[first_per_group(table[1][order], k, exclude)]]

    def _bm25(self, language: str) -> bm25s.BM25:
        if language not in self._lexical:
            self._lexical[language] = bm25s.BM25.load(str(self.directory / f"{language}.bm25"), mmap=True,
                                                      show_progress=False)
        return self._lexical[language]

    def _fused(self, query: str, vector: np.ndarray, languages: list[str], k: int, mode: str,
               kind: str | None, paths: tuple[str, ...]) -> list[Hit]:
        """The hybrid ranking (training.hybrid), or BM25 alone.

        Each system's candidates are its best CANDIDATES over every language together, so that a
        small language's best BM25 match does not count for as much as the whole repository's."""
        tokens = query_tokens(query)
        starts = self._starts(languages)
        lexical = np.zeros(starts[-1], np.float32)
        neural_rows, neural_cosines = [], []
        for language, start in zip(languages, starts):
            allowed = self._allowed(language, kind, paths)
            if mode == "hybrid":
                items, cosines = self._candidates(language, vector, CANDIDATES, allowed)
                neural_rows.append(start + items)
                neural_cosines.append(np.asarray(cosines, np.float64))
            bm25 = self._bm25(language)
            known = known_tokens(tokens, bm25.vocab_dict, self.model.vocabulary.spelled)
            if known:
                scores = bm25.get_scores(known)
                lexical[start:start + len(scores)] = scores if allowed is None else np.where(allowed, scores, 0.0)
        neural_rows = np.concatenate(neural_rows or [np.zeros(0, np.int64)]).astype(np.int64)
        neural_cosines = np.concatenate(neural_cosines or [np.zeros(0)])
        best = np.argsort(-neural_cosines, kind="stable")[:CANDIDATES]

        def cosines_of(rows: np.ndarray) -> np.ndarray:  # BM25's other candidates, a language at a time
            language_of, items, _ = self._located(languages, rows)
            cosines = np.zeros(len(rows))
            for i in np.unique(language_of):
                cosines[language_of == i] = self._cosines(languages[i], vector, items[language_of == i])
            return cosines

        rows, cosines, bm25_scores = gathered(neural_rows[best], neural_cosines[best], lexical, cosines_of)
        located = self._located(languages, rows)
        if mode == "hybrid":
            cosines = cosines + self._directed(query, languages, located)
        order, shown = ranked(cosines, bm25_scores, located[2][0] == KINDS.index("class"), self.bm25_weight,
                              self.class_prior if kind is None else 0.0, lexical_only=mode == "bm25")
        return self._hits(languages, located, order, shown, k)

    def search(self, query: str, language: str | None = None, k: int = 10, mode: str = "hybrid",
               kind: str | None = None, paths: Sequence[str] = ()) -> list[Hit]:
        """Units that do what `query` says, best first; `mode` is hybrid, neural or bm25. `path:`
        filters in the query count with `paths`."""
        self._check(language, kind)
        if mode not in MODES:
            raise ValueError(f"unknown search mode {mode!r}; modes: {', '.join(MODES)}")
        query, typed = split_path_filters(query)
        paths = tuple(dict.fromkeys([*paths, *typed]))
        languages = [language] if language else self.languages
        vector = self.query_vector(query)
        if mode == "neural":
            return self._nearest(vector, languages, k, kind, paths, query=query)
        return self._fused(query, vector, languages, k, mode, kind, paths)

    def search_code(self, code: str, language: str, k: int = 10, kind: str | None = None,
                    paths: Sequence[str] = ()) -> list[Hit]:
        """Units whose code is like `code` (a function, a class or a few lines; same language)."""
        self._check(language, kind)
        if language not in self.model.languages:
            raise ValueError(f"the model has no encoder for {language}")
        return self._nearest(self.model.encode_code([code], language)[0], [language], k, kind, tuple(paths))

    def corrected(self, query: str) -> str:
        """`query` with its mistyped words corrected, as this repository's search reads it (QueryVectors)."""
        return self.query_vector.corrected(query)

    def explain(self, query: str, units: Sequence[dict], n: int = 5) -> list[list[dict]]:
        """Why each of `units` matched `query` (see `explain`)."""
        return explain(self.model, self.manifest.get("doc_weight", 0.0), query, units, n, self.query_vector(query))



    def similar(self, language: str, item: int, k: int = 10, kind: str | None = None,
                paths: Sequence[str] = ()) -> list[Hit]:
        """Units most like indexed unit `item`, its own group (a function and its blocks) left out."""
        self._check(language, kind)
        if not 0 <= item < self.manifest["languages"][language]["items"]:
            raise ValueError(f"no {language} function {item} in this index")
        vector = self._vector(language, item)
        return self._nearest(vector, [language], k, kind, tuple(paths),
                             exclude=(language, int(self.units[language][1][item])))

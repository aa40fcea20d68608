"""One index of every live repository's units, for the search across all of them.

Each repository is searched with its own model (fine-tuned or the base), whose cosines are not on one
scale with another repository's. Across repositories every unit is embedded by the one shared base
model instead, so a query is encoded once, looked up once however many repositories there are, and
ranked on one scale, with BM25 over every unit beside it (training.hybrid). A unit's vector is the
one its repository's index holds when the base serves that repository; a fine-tuned repository's
units are embedded again by the base, once per version (cached under `cache`, which is the base's own).

A built global index is a directory (a new one per build; the caller switches a pointer to it):
    manifest.json   the base model, the parts (one per repository version: its key, repository, row
                    offset and count), what was left out and why, counts, the search settings
    vectors.npy     every unit's unit vector (float32, memory-mapped)
    rows.npy        per row: part, language, item, kind, group, path (int32, 6 x rows)
    paths.json      the distinct paths the rows' path column points into
    directions.json row -> what its unit's name and signature say goes where, for the rows that say a
                    direction (training.direction.said_text); older global indexes have
                    directed_names.json (row -> name) instead
    directions.npy  every row's vector for the base model's direction head (training.direction_head,
                    float16), when it has one
    bm25/           BM25 over every unit (memory-mapped)
    graph.hnsw      above EXACT_MAX rows, an HNSW graph of the vectors (training.hnsw)

    build_global(parts, base_dir, "indexes/global/<generation>", cache="indexes/global/parts")
    GlobalIndex("indexes/global/<generation>").search("send mail", k=10)
        # -> [GlobalHit(part, language, item, score), ...]
"""
from __future__ import annotations

import hashlib
import json
import logging
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import bm25s
import numpy as np

from training.corpus import read_jsonl
from training.direction import adjustment, query_direction, said_from_text, said_text
from training.direction_head import DIM
from training.evaluate import BM25
from training.extract import LANGUAGES
from training.extract.base import KINDS
from training.hnsw import HnswGraph, build_hnsw
from training.hybrid import BM25_WEIGHT, CANDIDATES, best_first, first_per_group, gathered, ranked
from training.index import (CLASS_PRIOR, DOC_WEIGHT, EXACT_MAX, FEW, MIN_RECALL, QueryVectors, _unit_rows, _widen,
                            direction_inputs, exact_top_10, explain, lexical_tokens, path_matches, recall_probes,
                            shared_base, split_path_filters, stored_vectors, unit_table, with_docs, worst_recall)
from training.model import CodeSearchModel
from training.tokenize import known_tokens, query_tokens

log = logging.getLogger(__name__)
FORMAT = 1
# The graph's links per vector and build width: fewer than a single large language's (training.index),
# since the global graph is rebuilt whenever a repository goes live; the recall check still widens
# ef_search until recall@10 reaches MIN_RECALL.
HNSW_M, HNSW_EF_CONSTRUCTION, EF_SEARCH = 16, 100, 48
_ROW_PART, _ROW_LANGUAGE, _ROW_ITEM, _ROW_KIND, _ROW_GROUP, _ROW_PATH = range(6)


@dataclass(frozen=True)
class Part:
    """One live repository version: `key` (its directory under indexes/, unique per build) names it."""
    key: str
    repository: str
    directory: Path


@dataclass(frozen=True)
class GlobalHit:
    part: str  # the Part's key
    language: str
    item: int
    score: float  # on the cosine's scale, as training.index.Hit


def build_global(parts: Sequence[Part], base_dir: str | Path, out: str | Path, cache: str | Path,
                 exact_max: int = EXACT_MAX, recall_sample: int = 1000) -> dict:
    """Write the global index of `parts`' units, embedded by the model saved in `base_dir`, to `out`.
    A part whose files can't be read is left out (logged and listed in the manifest), never the
    reason a build fails. Returns the manifest."""
    started = time.time()
    out, cache = Path(out), Path(cache)
    out.mkdir(parents=True)
    base = shared_base(Path(base_dir))
    vectors, rows, tokens, records, kept, left_out = [], [], [], [], [], []
    directed: dict[int, str] = {}
    learned: list[np.ndarray] = []  # each row's vector for the base's direction head, when it has one
    paths: dict[str, int] = {}
    for part in parts:
        try:
            part_vectors, part_records = _part(part, base, Path(base_dir).resolve(), cache)
        except Exception as e:  # noqa: BLE001 - one broken index must not stop the others
            log.warning("left out of the global index: %s (%s): %s", part.repository, part.key, e)
            left_out.append({"key": part.key, "repository": part.repository, "reason": f"{type(e).__name__}: {e}"[:300]})
            continue
        kept.append({"key": part.key, "repository": part.repository, "offset": sum(len(v) for v in vectors),
                     "rows": len(part_vectors)})
        for language, fns in part_records.items():
            table = unit_table(fns)
            inputs = direction_inputs(fns)
            if base.direction_head is not None:
                learned.append(base.direction_head.function_vectors(inputs).astype(np.float16))
            for fn, kind, group, said_from in zip(fns, table[0], table[1], inputs):
                path = paths.setdefault(fn["path"], len(paths))
                if said := said_text(*said_from):
                    directed[len(rows)] = said
                rows.append((len(kept) - 1, LANGUAGES.index(language), fn["item"], kind, group, path))
                tokens.append(lexical_tokens(fn))
                records.append({k: fn.get(k, "") for k in ("summary", "func_name")})  # for the recall probes
        vectors.append(part_vectors)
    matrix = _unit_rows(np.concatenate(vectors)) if vectors else np.zeros((0, base.config.embedding_dim), np.float32)
    np.save(out / "vectors.npy", matrix)
    np.save(out / "rows.npy", np.array(rows, dtype=np.int32).reshape(-1, 6).T.copy())
    (out / "paths.json").write_text(json.dumps(list(paths)))
    (out / "directions.json").write_text(json.dumps(directed))
    if base.direction_head is not None:
        np.save(out / "directions.npy", np.concatenate(learned) if learned else np.zeros((0, DIM), np.float16))
    manifest = {"format": FORMAT, "base_model": str(Path(base_dir).resolve()), "parts": kept, "left_out": left_out,
                "rows": len(matrix), "repositories": len({p["repository"] for p in kept})}
    if len(matrix):
        BM25(tokens).retriever.save(str(out / "bm25"))
    if len(matrix) > exact_max:
        build_hnsw(matrix, out / "graph.hnsw", m=HNSW_M, ef_construction=HNSW_EF_CONSTRUCTION)
        graph = HnswGraph(out / "graph.hnsw", EF_SEARCH)
        probes = recall_probes(base, records, matrix, recall_sample)
        exact = {kind: exact_top_10(matrix, p) for kind, p in probes.items()}
        manifest["ef_search"], manifest["recall_at_10"] = _widen(
            EF_SEARCH, lambda ef: worst_recall(lambda v, n: [i for i, _ in graph.nearest(v, n, ef)], probes, exact))
        if manifest["recall_at_10"] < MIN_RECALL:
            log.warning("the global index's recall@10 is %.3f, below %s", manifest["recall_at_10"], MIN_RECALL)
    manifest["seconds"] = round(time.time() - started, 2)
    (out / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
    return manifest


def _part(part: Part, base: CodeSearchModel, base_dir: Path, cache: Path) -> tuple[np.ndarray, dict[str, list[dict]]]:
    """A version's unit vectors by the base model, in (language, item) order, and its records by
    language in the same order."""
    manifest = json.loads((part.directory / "manifest.json").read_text())
    by_language: dict[str, list[dict]] = {}
    for fn in read_jsonl(part.directory / "functions.jsonl.gz"):
        by_language.setdefault(fn["language"], []).append(fn)
    by_language = {language: sorted(by_language.get(language, []), key=lambda f: f["item"])
                   for language in sorted(manifest["languages"])}
    for language, fns in by_language.items():
        if len(fns) != manifest["languages"][language]["count"]:
            raise ValueError(f"{language}: {len(fns)} units listed for {manifest['languages'][language]['count']}")
    served_by_base = manifest.get("model_shared") and (part.directory / manifest["model_dir"]).resolve() == base_dir
    if served_by_base:  # its own vectors are the base's
        return np.concatenate([stored_vectors(part.directory, manifest, language)
                               for language in by_language]), by_language
    cached = cache / part_cache_name(part.key)
    if cached.is_file():
        vectors = np.load(cached)
        if len(vectors) == sum(len(f) for f in by_language.values()):
            return vectors, by_language
    weight = manifest.get("doc_weight", 0.0)
    vectors = np.concatenate([with_docs(base, fns, base.encode_functions(fns, language), weight)
                              for language, fns in by_language.items() if language in base.languages]
                             or [np.zeros((0, base.config.embedding_dim), np.float32)])
    by_language = {language: fns for language, fns in by_language.items() if language in base.languages}
    cache.mkdir(parents=True, exist_ok=True)
    scratch = cached.with_suffix(f".{time.time_ns()}.tmp.npy")
    np.save(scratch, vectors)
    scratch.replace(cached)
    return vectors, by_language


def part_cache_name(key: str) -> str:
    """The file under `cache` (one folder per base model) holding a version's vectors by the base."""
    return f"{hashlib.sha256(key.encode()).hexdigest()[:24]}.npy"


class GlobalIndex:
    """A built global index, loaded once per process; its vectors, graph and BM25 are memory-mapped."""

    def __init__(self, directory: str | Path):
        self.directory = Path(directory)
        self.manifest = json.loads((self.directory / "manifest.json").read_text())
        if self.manifest.get("format") != FORMAT:
            raise ValueError(f"{directory}: a global index of format {self.manifest.get('format')}; rebuild it")
        self.model = shared_base(Path(self.manifest["base_model"]))
        self.parts = [p["key"] for p in self.manifest["parts"]]
        self.vectors = np.asarray(np.load(self.directory / "vectors.npy", mmap_mode="r"))
        self.rows = np.asarray(np.load(self.directory / "rows.npy", mmap_mode="r"))
        self.paths = json.loads((self.directory / "paths.json").read_text())
        # directed_names.json in global indexes built before signatures were read; neither before names were
        directed = next((p for p in (self.directory / "directions.json", self.directory / "directed_names.json")
                         if p.is_file()), None)
        self.directions = {int(row): said for row, said in json.loads(directed.read_text()).items()} if directed else {}
        learned = self.directory / "directions.npy"
        self.learned_directions = np.asarray(np.load(learned, mmap_mode="r")) \
            if learned.is_file() and self.model.direction_head is not None else None
        self.bm25 = bm25s.BM25.load(str(self.directory / "bm25"), mmap=True, show_progress=False) \
            if len(self.vectors) else None
        self.graph = HnswGraph(self.directory / "graph.hnsw", self.manifest["ef_search"]) \
            if (self.directory / "graph.hnsw").is_file() else None
        self.query_vector = QueryVectors(self.model, self.bm25.vocab_dict if self.bm25 else ())
        self.bm25_weight, self.class_prior = BM25_WEIGHT, CLASS_PRIOR
        self._path_masks: dict[tuple[str, ...], np.ndarray] = {}

    def _allowed(self, language: str | None, kind: str | None, paths: tuple[str, ...]) -> np.ndarray | None:
        if language is None and kind is None and not paths:
            return None
        allowed = np.ones(len(self.vectors), bool)
        if language is not None:
            allowed &= self.rows[_ROW_LANGUAGE] == LANGUAGES.index(language)
        if kind is not None:
            allowed &= self.rows[_ROW_KIND] == KINDS.index(kind)
        if paths:
            if paths not in self._path_masks:
                if len(self._path_masks) >= 256:
                    self._path_masks.clear()
                self._path_masks[paths] = np.array([path_matches(p, paths) for p in self.paths], bool)
            allowed &= self._path_masks[paths][self.rows[_ROW_PATH]]
        return allowed

    def _nearest(self, vector: np.ndarray, n: int, allowed: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
        """The `n` rows (of the `allowed` ones) nearest to `vector` and their cosines, best first; as in
        RepositoryIndex._candidates, a filter that leaves at most FEW rows scores those rows exactly."""
        if allowed is None:
            if self.graph is not None:
                return self.graph.search(vector, n)
            cosines = self.vectors @ vector
            top = best_first(cosines, n)
            return top, cosines[top]
        rows = np.flatnonzero(allowed)
        if self.graph is None or len(rows) <= FEW:
            cosines = self.vectors[rows] @ vector
            top = best_first(cosines, n)
            return rows[top], cosines[top]
        wide = min(int(n * len(allowed) / len(rows)) + n, len(allowed))  # enough, on average, to find n
        rows, cosines = self.graph.search(vector, wide)
        kept = allowed[rows]
        return rows[kept][:n], cosines[kept][:n]

    def corrected(self, query: str) -> str:
        """`query` with its mistyped words corrected, as the search across repositories reads it."""
        return self.query_vector.corrected(query)

    def explain(self, query: str, units: Sequence[dict], n: int = 5) -> list[list[dict]]:
        """Why each of `units` matched `query` here, by the base model (training.index.explain)."""
        return explain(self.model, DOC_WEIGHT, query, units, n, self.query_vector(query))

    def search(self, query: str, k: int = 10, language: str | None = None, kind: str | None = None,
               paths: Sequence[str] = ()) -> list[GlobalHit]:
        """The best `k` units of every repository for `query` (the hybrid ranking), one per function."""
        if not len(self.vectors):
            return []
        vector = self.query_vector(query)
        vector = vector / max(float(np.linalg.norm(vector)), 1e-12)
        allowed = self._allowed(language, kind, tuple(paths))
        known = known_tokens(query_tokens(query), self.bm25.vocab_dict, self.model.vocabulary.spelled)
        lexical = np.zeros(len(self.vectors), np.float32)
        if known:
            lexical = self.bm25.get_scores(known)
            if allowed is not None:
                lexical = np.where(allowed, lexical, 0.0)
        rows, cosines, bm25 = gathered(*self._nearest(vector, CANDIDATES, allowed), lexical,
                                       lambda others: self.vectors[others] @ vector)
        if not len(rows):
            return []
        words = split_path_filters(query)[0]
        if query_direction(words) is not None:  # training.direction
            said = [said_from_text(self.directions.get(int(r), "")) for r in rows]
            cosines = cosines + adjustment([words], said, vectors=self.model.word_vectors)[0]
            if self.learned_directions is not None:  # training.direction_head
                cosines = cosines + self.model.direction_head.adjustment([words], self.learned_directions[rows])[0]
        table = self.rows[:, rows].astype(np.int64)
        order, shown = ranked(cosines, bm25, table[_ROW_KIND] == KINDS.index("class"), self.bm25_weight,
                              self.class_prior if kind is None else 0.0)
        table = table[:, order]
        # One per function: a group is a function of one language of one part.
        groups = (table[_ROW_PART] << 36) | (table[_ROW_LANGUAGE] << 32) | table[_ROW_GROUP]
        return [GlobalHit(self.parts[table[_ROW_PART, i]], LANGUAGES[table[_ROW_LANGUAGE, i]],
                          int(table[_ROW_ITEM, i]), float(shown[order[i]])) for i in first_per_group(groups, k)]

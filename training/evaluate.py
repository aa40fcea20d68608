"""Retrieval evaluation: the neural model, BM25 and their hybrid, scored in the same run.

- CodeSearchNet MRR: each test pair's query ranks its code among 999 distractors of the same
  language, per language and macro-averaged. As CodeSearchNet's MrrSearchTester does, each
  language's pairs are shuffled (seed 0) and cut into chunks of 1,000; a short last chunk is dropped.
  Shuffling matters: the split's file order keeps each package's functions together, and chunks of
  neighbours are a harder test than the published figures were measured on.
- NDCG on relevance annotations (CodeSearchNet's annotationStore.csv: Language, Query, GitHubUrl,
  Relevance 0-3), "within" (ranking only the annotated functions) and "all" (ranking every function
  of the language in the evaluated set), for the annotated functions present in that set.
- BEIR-layout retrieval: corpus.jsonl, queries.jsonl, qrels/test.tsv -> MRR, recall@1/10, NDCG@10.
"""
from __future__ import annotations

import csv
import json
import math
import random
import re
import string
from collections import defaultdict
from itertools import combinations
from pathlib import Path
from typing import Iterable, Iterator, Sequence

import bm25s
import numpy as np
from tqdm import tqdm

from training import direction, hybrid
from training.corpus import corpus_files, parse_record, read_lines
from training.model import function_name
from training.tokenize import Words, code_tokens, known_tokens, query_tokens

# "model" is what the product serves: the cosine plus what the direction the query and each function
# say adds (training.direction); "cosine" is the bag of words' cosine alone, to show what that does.
SYSTEMS = ("model", "bm25", "hybrid", "cosine")


# --- scoring -------------------------------------------------------------------------------------
class BM25:
    """BM25 over code-aware tokens (identifier sub-tokens), with `bm25s`."""

    def __init__(self, doc_token_lists: Sequence[list[str]]):
        self.size = len(doc_token_lists)
        self.retriever = bm25s.BM25()
        # An empty document would be dropped by the indexer and shift every id after it.
        self.retriever.index([tokens or ["\x00empty"] for tokens in doc_token_lists], show_progress=False)
        self.vocab = Words(self.retriever.vocab_dict)

    def scores(self, tokens: list[str], spell=None) -> np.ndarray:
        """Every document's score; `spell` corrects the words the index lacks (training.tokenize.known_tokens)."""
        known = known_tokens(tokens, self.vocab, spell)
        return self.retriever.get_scores(known) if known else np.zeros(self.size, dtype=np.float32)


def all_systems(cosines: np.ndarray, bm25: np.ndarray, directed: np.ndarray,
                hybrid_weights: Sequence[float] = ()) -> dict[str, np.ndarray]:
    """Each system's (queries, documents) scores from the model's `cosines`, BM25's scores and what
    direction adds to the cosines (`directed`: training.direction's rules and the direction head); the hybrid is the
    product's (training.hybrid), and `hybrid@w` the same with BM25 weighed w, for choosing that weight."""
    model = cosines + directed
    systems = {"model": model, "bm25": bm25, "hybrid": hybrid.mix(model, bm25), "cosine": cosines}
    return systems | {f"hybrid@{w}": hybrid.mix(model, bm25, weight=w) for w in hybrid_weights}


def diagonal_reciprocal_ranks(scores: np.ndarray) -> np.ndarray:
    """1 / rank of the matching document (row i's match is column i).

    Ties count against it: a BM25 query with no known term scores every document 0, and must not
    be credited with finding its match.
    """
    correct = np.diag(scores)
    return 1.0 / (scores >= correct[:, None]).sum(1)


def mrr(queries: np.ndarray, codes: np.ndarray, chunk: int = 1000) -> float:
    """Model-only MRR over unit vectors, CodeSearchNet protocol (used for validation)."""
    rr = [diagonal_reciprocal_ranks(q @ c.T) for q, c in _chunks(queries, codes, chunk=chunk)]
    return float(np.mean(np.concatenate(rr))) if rr else 0.0


def _chunks(*arrays, chunk: int):
    """Consecutive chunks of `chunk` rows; a short remainder is dropped when a full chunk exists."""
    n = len(arrays[0])
    starts = range(0, n - chunk + 1, chunk) if n >= chunk else ([0] if n else [])
    for start in starts:
        yield tuple(a[start:start + chunk] for a in arrays)


# --- CodeSearchNet MRR ---------------------------------------------------------------------------
def evaluate_csn(model, records: Iterable[dict], chunk: int = 1000, hybrid_weights: Sequence[float] = (),
                 direction_weights: tuple[float, float] = (direction.AGREE, direction.DISAGREE)) -> dict:
    """MRR of each of SYSTEMS (and `hybrid@w`, see all_systems) per language (+ macro) on
    CodeSearchNet-format records; `direction_weights` as training.direction.adjustment's."""
    return evaluate_csn_typos(model, records, chunk, hybrid_weights, direction_weights, typos=False)["clean"]


def evaluate_csn_typos(model, records: Iterable[dict], chunk: int = 1000, hybrid_weights: Sequence[float] = (),
                       direction_weights: tuple[float, float] = (direction.AGREE, direction.DISAGREE),
                       typos: bool = True) -> dict[str, dict]:
    """`evaluate_csn`'s figures, "clean", and with `typos` the same with each summary mistyped
    (`typo_records`), "typos": both kinds of query search the same chunks, so the functions are
    encoded, tokenised and indexed for BM25 once."""
    records = list(records)
    asked = {"clean": [r["summary"] for r in records]}
    if typos:
        asked["typos"] = [r["summary"] for r in typo_records(records)]
    by_language: dict[str, list[int]] = defaultdict(list)
    for i, r in enumerate(records):
        by_language[r["language"]].append(i)
    results: dict[str, dict[str, dict]] = {kind: {} for kind in asked}
    for language, order in sorted(by_language.items()):
        if language not in model.languages:
            continue
        order = [order[i] for i in np.random.default_rng(0).permutation(len(order))]
        recs = [records[i] for i in order]
        says, learned = _direction_of(model, [(function_name(r), r["code_tokens"], language) for r in recs])
        c = model.encode_functions(recs, language)
        # Lists, not object arrays: numpy would make a 2-d array of equally long token lists.
        ctok = [code_tokens(r["code_tokens"]) for r in recs]
        texts = {kind: [summaries[i] for i in order] for kind, summaries in asked.items()}
        rr = {kind: defaultdict(list) for kind in asked}
        for n, (cc, ct, said, vectors) in enumerate(tqdm(list(_chunks(c, ctok, says, learned, chunk=chunk)),
                                                desc=f"evaluate {language}", unit="chunk", leave=False)):
            # As the product searches a repository: the words of the code searched are never "corrected".
            lexical = BM25(list(ct))
            for kind, summaries in texts.items():
                queries = summaries[n * chunk:n * chunk + len(cc)]
                qc = model.encode_queries(queries, known=lexical.vocab)
                bm = np.stack([lexical.scores(query_tokens(text), model.vocabulary.spelled) for text in queries])
                directed = _directed(model, queries, said, vectors, direction_weights)
                for name, scores in all_systems(qc @ cc.T, bm, directed, hybrid_weights).items():
                    rr[kind][name].append(diagonal_reciprocal_ranks(scores))
        for kind, ranks in rr.items():
            results[kind][language] = {name: float(np.mean(np.concatenate(v))) for name, v in ranks.items()}
            results[kind][language]["pairs"] = sum(len(v) for v in ranks["model"])
    return {kind: with_macro(figures) for kind, figures in results.items()}


def _direction_of(model, functions: Sequence[tuple[str, Sequence[str], str]]) -> tuple[list, np.ndarray]:
    """What each of `functions` (name, code tokens, language) says about direction, by the rules
    (training.direction.said) and by the model's direction head (its vectors; none without a head)."""
    head = model.direction_head
    return ([direction.said(*f) for f in functions],
            head.function_vectors(functions) if head is not None else np.zeros((len(functions), 0), np.float32))


def _directed(model, queries: Sequence[str], says: Sequence, learned: np.ndarray,
              weights: tuple[float, float] = (direction.AGREE, direction.DISAGREE)) -> np.ndarray:
    """What direction adds to each cosine, as a search does: the rules' adjustment (training.direction;
    `weights` as its), plus the direction head's where the model has one."""
    out = direction.adjustment(queries, list(says), weights, vectors=model.word_vectors)
    if model.direction_head is not None:
        out += model.direction_head.adjustment(queries, learned)
    return out


def with_macro(results: dict[str, dict]) -> dict[str, dict]:
    """Each language's figures (`evaluate_csn`'s) and their unweighted mean over the languages, "macro"."""
    if results:
        names = [name for name in next(iter(results.values())) if name != "pairs"]
        results["macro"] = {name: float(np.mean([results[l][name] for l in results])) for name in names}
    return results


def with_typos(text: str, rng: random.Random) -> str:
    """`text` with one edit in each word of three letters or more: a letter dropped, added, replaced,
    or swapped with the next one, as people mistype."""
    def edit(match: re.Match) -> str:
        word = match.group()
        i, operation = rng.randrange(len(word)), rng.choice(("drop", "add", "replace", "swap"))
        if operation == "drop":
            return word[:i] + word[i + 1:]
        if operation == "add":
            return word[:i] + rng.choice(string.ascii_lowercase) + word[i:]
        if operation == "replace":
            return word[:i] + rng.choice(string.ascii_lowercase.replace(word[i].lower(), "")) + word[i + 1:]
        i = min(i, len(word) - 2)
        return word[:i] + word[i + 1] + word[i] + word[i + 2:]
    return re.sub(r"[A-Za-z]{3,}", edit, text)


def typo_records(records: Iterable[dict], seed: int = 0) -> list[dict]:
    """The records with their summaries (the queries) mistyped by `with_typos`, the same at every run:
    each language's the same whichever other languages are evaluated, and wherever they are."""
    rngs: dict[str, random.Random] = {}
    out = []
    for r in records:
        language = r.get("language", "")
        if language not in rngs:
            rngs[language] = random.Random(f"{seed}:{language}")
        out.append({**r, "summary": with_typos(r["summary"], rngs[language])})
    return out


# --- NDCG on relevance annotations ---------------------------------------------------------------
def read_annotations(path: str | Path) -> dict[tuple[str, str], dict[str, float]]:
    """(language, query) -> {GitHub URL: relevance}; repeated judgements are averaged."""
    judged: dict[tuple[str, str], dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    with open(path, newline="", encoding="utf-8") as f:
        for row in csv.DictReader(f):
            judged[(row["Language"].strip().lower(), row["Query"].strip())][_url_key(row["GitHubUrl"])].append(
                float(row["Relevance"]))
    return {key: {url: float(np.mean(v)) for url, v in urls.items()} for key, urls in judged.items()}


def _url_key(url: str) -> str:
    return url.strip().rstrip("/").lower()


def ndcg(relevances_in_ranked_order: Sequence[float], all_relevances: Sequence[float], k: int | None = None) -> float:
    gains = list(relevances_in_ranked_order)[:k]
    ideal = sorted(all_relevances, reverse=True)[:k]
    dcg = sum((2 ** g - 1) / math.log2(i + 2) for i, g in enumerate(gains))
    idcg = sum((2 ** g - 1) / math.log2(i + 2) for i, g in enumerate(ideal))
    return dcg / idcg if idcg > 0 else 0.0


def evaluate_annotations(model, records: Iterable[dict], annotations: dict) -> dict:
    """NDCG within/all for each system, over queries with at least one annotated function present."""
    by_language: dict[str, list[dict]] = defaultdict(list)
    for r in records:
        if r.get("url") and r["language"] in model.languages:
            by_language[r["language"]].append(r)
    prepared = {}  # language -> (url keys, code vectors, BM25 index), built on first use
    per_system = {name: {"within": [], "all": []} for name in SYSTEMS}
    queries_used = 0
    for (language, query), judged in sorted(annotations.items()):
        recs = by_language.get(language)
        if not recs:
            continue
        if language not in prepared:
            prepared[language] = ([_url_key(r["url"]) for r in recs],
                                  model.encode_functions(recs, language),
                                  BM25([code_tokens(r["code_tokens"]) for r in recs]),
                                  *_direction_of(model, [(function_name(r), r["code_tokens"], language) for r in recs]))
        keys, vectors, bm25, says, learned = prepared[language]
        present = [i for i, key in enumerate(keys) if key in judged]
        if not present:
            continue
        queries_used += 1
        relevance = np.array([judged.get(key, 0.0) for key in keys])
        cosines = model.encode_queries([query], known=bm25.vocab) @ vectors.T
        lexical = bm25.scores(query_tokens(query), model.vocabulary.spelled)[None, :]
        directed = _directed(model, [query], says, learned)
        for name, scores in all_systems(cosines, lexical, directed).items():
            order = np.argsort(-scores[0], kind="stable")
            per_system[name]["all"].append(ndcg(relevance[order], relevance[present]))
            annotated = set(present)
            per_system[name]["within"].append(ndcg(relevance[[i for i in order if i in annotated]], relevance[present]))
    return {"queries": queries_used,
            **{name: {kind: float(np.mean(v)) if v else 0.0 for kind, v in d.items()} for name, d in per_system.items()}}


# --- BEIR layout -----------------------------------------------------------------------------------
def read_beir(directory: str | Path, split: str = "test"):
    directory = Path(directory)
    corpus = [json.loads(line) for line in open(directory / "corpus.jsonl", encoding="utf-8") if line.strip()]
    queries = {q["_id"]: q["text"] for q in (json.loads(line) for line in open(directory / "queries.jsonl",
                                                                                 encoding="utf-8") if line.strip())}
    qrels: dict[str, dict[str, float]] = defaultdict(dict)
    with open(directory / "qrels" / f"{split}.tsv", encoding="utf-8") as f:
        for row in csv.DictReader(f, delimiter="\t"):
            qrels[row["query-id"]][row["corpus-id"]] = float(row["score"])
    return corpus, queries, dict(qrels)


def evaluate_beir(model, directory: str | Path, language: str | None = None) -> dict:
    """MRR, recall@1, recall@10, NDCG@10 for each of SYSTEMS over the whole BEIR corpus."""
    from training.extract import read_snippet

    corpus, queries, qrels = read_beir(directory)
    languages = [language or doc.get("language") for doc in corpus]
    if any(lang is None for lang in languages):
        raise ValueError("the corpus has documents without a `language`; pass --language")
    unknown = sorted({lang for lang in languages if lang not in model.languages})
    if unknown:
        raise ValueError(f"the model has no encoder for {', '.join(unknown)}")
    # Each document is parsed once, for its code tokens (model and BM25) and its function's name.
    read = [read_snippet(doc.get("text", ""), lang) for doc, lang in zip(corpus, languages)]
    leaves = [ls for ls, _ in read]
    names = [function_name({"func_name": qualified}) for _, qualified in read]
    vectors = np.zeros((len(corpus), model.config.embedding_dim), dtype=np.float32)
    for lang in set(languages):
        idx = [i for i, l in enumerate(languages) if l == lang]
        vectors[idx] = model.encode_code([leaves[i] for i in idx], lang, [names[i] for i in idx])
    ids = [doc["_id"] for doc in corpus]
    query_ids = [qid for qid in qrels if qid in queries]
    lexical = BM25([code_tokens(ls) for ls in leaves])
    q = model.encode_queries([queries[qid] for qid in query_ids], known=lexical.vocab)
    bm = np.stack([lexical.scores(query_tokens(queries[qid]), model.vocabulary.spelled) for qid in query_ids]) \
        if query_ids else np.zeros((0, len(leaves)), np.float32)
    out = {"queries": len(query_ids), "documents": len(ids)}
    directed = _directed(model, [queries[qid] for qid in query_ids],
                         *_direction_of(model, list(zip(names, leaves, languages))))
    for name, scores in all_systems(q @ vectors.T, bm, directed).items():
        metrics = defaultdict(list)
        for row, qid in enumerate(query_ids):
            order = np.argsort(-scores[row], kind="stable")
            relevant = {d for d, s in qrels[qid].items() if s > 0}
            ranked = [ids[i] for i in order]
            first = next((rank for rank, d in enumerate(ranked, 1) if d in relevant), None)
            metrics["mrr"].append(1.0 / first if first else 0.0)
            metrics["recall@1"].append(len(relevant & set(ranked[:1])) / max(len(relevant), 1))
            metrics["recall@10"].append(len(relevant & set(ranked[:10])) / max(len(relevant), 1))
            metrics["ndcg@10"].append(ndcg([qrels[qid].get(d, 0.0) for d in ranked[:10]], list(qrels[qid].values()), 10))
        out[name] = {k: float(np.mean(v)) for k, v in metrics.items()}
    return out


# --- direction pairs -------------------------------------------------------------------------------
# Left out of a summary's words: a pair says the opposite in the words it moves, not in these.
_UNSAID = frozenset("a an the given specified supplied provided".split())
_DIRECTIONS = frozenset({"to", "from"})  # "into" is read as "to"
MAX_DIRECTION_WORDS = 16


def direction_key(summary: str) -> tuple[tuple[str, ...], tuple[str, ...]] | None:
    """(its words in sorted order, its words in order) for a summary of at most MAX_DIRECTION_WORDS words
    with a direction word, each word singular, "into" as "to", and articles and "given"-like words left
    out (so "Converts the given strings into an int" and "convert string to int" are the same words);
    None for any other. Two summaries of one language with the same sorted words in another order say
    opposite things."""
    words = tuple("to" if w == "into" else _singular(w) for w in re.findall(r"[a-z0-9]+", summary.lower())
                  if w not in _UNSAID)
    if len(words) <= MAX_DIRECTION_WORDS and _DIRECTIONS & set(words):
        return tuple(sorted(words)), words
    return None


def _singular(word: str) -> str:
    """A plural noun or a third-person verb without its ending ("bytes", "converts", "copies",
    "matches"), as both ways of saying one thing tend to differ in it; "class", "status", "is" stay."""
    if len(word) <= 3 or not word.endswith("s") or word.endswith(("ss", "us", "is")):
        return word
    if word.endswith("ies"):
        return word[:-3] + "y"
    if word.endswith(("ches", "shes", "xes", "sses", "zes")):
        return word[:-2]
    return word[:-1]


_SUMMARY = re.compile(r'"summary":\s*("(?:[^"\\]|\\.)*")')


def line_direction_key(line: str, path: str | Path, number: int) -> tuple[tuple[str, ...], tuple[str, ...]] | None:
    """`direction_key` of the `number`th record (a line) of the corpus file `path`, parsing only its summary
    where it has one (`parse_record` makes it from the docstring otherwise, as for CodeSearchNet's own)."""
    found = _SUMMARY.search(line)
    return direction_key(json.loads(found[1]) if found else parse_record(line, path, number)["summary"])


def direction_records(corpus: str | Path, languages: Iterable[str]) -> Iterator[dict]:
    """The records of every partition of `corpus` whose summaries have a direction key, without parsing
    the others (most of a corpus)."""
    for partition in ("train", "valid", "test"):
        for language in languages:
            for path in corpus_files(corpus, language, partition):
                yield from (parse_record(line, path, n) for n, line in enumerate(read_lines(path), 1)
                            if line_direction_key(line, path, n))


def direction_pairs(records: Iterable[dict]) -> list[tuple[dict, dict]]:
    """Pairs of functions of one language whose summaries hold the same words in another order, some of
    them moved across a direction word ("Convert a hex string to binary data." / "Convert binary data
    to a hex string."; `_sides`), and whose code differs (two copies of one function tell nothing
    apart). Training leaves out every function of a summary that has the same words in another order
    anywhere in the corpus (training.prepare), so all of them, in every partition, test a trained model."""
    groups = direction_groups((r["language"], key, r) for r in records if (key := direction_key(r["summary"])))
    pairs = []
    for group in groups.values():
        pair = next(((a, b) for (words_a, a), (words_b, b) in combinations(group.items(), 2)
                     if _sides(words_a) != _sides(words_b) and a.get("code_tokens") != b.get("code_tokens")), None)
        if pair:
            pairs.append(pair)
    return pairs


def _sides(words: tuple[str, ...]) -> tuple:
    """The summary's direction words in order, and the words between them (in any order): two summaries
    say opposite things only where a word crosses a direction word. "reads atmospheric uncompensated
    pressure from sensor" and "reads uncompensated atmospheric pressure from sensor" say the same."""
    sides, stretch, marks = [], [], []
    for word in (*words, None):
        if word is None or word in _DIRECTIONS:
            sides.append(tuple(sorted(stretch)))
            stretch = []
            marks.append(word)
        else:
            stretch.append(word)
    return tuple(marks), tuple(sides)


def direction_groups(keyed: Iterable[tuple[str, tuple, object]]) -> dict[tuple, dict[tuple, object]]:
    """(language, direction key, item) -> per language and sorted words, the first item of each word
    order: a group of two orders or more is a direction pair's (training.prepare holds those out)."""
    groups: dict[tuple, dict[tuple, object]] = defaultdict(dict)
    for language, (sorted_words, words), item in keyed:
        groups[(language, sorted_words)].setdefault(words, item)
    return groups


def evaluate_direction(model, pairs: list[tuple[dict, dict]],
                       direction_weights: tuple[float, float] = (direction.AGREE, direction.DISAGREE)) -> dict:
    """How often each system ranks the right function of a direction pair above the other one,
    asking with each of the two summaries (a bag of words can get at most one of the two right)."""
    right = defaultdict(float)
    for a, b in tqdm(pairs, desc="direction pairs", unit="pair", leave=False):
        language = a["language"]
        codes = model.encode_functions([a, b], language)
        bm = BM25([code_tokens(a["code_tokens"]), code_tokens(b["code_tokens"])])
        queries = model.encode_queries([a["summary"], b["summary"]], known=bm.vocab)
        spell = model.vocabulary.spelled
        lexical = np.stack([bm.scores(query_tokens(a["summary"]), spell), bm.scores(query_tokens(b["summary"]), spell)])
        directed = _directed(model, [a["summary"], b["summary"]],
                             *_direction_of(model, [(function_name(f), f["code_tokens"], language) for f in (a, b)]),
                             direction_weights)
        for name, scores in all_systems(queries @ codes.T, lexical, directed).items():
            right[name] += float(scores[0, 0] > scores[0, 1]) + float(scores[1, 1] > scores[1, 0])
    return {"pairs": len(pairs), **{name: right[name] / (2 * len(pairs)) if pairs else 0.0 for name in SYSTEMS}}

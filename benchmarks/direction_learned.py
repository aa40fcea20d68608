"""A learned reading of direction beside the rules (recipe.md, "Word order, learned"): measured here, not
in the product yet.

A query's direction (training.direction.query_direction, both ends said) is the mean of its target words'
vectors minus the mean of its source words'; a function's is the sum, over ten places its words may be
(its name; the parts of its name either side of to/from; its signature's source and target sides; its
body, the first and the last third of its body; what it returns; what it creates with `new`), of the
mean of that place's word vectors (words hashed per place). The score is their dot product, so the
reversed query scores its negative; each training summary's logistic loss against its reversal. It
learns on every training-split summary that says both ends, never on a direction pair's function
(training.evaluate.direction_key), and is added to what the product scores as lam * tanh(score / tau).

Prints, for each lam:tau, the direction pairs (all; the pairs of exactly the same words, where the
rules' readings were found; the others, never read) and the validation split's macro MRR (at most
--valid functions per language), beside the product without it (0:1).

    .venv/bin/python benchmarks/direction_learned.py --model indexes/base --corpus indexes/corpus/full

Writes benchmarks/results/base-model/direction_learned.json.
"""
from __future__ import annotations

import argparse
import json
import random
import re
import sys
import time
import zlib
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from training import direction  # noqa: E402
from training import evaluate as ev  # noqa: E402
from training.corpus import corpus_files, corpus_languages, parse_record, read_corpus, read_lines  # noqa: E402
from training.model import CodeSearchModel, function_name  # noqa: E402
from training.tokenize import IDENTIFIER, subtokens  # noqa: E402

OUT = Path(__file__).resolve().parent / "results" / "base-model" / "direction_learned.json"
PLACES = ("name", "name_source", "name_target", "signature_source", "signature_target", "body", "body_first",
          "body_last", "returns", "new")
BUCKETS, DIM = 1 << 19, 32


def places(name: str, leaves: list[str], language: str) -> dict[str, list[str]]:
    """The words of each of PLACES of a function."""
    out: dict[str, list[str]] = {p: [] for p in PLACES}
    parts = direction.name_parts(name)
    out["name"] = parts
    marks = [i for i, w in enumerate(parts) if w in direction._TOWARDS or w == direction._FROM]
    if marks:
        before, after = parts[:marks[0]], parts[marks[0] + 1:]
        out["name_source"], out["name_target"] = (after, before) if parts[marks[0]] == direction._FROM else (before, after)
    if signature := direction.signature_direction(name, leaves, language):
        out["signature_source"], out["signature_target"] = sorted(signature.source), sorted(signature.target)
    body = leaves[(direction.body_start(leaves, language) or 0) + 1:]
    words = [p for leaf in body if IDENTIFIER.match(leaf) for p in subtokens(leaf)]
    third = max(len(words) // 3, 1)
    out["body"], out["body_first"], out["body_last"] = words[:400], words[:third][:150], words[-third:][-150:]
    for i, leaf in enumerate(body):
        if leaf == "return":
            for following in body[i + 1:i + 10]:
                if following in (";", "}", "return"):
                    break
                if IDENTIFIER.match(following):
                    out["returns"] += subtokens(following)
        elif leaf == "new" and i + 1 < len(body) and IDENTIFIER.match(body[i + 1]):
            out["new"] += subtokens(body[i + 1])
    return out


def _hash(text: str) -> int:
    return zlib.crc32(text.encode()) % BUCKETS


def features(name: str, leaves: list[str], language: str) -> tuple[list[int], list[int]]:
    """A function's hashed words, place after place, and where each place starts."""
    ids, offsets = [], []
    for place, words in places(name, leaves, language).items():
        offsets.append(len(ids))
        ids += [_hash(f"{place}:{w}") for w in words]
    return ids, offsets


def query_words(said: direction.Direction) -> tuple[list[int], list[int]]:
    return [_hash(f"q:{w}") for w in sorted(said.source)], [_hash(f"q:{w}") for w in sorted(said.target)]


class Head(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.code = nn.EmbeddingBag(BUCKETS, DIM, mode="mean", sparse=True)
        self.query = nn.Embedding(BUCKETS, DIM, sparse=True)
        nn.init.normal_(self.code.weight, std=0.01)
        nn.init.normal_(self.query.weight, std=0.01)
        self.prior = nn.Parameter(torch.zeros(DIM))  # training only: what every query's reversal shares

    def queries(self, saids: list[direction.Direction]) -> torch.Tensor:
        sources, targets = zip(*map(query_words, saids))
        return self._mean(targets) - self._mean(sources)

    def _mean(self, lists) -> torch.Tensor:
        flat = torch.tensor([w for words in lists for w in words], dtype=torch.long)
        offsets = torch.tensor(np.cumsum([0] + [len(words) for words in lists])[:-1], dtype=torch.long)
        return F.embedding_bag(flat, self.query.weight, offsets, mode="mean", sparse=True)

    def functions(self, featured: list[tuple[list[int], list[int]]]) -> torch.Tensor:
        flat, offsets = [], []
        for ids, starts in featured:
            offsets += [len(flat) + s for s in starts]
            flat += ids
        bags = self.code(torch.tensor(flat, dtype=torch.long), torch.tensor(offsets, dtype=torch.long))
        return bags.view(len(featured), len(PLACES), DIM).sum(1)


def read(corpus: str, partitions: tuple[str, ...], paired: set) -> list[tuple[direction.Direction, tuple]]:
    """(what the summary says, the function's features) of each summary that says both ends, leaving
    out the functions of direction pairs (`paired`)."""
    out = []
    for language in corpus_languages(corpus):
        for partition in partitions:
            for path in corpus_files(corpus, language, partition):
                for n, line in enumerate(read_lines(path), 1):
                    key = ev.line_direction_key(line, path, n)
                    if not key or (language, key[0]) in paired:
                        continue
                    record = parse_record(line, path, n)
                    said = direction.query_direction(record["summary"])
                    if said and said.source and said.target:
                        out.append((said, features(function_name(record), record["code_tokens"], language)))
    return out


def train_head(corpus: str, epochs: int) -> tuple[Head, dict]:
    torch.manual_seed(0)
    started = time.time()
    keyed = [(language, key, None) for language in corpus_languages(corpus) for partition in ("train", "valid", "test")
             for path in corpus_files(corpus, language, partition)
             for n, line in enumerate(read_lines(path), 1) if (key := ev.line_direction_key(line, path, n))]
    paired = {group for group, orders in ev.direction_groups(keyed).items() if len(orders) >= 2}
    train, held = read(corpus, ("train",), paired), read(corpus, ("valid", "test"), paired)
    report = {"train_summaries": len(train), "held_out_summaries": len(held), "read_seconds": round(time.time() - started)}
    head = Head()
    tables = torch.optim.SparseAdam([head.code.weight, head.query.weight], lr=0.01)
    prior = torch.optim.Adam([head.prior], lr=0.01)
    rng = random.Random(0)
    for _ in range(epochs):
        rng.shuffle(train)
        for i in range(0, len(train), 512):
            batch = train[i:i + 512]
            scores = (head.queries([s for s, _ in batch]) * (head.functions([f for _, f in batch]) + head.prior)).sum(1)
            loss = F.softplus(-scores).mean()
            tables.zero_grad()
            prior.zero_grad()
            loss.backward()
            tables.step()
            prior.step()
    with torch.no_grad():
        right = sum(int(((head.queries([s for s, _ in held[i:i + 2048]])
                          * (head.functions([f for _, f in held[i:i + 2048]]) + head.prior)).sum(1) > 0).sum())
                    for i in range(0, len(held), 2048))
    report["held_out_sign_accuracy"] = round(right / max(len(held), 1), 3)
    report["seconds"] = round(time.time() - started)
    return head.eval(), report


def _same_words(summary: str) -> tuple:
    """The words as the pair key had them before the nineteenth session: articles out, nothing else."""
    return tuple(sorted(w for w in re.findall(r"[a-z0-9]+", summary.lower()) if w not in {"a", "an", "the"}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default="indexes/base")
    parser.add_argument("--corpus", default="indexes/corpus/full")
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--settings", default="0:1,0.02:3,0.05:3", help="lam:tau, comma-separated; 0:1 is without it")
    parser.add_argument("--valid", type=int, default=6000, help="validation functions per language (0: none)")
    args = parser.parse_args()
    if not corpus_languages(args.corpus):
        sys.exit(f"{args.corpus}: no corpus (run `make corpus`)")
    if not (Path(args.model) / "config.json").is_file():
        sys.exit(f"{args.model}: no model (run `make base-model`)")
    head, report = train_head(args.corpus, args.epochs)
    print(json.dumps(report), flush=True)
    model = CodeSearchModel.load(args.model)
    setting = {"lam": 0.0, "tau": 1.0}
    rules_said, rules = direction.said, direction.adjustment

    def said(name, leaves=(), language=""):  # the rules' reading, and the function's learned vector
        with torch.no_grad():
            vector = head.functions([features(name, list(leaves), language)])[0].numpy()
        return rules_said(name, leaves, language), vector

    def adjustment(queries, candidates, *rest, **named):
        out = rules(queries, [c[0] for c in candidates], *rest, **named)
        saids = [direction.query_direction(q) for q in queries]
        rows = [i for i, s in enumerate(saids) if s and s.source and s.target]
        if setting["lam"] and rows:
            with torch.no_grad():
                q = head.queries([saids[i] for i in rows]).numpy()
            out[rows] += setting["lam"] * np.tanh(q @ np.stack([c[1] for c in candidates]).T / setting["tau"])
        return out

    direction.said, direction.adjustment = said, adjustment  # what evaluate calls
    pairs = ev.direction_pairs(ev.direction_records(args.corpus, corpus_languages(args.corpus)))
    exact = [p for p in pairs if _same_words(p[0]["summary"]) == _same_words(p[1]["summary"])]
    subsets = {"all": pairs, "same_words": exact, "never_read": [p for p in pairs if p not in exact]}
    valid = []
    if args.valid:
        rng = random.Random(0)
        for language in model.languages:
            records = list(read_corpus(args.corpus, "valid", [language]))
            valid += rng.sample(records, min(args.valid, len(records)))
    report["settings"] = {}
    for text in args.settings.split(","):
        setting["lam"], setting["tau"] = map(float, text.split(":"))
        figures = {name: {k: round(v, 4) for k, v in ev.evaluate_direction(model, chosen).items()
                          if k in ("pairs", "model", "cosine")} for name, chosen in subsets.items()}
        if valid:
            macro = ev.evaluate_csn(model, valid)["macro"]
            figures["valid_macro"] = {k: round(macro[k], 4) for k in ("model", "hybrid", "cosine")}
        report["settings"][text] = figures
        print(text, json.dumps(figures), flush=True)
    OUT.write_text(json.dumps(report, indent=2) + "\n")


if __name__ == "__main__":
    main()

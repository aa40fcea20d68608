"""The neural bag-of-words model (CodeSearchNet's NBoW baseline), with one embedding table.

Queries and the code of every language are spelled with one vocabulary and embedded by one table;
each encoder (the query encoder and one per language) pools its tokens with its own learned
weighted mean: every vocabulary entry has a weight per encoder, started from the token's inverse
document frequency in that encoder's data, so filler counts for little from the first step. The
query and code vectors are compared by cosine similarity.

Sharing the table is what lets a query word meet the same identifier sub-token in code: a token too
rare to be trained still has one vector on both sides, so the model matches words the way BM25 does
and learns what they mean on top of that.

A function's own name is the best summary its code holds, and a bag of words cannot tell it from any
other identifier. With `names`, the name's tokens come first in the code's ids, stored negated, and
each language's encoder adds a learned boost to their log-weights.

    model = CodeSearchModel.load("indexes/base")
    q = model.encode_queries(["send mail"])               # (1, dim), unit length
    c = model.encode_code(["def f(): ..."], "python")     # (1, dim), unit length
"""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from functools import partial
from itertools import chain, islice, repeat
from pathlib import Path
from typing import Container, Sequence

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from training.direction_head import DirectionHead
from training.tokenize import PAD_ID, Vocabulary, code_tokens, iter_code_tokens, query_tokens

QUERY = "query"
NAME_BOOST = 1.5  # a name token starts at e^1.5 (4.5) times its weight elsewhere in the code


def default_device() -> torch.device:
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


@dataclass
class ModelConfig:
    languages: list[str] = field(default_factory=lambda: ["python"])
    vocab_size: int = 50_000  # shared by the queries and every language
    embedding_dim: int = 256
    max_code_len: int = 200
    max_query_len: int = 30
    # Share of tokens dropped in training. With names weighed apart, none did best (recipe.md).
    dropout: float = 0.0
    # Cosine similarities live in [-1, 1]; scaling them gives the softmax loss a usable range. 15 was
    # the best of 7 to 30 on Go and Python (benchmarks/results/base-model/recipe.md).
    logit_scale: float = 15.0
    # Ordered word pairs as extra tokens (see tokenize.bigrams): tells "int to string" from "string to int".
    bigrams: bool = False
    # The function's own name weighed apart from the rest of its code (see the module's doc).
    names: bool = True


# A model's token ids, from its vocabulary and config alone: data preparation's worker processes
# (training.prepare) compute them without the model's tables.
def query_ids(vocabulary: Vocabulary, config: ModelConfig, text: str, spell: bool = False,
              known: Container[str] = ()) -> list[int]:
    """Ids of the text's words; with `spell`, mistyped words corrected (Vocabulary.spelled, which leaves
    the `known` words of the code searched alone), as for what people type (training reads
    documentation as written)."""
    words = query_tokens(text, config.bigrams, partial(vocabulary.spelled, known=known) if spell else None)
    return vocabulary.encode(words, config.max_query_len)


def code_ids(vocabulary: Vocabulary, config: ModelConfig, leaves: Sequence[str], name: str = "") -> list[int]:
    """Ids of the code's tokens; with `name` (the function's own), the name's ids first, negated."""
    limit = config.max_code_len
    # Lazily: `encode_code` stops at the limit, so a long function's tail is never tokenised.
    ids = vocabulary.encode_code(leaves, config.bigrams, limit)
    if name and config.names:
        ids = [-i for i in vocabulary.encode(code_tokens([name], config.bigrams), limit)] + ids
    return ids[:limit]


def read_tokens(config: ModelConfig, leaves: Sequence[str], name: str = "", doc: str = "") -> dict[str, list[str]]:
    """A unit's tokens as its model's encoders read them, before the vocabulary splits them into ids:
    its name's and its code's (those of `code_ids`, in order) and its documentation's (the query
    encoder's); what `CodeSearchModel.contributions_many` splits a score among. Cut where the encoders
    stop reading, since every token has at least one id: an index stores them with each unit, so that
    explaining a result tokenises nothing."""
    named = code_tokens([name], config.bigrams)[:config.max_code_len] if name and config.names else []
    code = islice(iter_code_tokens(leaves, config.bigrams), config.max_code_len - len(named))
    return {"name": named, "code": list(code), "doc": query_tokens(doc, config.bigrams)[:config.max_query_len] if doc else []}


class CodeSearchModel(nn.Module):
    def __init__(self, config: ModelConfig, vocabulary: Vocabulary):
        super().__init__()
        self.config = config
        self.vocabulary = vocabulary
        self.embedding = nn.Embedding(vocabulary.size, config.embedding_dim, padding_idx=PAD_ID)
        nn.init.normal_(self.embedding.weight, std=config.embedding_dim ** -0.5)
        with torch.no_grad():
            self.embedding.weight[PAD_ID].zero_()
        # Log-weights, one per vocabulary entry and encoder (see init_token_weights).
        self.token_weights = nn.ParameterDict({
            name: nn.Parameter(torch.zeros(vocabulary.size)) for name in self.encoder_names})
        if config.names:
            # Added to a name token's log-weight, per encoder (the query encoder's is never used).
            self.name_boost = nn.Parameter(torch.full((len(self.encoder_names),), NAME_BOOST))
        # The learned reading of direction saved beside the model (training.direction_head), if any: not
        # a parameter of the model, which trains without it.
        self.direction_head: DirectionHead | None = None

    @property
    def encoder_names(self) -> list[str]:
        return [QUERY, *self.config.languages]

    @property
    def languages(self) -> list[str]:
        return list(self.config.languages)

    @property
    def device(self) -> torch.device:
        return self.embedding.weight.device

    # --- token ids -------------------------------------------------------------------------------
    def query_ids(self, text: str, spell: bool = False, known: Container[str] = ()) -> list[int]:
        return query_ids(self.vocabulary, self.config, text, spell, known)

    def code_ids(self, leaves: Sequence[str], language: str, name: str = "") -> list[int]:
        self._check_language(language)
        return code_ids(self.vocabulary, self.config, leaves, name)

    def _check_language(self, language: str) -> None:
        if language not in self.languages:
            raise ValueError(f"this model has no encoder for {language!r}; it knows {', '.join(self.languages)}")

    # --- encoding --------------------------------------------------------------------------------
    def forward(self, name: str, ids: torch.Tensor) -> torch.Tensor:
        """ids (batch, length) of encoder `name` -> unit vectors (batch, dim)."""
        names, ids = ids < 0, ids.abs()
        encoder = self.encoder_names.index(name)
        return self._pool(self._log_weights(encoder, ids), ids, names, encoder)

    def forward_mixed(self, encoders: torch.Tensor, ids: torch.Tensor) -> torch.Tensor:
        """Rows of several encoders at once: row i is encoded by `encoder_names[encoders[i]]`.

        One pass over the shared table instead of one per encoder: in training, each pass's gradient
        is a dense copy of the whole table, and a batch of six languages made seven of them."""
        names, ids = ids < 0, ids.abs()
        return self._pool(self._log_weights(encoders[:, None], ids), ids, names, encoders[:, None])

    # The two lookups into the model's tables. A fine-tuned model held as its base plus the rows that
    # moved (training.delta.PatchedModel) answers them without a table of its own.
    def _log_weights(self, encoders: int | torch.Tensor, ids: torch.Tensor) -> torch.Tensor:
        """Each id's log-weight under `encoders` (one encoder's index, or one per row, broadcast)."""
        if isinstance(encoders, int):
            return self.token_weights[self.encoder_names[encoders]][ids]
        return torch.stack([self.token_weights[name] for name in self.encoder_names])[encoders, ids]

    def _table(self, ids: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(an embedding table, `ids` as rows of it)."""
        return self.embedding.weight, ids

    def _pool(self, log_weights: torch.Tensor, ids: torch.Tensor, names: torch.Tensor, encoders) -> torch.Tensor:
        if self.config.names:
            log_weights = log_weights + self.name_boost[encoders] * names
        weights = log_weights.exp() * (ids != PAD_ID)
        if self.training and self.config.dropout:
            # Dropping whole tokens (not embedding units) teaches the bag not to lean on one token.
            weights = weights * (torch.rand_like(weights) >= self.config.dropout)
        # embedding_bag never materialises the (batch, length, dim) tensor: several times faster on a CPU.
        table, rows = self._table(ids)
        pooled = F.embedding_bag(rows, table, per_sample_weights=weights, mode="sum")
        return F.normalize(pooled, dim=-1)

    @torch.no_grad()
    def init_token_weights(self, name: str, ids: torch.Tensor) -> None:
        """Start encoder `name`'s weights at each token's smoothed IDF over the rows of `ids`."""
        ordered = ids.long().abs().sort(1).values
        first = torch.ones_like(ordered, dtype=torch.bool)  # each token counted once per row
        first[:, 1:] = ordered[:, 1:] != ordered[:, :-1]
        df = torch.bincount(ordered[first], minlength=self.vocabulary.size).float()
        idf = torch.log((len(ids) + 1) / (df + 1)) + 1
        # An entry never seen here is no evidence of rarity, and its vector is untrained: it gets the
        # weight of a typical token occurrence (the median over occurrences, not over entries).
        seen = df > 0
        if seen.any():
            order = idf[seen].argsort()
            cumulative = df[seen][order].cumsum(0)
            idf[~seen] = idf[seen][order][int(torch.searchsorted(cumulative, cumulative[-1] / 2))]
        self.token_weights[name].copy_(idf.log().to(self.device))

    @torch.no_grad()
    def _encode(self, name: str, id_lists: list[list[int]], batch_size: int) -> np.ndarray:
        was_training = self.training
        self.eval()
        out = []
        for i in range(0, len(id_lists), batch_size):
            out.append(self(name, pad(id_lists[i:i + batch_size], self.device)).float().cpu().numpy())
        self.train(was_training)
        return np.concatenate(out) if out else np.zeros((0, self.config.embedding_dim), np.float32)

    def encode_queries(self, texts: Sequence[str], batch_size: int = 1024, spell: bool = True,
                       known: Container[str] = ()) -> np.ndarray:
        """What people typed, mistyped words corrected except the `known` words of the code searched
        (see Vocabulary.spelled); `spell=False` for text as written, such as docs."""
        return self._encode(QUERY, [self.query_ids(t, spell, known) for t in texts], batch_size)

    def encode_code(self, code: Sequence[str | list[str]], language: str, names: Sequence[str] | None = None,
                    batch_size: int = 1024) -> np.ndarray:
        """Code as source text (parsed with tree-sitter) or as already-extracted code tokens; `names`
        are the functions' own names (see `function_name`), by default those source text defines."""
        from training.extract import read_snippet

        self._check_language(language)
        read = [(c, "") if isinstance(c, list) else read_snippet(c, language) for c in code]
        if names is None:
            names = [function_name({"func_name": qualified}) for _, qualified in read]
        return self._encode(language, [self.code_ids(ls, language, n) for (ls, _), n in zip(read, names)],
                            batch_size)

    def encode_functions(self, functions: Sequence[dict], language: str, batch_size: int = 1024) -> np.ndarray:
        """Extracted functions (records with `code_tokens` and `func_name`), each with its name."""
        return self.encode_code([f["code_tokens"] for f in functions], language,
                                [function_name(f) for f in functions], batch_size)

    @torch.no_grad()
    def word_vectors(self, words: Sequence[str]) -> np.ndarray:
        """(words, dim) unit vectors of `words` in the table queries and code share (a word spelled
        with BPE pieces: their mean), for telling words alike from words apart (training.direction)."""
        ids = [self.vocabulary.ids_of(word) for word in words]
        if not ids:
            return np.zeros((0, self.config.embedding_dim), np.float32)
        rows = torch.tensor([i for word_ids in ids for i in word_ids], device=self.device)
        of_word = torch.tensor([n for n, word_ids in enumerate(ids) for _ in word_ids], device=self.device)
        table, rows = self._table(rows)
        summed = torch.zeros(len(ids), table.shape[1], dtype=table.dtype, device=self.device)
        return F.normalize(summed.index_add_(0, of_word, table[rows]), dim=-1).float().cpu().numpy()

    # --- why a unit matched ----------------------------------------------------------------------
    def contributions(self, query: np.ndarray, tokens: Sequence[str], encoder: str, name: str = "",
                      code: bool = True) -> list[tuple[str, bool, float]]:
        """Each token's exact term of the cosine between `query` (a vector) and the text's vector:
        the bag's vector is a weighted sum of token vectors, normalised, so its cosine with a query is
        the sum over tokens of weight x (token vector . unit query) / norm. Returns (token, from the
        name, term) per distinct token; the terms add up to the cosine. `tokens`: code leaves
        (`code`) or a text's words for the query encoder."""
        read = read_tokens(self.config, tokens, name) if code else read_tokens(self.config, (), doc=" ".join(tokens))
        return self.contributions_many(query, [(encoder, read["name"], read["code"] if code else read["doc"])])[0]

    @torch.no_grad()
    def contributions_many(self, query: np.ndarray, texts: Sequence[tuple[str, Sequence[str], Sequence[str]]]
                           ) -> list[list[tuple[str, bool, float]]]:
        """`contributions` of each of `texts`, (encoder, the name's tokens, the other tokens) each as
        `read_tokens` gives them, in one pass over the model's tables: a search explains ten results
        and their docs, and a pass each cost ten times as much in tensor calls as in arithmetic."""
        keys, of_key, ids, of_bag = [], [], [], []
        for b, text in enumerate(texts):
            self._bag(b, *text, keys, of_key, ids)
            of_bag += [b] * (len(ids) - len(of_bag))
        if not ids:
            return [[] for _ in texts]
        index, of_bag = torch.tensor(ids, device=self.device), torch.tensor(of_bag, device=self.device)
        of_key = torch.tensor(of_key, device=self.device)
        encoders = torch.tensor([self.encoder_names.index(text[0]) for text in texts], device=self.device)[of_bag]
        log_weights = torch.empty(len(ids), device=self.device)
        for encoder in encoders.unique().tolist():
            mine = encoders == encoder
            log_weights[mine] = self._log_weights(encoder, index[mine])
        if self.config.names:
            named = torch.tensor([in_name for _, _, in_name in keys], device=self.device)[of_key]
            log_weights = log_weights + self.name_boost[encoders] * named
        table, rows = self._table(index)
        weighted = log_weights.exp()[:, None] * table[rows]
        norms = torch.zeros(len(texts), weighted.shape[1], dtype=weighted.dtype, device=self.device)
        norms = norms.index_add_(0, of_bag, weighted).norm(dim=1).clamp_min(1e-12)
        unit_query = torch.as_tensor(query, dtype=weighted.dtype, device=self.device)
        terms = weighted @ (unit_query / unit_query.norm().clamp_min(1e-12)) / norms[of_bag]
        summed = torch.zeros(len(keys), dtype=terms.dtype, device=self.device).index_add_(0, of_key, terms)
        out: list[list[tuple[str, bool, float]]] = [[] for _ in texts]
        for (b, token, in_name), term in zip(keys, summed.cpu().tolist()):
            out[b].append((token, in_name, term))
        return out

    def _bag(self, text: int, encoder: str, named: Sequence[str], tokens: Sequence[str], keys: list, of_key: list,
             ids: list) -> None:
        """Append to `ids` the ids of text number `text`, as far as its encoder reads, to `keys` its
        distinct (text, token, from the name), and to `of_key` each id's position in `keys`."""
        limit, read = (self.config.max_query_len if encoder == QUERY else self.config.max_code_len), 0
        seen: dict[tuple[str, bool], int] = {}
        for token, in_name in chain(zip(named, repeat(True)), zip(tokens, repeat(False))):
            if read >= limit:
                break
            found = self.vocabulary.ids_of(token)[:limit - read]
            key = seen.setdefault((token, in_name), len(keys) + len(seen))
            of_key += [key] * len(found)
            ids += found
            read += len(found)
        keys += [(text, token, in_name) for token, in_name in seen]

    # --- persistence -----------------------------------------------------------------------------
    def save(self, directory: str | Path) -> None:
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        (directory / "config.json").write_text(json.dumps(asdict(self.config), indent=2) + "\n")
        self.vocabulary.save(directory / "tokenizer")
        torch.save({k: v.cpu() for k, v in self.state_dict().items()}, directory / "model.pt")
        if self.direction_head is not None:
            self.direction_head.save(directory)

    @classmethod
    def load(cls, directory: str | Path, device: torch.device | str | None = None) -> "CodeSearchModel":
        directory = Path(directory)
        if not (directory / "model.pt").is_file():
            raise FileNotFoundError(f"no model in {directory} (expected config.json, model.pt, tokenizer/)")
        if not (directory / "tokenizer").is_dir():
            raise FileNotFoundError(f"{directory} holds a model of an older format (one vocabulary per encoder); "
                                    "train it again")
        model = cls(load_config(directory), Vocabulary.load(directory / "tokenizer"))
        # Memory-mapped (copy on write) and kept so: every search process that loads a base model shares
        # its pages, the embedding table above all, instead of holding a copy each.
        model.load_state_dict(torch.load(directory / "model.pt", map_location="cpu", weights_only=True, mmap=True),
                              assign=True)
        model.direction_head = DirectionHead.load(directory)
        return model.to(device or default_device()).eval()


def load_config(directory: str | Path) -> ModelConfig:
    """The config of the model saved in `directory`."""
    saved = json.loads((Path(directory) / "config.json").read_text())
    saved.setdefault("names", False)  # saved before names were weighed apart
    return ModelConfig(**{**asdict(ModelConfig()), **saved})


def function_name(record: dict) -> str:
    """The function's own name: `send_mail` of `EmailBackend.send_mail`."""
    return record.get("func_name", "").rsplit(".", 1)[-1]


def pad(id_lists: Sequence[Sequence[int]], device: torch.device | str = "cpu") -> torch.Tensor:
    width = max((len(ids) for ids in id_lists), default=1) or 1
    out = torch.full((len(id_lists), width), PAD_ID, dtype=torch.long)
    for row, ids in enumerate(id_lists):
        if ids:
            out[row, :len(ids)] = torch.as_tensor(ids, dtype=torch.long)
    return out.to(device)

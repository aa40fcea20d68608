"""The neural bag-of-words model (CodeSearchNet's NBoW baseline).

Each encoder embeds its tokens, pools them with a learned weighted mean (a per-token weight from
the embedding itself, so frequent filler tokens learn to count for little), and the query and code
vectors are compared by cosine similarity. One code encoder per language, one query encoder.

    model = CodeSearchModel.load("indexes/base")
    q = model.encode_queries(["send mail"])               # (1, dim), unit length
    c = model.encode_code(["def f(): ..."], "python")     # (1, dim), unit length
"""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Sequence

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from training.tokenize import PAD_ID, Vocabulary, code_tokens, query_tokens

QUERY = "query"


def default_device() -> torch.device:
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


@dataclass
class ModelConfig:
    languages: list[str] = field(default_factory=lambda: ["python"])
    vocab_size: int = 10_000
    embedding_dim: int = 128
    max_code_len: int = 200
    max_query_len: int = 30
    dropout: float = 0.1
    # Cosine similarities live in [-1, 1]; scaling them gives the softmax loss a usable range.
    logit_scale: float = 20.0
    # Ordered word pairs as extra tokens (see tokenize.bigrams): tells "int to string" from "string to int".
    bigrams: bool = False


class NBoWEncoder(nn.Module):
    def __init__(self, vocab_size: int, dim: int, dropout: float):
        super().__init__()
        self.embedding = nn.Embedding(vocab_size, dim, padding_idx=PAD_ID)
        self.token_weight = nn.Linear(dim, 1)
        self.dropout = nn.Dropout(dropout)
        nn.init.normal_(self.embedding.weight, std=dim ** -0.5)
        with torch.no_grad():
            self.embedding.weight[PAD_ID].zero_()

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        """ids (batch, length) -> unit vectors (batch, dim)."""
        # A token's weight depends only on its embedding, so it is one scalar per vocabulary entry:
        # computing it per vocabulary entry and pooling with embedding_bag never materialises the
        # (batch, length, dim) tensor, which makes training several times faster on a CPU.
        per_token = torch.sigmoid(self.embedding.weight @ self.token_weight.weight[0] + self.token_weight.bias)
        # Dropout of whole tokens (not of embedding units) teaches the bag not to lean on one token.
        keep = self.dropout(torch.ones_like(ids, dtype=per_token.dtype)) * (ids != PAD_ID)
        weights = per_token[ids] * keep
        pooled = F.embedding_bag(ids, self.embedding.weight, per_sample_weights=weights, mode="sum")
        return F.normalize(pooled / weights.sum(1, keepdim=True).clamp_min(1e-6), dim=-1)


class CodeSearchModel(nn.Module):
    def __init__(self, config: ModelConfig, vocabularies: dict[str, Vocabulary]):
        super().__init__()
        self.config = config
        self.vocabularies = vocabularies
        self.encoders = nn.ModuleDict({
            name: NBoWEncoder(vocabularies[name].size, config.embedding_dim, config.dropout)
            for name in [QUERY, *config.languages]
        })

    @property
    def languages(self) -> list[str]:
        return list(self.config.languages)

    @property
    def device(self) -> torch.device:
        return next(self.parameters()).device

    # --- token ids -------------------------------------------------------------------------------
    def query_ids(self, text: str) -> list[int]:
        return self.vocabularies[QUERY].encode(query_tokens(text, self.config.bigrams), self.config.max_query_len)

    def code_ids(self, leaves: Sequence[str], language: str) -> list[int]:
        self._check_language(language)
        return self.vocabularies[language].encode(code_tokens(leaves, self.config.bigrams), self.config.max_code_len)

    def _check_language(self, language: str) -> None:
        if language not in self.encoders or language == QUERY:
            raise ValueError(f"this model has no encoder for {language!r}; it knows {', '.join(self.languages)}")

    # --- encoding --------------------------------------------------------------------------------
    def forward(self, name: str, ids: torch.Tensor) -> torch.Tensor:
        return self.encoders[name](ids)

    @torch.no_grad()
    def _encode(self, name: str, id_lists: list[list[int]], batch_size: int) -> np.ndarray:
        was_training = self.training
        self.eval()
        out = []
        for i in range(0, len(id_lists), batch_size):
            out.append(self(name, pad(id_lists[i:i + batch_size], self.device)).float().cpu().numpy())
        self.train(was_training)
        return np.concatenate(out) if out else np.zeros((0, self.config.embedding_dim), np.float32)

    def encode_queries(self, texts: Sequence[str], batch_size: int = 1024) -> np.ndarray:
        return self._encode(QUERY, [self.query_ids(t) for t in texts], batch_size)

    def encode_code(self, code: Sequence[str | list[str]], language: str, batch_size: int = 1024) -> np.ndarray:
        """Code as source text (parsed with tree-sitter) or as already-extracted code tokens."""
        from training.extract import source_leaves

        self._check_language(language)
        leaves = [c if isinstance(c, list) else source_leaves(c, language) for c in code]
        return self._encode(language, [self.code_ids(ls, language) for ls in leaves], batch_size)

    # --- persistence -----------------------------------------------------------------------------
    def save(self, directory: str | Path) -> None:
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        (directory / "config.json").write_text(json.dumps(asdict(self.config), indent=2) + "\n")
        for name, vocab in self.vocabularies.items():
            vocab.save(directory / "tokenizers" / name)
        torch.save({k: v.cpu() for k, v in self.state_dict().items()}, directory / "model.pt")

    @classmethod
    def load(cls, directory: str | Path, device: torch.device | str | None = None) -> "CodeSearchModel":
        directory = Path(directory)
        if not (directory / "model.pt").is_file():
            raise FileNotFoundError(f"no model in {directory} (expected config.json, model.pt, tokenizers/)")
        config = ModelConfig(**{**asdict(ModelConfig()), **json.loads((directory / "config.json").read_text())})
        vocabularies = {name: Vocabulary.load(directory / "tokenizers" / name) for name in [QUERY, *config.languages]}
        model = cls(config, vocabularies)
        model.load_state_dict(torch.load(directory / "model.pt", map_location="cpu", weights_only=True))
        return model.to(device or default_device()).eval()


def pad(id_lists: Sequence[Sequence[int]], device: torch.device | str = "cpu") -> torch.Tensor:
    width = max((len(ids) for ids in id_lists), default=1) or 1
    out = torch.full((len(id_lists), width), PAD_ID, dtype=torch.long)
    for row, ids in enumerate(id_lists):
        if ids:
            out[row, :len(ids)] = torch.as_tensor(ids, dtype=torch.long)
    return out.to(device)

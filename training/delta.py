"""A fine-tuned repository model stored and served as its difference from the base model it was tuned
from.

Fine-tuning moves only the rows of the tokens a repository uses (and adds its own new words), so a
repository's model is those rows: each moved row's change from the base's row (a new word's whole
row), each encoder's weight changes for the same tokens, and the name boosts. The base is loaded once
per process and shared by every repository (training.index.load_index_model); the changed rows stay
in memory-mapped files that every worker process shares, and a query reads only its own tokens'
rows. Saved as a directory:

    delta.json           format, the base's directory (relative to this one), the added words, the
                         name boosts, the rows' dtype
    ids.npy              the fine-tuned vocabulary's ids whose rows moved, sorted (int32)
    embedding.npy        their embedding rows minus the base's (n x dim)
    weights.npy          their log-weights minus the base's, per encoder (encoders x n)

    patched = PatchedModel.from_models(tuned, base)          # in memory, rows as float16
    patched.save(directory, base_dir)                          # base_dir: where `base` is saved
    PatchedModel.load(directory, base)                         # base: that saved model, loaded
"""
from __future__ import annotations

import json
import os
from dataclasses import replace
from pathlib import Path

import numpy as np
import torch
from torch import nn

from training.model import CodeSearchModel
from training.tokenize import ExtendedVocabulary

FORMAT = 1
FILE = "delta.json"


def is_delta(directory: str | Path) -> bool:
    return (Path(directory) / FILE).is_file()


class PatchedModel(CodeSearchModel):
    """`base` (shared, never copied) with the rows that fine-tuning moved; encodes exactly as the
    fine-tuned model did, up to the rows' dtype. For serving: it is not trained."""

    def __init__(self, base: CodeSearchModel, added: list[str], ids: np.ndarray, embedding: np.ndarray,
                 weights: np.ndarray, name_boost: list[float] | None):
        nn.Module.__init__(self)
        self.config = replace(base.config)
        self.vocabulary = ExtendedVocabulary(base.vocabulary, added)
        # Kept out of the module tree: the base belongs to every repository of the process.
        object.__setattr__(self, "base", base)
        self.direction_head = base.direction_head  # fine-tuning leaves it as the base learned it
        self._words, self._added = base.vocabulary._offset, len(added)
        self.ids = torch.from_numpy(np.asarray(ids, dtype=np.int64))
        self.embedding_delta, self.weights_delta = embedding, weights  # numpy, possibly memory-mapped
        if name_boost is not None:
            self.name_boost = nn.Parameter(torch.tensor(name_boost), requires_grad=False)
        self.eval()

    @property
    def device(self) -> torch.device:
        return self.base.device

    @property
    def rows(self) -> int:
        return len(self.ids)

    def _base_ids(self, ids: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Each id's row in the base (0 for an added word), and which ids are added words."""
        added = (ids >= self._words) & (ids < self._words + self._added)
        shifted = torch.where(ids >= self._words + self._added, ids - self._added, ids)
        return shifted.masked_fill(added, 0), added

    def _moved(self, ids: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Which ids have a stored change, and the position of each one's."""
        position = torch.searchsorted(self.ids, ids).clamp_max(max(len(self.ids) - 1, 0))
        moved = self.ids[position] == ids if len(self.ids) else torch.zeros_like(ids, dtype=torch.bool)
        return moved, position[moved]

    def _log_weights(self, encoders, ids):
        base_ids, added = self._base_ids(ids)
        log_weights = self.base._log_weights(encoders, base_ids).masked_fill(added, 0.0)
        moved, position = self._moved(ids)
        if moved.any():
            encoder = torch.as_tensor(encoders).expand_as(ids)[moved]
            change = self.weights_delta[encoder.numpy(), position.numpy()]
            log_weights[moved] += torch.from_numpy(np.asarray(change, dtype=np.float32))
        return log_weights

    def _table(self, ids):
        unique, rows = torch.unique(ids, return_inverse=True)
        base_ids, added = self._base_ids(unique)
        # Zeroed by a product: a broadcast masked_fill took milliseconds on a busy machine.
        table = self.base.embedding.weight[base_ids] * (~added)[:, None]
        moved, position = self._moved(unique)
        if moved.any():
            table[moved] += torch.from_numpy(np.asarray(self.embedding_delta[position.numpy()], dtype=np.float32))
        return table, rows

    @classmethod
    @torch.no_grad()
    def from_models(cls, tuned: CodeSearchModel, base: CodeSearchModel, dtype=np.float16) -> "PatchedModel":
        """`tuned` (fine-tuned from `base` by training.finetune, whose vocabulary adds words after the
        base's) as its changes from `base`, stored as `dtype`."""
        vocabulary = tuned.vocabulary
        added = list(vocabulary.added) if isinstance(vocabulary, ExtendedVocabulary) else \
            [w for w, i in sorted(vocabulary.words.get_vocab().items(), key=lambda kv: kv[1])
             if i >= base.vocabulary._offset]
        shell = cls(base, added, np.zeros(0, np.int64), np.zeros((0, base.config.embedding_dim), dtype),
                    np.zeros((len(base.encoder_names), 0), dtype), None)
        every = torch.arange(vocabulary.size)
        base_ids, new = shell._base_ids(every)
        tuned_table = tuned.embedding.weight.detach().cpu()
        embedding = tuned_table - base.embedding.weight.detach().cpu()[base_ids].masked_fill(new[:, None], 0.0)
        weights = torch.stack([tuned.token_weights[name].detach().cpu()
                               - base.token_weights[name].detach().cpu()[base_ids].masked_fill(new, 0.0)
                               for name in tuned.encoder_names])
        moved = (embedding != 0).any(1) | (weights != 0).any(0) | new
        ids = moved.nonzero().flatten()
        boost = tuned.name_boost.detach().cpu().tolist() if tuned.config.names else None
        return cls(base, added, ids.numpy(), embedding[ids].numpy().astype(dtype),
                   weights[:, ids].numpy().astype(dtype), boost)

    def save(self, directory: str | Path, base_dir: str | Path | None = None) -> None:
        """Write the delta; `base_dir` is where its base model is saved (needed once: a loaded delta
        remembers its own)."""
        directory = Path(directory)
        base_dir = Path(base_dir) if base_dir is not None else getattr(self, "base_dir", None)
        if base_dir is None:
            raise ValueError("a delta needs the directory of its base model")
        directory.mkdir(parents=True, exist_ok=True)
        np.save(directory / "ids.npy", self.ids.numpy().astype(np.int32))
        np.save(directory / "embedding.npy", np.asarray(self.embedding_delta))
        np.save(directory / "weights.npy", np.asarray(self.weights_delta))
        (directory / FILE).write_text(json.dumps({
            "format": FORMAT, "base": os.path.relpath(Path(base_dir).resolve(), directory.resolve()),
            "added": self.vocabulary.added, "rows": self.rows, "dtype": str(np.asarray(self.embedding_delta).dtype),
            "name_boost": self.name_boost.tolist() if self.config.names else None}) + "\n")

    @staticmethod
    def base_dir_of(directory: str | Path) -> Path:
        """Where the base of the delta saved in `directory` lives."""
        return (Path(directory) / json.loads((Path(directory) / FILE).read_text())["base"]).resolve()

    @classmethod
    def load(cls, directory: str | Path, base: CodeSearchModel) -> "PatchedModel":
        """The delta in `directory` over `base` (the model saved in `base_dir_of(directory)`); its rows
        stay memory-mapped."""
        directory = Path(directory)
        saved = json.loads((directory / FILE).read_text())
        if saved.get("format") != FORMAT:
            raise ValueError(f"{directory}: a model delta of format {saved.get('format')}; rebuild the index")
        model = cls(base, saved["added"], np.load(directory / "ids.npy"),
                    np.load(directory / "embedding.npy", mmap_mode="r"),
                    np.load(directory / "weights.npy", mmap_mode="r"), saved["name_boost"])
        model.base_dir = cls.base_dir_of(directory)
        return model

"""One training loop for the base model and per-repository fine-tuning; features are callbacks.

    trainer = Trainer(model, train_pairs, valid_pairs, TrainConfig(), callbacks=[...])
    history = trainer.fit()

Batches mix languages in proportion to their data (a global shuffle of all pairs); the loss is
softmax cross-entropy over the in-batch query-code cosine similarities, the diagonal being the match.
"""
from __future__ import annotations

import itertools
import json
import math
import os
import random
import resource
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Iterable, Iterator

import numpy as np
import torch
from torch.nn import functional as F
from tqdm import tqdm

from training.evaluate import mrr
from training.model import QUERY, CodeSearchModel, ModelConfig, code_ids, default_device, function_name, query_ids
from training.tokenize import PAD_ID, Vocabulary, code_tokens, query_tokens, subtokens

if TYPE_CHECKING:
    from training.prepare import Prepared


@dataclass
class TrainConfig:
    epochs: int = 30
    batch_size: int = 1000
    lr: float = 0.01
    weight_decay: float = 0.0
    warmup_steps: int = 100
    grad_clip: float = 1.0
    patience: int = 3
    seed: int = 0
    name_queries: bool = True
    max_minutes: float | None = None
    wandb: bool = True


# --- data ----------------------------------------------------------------------------------------
@dataclass
class Pairs:
    """Query/code id pairs of several languages, padded into int32 tensors."""

    languages: list[str]
    language: torch.Tensor  # (n,) index into `languages`
    code: torch.Tensor      # (n, max_code_len)
    query: torch.Tensor     # (n, max_query_len)

    def __len__(self) -> int:
        return len(self.language)

    @classmethod
    def from_records(cls, records: Iterable[dict], model: CodeSearchModel, name_queries: bool = False) -> "Pairs":
        """The pairs of each record of the model's languages (`record_pairs`)."""
        langs, codes, queries = [], [], []
        index = {lang: i for i, lang in enumerate(model.languages)}
        for r in records:
            if r["language"] not in index:
                continue
            for query, code in record_pairs(model.vocabulary, model.config, r, name_queries):
                langs.append(index[r["language"]])
                codes.append(code)
                queries.append(query)
        return cls(model.languages, torch.tensor(langs, dtype=torch.long),
                   pad32(codes, model.config.max_code_len), pad32(queries, model.config.max_query_len))

    def subset(self, idx: torch.Tensor) -> "Pairs":
        return Pairs(self.languages, self.language[idx], self.code[idx], self.query[idx])


def record_pairs(vocabulary: Vocabulary, config: ModelConfig, record: dict,
                 name_queries: bool = False) -> list[tuple[list[int], list[int]]]:
    """A record's (query ids, code ids) pairs: its documentation summary -> its code; with
    `name_queries`, also its function name's words -> its code with the name hidden.

    A name pair asks for the function the way people search for `send_mail` by typing "send mail";
    one-word names ("run", "get") say too little to make one.
    """
    name = function_name(record)
    pairs = [(query_ids(vocabulary, config, record["summary"]), code_ids(vocabulary, config, record["code_tokens"], name))]
    if name_queries and len(subtokens(name)) > 1:
        pairs.append((query_ids(vocabulary, config, " ".join(subtokens(name))),
                      code_ids(vocabulary, config, [t for t in record["code_tokens"] if t != name])))
    return [(query, code) for query, code in pairs if query and code]


def pad32(id_lists: list[list[int]], width: int) -> torch.Tensor:
    lengths = np.fromiter((min(len(ids), width) for ids in id_lists), np.int64, len(id_lists))
    out = np.full((len(id_lists), width), PAD_ID, np.int32)
    # Row-major, as a boolean mask fills: one copy of all the ids instead of a tensor per row.
    out[np.arange(width) < lengths[:, None]] = np.fromiter(
        itertools.chain.from_iterable(ids[:width] for ids in id_lists), np.int32, int(lengths.sum()))
    return torch.from_numpy(out)


def _trim(ids: torch.Tensor, device) -> torch.Tensor:
    """Drop all-padding columns: most batches are far shorter than the maximum length."""
    used = int((ids != PAD_ID).any(0).nonzero().max()) + 1 if ids.numel() and (ids != PAD_ID).any() else 1
    return ids[:, :used].to(device=device, dtype=torch.long)


def encode_pairs(model: CodeSearchModel, pairs: Pairs, batch_size: int = 2000) -> tuple[np.ndarray, np.ndarray]:
    """Unit vectors for every query and every code of `pairs` (in order)."""
    device = model.device
    q_out = torch.zeros(len(pairs), model.config.embedding_dim)
    c_out = torch.zeros(len(pairs), model.config.embedding_dim)
    was_training = model.training
    model.eval()
    with torch.no_grad():
        for start in range(0, len(pairs), batch_size):
            sl = slice(start, start + batch_size)
            q_out[sl] = model(QUERY, _trim(pairs.query[sl], device)).cpu()
            c_out[sl] = _encode_codes(model, pairs.subset(torch.arange(len(pairs))[sl]), device).cpu()
    model.train(was_training)
    return q_out.numpy(), c_out.numpy()


def _encode_codes(model: CodeSearchModel, batch: Pairs, device) -> torch.Tensor:
    """Every row by its own language's encoder, in one pass (see CodeSearchModel.forward_mixed)."""
    encoder = torch.tensor([model.encoder_names.index(lang) for lang in batch.languages])[batch.language]
    return model.forward_mixed(encoder.to(device), _trim(batch.code, device))


def validation_mrr(model: CodeSearchModel, pairs: Pairs) -> dict[str, float]:
    """CodeSearchNet MRR per language and their macro average. Each language's pairs are shuffled (the
    same way every time) before they are cut into groups of 1,000, as the test evaluation does: pairs
    of one package lie together, and one another's distractors they are far harder than most."""
    queries, codes = encode_pairs(model, pairs)
    scores = {}
    for i, lang in enumerate(pairs.languages):
        rows = np.random.default_rng(0).permutation(np.flatnonzero((pairs.language == i).numpy()))
        if len(rows):
            scores[lang] = mrr(queries[rows], codes[rows])
    scores["macro"] = float(np.mean(list(scores.values()))) if scores else 0.0
    return scores


# --- callbacks -----------------------------------------------------------------------------------
class Callback:
    """Hooks the loop calls; `trainer` exposes model, optimizer, config, state and `stop`."""

    def on_train_begin(self, trainer: "Trainer") -> None: ...
    def on_step_end(self, trainer: "Trainer", loss: float) -> None: ...
    def on_epoch_end(self, trainer: "Trainer", metrics: dict) -> None: ...
    def on_train_end(self, trainer: "Trainer") -> None: ...


class EarlyStopping(Callback):
    """Stop when validation MRR has not improved for `patience` epochs."""

    def __init__(self, patience: int):
        self.patience = patience

    def on_epoch_end(self, trainer, metrics):
        if trainer.state["epochs_since_best"] >= self.patience:
            trainer.stop = True


class TimeLimit(Callback):
    """Stop after the epoch during which `minutes` ran out (the best epoch so far is what is kept)."""

    def __init__(self, minutes: float):
        self.seconds = minutes * 60

    def on_train_begin(self, trainer):
        self.started = time.time()

    def on_epoch_end(self, trainer, metrics):
        if time.time() - self.started > self.seconds:
            tqdm.write(f"time limit of {self.seconds / 60:.0f} min reached")
            trainer.stop = True


class Checkpoint(Callback):
    """Save the best model (as a loadable model directory) and a resumable training state."""

    def __init__(self, out: Path):
        self.out = Path(out)

    def on_epoch_end(self, trainer, metrics):
        if trainer.state["epochs_since_best"] == 0:
            trainer.model.save(self.out)
        torch.save({"state": trainer.state, "model": trainer.model.state_dict(),
                    "optimizer": trainer.optimizer.state_dict(), "scheduler": trainer.scheduler.state_dict(),
                    "rng": torch.get_rng_state()}, self.out / "checkpoint.pt")

    @staticmethod
    def restore(trainer: "Trainer", path: Path) -> bool:
        if not path.is_file():
            return False
        saved = torch.load(path, map_location="cpu", weights_only=False)
        trainer.model.load_state_dict(saved["model"])
        trainer.optimizer.load_state_dict(saved["optimizer"])
        trainer.scheduler.load_state_dict(saved["scheduler"])
        trainer.state.update(saved["state"])
        torch.set_rng_state(saved["rng"])
        return True


class History(Callback):
    """Training curves as history.json and training_curves.png beside the model."""

    def __init__(self, out: Path):
        self.out = Path(out)

    def on_step_end(self, trainer, loss):
        trainer.state["history"]["loss"].append((trainer.state["step"], loss))

    def on_epoch_end(self, trainer, metrics):
        trainer.state["history"]["valid"].append({"epoch": trainer.state["epoch"], **metrics})
        (self.out / "history.json").write_text(json.dumps(trainer.state["history"], indent=1) + "\n")
        plot_history(trainer.state["history"], self.out / "training_curves.png")


class WandbLogger(Callback):
    """wandb run, offline unless the user configured an account (WANDB_API_KEY or WANDB_MODE)."""

    def __init__(self, out: Path, config: dict):
        self.out, self.config, self.run = Path(out), config, None

    def on_train_begin(self, trainer):
        import wandb

        mode = os.environ.get("WANDB_MODE") or ("online" if os.environ.get("WANDB_API_KEY") else "offline")
        self.run = wandb.init(project=os.environ.get("WANDB_PROJECT", "codesearch"), dir=str(self.out),
                              mode=mode, config=self.config, reinit="finish_previous")

    def on_step_end(self, trainer, loss):
        if trainer.state["step"] % 10 == 0:
            self.run.log({"train/loss": loss, "train/lr": trainer.scheduler.get_last_lr()[0]},
                         step=trainer.state["step"])

    def on_epoch_end(self, trainer, metrics):
        self.run.log({f"valid/mrr_{k}": v for k, v in metrics.items()}, step=trainer.state["step"])

    def on_train_end(self, trainer):
        self.run.finish()


def plot_history(history: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import MaxNLocator

    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 3.5))
    if history["loss"]:
        steps, losses = zip(*history["loss"])
        left.plot(steps, losses, lw=0.8)
    left.set(title="training loss", xlabel="step", ylabel="cross-entropy")
    for key in sorted({k for row in history["valid"] for k in row} - {"epoch"}):
        right.plot([r["epoch"] for r in history["valid"]], [r.get(key) for r in history["valid"]],
                   marker="o", label=key, lw=2 if key == "macro" else 1)
    right.set(title="validation MRR", xlabel="epoch", ylabel="MRR")
    right.xaxis.set_major_locator(MaxNLocator(integer=True, min_n_ticks=1))  # whole epochs, one too
    right.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


# --- the loop ------------------------------------------------------------------------------------
class Trainer:
    def __init__(self, model: CodeSearchModel, train: Pairs, valid: Pairs, config: TrainConfig,
                 callbacks: list[Callback] = ()):
        if len(train) == 0:
            raise ValueError("no training pairs: the corpus has no usable documented functions")
        self.model, self.train_pairs, self.valid_pairs = model, train, valid
        self.config, self.callbacks = config, list(callbacks)
        self.device = model.device
        # The fused kernel updates the whole embedding table in one pass: on a CPU a step of the
        # 100,000-row table takes 0.03 s instead of 0.43 s, with the same arithmetic.
        self.optimizer = torch.optim.Adam(model.parameters(), lr=config.lr, weight_decay=config.weight_decay,
                                          fused=self.device.type in ("cpu", "cuda"))
        total = config.epochs * math.ceil(len(train) / config.batch_size)
        warmup = min(config.warmup_steps, max(total // 10, 1))

        def schedule(step: int) -> float:  # linear warm-up, then cosine decay to a tenth
            if step < warmup:
                return (step + 1) / warmup
            progress = min((step - warmup) / max(total - warmup, 1), 1.0)
            return 0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * progress))

        self.scheduler = torch.optim.lr_scheduler.LambdaLR(self.optimizer, schedule)
        self.state = {"epoch": 0, "step": 0, "best": -1.0, "best_epoch": 0, "epochs_since_best": 0,
                      "history": {"loss": [], "valid": []}}
        self.stop = False

    def _emit(self, hook: str, *args) -> None:
        for cb in self.callbacks:
            getattr(cb, hook)(self, *args)

    def fit(self) -> dict:
        seed_everything(self.config.seed + self.state["epoch"])
        self._emit("on_train_begin")
        n = len(self.train_pairs)
        while self.state["epoch"] < self.config.epochs and not self.stop:
            self.model.train()
            order = torch.randperm(n)
            batches = range(0, n, self.config.batch_size)
            bar = tqdm(batches, desc=f"epoch {self.state['epoch'] + 1}/{self.config.epochs}", unit="batch",
                       leave=False)
            for start in bar:
                batch = self.train_pairs.subset(order[start:start + self.config.batch_size])
                if len(batch) < 2:
                    continue
                loss = self._step(batch)
                bar.set_postfix(loss=f"{loss:.3f}")
                self._emit("on_step_end", loss)
            self.state["epoch"] += 1
            metrics = validation_mrr(self.model, self.valid_pairs) if len(self.valid_pairs) else {}
            score = metrics.get("macro", -self.state["history"]["loss"][-1][1] if self.state["history"]["loss"] else 0)
            if score > self.state["best"]:
                self.state.update(best=score, best_epoch=self.state["epoch"], epochs_since_best=0)
            else:
                self.state["epochs_since_best"] += 1
            tqdm.write(f"epoch {self.state['epoch']}: valid MRR " +
                       ", ".join(f"{k} {v:.3f}" for k, v in metrics.items()))
            self._emit("on_epoch_end", metrics)
        self._emit("on_train_end")
        return self.state

    def _step(self, batch: Pairs) -> float:
        queries = self.model(QUERY, _trim(batch.query, self.device))
        codes = _encode_codes(self.model, batch, self.device)
        logits = self.model.config.logit_scale * queries @ codes.T
        loss = F.cross_entropy(logits, torch.arange(len(batch), device=self.device))
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(self.model.parameters(), self.config.grad_clip)
        self.optimizer.step()
        self.scheduler.step()
        self.state["step"] += 1
        return loss.item()


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


# --- entry points --------------------------------------------------------------------------------
def build_model(records: list[dict], config: ModelConfig) -> CodeSearchModel:
    """A fresh model whose vocabulary is learned from `records` (the training partition)."""
    streams = [(query_tokens(r["summary"], config.bigrams) for r in records)]
    streams += [_code_stream(records, language, config.bigrams) for language in config.languages]
    return CodeSearchModel(config, Vocabulary.build_shared(streams, config.vocab_size))


def _code_stream(records: list[dict], language: str, bigrams: bool) -> Iterator[list[str]]:
    # A function, not a generator expression in the list above: that would read `language` when it
    # runs, by then the last language for every stream.
    return (code_tokens(r["code_tokens"], bigrams) for r in records if r["language"] == language)


def init_token_weights(model: CodeSearchModel, pairs: Pairs) -> None:
    """Every encoder's token weights start at the tokens' IDF in its side of `pairs`."""
    model.init_token_weights(QUERY, pairs.query)
    for i, lang in enumerate(pairs.languages):
        if (pairs.language == i).any():
            model.init_token_weights(lang, pairs.code[pairs.language == i])


def train(train_records: list[dict] | None, valid_records: list[dict] | None, out: str | Path,
          model_config: ModelConfig | None = None, config: TrainConfig | None = None,
          model: CodeSearchModel | None = None, resume: bool = True,
          callbacks: Iterable[Callback] = (), prepared: Prepared | None = None) -> tuple[CodeSearchModel, dict]:
    """Train (or fine-tune `model`) and save the best epoch to `out`; returns the best model and state.
    The data is `train_records` and `valid_records`, or a corpus already `prepared` (training.prepare:
    its vocabulary and pairs) for a fresh model."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    config = config or TrainConfig()
    seed_everything(config.seed)
    fresh = model is None
    started = time.time()
    if prepared is not None:
        model_config = model_config or ModelConfig(languages=prepared.train.languages)
        model = CodeSearchModel(model_config, prepared.vocabulary)
        train_pairs, valid_pairs = prepared.train, prepared.valid
    else:
        if fresh:
            languages = sorted({r["language"] for r in train_records})
            model_config = model_config or ModelConfig(languages=languages)
            model_config.languages = languages
            model = build_model(train_records, model_config)
        train_pairs = Pairs.from_records(train_records, model, name_queries=config.name_queries)
        valid_pairs = Pairs.from_records(valid_records, model)
    model.to(default_device())
    if fresh:
        init_token_weights(model, train_pairs)
    data_seconds = time.time() - started + (prepared.seconds if prepared else 0.0)
    standard: list[Callback] = [EarlyStopping(config.patience), History(out), Checkpoint(out)]
    if config.max_minutes:
        standard.insert(0, TimeLimit(config.max_minutes))
    if config.wandb:
        standard.append(WandbLogger(out, {"model": asdict(model.config), "train": asdict(config)}))
    trainer = Trainer(model, train_pairs, valid_pairs, config, [*standard, *callbacks])
    if resume and Checkpoint.restore(trainer, out / "checkpoint.pt"):
        tqdm.write(f"resuming from epoch {trainer.state['epoch']}")
    state = trainer.fit()
    summary = {"best_valid_mrr": state["best"], "best_epoch": state["best_epoch"], "epochs": state["epoch"],
               "train_pairs": len(train_pairs), "valid_pairs": len(valid_pairs),
               "data_seconds": round(data_seconds, 1), "seconds": round(time.time() - started, 1),
               "pairs_per_second": round(len(train_pairs) * state["epoch"] / max(time.time() - started, 1e-9)),
               "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024,  # Linux: kilobytes
               "peak_worker_rss_mb": prepared.worker_rss_mb if prepared else None}
    (out / "training.json").write_text(json.dumps(summary, indent=2) + "\n")
    (out / "checkpoint.pt").unlink(missing_ok=True)
    return CodeSearchModel.load(out), summary

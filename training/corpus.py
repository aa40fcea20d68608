"""CodeSearchNet-format corpora: reading, writing, and building one from packages (training.sources).

Layout written (and read), as CodeSearchNet ships it:
    DIR/{language}/final/jsonl/{train,valid,test}/{language}_{partition}_0.jsonl.gz
    DIR/stats.json
Units of work are packages (a registry's package, or a top-level directory or module under a local
source root); the split is by package so near-duplicates don't leak from train into test, and a
finished package is cached under DIR/.work so an interrupted build resumes where it stopped.
"""
from __future__ import annotations

import gzip
import hashlib
import json
import os
import re
import time
from collections import Counter, defaultdict, deque
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, ThreadPoolExecutor, wait
from multiprocessing import get_context
from pathlib import Path
from typing import Iterable, Iterator

from tqdm import tqdm

from training.extract import LANGUAGES, SKIP_DIRS, ExtractStats, extract_path
from training.extract.base import doc_tokens, summarize
from training.sources import SourceError, Unit

PARTITIONS = ("train", "valid", "test")
_BOILERPLATE = re.compile(r"\b(copyright|licen[cs]e[ds]?|all rights reserved|auto-?generated|todo|fixme|"
                          r"(method|constructor) stub|(created|generated) by (intellij|eclipse|netbeans|django|protoc))\b",
                          re.IGNORECASE)
# Javadoc's `{@inheritDoc}` says "see the overridden method": it is no words of the function's own.
_INHERIT_DOC = re.compile(r"\{?@inheritdoc\s*\}?", re.IGNORECASE)


# --- reading and writing -------------------------------------------------------------------------
def read_lines(path: str | Path) -> Iterator[str]:
    """The record lines of a jsonl file, gzipped or not (blank lines are not records)."""
    opener = gzip.open if str(path).endswith(".gz") else open
    with opener(path, "rt", encoding="utf-8") as f:
        yield from (line for line in f if line.strip())


class CorpusError(ValueError):
    """A corpus line that is no record, named by its file and place so that a command can say which."""


def parse_record(line: str, path: str | Path, number: int) -> dict:
    """The `number`th record (from 1) of the jsonl file `path`, `normalise`d; CorpusError where `line` is
    not a JSON object."""
    try:
        record = json.loads(line)
    except json.JSONDecodeError as e:
        raise CorpusError(f"{path}: record {number} is not JSON ({e.msg})") from None
    if not isinstance(record, dict):
        raise CorpusError(f"{path}: record {number} is not a JSON object")
    return normalise(record)


def read_jsonl(path: str | Path) -> Iterator[dict]:
    return (parse_record(line, path, n) for n, line in enumerate(read_lines(path), 1))


def write_jsonl(path: str | Path, records: Iterable[dict]) -> int:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    n = 0
    opener = gzip.open if path.name.endswith(".gz") else open
    with opener(tmp, "wt", encoding="utf-8") as f:
        for record in records:
            f.write(json.dumps(record, ensure_ascii=False) + "\n")
            n += 1
    os.replace(tmp, path)
    return n


def normalise(record: dict) -> dict:
    """Fill the fields our code relies on when a record (e.g. real CodeSearchNet) lacks them."""
    if "summary" not in record:
        record["summary"] = summarize(record.get("docstring") or "") or " ".join(record.get("docstring_tokens") or [])
    record.setdefault("docstring_tokens", doc_tokens(record["summary"]))
    record.setdefault("code", record.get("original_string", ""))
    return record


def corpus_files(root: str | Path, language: str, partition: str) -> list[Path]:
    base = Path(root) / language / "final" / "jsonl" / partition
    return sorted([*base.glob("*.jsonl.gz"), *base.glob("*.jsonl")])


def read_corpus(root: str | Path, partition: str, languages: Iterable[str] | None = None) -> Iterator[dict]:
    """Every record of one partition, for the given languages (default: all present)."""
    for language in languages or LANGUAGES:
        for path in corpus_files(root, language, partition):
            yield from read_jsonl(path)


def corpus_languages(root: str | Path) -> list[str]:
    return [lang for lang in LANGUAGES if any(corpus_files(root, lang, p) for p in PARTITIONS)]


# --- cleaning and splitting ----------------------------------------------------------------------
def keep(record: dict) -> bool:
    """A documented function worth learning from."""
    summary = record.get("summary", "")
    if len(_INHERIT_DOC.sub(" ", summary).split()) < 3 or _BOILERPLATE.search(summary):
        return False
    return len(record.get("code", "").strip().splitlines()) >= 3


def code_hash(record: dict) -> str:
    normalised = " ".join(record.get("code_tokens") or record.get("code", "").split())
    return hashlib.sha1(normalised.encode("utf-8")).hexdigest()


def partition_of(package: str, valid: float = 0.1, test: float = 0.1) -> str:
    """Deterministic split by package name."""
    bucket = int(hashlib.md5(package.encode("utf-8")).hexdigest()[:8], 16) / 0xFFFFFFFF
    return "test" if bucket < test else "valid" if bucket < test + valid else "train"


# --- building from packages ----------------------------------------------------------------------
def local_packages(roots: Iterable[str | Path], exclude: Iterable[str] = ()) -> list[tuple[str, Path]]:
    """(package name, path) for each top-level directory or module file under each root."""
    exclude = set(exclude)
    units = []
    for root in roots:
        root = Path(root)
        for entry in sorted(root.iterdir()):
            name = entry.name.split(".")[0] if entry.is_file() else entry.name
            if (name.startswith((".", "_")) or name in exclude or entry.name in SKIP_DIRS
                    or entry.name.endswith((".dist-info", ".egg-info"))):
                continue
            if entry.is_dir() or entry.suffix in (".py", ".go", ".java", ".js", ".rb", ".php"):
                units.append((entry.name, entry))
    return units


def build_local(out: str | Path, roots: Iterable[str | Path], languages: Iterable[str] | None = None,
                exclude: Iterable[str] = (), workers: int | None = None) -> dict:
    """Build a corpus from local source trees; resumes from DIR/.work; returns the stats."""
    units = [Unit(name, (lambda name=name, path=path: [(name, path)]))
             for name, path in local_packages(roots, exclude)]
    return build(out, units, languages, workers=workers)


def build(out: str | Path, units: list[Unit], languages: Iterable[str] | None = None,
          workers: int | None = None, meta: dict | None = None) -> dict:
    """Fetch, extract and cache each unit (skipping those cached by an earlier run), then assemble.

    Fetching (download, unpack: mostly waiting on apt-get and dpkg-deb) runs in threads a few units
    ahead of extraction, which runs in `workers` processes; a unit's unpacked files are deleted as
    soon as it is cached."""
    out = Path(out)
    work = out / ".work"
    work.mkdir(parents=True, exist_ok=True)
    languages = set(languages or LANGUAGES)
    started = time.time()
    todo = []
    for unit in units:
        if _unit_file(work, unit.name).exists():
            unit.release()  # unpacked by a run interrupted after caching it
        else:
            todo.append(unit)
    workers = workers or min(len(todo), os.cpu_count() or 1) or 1
    failed: dict[str, str] = {}
    ahead = 2 * workers  # fetched, not yet extracted: bounds the disk that unpacked trees take
    # Workers come from a fork server: forked from this process they would inherit the pipes of the
    # fetch thread's running tools, whose readers would then never see end of file.
    with ThreadPoolExecutor(workers) as fetcher, ProcessPoolExecutor(workers, get_context("forkserver")) as pool, \
            tqdm(total=len(todo), desc="fetch and extract", unit="pkg") as bar:
        pending = iter(todo)
        fetching: deque = deque()
        running: dict = {}

        def top_up():
            while len(fetching) < ahead and (unit := next(pending, None)) is not None:
                fetching.append((unit, fetcher.submit(unit.fetch)))

        top_up()
        while fetching or running:
            while fetching and len(running) < ahead:
                unit, future = fetching.popleft()
                try:
                    parts = future.result()
                except SourceError as e:
                    failed[unit.name] = str(e)
                    unit.release()
                    bar.update()
                    continue
                finally:
                    top_up()
                wanted = languages & {unit.language} if unit.language else languages
                running[pool.submit(_extract_unit, unit.name, parts, wanted)] = unit
            if running:
                done, _ = wait(running, return_when=FIRST_COMPLETED)
                for future in done:
                    unit = running.pop(future)
                    try:
                        header, records = future.result()
                    except Exception as e:  # noqa: BLE001 - one bad package must not stop hours of work
                        failed[unit.name] = f"extraction failed: {e!r}"[:300]
                    else:
                        write_jsonl(_unit_file(work, unit.name), (header, *records))
                    unit.release()
                    bar.update()
                    bar.set_postfix_str(unit.name[-30:], refresh=False)
    stats = _assemble(out, [u.name for u in units], languages, started)
    if meta or failed:
        stats.update(meta or {}, failed=failed)
        (out / "stats.json").write_text(json.dumps(stats, indent=2) + "\n")
    return stats


def _extract_unit(name: str, parts: list[tuple[str, Path]], languages: set[str]) -> tuple[dict, list[dict]]:
    """Every function's count, but only documented functions' records: nothing else can be kept."""
    counts: dict[str, Counter] = defaultdict(Counter)
    stats = ExtractStats()
    records = []
    for package, path in parts:
        prefix = f"{package}/" if path.is_dir() else ""
        for function in extract_path(path, languages=languages, stats=stats, prefix=prefix):
            entry = counts[function.language]
            entry["functions"] += 1
            if function.docstring:
                entry["documented"] += 1
                records.append({**function.to_record(), "package": package})
    header = {"unit": name, "counts": {lang: dict(c) for lang, c in counts.items()}, "stats": stats.as_dict()}
    return header, records


def _unit_file(work: Path, package: str) -> Path:
    return work / (hashlib.sha1(package.encode()).hexdigest()[:16] + ".jsonl.gz")


class _ShardWriter:
    """The output files, written as records stream by: the corpus need not fit in memory."""

    def __init__(self, out: Path):
        self.out, self.files = out, {}

    def path(self, lang: str, partition: str) -> Path:
        return self.out / lang / "final" / "jsonl" / partition / f"{lang}_{partition}_0.jsonl.gz"

    def write(self, lang: str, partition: str, record: dict) -> None:
        if (lang, partition) not in self.files:
            path = self.path(lang, partition)
            path.parent.mkdir(parents=True, exist_ok=True)
            self.files[(lang, partition)] = gzip.open(path.with_name(path.name + ".tmp"), "wt", encoding="utf-8",
                                                     compresslevel=6)
        self.files[(lang, partition)].write(json.dumps(record, ensure_ascii=False) + "\n")

    def close(self, languages: Iterable[str]) -> None:
        for (lang, partition), f in self.files.items():
            f.close()
            os.replace(f.name, self.path(lang, partition))
        for lang in languages:  # a shard left from an earlier build must not survive an emptier one
            for partition in PARTITIONS:
                if (lang, partition) not in self.files:
                    self.path(lang, partition).unlink(missing_ok=True)


def _assemble(out: Path, packages: list[str], languages: set[str], started: float) -> dict:
    """Clean, deduplicate and split the cached units into the CodeSearchNet layout."""
    seen: set[str] = set()
    writer = _ShardWriter(out)
    per_lang: dict[str, Counter] = defaultdict(Counter)
    for unit in tqdm(packages, desc="clean and split", unit="pkg"):
        path = _unit_file(out / ".work", unit)
        if not path.exists():  # failed to fetch: reported by the caller
            continue
        header, *records = read_jsonl(path)
        for lang, counts in header["counts"].items():
            if lang in languages:
                per_lang[lang].update(counts, packages=1)
        for record in records:
            lang = record["language"]
            if lang not in languages or not keep(record):
                continue
            digest = code_hash(record)
            counts = per_lang[lang]
            if digest in seen:
                counts["duplicates"] += 1
                continue
            seen.add(digest)
            record["partition"] = partition_of(record.get("package", unit))
            counts["kept"] += 1
            counts[record["partition"]] += 1
            writer.write(lang, record["partition"], record)
    writer.close(per_lang)
    stats = {
        "languages": {lang: {"packages": 0, "functions": 0, "documented": 0, "kept": 0, "duplicates": 0,
                             **{p: 0 for p in PARTITIONS}, **per_lang[lang]} for lang in sorted(per_lang)},
        "seconds": round(time.time() - started, 1),
    }
    for lang, entry in stats["languages"].items():
        entry["bytes"] = sum(p.stat().st_size for part in PARTITIONS for p in corpus_files(out, lang, part))
    (out / "stats.json").write_text(json.dumps(stats, indent=2) + "\n")
    return stats

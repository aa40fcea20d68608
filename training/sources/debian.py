"""Debian packages as a corpus source: the recipe is `RULES`, applied to this machine's apt lists.

Binary packages are fetched with `apt-get download` (nothing is installed) into
CACHE/debian/debs and unpacked with `dpkg-deb -x`; Java libraries ship only jars, so their source
packages are fetched with `apt-get source --download-only` through a private apt configuration
(CACHE/debian/apt: deb-src entries derived from the machine's own, lists of its own), leaving the
system's apt setup untouched.
"""
from __future__ import annotations

import re
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

from training.extract import EXTRACTORS
from training.sources import Downloads, SourceError, Unit, fresh_dir, run, top_level_parts
from training.sources.archives import unpack


@dataclass(frozen=True)
class Rule:
    language: str
    pattern: re.Pattern
    arch_all: bool = True           # library code lives in arch-all packages; arch-any ones are mostly binaries
    split: str | None = None        # glob of a big tree (or a .zip) whose entries become packages of their own
    source: bool = False            # fetch the Debian source package of these binaries instead
    max_installed_kb: int | None = None


RULES = (
    Rule("python", re.compile(r"^python3-")),
    # Arch-any Python packages are mostly bindings, but the scientific stack (numpy, scipy, pandas,
    # matplotlib, astropy, ...) is documented Python around its C; the few giants (Sage, graph-tool,
    # cctbx, ParaView) would take hours to extract for little text.
    Rule("python", re.compile(r"^python3-.+(?<!-dbg)$"), arch_all=False, max_installed_kb=100_000),
    Rule("python", re.compile(r"^libpython3\.\d+-stdlib$"), arch_all=False, split="usr/lib/python3.*"),
    Rule("go", re.compile(r"^golang-.+-dev$")),
    Rule("go", re.compile(r"^golang-1\.\d+-src$"), split="usr/share/go-*/src"),
    Rule("java", re.compile(r"^openjdk-\d+-source$"), split="usr/lib/jvm/*/lib/src.zip"),
    Rule("java", re.compile(r"^lib.+-java$"), source=True),
    Rule("ruby", re.compile(r"^ruby-")),
    Rule("ruby", re.compile(r"^libruby\d+\.\d+$"), arch_all=False, split="usr/lib/ruby/[0-9]*"),
    Rule("php", re.compile(r"^php-")),
    Rule("javascript", re.compile(r"^node-")),
)
# Source tarballs bigger than this are mostly bundled jars, docs and test data.
MAX_SOURCE_TARBALL = 40_000_000


@dataclass(frozen=True)
class Pick:
    name: str                       # binary package, or source package when `rule.source`
    rule: Rule


def rule_for(name: str, architecture: str, languages: Iterable[str], installed_kb: int = 0) -> Rule | None:
    for rule in RULES:
        if (rule.language in languages and rule.pattern.match(name)
                and (architecture == "all" or not rule.arch_all)
                and (rule.max_installed_kb is None or installed_kb <= rule.max_installed_kb)):
            return rule
    return None


def parse_records(text: str, wanted: re.Pattern | None = None) -> list[dict[str, str]]:
    """deb822 stanzas (`apt-cache dumpavail`, `showsrc`): one dict per stanza, continuation lines kept;
    only those whose Package matches `wanted`, if given (dumpavail lists some 60,000)."""
    records = []
    for stanza in text.split("\n\n"):
        if wanted is not None and not wanted.match(stanza.partition("Package: ")[2].partition("\n")[0]):
            continue
        record: dict[str, str] = {}
        key = None
        for line in stanza.splitlines():
            if line[:1] in (" ", "\t") and key:
                record[key] += "\n" + line.strip()
            elif ":" in line:
                key, value = line.split(":", 1)
                record[key] = value.strip()
        if "Package" in record:
            records.append(record)
    return records


def select(available: list[dict[str, str]], languages: Iterable[str]) -> list[Pick]:
    """The packages `RULES` pick out of `apt-cache dumpavail` records, sorted; source packages deduplicated."""
    languages = set(languages)
    picks: dict[str, Pick] = {}
    for record in available:
        rule = rule_for(record["Package"], record.get("Architecture", ""), languages,
                        int(record.get("Installed-Size", "0") or 0))
        if rule is None:
            continue
        name = record.get("Source", record["Package"]).split()[0] if rule.source else record["Package"]
        picks.setdefault(name, Pick(name, rule))
    return sorted(picks.values(), key=lambda p: (p.rule.language, p.name))


def tarball_sizes(showsrc: list[dict[str, str]]) -> dict[str, int]:
    """Upstream tarball bytes per source package, from `apt-cache showsrc` (its newest version)."""
    sizes: dict[str, int] = {}
    for record in showsrc:
        files = [line.split() for line in record.get("Files", "").splitlines() if line.strip()]
        total = sum(int(size) for _, size, name in files if _is_upstream_tarball(name))
        sizes[record["Package"]] = max(sizes.get(record["Package"], 0), total)
    return sizes


def _is_upstream_tarball(name: str) -> bool:
    return ".tar." in name and ".debian.tar." not in name and not name.endswith(".asc")


class Apt:
    """apt-get/apt-cache for binaries (the machine's lists) and sources (a private deb-src setup)."""

    def __init__(self, cache: Path):
        cache = cache.resolve()  # apt takes relative Dir:: paths from its own directories
        self.debs = cache / "debs"
        self.srcs = cache / "srcs"
        self.private = cache / "apt"

    def source_options(self) -> list[str]:
        p = self.private
        return ["-o", f"Dir::Etc::SourceList={p / 'none.list'}", "-o", f"Dir::Etc::SourceParts={p / 'sources'}",
                "-o", f"Dir::State::Lists={p / 'lists'}", "-o", f"Dir::Cache={p / 'cache'}"]

    def ensure_source_lists(self) -> None:
        if (self.private / "lists" / ".updated").exists():
            return
        for sub in ("sources", "lists/partial", "cache/archives/partial"):
            (self.private / sub).mkdir(parents=True, exist_ok=True)
        (self.private / "none.list").touch()
        (self.private / "sources" / "deb-src.sources").write_text(deb_src_entries())
        run(["apt-get", "-q", *self.source_options(), "update"])
        (self.private / "lists" / ".updated").touch()

    def available(self) -> list[dict[str, str]]:
        return parse_records(run(["apt-cache", "dumpavail"]), re.compile("|".join(r.pattern.pattern for r in RULES)))

    def showsrc(self, names: list[str]) -> list[dict[str, str]]:
        self.ensure_source_lists()
        return parse_records(run(["apt-cache", *self.source_options(), "showsrc", *names])) if names else []

    def debs_for(self, queue: list[str]) -> Downloads:
        return Downloads(self.debs, lambda names, into: run(["apt-get", "-q", "download", *names], cwd=into),
                         lambda file: file.split("_")[0] if file.endswith(".deb") else None, queue)

    def sources_for(self, queue: list[str]) -> Downloads:
        def download(names: list[str], into: Path) -> None:
            self.ensure_source_lists()
            run(["apt-get", "-q", *self.source_options(), "source", "--download-only", *names], cwd=into)
        return Downloads(self.srcs, download, lambda file: file.split("_")[0], queue)


def deb_src_entries() -> str:
    """The machine's own apt sources (deb822 and one-line), turned into deb-src entries."""
    out = []
    for path in sorted(Path("/etc/apt/sources.list.d").glob("*.sources")):
        out.append(re.sub(r"^Types:.*$", "Types: deb-src", path.read_text(), flags=re.M))
    for path in [Path("/etc/apt/sources.list"), *sorted(Path("/etc/apt/sources.list.d").glob("*.list"))]:
        if path.exists():
            lines = [re.sub(r"^deb\s", "deb-src ", line) for line in path.read_text().splitlines()
                     if re.match(r"^deb\s", line)]
            if lines:
                out.append(_one_line_to_deb822(lines))
    if not out:
        raise SourceError("no apt sources configured on this machine")
    return "\n\n".join(out) + "\n"


def _one_line_to_deb822(lines: list[str]) -> str:
    stanzas = []
    for line in lines:
        parts = re.sub(r"\[[^\]]*\]", "", line).split()
        stanzas.append(f"Types: deb-src\nURIs: {parts[1]}\nSuites: {parts[2]}\nComponents: {' '.join(parts[3:])}")
    return "\n\n".join(stanzas)


def units(cache: Path, languages: Iterable[str], path: Path | None = None) -> list[Unit]:
    """Units for the packages `RULES` pick from apt, or from the .debs in `path` (an offline mirror)."""
    cache = Path(cache) / "debian"
    apt = Apt(cache)
    if path is not None:
        picks = []
        for deb in sorted(Path(path).glob("*.deb")):
            name, _, arch = deb.stem.split("_", 2) if deb.stem.count("_") >= 2 else (deb.stem, "", "all")
            rule = rule_for(name, arch, languages)
            if rule is not None and not rule.source:
                picks.append(Pick(name, rule))
                apt.debs.mkdir(parents=True, exist_ok=True)
                if not (apt.debs / deb.name).exists():
                    shutil.copy2(deb, apt.debs / deb.name)
    else:
        picks = select(apt.available(), languages)
        sources = [p.name for p in picks if p.rule.source]
        sizes = tarball_sizes(apt.showsrc(sources))
        picks = [p for p in picks if not p.rule.source or 0 < sizes.get(p.name, 0) <= MAX_SOURCE_TARBALL]
    debs = apt.debs_for([p.name for p in picks if not p.rule.source])
    srcs = apt.sources_for([p.name for p in picks if p.rule.source])
    return [_unit(pick, srcs if pick.rule.source else debs, cache / "unpacked") for pick in picks]


def _unit(pick: Pick, downloads: Downloads, unpacked: Path) -> Unit:
    name = f"debian/{pick.name}"
    scratch = unpacked / pick.name
    suffixes = EXTRACTORS[pick.rule.language].extensions

    def fetch() -> list[tuple[str, Path]]:
        if pick.rule.source:
            tree = fresh_dir(scratch)
            tarballs = [p for p in downloads.get(pick.name) if _is_upstream_tarball(p.name)]
            for i, tarball in enumerate(tarballs):
                unpack(tarball, tree / str(i), suffixes)
            return [(name, tree)]
        tree = unpack(downloads.get(pick.name)[-1], scratch / "deb")
        if pick.rule.split is None:
            return [(name, tree)]
        found = sorted(tree.glob(pick.rule.split))
        if not found:
            raise SourceError(f"{pick.name}: nothing at {pick.rule.split}")
        root = unpack(found[-1], scratch / "zip", suffixes) if found[-1].suffix == ".zip" else found[-1]
        return top_level_parts(name, root)

    return Unit(name, fetch, language=pick.rule.language, scratch=scratch)

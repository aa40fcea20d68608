"""The in-process search engine: each live index is loaded once per process and kept (within a memory
budget, least recently searched out first), the search across repositories reads the global index,
and repeated searches are answered from a per-process LRU cache.

Views and the API call `search()`, `search_all()`, `search_code()` and `similar()`; each returns
Snippet rows with their score (see training.index.Hit); `corrected()` and `corrected_all()` say what a
search by words read its query as, mistyped words corrected. Input a user typed is checked here, once for
both, and anything unusable raises SearchError with a message meant for that user. A repository's
searches run in `on_live_version()`, which hands them the repository as this process remembers it:
the one query that reads the results' rows proves its version still live, so a new search costs one
database query.
"""
from __future__ import annotations

import logging
import operator
import re
import threading
import unicodedata
from collections import OrderedDict
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import reduce
from typing import Callable, Iterator, TypeVar

from django.conf import settings
from django.db import connection
from django.db.models import F, Q, prefetch_related_objects
from django.db.models.expressions import RawSQL
from django.http import Http404

from codesearch.repositories import global_index as global_indexes
from codesearch.repositories.models import IndexVersion, Repository, Snippet
from codesearch.search.cache import LRUCache
from training.extract import LANGUAGES
from training.extract.base import KINDS
from training.extract.detect import rank_languages, standalone_source
from training.global_index import GlobalIndex
from training.index import Hit, RepositoryIndex, split_path_filters

log = logging.getLogger(__name__)
T = TypeVar("T")
_lock = threading.Lock()
# IndexVersion.path -> (its repository, its loaded index, its files' bytes), least recently searched
# first. Keyed by version, so a search that started on a version that has since been superseded
# finishes on it (its files stay for a grace period); loading a repository's new version forgets its
# others, and indexes beyond SEARCH_INDEXES_MEMORY_BYTES are forgotten oldest first. Searches still
# running hold on to what they use until they finish.
_loaded: OrderedDict[str, tuple[int, RepositoryIndex, int]] = OrderedDict()
# The global index (codesearch.repositories.global_index) last loaded, by its directory.
_global: dict[str, GlobalIndex] = {}
# (language, item, score) lists, best first; keys start with the version's path, which is unique per
# build, so a re-index never serves stale results.
_ranked = LRUCache(settings.SEARCH_CACHE_BYTES)
Ranked = list[tuple[tuple[IndexVersion, str, int], float]]  # ((version, language, item), score), best first
_WORD = re.compile(r"\w")


class SearchError(ValueError):
    """Input the engine can't search with; the message is meant for the user."""


class IndexUnavailable(RuntimeError):
    """A live index that can't be loaded (missing files, or built by older code): the service's fault."""


@dataclass
class Result:
    snippet: Snippet
    score: float  # the ranking's score on the cosine's scale (training.index.Hit)
    # Why a search by words found it: the tokens that gave the most (RepositoryIndex.explain).
    matched: list[dict] = field(default_factory=list)

    @property
    def shown_score(self) -> float:
        return round(self.score, 4)

    @property
    def percent(self) -> int:
        # From the score as shown, so that a score of 0.195 never reads as 19%.
        return round(max(self.shown_score, 0.0) * 100)


def index_for(version: IndexVersion) -> RepositoryIndex:
    with _lock:
        if version.path in _loaded:
            _loaded.move_to_end(version.path)
            return _loaded[version.path][1]
        try:
            index = RepositoryIndex(version.directory)
        except Exception as e:  # whatever is wrong with the files, searches get a clear answer
            log.exception("cannot load the index in %s", version.directory)
            raise IndexUnavailable(f"the index of {version.repository} can't be loaded and must be rebuilt "
                                   f"(manage.py add_repository ... --force)") from e
        if version.retired is None:
            for path in [p for p, (repository, *_) in _loaded.items() if repository == version.repository_id]:
                del _loaded[path]
        _loaded[version.path] = (version.repository_id, index, index.footprint())
        total = sum(size for *_, size in _loaded.values())
        while total > settings.SEARCH_INDEXES_MEMORY_BYTES and len(_loaded) > 1:
            total -= _loaded.popitem(last=False)[1][2]
        return index


def global_index() -> GlobalIndex | None:
    """The current global index (None before the first is built), loaded once per process and again
    when a newer one is switched live; while a newer one can't be loaded, the last one serves."""
    directory = global_indexes.current_directory()
    if directory is None:
        return None
    with _lock:
        if str(directory) not in _global:
            try:
                index = GlobalIndex(directory)
            except Exception:  # noqa: BLE001 - searches go on with what was loaded before
                log.exception("cannot load the global index in %s", directory)
                return next(iter(_global.values()), None)
            _global.clear()
            _global[str(directory)] = index
        return _global[str(directory)]


def _live_version_sql(column: str, path: bool = False) -> str:
    """SQL selecting `column` of the live version of the repository whose owner and name are its first
    two parameters; with `path`, only if that version's path is the third. Written out, as searches ask
    it every time: building it with the ORM takes ten times as long as running it."""
    q = connection.ops.quote_name
    repo = {f: q(Repository._meta.get_field(f).column) for f in ("owner", "name", "live_version")}
    version = {f: q(IndexVersion._meta.get_field(f).column) for f in ("id", "path")}
    sql = (f"SELECT v.{version[column]} FROM {q(Repository._meta.db_table)} r "
           f"JOIN {q(IndexVersion._meta.db_table)} v ON v.{version['id']} = r.{repo['live_version']} "
           f"WHERE r.{repo['owner']} = %s AND r.{repo['name']} = %s")
    return (sql + f" AND v.{version['path']} = %s") if path else sql


def live_version_path(owner: str, name: str) -> str | None:
    """The path of owner/name's live version (None if unknown or not indexed): what keys cached answers,
    asked before one is served."""
    with connection.cursor() as cursor:
        cursor.execute(_live_version_sql("path"), [owner, name])
        row = cursor.fetchone()
    return row[0] if row else None


# (owner, name) -> that repository with its live version, as this process last looked it up (one entry
# per repository searched here). A new search trusts it instead of asking the database first: the query
# that reads its results' rows also proves that version is still live (see on_live_version).
_remembered: dict[tuple[str, str], Repository] = {}


class Superseded(Exception):
    """The version searched is no longer its repository's live one (re-indexed, or the repository deleted)."""


def _look_up(owner: str, name: str) -> Repository | None:
    """owner/name with its live version (None if unknown), in one query; remembered if it has one."""
    repository = Repository.objects.select_related("live_version").filter(owner=owner, name=name).first()
    if repository is None or repository.live_version is None:
        _remembered.pop((owner, name), None)
    else:
        repository.live_version.repository = repository  # what results link to
        _remembered[(owner, name)] = repository
    return repository


def live_repository(owner: str, name: str) -> Repository | None:
    """owner/name with its live version as it is now (None if unknown): one query once this process
    remembers that version."""
    remembered = _remembered.get((owner, name))
    if remembered is not None and live_version_path(owner, name) == remembered.live_version.path:
        return remembered
    return _look_up(owner, name)


def check_live(repository: Repository) -> None:
    """Raise Superseded unless the repository's version is still its live one: one query."""
    if live_version_path(repository.owner, repository.name) != repository.live_version.path:
        raise Superseded(f"{repository.live_version} is no longer live")


def on_live_version(owner: str, name: str, answer: Callable[[Repository], T]) -> T:
    """`answer(repository)` for owner/name with its live version (Http404 if unknown).

    The repository is handed over as this process remembers it, unchecked: `search()` and `search_code()`
    prove its version still live in the query that reads their results' rows (with a query of their own
    when there are no rows to read, or an error to report), and an `answer` that serves something kept
    from that version calls check_live() first. When it is not live they raise Superseded; then the
    repository is looked up (one more query) and answered again. So once the repository is remembered,
    a new search costs one query, and a repeated one answered from a cache one too."""
    repository = _remembered.get((owner, name))
    while True:  # a version just looked up is superseded only by one going live during the answer
        if repository is None:
            repository = _look_up(owner, name)
            if repository is None:
                raise Http404(f"repository {owner}/{name} is not known here")
        try:
            return answer(repository)
        except Superseded:
            repository = None


def live_version(repository: Repository) -> IndexVersion:
    if repository.live_version is None:
        raise SearchError(f"{repository.full_name} is not indexed yet")
    return repository.live_version


def _reject_binary(text: str, what: str) -> None:
    # Tabs and line breaks are text; NUL and other control characters mean binary or garbage input.
    if "\x00" in text or "\ufffd" in text or any(
            unicodedata.category(ch) == "Cc" and ch not in "\t\n\r" for ch in text):
        raise SearchError(f"the {what} contains a NUL or other control character; send text")


def clean_query(query: str | None) -> str:
    if len(query or "") > settings.QUERY_MAX_CHARS:  # as sent: the API's schema says so
        raise SearchError(f"the query is {len(query)} characters long; the limit is {settings.QUERY_MAX_CHARS}")
    query = (query or "").strip()
    if not query:
        raise SearchError("type what the code should do, e.g. \"send mail\"")
    _reject_binary(query, "query")
    if not _WORD.search(query):
        raise SearchError("the query has no words in it; describe what the code should do")
    return query


def clean_code(code: str | None) -> str:
    if not (code or "").strip():
        raise SearchError("paste the code to find functions like it")
    if len(code) > settings.CODE_MAX_CHARS:
        raise SearchError(f"the code is {len(code)} characters long; the limit is {settings.CODE_MAX_CHARS}")
    _reject_binary(code, "code")
    return code.strip("\n")


def clean_limit(limit: int) -> int:
    if not 1 <= limit <= settings.RESULTS_MAX:
        raise SearchError(f"limit must be between 1 and {settings.RESULTS_MAX}")
    return limit


def _check_language(language: str | None, repository: Repository) -> None:
    if language is None:
        return
    if language not in LANGUAGES:
        raise SearchError(f"unknown language {language!r}; languages: {', '.join(LANGUAGES)}")
    languages = repository.live_version.languages
    if language not in languages:
        raise SearchError(f"{repository.full_name} has no indexed {language} functions; "
                          f"languages: {', '.join(languages)}")


def clean_kind(kind: str | None) -> str | None:
    """None (every kind) or one of KINDS."""
    if kind and kind not in KINDS:
        raise SearchError(f"unknown kind {kind!r}; kinds: {', '.join(KINDS)}")
    return kind or None


def clean_paths(paths: list[str] | tuple[str, ...]) -> tuple[str, ...]:
    """Path filters (`path:` in a query, or the API's `path`): a folder or file, or a glob (`*.py`)."""
    paths = tuple(dict.fromkeys(p.strip() for p in paths if p and p.strip()))
    if len(paths) > settings.PATH_FILTERS_MAX:
        raise SearchError(f"{len(paths)} path filters; the limit is {settings.PATH_FILTERS_MAX}")
    for path in paths:
        if len(path) > 200:
            raise SearchError(f"a path filter is {len(path)} characters long; the limit is 200")
        _reject_binary(path, "path filter")
    return paths


def _words_and_paths(query: str | None, paths) -> tuple[str, tuple[str, ...]]:
    """The query's words, checked, and its `path:` filters with those given apart."""
    words, typed = split_path_filters(clean_query(query))
    return clean_query(words), clean_paths([*(paths or ()), *typed])


def search(repository: Repository, query: str, language: str | None = None, limit: int = 10,
           kind: str | None = None, paths: list[str] | tuple[str, ...] = ()) -> list[Result]:
    """Functions, classes and blocks (or those of `kind`) of `repository` that do what `query` says,
    best first; `path:` filters in the query and `paths` narrow them to folders or files. Its version
    needn't be checked first: Superseded if it is no longer live (see on_live_version)."""
    version = live_version(repository)
    with _reported_if_live(repository):
        (query, paths), limit, kind = _words_and_paths(query, paths), clean_limit(limit), clean_kind(kind)
        language = language or None
        _check_language(language, repository)
        ranked = _search(version, query, language, limit, kind, paths)
    return _explained(query, _live_results(repository, ranked))


def _search(version: IndexVersion, query: str, language: str | None, limit: int, kind: str | None,
            paths: tuple[str, ...]) -> Ranked:
    return _rank(version, ("search", query, language, limit, kind, paths),
                 lambda: index_for(version).search(query, language=language, k=limit, kind=kind, paths=paths))


def search_all(query: str, language: str | None = None, limit: int = 10, kind: str | None = None,
               paths: list[str] | tuple[str, ...] = ()) -> list[Result]:
    """The best units across every indexed repository: one lookup in the global index, whose units the
    shared base model embedded, so their scores are on one scale (training.global_index)."""
    (query, paths), limit, kind = _words_and_paths(query, paths), clean_limit(limit), clean_kind(kind)
    language = language or None
    if language is not None and language not in LANGUAGES:
        raise SearchError(f"unknown language {language!r}; languages: {', '.join(LANGUAGES)}")
    index = global_index()
    if index is None:
        return []
    # A few more than asked for: a version superseded since the global index was built is skipped.
    hits = _ranked.get_or_compute(
        (str(index.directory), "all", query, language, limit, kind, paths),
        lambda: [(h.part, h.language, h.item, h.score) for h in index.search(query, limit + 10, language, kind, paths)])
    if not hits:
        return []
    # The versions first, then their rows by version id: filtering the rows by path through the join
    # made SQLite scan every snippet of every repository.
    live = {version.path: version for version in IndexVersion.objects.select_related("repository").filter(
        path__in={part for part, *_ in hits}, repository__live_version=F("pk"))}
    results = _results([((live[part], language_, item), score) for part, language_, item, score in hits
                        if part in live])[:limit]
    for result, matched in zip(results, index.explain(query, [r.snippet.as_unit() for r in results])):
        result.matched = matched
    return results


def corrected(repository: Repository, query: str, paths: list[str] | tuple[str, ...] = ()) -> str | None:
    """`query` as search() in `repository` reads it, its mistyped words corrected (`path:` filters left as
    typed), to show people what was searched; None when every word was read as typed. Checked as search()
    checks it, with the same errors. No database query, and cheap: the index caches each word's correction."""
    version = live_version(repository)
    with _reported_if_live(repository):
        _words_and_paths(query, paths)
        return _changed(query.strip(), index_for(version).corrected)


def corrected_all(query: str, paths: list[str] | tuple[str, ...] = ()) -> str | None:
    """`query` as search_all() reads it, its mistyped words corrected; None when every word was read as
    typed, or there is no global index yet (and so nothing searched)."""
    _words_and_paths(query, paths)
    index = global_index()
    return None if index is None else _changed(query.strip(), index.corrected)


def _changed(query: str, correct: Callable[[str], str]) -> str | None:
    fixed = correct(query)
    return None if fixed == query else fixed


def search_code(repository: Repository, code: str, language: str | None = None,
                limit: int = 10, kind: str | None = None) -> tuple[str, list[Result]]:
    """Units like `code` (a function, a class or a few lines); the language is detected when not given.
    Returns (language, results). Like search(), Superseded if the repository's version is no longer live."""
    version = live_version(repository)
    with _reported_if_live(repository):
        code, limit, kind = clean_code(code), clean_limit(limit), clean_kind(kind)
        language = language or detect_language(code, repository)
        _check_language(language, repository)
        try:
            ranked = _rank(version, ("code", code, language, limit, kind), lambda: index_for(version).search_code(
                standalone_source(code, language), language, k=limit, kind=kind))
        except ValueError as e:  # e.g. the model has no encoder for that language
            raise SearchError(str(e)) from e
    return language, _live_results(repository, ranked)


def detect_language(code: str, repository: Repository) -> str:
    """The language `code` is written in, preferring the repository's languages among equally good guesses."""
    languages = repository.live_version.languages
    guesses = rank_languages(code)
    tied = [g.language for g in guesses if g.score == guesses[0].score]
    indexed = [language for language in tied if language in languages]
    if indexed:
        return indexed[0]
    raise SearchError(f"this looks like {guesses[0].language} code, and {repository.full_name} has no "
                      f"indexed {guesses[0].language} functions; pick one of: {', '.join(languages)}")


def live_snippet(pk: int) -> Snippet | None:
    """The snippet, if it belongs to its repository's live version."""
    return (Snippet.objects.select_related("version__repository")
            .filter(pk=pk, version__repository__live_version=F("version")).first())


def similar(snippet: Snippet, limit: int = 10, kind: str | None = None) -> list[Result]:
    """The units of the snippet's repository most like it, itself (and its function's blocks) left out."""
    version, limit, kind = snippet.version, clean_limit(limit), clean_kind(kind)
    return _results(_rank(version, ("similar", snippet.language, snippet.item, limit, kind),
                          lambda: index_for(version).similar(snippet.language, snippet.item, k=limit, kind=kind)))


@contextmanager
def _reported_if_live(repository: Repository) -> Iterator[None]:
    """A search's errors are reported only for a live version: they may be its own (its languages, its
    files gone), and a repository deleted since is a 404 whatever was asked."""
    try:
        yield
    except (SearchError, IndexUnavailable):
        check_live(repository)
        raise


def _live_results(repository: Repository, ranked: Ranked) -> list[Result]:
    """The rows of the ranked units of `repository`'s version, read in one query that proves that
    version still live (Superseded if it is not)."""
    results = _results(ranked, live=repository)
    if not results or len(results) < len(ranked):  # no rows to prove it, or a row left out: asked apart
        check_live(repository)
    return results


def _rank(version: IndexVersion, key: tuple, find: Callable[[], list[Hit]]) -> Ranked:
    """The hits `find()` returns, as (version, language, item) with their scores; cached per version and
    `key`. No database query: `_results` reads every result's row at once."""
    hits = _ranked.get_or_compute((version.path, *key), lambda: [(hit.language, hit.item, hit.score) for hit in find()])
    return [((version, language, item), score) for language, item, score in hits]


def _explained(query: str, results: list[Result]) -> list[Result]:
    """Each result with the tokens it matched `query` by, the query encoded once per version."""
    by_version: dict[int, list[Result]] = {}
    for result in results:
        by_version.setdefault(result.snippet.version_id, []).append(result)
    for found in by_version.values():
        why = index_for(found[0].snippet.version).explain(query, [r.snippet.as_unit() for r in found])
        for result, matched in zip(found, why):
            result.matched = matched
    return results


def _results(ranked: Ranked, live: Repository | None = None) -> list[Result]:
    """The ranked units' rows, in one database query: their versions are the ranked ones (and so are
    their repositories, where a version has its own loaded). `live`: the repository whose version the
    units are all of; their rows are read only while that version is its live one."""
    versions = {version.pk: version for (version, _, _), _ in ranked}
    unloaded = [version for version in versions.values() if not IndexVersion.repository.is_cached(version)]
    if unloaded:
        prefetch_related_objects(unloaded, "repository")
    items: dict[tuple[int, str], list[int]] = {}
    for (version, language, item), _ in ranked:
        items.setdefault((version.pk, language), []).append(item)
    where = reduce(operator.or_, (
        Q(version_id=version, language=language, item__in=found) for (version, language), found in items.items()),
        Q(pk__in=[]))
    if live is not None:  # by path too: a database made anew (as in tests) gives its pk to another build
        where &= Q(version_id=RawSQL(_live_version_sql("id", path=True),
                                    [live.owner, live.name, live.live_version.path]))
    rows = {(s.version_id, s.language, s.item): s for s in Snippet.objects.filter(where)}
    results = []
    for (version, language, item), score in ranked:
        if (row := rows.get((version.pk, language, item))) is not None:
            row.version = version
            results.append(Result(row, score))
    return results

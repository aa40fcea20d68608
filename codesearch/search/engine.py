"""The in-process search engine: each live index is loaded once per process and kept.

Views and the API call `search()`; it returns Snippet rows with their cosine similarity.
"""
from __future__ import annotations

import threading
from dataclasses import dataclass

from django.conf import settings
from django.db.models import Q

from codesearch.repositories.models import IndexVersion, Repository, Snippet
from training.index import RepositoryIndex

_lock = threading.Lock()
_loaded: dict[int, RepositoryIndex] = {}


class SearchError(ValueError):
    """Input the engine can't search with; the message is meant for the user."""


@dataclass
class Result:
    snippet: Snippet
    score: float  # cosine similarity

    @property
    def percent(self) -> int:
        return round(max(self.score, 0.0) * 100)


def index_for(version: IndexVersion) -> RepositoryIndex:
    with _lock:
        index = _loaded.get(version.pk)
        if index is None:
            index = _loaded[version.pk] = RepositoryIndex(version.directory)
        return index


def live_version(repository: Repository) -> IndexVersion:
    if repository.live_version is None:
        raise SearchError(f"{repository.full_name} is not indexed yet")
    return repository.live_version


def clean_query(query: str | None) -> str:
    query = (query or "").strip()
    if not query:
        raise SearchError("type what the code should do, e.g. \"send mail\"")
    if len(query) > settings.QUERY_MAX_CHARS:
        raise SearchError(f"the query is {len(query)} characters long; the limit is {settings.QUERY_MAX_CHARS}")
    if "\x00" in query:
        raise SearchError("the query contains a NUL character")
    return query


def search(repository: Repository, query: str, language: str | None = None, limit: int = 10) -> list[Result]:
    version = live_version(repository)
    query = clean_query(query)
    if language and language not in version.languages:
        raise SearchError(f"{repository.full_name} has no indexed {language} functions; "
                          f"languages: {', '.join(version.languages)}")
    hits = index_for(version).search(query, language=language or None, k=limit)
    return _results(version, hits)


def _results(version: IndexVersion, hits) -> list[Result]:
    if not hits:
        return []
    where = Q()
    for hit in hits:
        where |= Q(language=hit.language, item=hit.item)
    snippets = {(s.language, s.item): s for s in
                Snippet.objects.filter(where, version=version).select_related("version__repository")}
    return [Result(snippets[(h.language, h.item)], h.score) for h in hits if (h.language, h.item) in snippets]

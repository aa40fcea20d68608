"""JSON API under /api/v1/ (django-ninja; OpenAPI at /api/v1/openapi.json, docs at /api/v1/docs).

Every error is JSON `{"error": "..."}` with a 4xx status that says what to fix (503 when an index
can't be loaded, which is the service's fault, not the request's). Search answers are
kept, encoded, in a per-process LRU cache keyed by the index version and the request. A search costs
one database query once the process has seen its repository: a repeated one checks that the version
of its cached answer is still live, and a new one reads its results' rows in a query that proves it
(engine.on_live_version). The `response=` schemas document the answers (tests check they match).
"""
from __future__ import annotations

import json
import logging
from typing import Callable

from django.conf import settings
from django.http import Http404, HttpResponse, JsonResponse
from ninja import NinjaAPI, Query
from ninja.errors import AuthenticationError, HttpError, ValidationError

from codesearch.repositories import indexing
from codesearch.repositories.indexing import AccessDenied, IndexingError
from codesearch.repositories.models import IndexingJob, Repository
from codesearch.search import engine, payloads
from codesearch.search import schemas as s
from codesearch.search.access import HOW_TO_GET_ACCESS, RateLimited, api_auth, check_rate, may_request_indexing
from codesearch.search.cache import LRUCache

log = logging.getLogger(__name__)
_answers = LRUCache(settings.SEARCH_CACHE_BYTES)
api = NinjaAPI(title="codesearch", version="1",
               description="Neural code search over indexed repositories: describe what code should do, "
                           "or paste code, and get the functions that match, linked to their lines on GitHub.")


def _error(request, message: str, status: int):
    return api.create_response(request, {"error": message}, status=status)


@api.exception_handler(ValidationError)
def _invalid(request, exc: ValidationError):
    problems = "; ".join(f"{'.'.join(str(p) for p in e.get('loc', [])[1:]) or 'input'}: {e.get('msg')}"
                         for e in exc.errors)
    return _error(request, problems or "invalid input", 400)


@api.exception_handler(AuthenticationError)
def _anonymous(request, exc):
    return _error(request, HOW_TO_GET_ACCESS, 401)


@api.exception_handler(HttpError)
def _http_error(request, exc: HttpError):
    if exc.status_code == 403 and "CSRF" in str(exc):
        return _error(request, "CSRF check failed: a signed-in session needs the page's CSRF token "
                               "(X-CSRFToken); scripts and the extension use an API token instead", 403)
    return _error(request, str(exc), exc.status_code)


@api.exception_handler(AccessDenied)
def _forbidden(request, exc):
    return _error(request, str(exc), 403)


@api.exception_handler(RateLimited)
def _too_many(request, exc: RateLimited):
    response = _error(request, str(exc), 429)
    response["Retry-After"] = str(exc.retry_after)
    return response


@api.exception_handler(Http404)
def _not_found(request, exc):
    return _error(request, str(exc) or "not found", 404)


@api.exception_handler(engine.SearchError)
@api.exception_handler(IndexingError)
def _bad_request(request, exc):
    return _error(request, str(exc), 400)


@api.exception_handler(engine.IndexUnavailable)
def _unavailable(request, exc):
    return _error(request, str(exc), 503)


@api.exception_handler(Exception)
def _unexpected(request, exc):
    log.exception("API error on %s", request.path)
    return _error(request, "internal error; it has been logged", 500)


def not_found(request, path: str = ""):
    """Any other path under /api/: JSON like the rest of the API, not Django's HTML page."""
    return JsonResponse({"error": f"no API endpoint at {request.path}; see /api/v1/docs"}, status=404)


def _cached(key: tuple, answer: Callable[[], dict], check: Callable[[], None] = lambda: None) -> HttpResponse:
    """The JSON of `answer()`, built once per key; errors are raised, never cached. `check()` runs before
    an answer built earlier is served, and raises to refuse it. The X-Cache header says which (hit:
    answered from this process's cache; miss: searched), for load tests and operators."""
    built = []
    body = _answers.get_or_compute(key, lambda: built.append(True) or json.dumps(answer(), ensure_ascii=False).encode())
    if not built:
        check()
    response = HttpResponse(body, content_type="application/json")
    response["X-Cache"] = "miss" if built else "hit"
    return response


def _repository(owner: str, name: str) -> Repository:
    repo = Repository.objects.select_related("live_version").filter(owner=owner, name=name).first()
    if repo is None:
        raise Http404(f"repository {owner}/{name} is not known here")
    return repo


def _live_answer(owner: str, name: str, key: tuple, answer: Callable[[Repository], dict]) -> HttpResponse:
    """`answer(repository)` for owner/name's live version, cached by that version's path and `key`, and
    served from the cache only while that version is live (engine.on_live_version)."""
    return engine.on_live_version(owner, name, lambda repo: _cached(
        (engine.live_version(repo).path, *key), lambda: answer(repo), lambda: engine.check_live(repo)))


def _snippet(pk: int):
    snippet = engine.live_snippet(pk)
    if snippet is None:
        raise Http404(f"snippet {pk} is not in any live index")
    return snippet


@api.get("/health", response=s.Health, tags=["service"])
def health(request):
    return {"status": "ok", "repositories": Repository.objects.exclude(live_version=None).count()}


@api.get("/repositories", response=list[s.Repository], tags=["repositories"])
def list_repositories(request):
    return payloads.repositories(Repository.objects.all())


@api.get("/repositories/{owner}/{name}", response={200: s.Repository, 404: s.Error}, tags=["repositories"])
def repository_detail(request, owner: str, name: str):
    repo = _repository(owner, name)
    return payloads.repository(repo, repo.jobs.first())


def _indexer(request):
    """The requesting user, if they may make the service fetch code; otherwise a 403."""
    if not may_request_indexing(request.auth):
        raise HttpError(403, f"{request.auth} may not request indexing; ask this server's staff for the permission")
    check_rate(request, "indexing", settings.RATE_INDEXING, "indexing requests")
    return request.auth


_AUTH_ERRORS = {401: s.Error, 403: s.Error, 429: s.Error}


@api.post("/repositories/{owner}/{name}/index", auth=api_auth,
          response={202: s.Job, 400: s.Error, **_AUTH_ERRORS}, tags=["repositories"])
def index_repository(request, owner: str, name: str, body: s.IndexRequest):
    """Queue the repository for indexing; a job already queued or running for it is returned instead.
    Needs an API token (`Authorization: Bearer ...`) or a signed-in session (with its CSRF token) of a
    user with the `request_indexing` permission."""
    user = _indexer(request)
    if not request.body.lstrip().startswith(b"{"):  # ninja reads fields that all have defaults from any JSON
        raise HttpError(400, "body: send a JSON object, e.g. {} or {\"commit\": \"v1.0\"}")
    return 202, payloads.job(indexing.request_indexing(f"{owner}/{name}", url=body.url, commit=body.commit, user=user))


@api.post("/jobs/{int:job_id}/cancel", auth=api_auth, response={200: s.Job, 404: s.Error, **_AUTH_ERRORS},
          tags=["repositories"])
def cancel_job(request, job_id: int):
    """Cancel a queued or running job (its requester or staff). A running build stops within seconds;
    the live version is unchanged."""
    user = _indexer(request)
    job = _job(job_id)
    if not (user.is_staff or job.requested_by_id == user.pk):
        raise HttpError(403, "only the job's requester or staff may cancel it")
    return payloads.job(indexing.cancel(job))


def _job(job_id: int) -> IndexingJob:
    job = IndexingJob.objects.select_related("repository").filter(pk=job_id).first()
    if job is None:
        raise Http404(f"no indexing job {job_id}")
    return job


@api.get("/jobs/{int:job_id}", response={200: s.Job, 404: s.Error}, tags=["repositories"])
def job_detail(request, job_id: int):
    return payloads.job(_job(job_id))


@api.get("/repositories/{owner}/{name}/search", response={200: s.SearchResults, 400: s.Error, 404: s.Error},
         tags=["search"])
def search(request, owner: str, name: str, params: Query[s.SearchParams]):
    """Functions, classes and blocks of the repository that do what the query says, best first (`kind`
    narrows them to one kind, `path` or `path:` in the query to folders, files or globs)."""
    def answer(repo):
        results = engine.search(repo, params.q, language=params.language, limit=params.limit, kind=params.kind,
                                paths=params.path)
        return {"repository": repo.full_name, "commit": repo.live_version.commit, "query": params.q.strip(),
                "corrected": engine.corrected(repo, params.q, params.path),
                "results": [payloads.result(r) for r in results]}
    return _live_answer(owner, name, ("search", params.q, params.language, params.limit, params.kind,
                                      tuple(params.path)), answer)


@api.post("/repositories/{owner}/{name}/search-by-code",
          response={200: s.CodeSearchResults, 400: s.Error, 404: s.Error, 429: s.Error}, tags=["search"])
def search_by_code(request, owner: str, name: str, body: s.CodeSearchRequest):
    """Units like the code given (a function, a class or a few lines), in its language (detected when
    `language` is null)."""
    check_rate(request, "code-search", settings.RATE_CODE_SEARCH, "code searches")

    def answer(repo):
        language, results = engine.search_code(repo, body.code, language=body.language, limit=body.limit,
                                               kind=body.kind)
        return {"repository": repo.full_name, "commit": repo.live_version.commit, "language": language,
                "results": [payloads.result(r) for r in results]}
    return _live_answer(owner, name, ("code", body.code, body.language, body.limit, body.kind), answer)


@api.get("/search", response={200: s.GlobalSearchResults, 400: s.Error}, tags=["search"])
def search_everywhere(request, params: Query[s.SearchParams]):
    """The best matches across every indexed repository."""
    def answer():
        results = engine.search_all(params.q, language=params.language, limit=params.limit, kind=params.kind,
                                    paths=params.path)
        return {"query": params.q.strip(), "corrected": engine.corrected_all(params.q, params.path),
                "results": [payloads.result(r) for r in results]}
    index = engine.global_index()  # every repository's units; a new one when any version goes live
    return _cached(("all", str(index.directory) if index else None, params.q, params.language, params.limit,
                    params.kind, tuple(params.path)), answer)


@api.get("/snippets/{int:snippet_id}", response={200: s.Snippet, 404: s.Error}, tags=["snippets"])
def snippet_detail(request, snippet_id: int):
    return payloads.snippet(_snippet(snippet_id))


@api.get("/snippets/{int:snippet_id}/similar", response={200: s.SimilarResults, 400: s.Error, 404: s.Error},
         tags=["snippets"])
def similar_snippets(request, snippet_id: int, params: Query[s.LimitParams]):
    """The units of the same repository most like this one (its function's blocks left out)."""
    snippet = _snippet(snippet_id)

    def answer():
        return {"snippet": payloads.snippet(snippet),
                "results": [payloads.result(r) for r in engine.similar(snippet, limit=params.limit, kind=params.kind)]}
    return _cached(("similar", snippet.version.path, snippet.pk, params.limit, params.kind), answer)

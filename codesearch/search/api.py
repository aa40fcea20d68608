"""JSON API under /api/v1/ (django-ninja; OpenAPI at /api/v1/openapi.json, docs at /api/v1/docs)."""
from __future__ import annotations

from django.conf import settings
from django.http import Http404
from ninja import NinjaAPI, Query, Schema
from ninja.errors import HttpError, ValidationError

from codesearch.repositories.models import Repository
from codesearch.search import engine

api = NinjaAPI(title="codesearch", version="1", description="Neural code search over indexed repositories.")


@api.exception_handler(ValidationError)
def _invalid(request, exc: ValidationError):
    problems = "; ".join(f"{'.'.join(str(p) for p in e.get('loc', [])[1:]) or 'input'}: {e.get('msg')}"
                         for e in exc.errors)
    return api.create_response(request, {"error": problems or "invalid input"}, status=400)


@api.exception_handler(HttpError)
def _http_error(request, exc: HttpError):
    return api.create_response(request, {"error": str(exc)}, status=exc.status_code)


@api.exception_handler(Http404)
def _not_found(request, exc):
    return api.create_response(request, {"error": str(exc) or "not found"}, status=404)


@api.exception_handler(engine.SearchError)
def _search_error(request, exc):
    return api.create_response(request, {"error": str(exc)}, status=400)


class Error(Schema):
    error: str


class RepositoryOut(Schema):
    owner: str
    name: str
    full_name: str
    description: str
    indexed_commit: str | None
    languages: list[str]
    functions: int


class SnippetOut(Schema):
    id: int
    language: str
    func_name: str
    path: str
    start_line: int
    end_line: int
    code: str
    summary: str
    url: str


class ResultOut(SnippetOut):
    score: float
    match_percent: int


class SearchOut(Schema):
    repository: str
    commit: str
    query: str
    results: list[ResultOut]


class SearchParams(Schema):
    q: str
    language: str | None = None
    limit: int = settings.RESULTS_DEFAULT


def _repository(owner: str, name: str) -> Repository:
    repo = Repository.objects.select_related("live_version").filter(owner=owner, name=name).first()
    if repo is None:
        raise Http404(f"repository {owner}/{name} is not known here")
    return repo


def repository_out(repo: Repository) -> dict:
    version = repo.live_version
    return {"owner": repo.owner, "name": repo.name, "full_name": repo.full_name, "description": repo.description,
            "indexed_commit": version.commit if version else None,
            "languages": version.languages if version else [],
            "functions": version.manifest.get("functions", 0) if version else 0}


def result_out(result: engine.Result) -> dict:
    s = result.snippet
    return {"id": s.pk, "language": s.language, "func_name": s.func_name, "path": s.path,
            "start_line": s.start_line, "end_line": s.end_line, "code": s.code, "summary": s.summary,
            "url": s.github_url, "score": round(result.score, 4), "match_percent": result.percent}


@api.get("/health", tags=["service"])
def health(request):
    return {"status": "ok", "repositories": Repository.objects.exclude(live_version=None).count()}


@api.get("/repositories", response=list[RepositoryOut], tags=["repositories"])
def list_repositories(request):
    return [repository_out(r) for r in Repository.objects.select_related("live_version")]


@api.get("/repositories/{owner}/{name}", response={200: RepositoryOut, 404: Error}, tags=["repositories"])
def repository_detail(request, owner: str, name: str):
    return repository_out(_repository(owner, name))


@api.get("/repositories/{owner}/{name}/search", response={200: SearchOut, 400: Error, 404: Error}, tags=["search"])
def search(request, owner: str, name: str, params: Query[SearchParams]):
    """Functions of the repository that do what the query says, best first."""
    if not 1 <= params.limit <= settings.RESULTS_MAX:
        raise HttpError(400, f"limit must be between 1 and {settings.RESULTS_MAX}")
    repo = _repository(owner, name)
    results = engine.search(repo, params.q, language=params.language, limit=params.limit)
    return {"repository": repo.full_name, "commit": repo.live_version.commit, "query": params.q.strip(),
            "results": [result_out(r) for r in results]}

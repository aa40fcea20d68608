"""Server-rendered pages; bad input re-renders the page with the reason and a 4xx status."""
from django.conf import settings
from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from codesearch.repositories import indexing
from codesearch.repositories.indexing import IndexingError
from codesearch.repositories.models import IndexingJob, Repository
from codesearch.search import engine, payloads
from codesearch.search.access import HOW_TO_GET_ACCESS, RateLimited, check_rate, may_request_indexing
from training.extract import LANGUAGES
from training.extract.base import KINDS

EXAMPLES = ["send mail", "parse a date from a string", "check the user's password", "read a file in chunks"]
CODE_EXAMPLE = ("def checksum(path):\n    with open(path, 'rb') as f:\n"
                "        return hashlib.sha256(f.read()).hexdigest()")


def _repository(owner: str, name: str) -> Repository:
    """owner/name with its live version (a 404 if unknown), for a page that searches nothing: one query
    once this process knows that version."""
    repository = engine.live_repository(owner, name)
    if repository is None:
        raise Http404(f"repository {owner}/{name} is not known here")
    return repository


def _home_context(request, **extra) -> dict:
    rows = payloads.repositories(Repository.objects.all())
    languages = sorted({lang for row in rows for lang in row["languages"]})
    return {"repositories": rows, "languages": languages, "examples": EXAMPLES, "index_request": {},
            "may_index": may_request_indexing(request.user), **extra}


@require_GET
def home(request):
    return render(request, "search/home.html", _home_context(request))


@require_POST
def index_repository(request):
    """The home page's form; Django's CSRF middleware has checked the POST by the time it gets here."""
    if not may_request_indexing(request.user):
        messages.error(request, HOW_TO_GET_ACCESS)
        return render(request, "search/home.html", _home_context(request), status=403)
    fields = {key: request.POST.get(key, "").strip() for key in ("repository", "url", "commit")}
    full_name = fields["repository"].removeprefix("https://github.com/").strip("/").removesuffix(".git")
    try:
        check_rate(request, "indexing", settings.RATE_INDEXING, "indexing requests")
        job = indexing.request_indexing(full_name, url=fields["url"], commit=fields["commit"], user=request.user)
    except (IndexingError, RateLimited) as e:
        context = _home_context(request, index_request=fields, index_error=str(e))
        status = 403 if isinstance(e, indexing.AccessDenied) else 429 if isinstance(e, RateLimited) else 400
        return render(request, "search/home.html", context, status=status)
    state = "is being indexed" if job.status == IndexingJob.Status.RUNNING else "is queued for indexing"
    messages.success(request, f"{job.repository.full_name} {state} (job {job.pk}).")
    return redirect("home")


def _search_into(context: dict, search) -> int:
    """Add what `search()` returns to `context`, or the reason it failed; returns the page's status."""
    try:
        context.update(search())
    except engine.SearchError as e:
        context["error"] = str(e)
        return 400
    except engine.IndexUnavailable as e:
        context["error"] = str(e)
        return 503
    return 200


@require_GET
def search_everywhere(request):
    query = request.GET.get("q")
    language = request.GET.get("language") or None
    kind = request.GET.get("kind") or None
    context = {"query": (query or "").strip(), "language": language, "languages": LANGUAGES, "kind": kind,
               "kinds": KINDS, "examples": EXAMPLES, "results": None, "corrected": None, "error": None}
    status = 200
    if query is not None:
        status = _search_into(context, lambda: {
            "results": engine.search_all(query, language=language, limit=settings.RESULTS_DEFAULT, kind=kind),
            "corrected": engine.corrected_all(query)})
    return render(request, "search/search_all.html", context, status=status)


@require_GET
def repository_search(request, owner: str, name: str):
    query = request.GET.get("q")
    language = request.GET.get("language") or None
    kind = request.GET.get("kind") or None

    def page(repository: Repository):
        context = {"repository": repository, "query": (query or "").strip(), "language": language, "kind": kind,
                   "kinds": KINDS, "examples": EXAMPLES, "results": None, "corrected": None, "error": None,
                   "languages": repository.live_version.languages if repository.live_version else []}
        status = 200
        if query is not None:
            status = _search_into(context, lambda: {
                "results": engine.search(repository, query, language=language, limit=settings.RESULTS_DEFAULT,
                                         kind=kind),
                "corrected": engine.corrected(repository, query)})
        return render(request, "search/repository.html", context, status=status)
    if query is None:
        return page(_repository(owner, name))
    return engine.on_live_version(owner, name, page)  # one query in all, once this process knows owner/name


@require_http_methods(["GET", "POST"])
def code_search(request, owner: str, name: str):
    """Paste code, get the functions like it. A POST, because pasted code outgrows a URL."""
    code = request.POST.get("code", "")
    language = request.POST.get("language") or None

    def page(repository: Repository, search=None, error: str | None = None, status: int = 200):
        context = {"repository": repository, "code": code, "language": language, "detected": None,
                   "results": None, "error": error, "example": CODE_EXAMPLE,
                   "code_max_chars": settings.CODE_MAX_CHARS,
                   "languages": repository.live_version.languages if repository.live_version else []}
        if search is not None:
            status = _search_into(context, search)
        return render(request, "search/code.html", context, status=status)
    if request.method == "GET":
        return page(_repository(owner, name))
    try:  # before the search, which may run twice (engine.on_live_version)
        check_rate(request, "code-search", settings.RATE_CODE_SEARCH, "code searches")
    except RateLimited as e:
        return page(_repository(owner, name), error=str(e), status=429)

    def searched(repository: Repository):
        return page(repository, lambda: dict(zip(("detected", "results"), engine.search_code(
            repository, code, language=language, limit=settings.RESULTS_DEFAULT))))
    return engine.on_live_version(owner, name, searched)


@require_GET
def snippet(request, owner: str, name: str, pk: int):
    found = engine.live_snippet(pk)
    if found is None or found.version.repository.full_name != f"{owner}/{name}":
        raise Http404("no such function in this repository's live index")
    context = {"repository": found.version.repository, "snippet": found, "results": None, "error": None}
    status = _search_into(context, lambda: {"results": engine.similar(found, limit=settings.RESULTS_DEFAULT)})
    return render(request, "search/snippet.html", context, status=status)

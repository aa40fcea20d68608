from django.shortcuts import get_object_or_404, render

from codesearch.repositories.models import Repository
from codesearch.search import engine
from codesearch.search.highlight import highlight_code

EXAMPLES = ["send mail", "parse a date from a string", "check the user's password", "read a file in chunks"]


def home(request):
    repositories = Repository.objects.select_related("live_version").order_by("owner", "name")
    return render(request, "search/home.html", {"repositories": repositories})


def repository_search(request, owner: str, name: str):
    repository = get_object_or_404(Repository.objects.select_related("live_version"), owner=owner, name=name)
    query = request.GET.get("q")
    language = request.GET.get("language") or None
    context = {"repository": repository, "query": (query or "").strip(), "language": language,
               "examples": EXAMPLES, "results": None, "error": None,
               "languages": repository.live_version.languages if repository.live_version else []}
    status = 200
    if query is not None:
        try:
            results = engine.search(repository, query, language=language)
        except engine.SearchError as e:
            context["error"] = str(e)
            status = 400
        else:
            for result in results:
                s = result.snippet
                result.html = highlight_code(s.code, s.language, s.start_line)
            context["results"] = results
    return render(request, "search/repository.html", context, status=status)

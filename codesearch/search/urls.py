from django.urls import path

from codesearch.search import views

# One-segment paths first: a repository is always owner/name, two segments.
urlpatterns = [
    path("", views.home, name="home"),
    path("search/", views.search_everywhere, name="search"),
    path("jobs/", views.index_repository, name="request-indexing"),
    path("<str:owner>/<str:name>/", views.repository_search, name="repository"),
    path("<str:owner>/<str:name>/code/", views.code_search, name="code-search"),
    path("<str:owner>/<str:name>/functions/<int:pk>/", views.snippet, name="snippet"),
]

"""Types of the JSON API, for validation and the OpenAPI schema (the browser extension relies on
these names and fields: change them only together with it)."""
from __future__ import annotations

from datetime import datetime

from django.conf import settings
from ninja import Field, Schema



def _limit():
    return Field(settings.RESULTS_DEFAULT, ge=1, le=settings.RESULTS_MAX, description="number of results")


class Error(Schema):
    error: str


class Health(Schema):
    status: str
    repositories: int


class JobStatus(Schema):
    id: int
    status: str = Field(description="queued, running, succeeded or failed")
    stage: str
    progress: float = Field(description="0..1")
    message: str


class Job(JobStatus):
    repository: str
    created: datetime
    started: datetime | None
    finished: datetime | None


class Repository(Schema):
    owner: str
    name: str
    full_name: str
    description: str
    indexed_commit: str | None
    languages: list[str]
    functions: int
    job: JobStatus | None = Field(description="the latest job, unless it succeeded")


class IndexRequest(Schema):
    url: str = Field("", description="https clone URL (default: GitHub's)")
    commit: str = Field("", description="commit, tag or branch (default: the default branch)")


class Snippet(Schema):
    id: int
    repository: str
    language: str
    func_name: str
    path: str
    start_line: int
    end_line: int
    code: str
    summary: str
    url: str = Field(description="the lines on GitHub, at the indexed commit")
    highlight: list[tuple[str, str]] = Field(
        description="Pygments tokens as [css_class, text] pairs (short classes such as k, nf, s2; '' is plain)")


class Result(Snippet):
    score: float = Field(description="cosine similarity, -1..1")
    match_percent: int = Field(description="the cosine similarity in percent, 0..100")


class SearchParams(Schema):
    q: str = Field(description="what the code should do")
    language: str | None = None
    limit: int = _limit()


class LimitParams(Schema):
    limit: int = _limit()


class SearchResults(Schema):
    repository: str
    commit: str
    query: str
    results: list[Result]


class CodeSearchRequest(Schema):
    code: str
    language: str | None = Field(None, description="detected when null")
    limit: int = _limit()


class CodeSearchResults(Schema):
    repository: str
    commit: str
    language: str = Field(description="the language given, or the one detected")
    results: list[Result]


class GlobalSearchResults(Schema):
    query: str
    results: list[Result]


class SimilarResults(Schema):
    snippet: Snippet
    results: list[Result]

"""Types of the JSON API, for validation and the OpenAPI schema (the browser extension relies on
these names and fields: change them only together with it)."""
from __future__ import annotations

from datetime import datetime

from django.conf import settings
from ninja import Field, Schema

from training.extract import LANGUAGES
from training.extract.base import KINDS



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
    kinds: dict[str, int] = Field(description="units indexed by kind: function, class, block")
    job: JobStatus | None = Field(description="the latest job, unless it succeeded")


class IndexRequest(Schema):
    # Patterns documented, not enforced here: the indexing checks say what is wrong in plain words.
    url: str = Field("", description="https clone URL on an allowed host (default: GitHub's); only staff may "
                                     "change the URL a repository is indexed from",
                     json_schema_extra={"maxLength": 500, "pattern": r"^(https://\S+)?$"})
    commit: str = Field("", description="commit, tag or branch (default: the default branch)",
                        json_schema_extra={"maxLength": 100, "pattern": r"^([A-Za-z0-9_][A-Za-z0-9_./-]*)?$"})


class Snippet(Schema):
    id: int
    repository: str
    language: str
    kind: str = Field(description="function; class (a class, struct, interface, trait or module); or block "
                                  "(a few statements of a long function, named after it)",
                      json_schema_extra={"enum": list(KINDS)})
    func_name: str
    path: str
    start_line: int
    end_line: int
    code: str = Field(description=f"the unit's source, cut at {settings.RESULT_CODE_MAX_CHARS} characters")
    code_truncated: bool = Field(description="whether `code` was cut (the link shows all of it)")
    summary: str
    url: str = Field(description="the lines on GitHub, at the indexed commit")
    highlight: list[tuple[str, str]] = Field(
        description="Pygments tokens as [css_class, text] pairs (short classes such as k, nf, s2; '' is plain)")


class Match(Schema):
    token: str = Field(description="a token of the unit as the model reads it: a lower-case identifier or part "
                                   "of one (send_mail, send, mail), or a word of its doc")
    share: float = Field(description="its share, 0..1, of what all the unit's tokens added to the similarity")
    source: str = Field(description="name (the unit's own name), code or doc",
                        json_schema_extra={"enum": ["name", "code", "doc"]})


class Result(Snippet):
    score: float = Field(description="-1..1, higher first, in the order of the results: for a search by words, the "
                                     "result's cosine similarity to the query plus BM25's evidence for it in cosine units "
                                     "(the hybrid ranking's score on the cosine's scale); for search by code and similar "
                                     "snippets, the cosine similarity")
    match_percent: int = Field(description="the score in percent, 0..100 (negative scores read 0)")
    matched: list[Match] = Field(description="why it matched, for a search by words: the few tokens that added "
                                             "the most to the model's similarity, most first (the bag of words "
                                             "makes each token's part exact); empty for search by code and "
                                             "similar snippets")


def _language(description: str = "only functions in this language"):
    # Documented, not enforced by the schema: the engine's own check says what is wrong in plain words.
    return Field(None, description=f"{description} (empty: every language)", json_schema_extra={"enum": [*LANGUAGES, "", None]})


def _kind():
    # Documented, not enforced by the schema, like the language.
    return Field(None, description="only units of this kind (default or empty: all, one per function: a block is "
                                   "shown unless its function ranks above it)",
                 json_schema_extra={"enum": [*KINDS, "", None]})


class SearchParams(Schema):
    q: str = Field(description="what the code should do: words, at most "
                               f"{settings.QUERY_MAX_CHARS} characters, no control characters; `path:PATTERN` "
                               "in it narrows the results as `path` does",
                   json_schema_extra={"minLength": 1, "maxLength": settings.QUERY_MAX_CHARS})
    language: str | None = _language()
    kind: str | None = _kind()
    path: list[str] = Field([], description=f"only units under one of these (at most {settings.PATH_FILTERS_MAX}): "
                                            "a folder or file anywhere (`core/mail`), from the root (`/django/core`), "
                                            "or a glob over the whole path (`*.py`, `src/**/*_test.go`)",
                            json_schema_extra={"maxItems": settings.PATH_FILTERS_MAX})
    limit: int = _limit()


class LimitParams(Schema):
    kind: str | None = _kind()
    limit: int = _limit()


def _corrected():
    return Field(description="the query as it was searched, its mistyped words corrected (\"sned mial\" is searched "
                             "as \"send mail\"; `path:` filters as typed); null when every word was searched as typed")


class SearchResults(Schema):
    repository: str
    commit: str
    query: str
    corrected: str | None = _corrected()
    results: list[Result]


class CodeSearchRequest(Schema):
    code: str = Field(description=f"source code, at most {settings.CODE_MAX_CHARS} characters, not blank",
                      json_schema_extra={"minLength": 1, "maxLength": settings.CODE_MAX_CHARS})
    language: str | None = _language("the code's language; detected when null")
    kind: str | None = _kind()
    limit: int = _limit()


class CodeSearchResults(Schema):
    repository: str
    commit: str
    language: str = Field(description="the language given, or the one detected")
    results: list[Result]


class GlobalSearchResults(Schema):
    query: str
    corrected: str | None = _corrected()
    results: list[Result]


class SimilarResults(Schema):
    snippet: Snippet
    results: list[Result]

"""The JSON shapes of the API (see schemas.py for their documented types), built from model rows."""
from __future__ import annotations

from django.db.models import OuterRef, QuerySet, Subquery

from codesearch.repositories.models import IndexingJob, Repository, Snippet
from codesearch.search.engine import Result
from codesearch.search.highlight import shown


def job_status(record: IndexingJob) -> dict:
    return {"id": record.pk, "status": record.status, "stage": record.stage, "progress": round(record.progress, 3),
            "message": record.message}


def job(record: IndexingJob) -> dict:
    return {**job_status(record), "repository": record.repository.full_name, "created": record.created,
            "started": record.started, "finished": record.finished}


def repository(repo: Repository, latest_job: IndexingJob | None) -> dict:
    """`latest_job` is shown unless it succeeded: a queued, running or failed one is news."""
    version = repo.live_version
    shown = latest_job if latest_job and latest_job.status != IndexingJob.Status.SUCCEEDED else None
    return {"owner": repo.owner, "name": repo.name, "full_name": repo.full_name, "description": repo.description,
            "indexed_commit": version.commit if version else None,
            "languages": version.languages if version else [],
            "functions": version.manifest.get("functions", 0) if version else 0,
            "kinds": version.kinds if version else {},
            "job": job_status(shown) if shown else None}


def repositories(queryset: QuerySet[Repository]) -> list[dict]:
    """Every repository with its latest job, in two queries."""
    newest = IndexingJob.objects.filter(repository=OuterRef("pk")).order_by("-created", "-pk").values("pk")[:1]
    repos = list(queryset.select_related("live_version").annotate(latest_job=Subquery(newest)))
    jobs = IndexingJob.objects.in_bulk([r.latest_job for r in repos if r.latest_job])
    return [repository(r, jobs.get(r.latest_job)) for r in repos]


def snippet(s: Snippet) -> dict:
    # A generated or minified "function" can be megabytes long: its code is cut, and the link leads to the rest.
    code = shown(s)
    return {"id": s.pk, "repository": s.version.repository.full_name, "language": s.language, "kind": s.kind,
            "func_name": s.func_name, "path": s.path, "start_line": s.start_line, "end_line": s.end_line,
            "code": code.code, "code_truncated": code.truncated, "summary": s.summary, "url": s.github_url,
            "highlight": code.tokens}


def result(r: Result) -> dict:
    return {**snippet(r.snippet), "score": r.shown_score, "match_percent": r.percent,
            "matched": r.matched}

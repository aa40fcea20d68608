"""Indexing jobs: requested from the command line, the admin or the API; run by `run_worker`.

Jobs of one repository run one at a time: a worker only claims a queued job whose repository has no
running job, and the claim is a single conditional UPDATE, so several workers never take the same job.
"""
from __future__ import annotations

import logging
import time
import traceback

from django.db import transaction
from django.utils import timezone

from codesearch.repositories.models import IndexingJob, Repository
from codesearch.repositories.pipeline import (IndexingError, check_commit, check_url, clone_schemes, index_repository,
                                              parse_full_name)

log = logging.getLogger(__name__)
Status = IndexingJob.Status


def request_indexing(full_name: str, url: str | None = None, commit: str | None = None) -> IndexingJob:
    """Queue a job (validating its input now); an active job of the repository is returned instead."""
    owner, name = parse_full_name(full_name)
    url, commit = (url or "").strip(), (commit or "").strip()
    if url:
        if len(url) > IndexingJob._meta.get_field("url").max_length:
            raise IndexingError("the clone URL is too long")
        check_url(url, clone_schemes())
    if commit:
        check_commit(commit)
    with transaction.atomic():
        Repository.objects.get_or_create(owner=owner, name=name)
        # Locking the repository row makes two simultaneous requests queue one job, not two.
        repository = Repository.objects.select_for_update().get(owner=owner, name=name)
        active = repository.jobs.filter(status__in=[Status.QUEUED, Status.RUNNING]).first()
        if active:
            return active
        return IndexingJob.objects.create(repository=repository, url=url, commit=commit)


def retry(job: IndexingJob) -> IndexingJob:
    return request_indexing(job.repository.full_name, url=job.url or None, commit=job.commit or None)


def claim_next_job() -> IndexingJob | None:
    busy = IndexingJob.objects.filter(status=Status.RUNNING).values("repository_id")
    for job in IndexingJob.objects.filter(status=Status.QUEUED).exclude(repository_id__in=busy).order_by("created"):
        claimed = IndexingJob.objects.filter(pk=job.pk, status=Status.QUEUED).update(
            status=Status.RUNNING, started=timezone.now(), stage="starting", progress=0.0)
        if claimed:
            return IndexingJob.objects.select_related("repository").get(pk=job.pk)
    return None


def run_job(job: IndexingJob) -> IndexingJob:
    last_saved = 0.0

    def progress(stage: str, fraction: float) -> None:
        nonlocal last_saved
        if time.monotonic() - last_saved > 0.5 or fraction >= 0.95:
            IndexingJob.objects.filter(pk=job.pk).update(stage=stage, progress=fraction)
            last_saved = time.monotonic()

    try:
        version = index_repository(job.repository.full_name, url=job.url or None, commit=job.commit or None,
                                   progress=progress, force=True)
    except IndexingError as e:
        _finish(job, Status.FAILED, str(e))
    except Exception as e:  # an unexpected failure must still end the job, with something to go on
        log.exception("job %s failed", job.pk)
        _finish(job, Status.FAILED, f"internal error: {e.__class__.__name__}: {e}"[:2000])
        log.debug("%s", traceback.format_exc())
    else:
        job.version = version
        _finish(job, Status.SUCCEEDED, f"{version.manifest['functions']} functions indexed at {version.commit}")
    return job


def _finish(job: IndexingJob, status: str, message: str) -> None:
    job.status, job.message, job.finished = status, message, timezone.now()
    job.stage = "done" if status == Status.SUCCEEDED else "failed"
    job.progress = 1.0 if status == Status.SUCCEEDED else job.progress
    job.save(update_fields=["status", "message", "finished", "stage", "progress", "version"])


def work(once: bool = False, poll: float = 2.0) -> int:
    """Run queued jobs; with `once`, stop when none is left. Returns how many ran."""
    ran = 0
    while True:
        job = claim_next_job()
        if job is None:
            if once:
                return ran
            time.sleep(poll)
            continue
        log.info("running %s", job)
        run_job(job)
        ran += 1

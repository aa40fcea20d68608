from django.conf import settings
from django.db import models


class Repository(models.Model):
    owner = models.CharField(max_length=100)
    name = models.CharField(max_length=100)
    description = models.TextField(blank=True)
    created = models.DateTimeField(auto_now_add=True)
    # The version that serves searches; switched in one transaction once a new build has passed its checks.
    live_version = models.ForeignKey("IndexVersion", null=True, blank=True, on_delete=models.SET_NULL,
                                     related_name="+")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["owner", "name"], name="unique_repository")]
        ordering = ["owner", "name"]
        verbose_name_plural = "repositories"

    def __str__(self):
        return self.full_name

    @property
    def full_name(self) -> str:
        return f"{self.owner}/{self.name}"

    @property
    def github_url(self) -> str:
        return f"https://github.com/{self.full_name}"


class IndexVersion(models.Model):
    """One complete, checked build of a repository's index at one commit."""

    repository = models.ForeignKey(Repository, on_delete=models.CASCADE, related_name="versions")
    commit = models.CharField(max_length=100)
    path = models.CharField(max_length=500, help_text="directory under INDEXES_DIR")
    manifest = models.JSONField(default=dict)
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created"]

    def __str__(self):
        return f"{self.repository} @ {self.commit}"

    @property
    def directory(self):
        return settings.INDEXES_DIR / self.path

    @property
    def languages(self) -> list[str]:
        return sorted(self.manifest.get("languages", {}))


class Snippet(models.Model):
    """One indexed function; (version, language, item) is its place in the Annoy index."""

    version = models.ForeignKey(IndexVersion, on_delete=models.CASCADE, related_name="snippets")
    language = models.CharField(max_length=20)
    item = models.PositiveIntegerField()
    func_name = models.CharField(max_length=500)
    path = models.CharField(max_length=1000)
    start_line = models.PositiveIntegerField()
    end_line = models.PositiveIntegerField()
    code = models.TextField()
    summary = models.TextField(blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["version", "language", "item"], name="unique_snippet_item")]

    def __str__(self):
        return f"{self.func_name} ({self.path}:{self.start_line})"

    @property
    def github_url(self) -> str:
        repo = self.version.repository
        return (f"https://github.com/{repo.full_name}/blob/{self.version.commit}/{self.path}"
                f"#L{self.start_line}-L{self.end_line}")


class IndexingJob(models.Model):
    """A request to (re-)index a repository; run by `manage.py run_worker`, one at a time per repository."""

    class Status(models.TextChoices):
        QUEUED = "queued"
        RUNNING = "running"
        SUCCEEDED = "succeeded"
        FAILED = "failed"

    repository = models.ForeignKey(Repository, on_delete=models.CASCADE, related_name="jobs")
    url = models.CharField(max_length=500, blank=True, help_text="https clone URL (default: GitHub's)")
    commit = models.CharField(max_length=100, blank=True, help_text="commit or tag (default: the default branch)")
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.QUEUED)
    stage = models.CharField(max_length=100, blank=True)
    progress = models.FloatField(default=0.0, help_text="0..1")
    message = models.TextField(blank=True)
    version = models.ForeignKey(IndexVersion, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created = models.DateTimeField(auto_now_add=True)
    started = models.DateTimeField(null=True, blank=True)
    finished = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created"]

    def __str__(self):
        return f"{self.repository} job {self.pk} ({self.status})"

    @property
    def active(self) -> bool:
        return self.status in (self.Status.QUEUED, self.Status.RUNNING)

import hashlib
import secrets

from django.conf import settings
from django.db import models


class Repository(models.Model):
    owner = models.CharField(max_length=100)
    name = models.CharField(max_length=100)
    description = models.TextField(blank=True)
    created = models.DateTimeField(auto_now_add=True)
    url = models.CharField(max_length=500, blank=True,
                           help_text="clone URL it is indexed from (empty: GitHub's); only staff may change it")
    # The version that serves searches; switched in one transaction once a new build has passed its checks.
    live_version = models.ForeignKey("IndexVersion", null=True, blank=True, on_delete=models.SET_NULL,
                                     related_name="+")
    # The build lock: one build-and-publish at a time per repository, whichever process runs it. Held
    # by `build_holder` until `build_lease_until`, renewed while the build runs, so a dead holder's
    # lock lapses by itself.
    build_holder = models.CharField(max_length=100, blank=True)
    build_lease_until = models.DateTimeField(null=True, blank=True)

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
    # When a newer version went live; the files stay for a grace period, for searches still reading them.
    retired = models.DateTimeField(null=True, blank=True)

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

    @property
    def kinds(self) -> dict[str, int]:
        """How many functions, classes and blocks it holds."""
        return self.manifest.get("kinds") or {"function": self.manifest.get("functions", 0)}

    @property
    def counts_text(self) -> str:
        """"812 functions, 97 classes, 77 blocks"."""
        plural = {"function": "functions", "class": "classes", "block": "blocks"}
        return ", ".join(f"{n} {kind if n == 1 else plural[kind]}" for kind, n in self.kinds.items())


class Snippet(models.Model):
    """One indexed unit (a function, class or block); (version, language, item) is its place in the
    Annoy index."""

    class Kind(models.TextChoices):
        FUNCTION = "function"
        CLASS = "class"
        BLOCK = "block"

    version = models.ForeignKey(IndexVersion, on_delete=models.CASCADE, related_name="snippets")
    language = models.CharField(max_length=20)
    item = models.PositiveIntegerField()
    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.FUNCTION)
    func_name = models.CharField(max_length=500, help_text="a block's is its function's")
    path = models.CharField(max_length=1000)
    start_line = models.PositiveIntegerField()
    end_line = models.PositiveIntegerField()
    code = models.TextField()
    summary = models.TextField(blank=True)
    # What its vector was made of, to say why it matched a query (training.index.explain).
    explained = models.JSONField(default=dict, help_text="its name's, code's and doc's tokens as its model's "
                                                         "encoders read them (training.model.read_tokens)")
    # Its code as results show it (cut at RESULT_CODE_MAX_CHARS), highlighted once when it is indexed, so
    # that no request runs Pygments (codesearch.search.highlight).
    highlight = models.JSONField(default=list, help_text="its shown code as [css class, text] pairs (the API's)")
    html = models.TextField(blank=True, help_text="its shown code as highlighted HTML, lines numbered (the pages')")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["version", "language", "item"], name="unique_snippet_item")]

    def __str__(self):
        return f"{self.func_name} ({self.path}:{self.start_line})"

    def as_unit(self) -> dict:
        """The record the index was built from, as far as explaining a match needs it."""
        return {"language": self.language, "kind": self.kind, "func_name": self.func_name,
                "explained": self.explained}

    @property
    def github_url(self) -> str:
        repo = self.version.repository
        return (f"https://github.com/{repo.full_name}/blob/{self.version.commit}/{self.path}"
                f"#L{self.start_line}-L{self.end_line}")


class IndexingJob(models.Model):
    """A request to (re-)index a repository; run by `manage.py run_worker`, one at a time per repository.

    A running job holds a lease that its worker renews; once it lapses (the worker died) the job is
    run again, up to CODESEARCH_JOB_MAX_ATTEMPTS times in all.
    """

    class Status(models.TextChoices):
        QUEUED = "queued"
        RUNNING = "running"
        SUCCEEDED = "succeeded"
        FAILED = "failed"
        CANCELLED = "cancelled"

    repository = models.ForeignKey(Repository, on_delete=models.CASCADE, related_name="jobs")
    url = models.CharField(max_length=500, blank=True, help_text="https clone URL (default: GitHub's)")
    commit = models.CharField(max_length=100, blank=True, help_text="commit or tag (default: the default branch)")
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.QUEUED)
    stage = models.CharField(max_length=100, blank=True)
    progress = models.FloatField(default=0.0, help_text="0..1")
    message = models.TextField(blank=True)
    version = models.ForeignKey(IndexVersion, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                     related_name="+")
    created = models.DateTimeField(auto_now_add=True)
    started = models.DateTimeField(null=True, blank=True)
    finished = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveIntegerField(default=0, help_text="times a worker has started it")
    worker = models.CharField(max_length=100, blank=True)
    lease_until = models.DateTimeField(null=True, blank=True)
    cancel_requested = models.BooleanField(default=False)

    class Meta:
        ordering = ["-created"]
        permissions = [("request_indexing", "Can request indexing of a repository")]

    def __str__(self):
        return f"{self.repository} job {self.pk} ({self.status})"

    @property
    def active(self) -> bool:
        return self.status in (self.Status.QUEUED, self.Status.RUNNING)


class ApiToken(models.Model):
    """A bearer token that acts as its user in the API. Only a hash is stored; the token itself is shown
    once, when it is created (in the admin or by `manage.py create_api_token`)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=100, help_text="what it is for, e.g. 'browser extension'")
    prefix = models.CharField(max_length=8, editable=False, help_text="the token's first characters")
    key_hash = models.CharField(max_length=64, unique=True, editable=False)
    created = models.DateTimeField(auto_now_add=True)
    last_used = models.DateTimeField(null=True, blank=True, editable=False)
    revoked = models.BooleanField(default=False)

    PREFIX = "cs_"

    def __str__(self):
        return f"{self.name} ({self.prefix}…, {self.user})"

    @staticmethod
    def hash(token: str) -> str:
        # Tokens are 256 random bits, so a fast hash is enough: there is nothing to brute-force.
        return hashlib.sha256(token.encode()).hexdigest()

    def set_new_token(self) -> str:
        token = self.PREFIX + secrets.token_urlsafe(32)
        self.prefix, self.key_hash = token[:8], self.hash(token)
        return token

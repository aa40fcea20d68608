from django.contrib import admin, messages

from codesearch.repositories import indexing
from codesearch.repositories.models import ApiToken, IndexingJob, IndexVersion, Repository, Snippet


@admin.register(Repository)
class RepositoryAdmin(admin.ModelAdmin):
    list_display = ["full_name", "live_version", "url", "created"]
    search_fields = ["owner", "name"]
    readonly_fields = ["build_holder", "build_lease_until"]


@admin.register(IndexVersion)
class IndexVersionAdmin(admin.ModelAdmin):
    list_display = ["repository", "commit", "created", "retired"]


@admin.register(Snippet)
class SnippetAdmin(admin.ModelAdmin):
    list_display = ["func_name", "language", "path", "start_line"]
    list_filter = ["language"]
    search_fields = ["func_name", "path"]


@admin.register(IndexingJob)
class IndexingJobAdmin(admin.ModelAdmin):
    """Jobs are requested from the site, the API or the extension; here staff follow, cancel and retry them."""

    list_display = ["pk", "repository", "status", "stage", "progress", "attempts", "requested_by", "created", "finished"]
    list_filter = ["status"]
    search_fields = ["repository__owner", "repository__name"]
    readonly_fields = ["status", "stage", "progress", "message", "version", "requested_by", "started", "finished",
                       "attempts", "worker", "lease_until", "cancel_requested"]
    actions = ["cancel", "retry"]

    @admin.action(description="Cancel the selected jobs")
    def cancel(self, request, queryset):
        for job in queryset:
            indexing.cancel(job)
        messages.success(request, f"asked {queryset.count()} job(s) to stop")

    @admin.action(description="Run the selected jobs' requests again")
    def retry(self, request, queryset):
        for job in queryset:
            indexing.retry(job, user=request.user)
        messages.success(request, f"queued {queryset.count()} job(s)")


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ["name", "user", "prefix", "created", "last_used", "revoked"]
    list_filter = ["revoked"]
    readonly_fields = ["prefix", "created", "last_used"]

    def save_model(self, request, obj, form, change):
        if not change:
            token = obj.set_new_token()
            # Only its hash is kept, so this is the one time anyone can read it.
            messages.warning(request, f"The new token is {token} — copy it now; it will not be shown again.")
        super().save_model(request, obj, form, change)

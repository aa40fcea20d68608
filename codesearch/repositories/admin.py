from django.contrib import admin

from codesearch.repositories.models import IndexVersion, Repository, Snippet


@admin.register(Repository)
class RepositoryAdmin(admin.ModelAdmin):
    list_display = ["full_name", "live_version", "created"]
    search_fields = ["owner", "name"]


@admin.register(IndexVersion)
class IndexVersionAdmin(admin.ModelAdmin):
    list_display = ["repository", "commit", "created"]


@admin.register(Snippet)
class SnippetAdmin(admin.ModelAdmin):
    list_display = ["func_name", "language", "path", "start_line"]
    list_filter = ["language"]
    search_fields = ["func_name", "path"]

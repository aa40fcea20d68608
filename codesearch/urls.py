from django.contrib import admin
from django.urls import include, path, re_path

from codesearch.search import api

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/v1/", api.api.urls),
    re_path(r"^api/(?P<path>.*)$", api.not_found),
    path("", include("codesearch.search.urls")),
]

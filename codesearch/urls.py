from django.conf import settings
from django.contrib import admin
from django.contrib.auth import views as auth
from django.http import HttpResponse
from django.urls import include, path, re_path
from django_ratelimit.decorators import ratelimit

from codesearch.search import api


def throttled(login_view):
    """A login view whose attempts (failed and successful alike) are limited per address and per user name."""
    @ratelimit(key="ip", rate=settings.RATE_LOGIN, method="POST", block=False, group="login")
    @ratelimit(key="post:username", rate=settings.RATE_LOGIN, method="POST", block=False, group="login")
    def view(request, *args, **kwargs):
        if getattr(request, "limited", False):
            return HttpResponse("Too many sign-in attempts; wait a minute and try again.", status=429,
                                content_type="text/plain", headers={"Retry-After": "60"})
        return login_view(request, *args, **kwargs)
    return view


urlpatterns = [
    path("admin/login/", throttled(admin.site.login)),
    path("admin/", admin.site.urls),
    path("accounts/login/", throttled(auth.LoginView.as_view(template_name="search/login.html")), name="login"),
    path("accounts/logout/", auth.LogoutView.as_view(), name="logout"),
    path("api/v1/", api.api.urls),
    re_path(r"^api/(?P<path>.*)$", api.not_found),
    path("", include("codesearch.search.urls")),
]

from django.urls import path

from codesearch.search import views

urlpatterns = [
    path("", views.home, name="home"),
    path("<str:owner>/<str:name>/", views.repository_search, name="repository"),
]

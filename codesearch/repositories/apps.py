from django.apps import AppConfig


class RepositoriesConfig(AppConfig):
    name = "codesearch.repositories"
    default_auto_field = "django.db.models.BigAutoField"

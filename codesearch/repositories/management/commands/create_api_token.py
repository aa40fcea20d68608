from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from codesearch.repositories.models import ApiToken


class Command(BaseCommand):
    help = "Create an API token for a user (printed once, on the last line; only its hash is stored)."

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--name", default="created by manage.py", help="what the token is for")

    def handle(self, *args, **options):
        user = get_user_model().objects.filter(username=options["username"]).first()
        if user is None:
            raise CommandError(f"no user {options['username']!r}; create one with `manage.py createsuperuser`")
        if not user.has_perm("repositories.request_indexing"):
            self.stderr.write(f"note: {user} lacks the request_indexing permission, so the token cannot request "
                              f"indexing until it is given (admin > users)")
        token = ApiToken(user=user, name=options["name"][:100])
        secret = token.set_new_token()
        token.save()
        self.stdout.write(secret)

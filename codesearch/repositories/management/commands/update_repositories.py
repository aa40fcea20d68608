from django.core.management.base import BaseCommand, CommandError

from codesearch.repositories.models import Repository
from codesearch.repositories.indexing import update_repositories


class Command(BaseCommand):
    help = "Re-index repositories whose default branch (or local checkout) moved since they were indexed."

    def add_arguments(self, parser):
        parser.add_argument("repositories", nargs="*", help="owner/name (default: every indexed repository)")
        parser.add_argument("--backend", choices=["local", "ray"], default="local",
                            help="ray: build each repository as a Ray task")
        parser.add_argument("--address", help="Ray cluster address (default: start a local Ray instance)")

    def handle(self, *args, **options):
        repositories = list(Repository.objects.exclude(live_version=None).select_related("live_version"))
        if options["repositories"]:
            wanted = set(options["repositories"])
            repositories = [r for r in repositories if r.full_name in wanted]
            missing = wanted - {r.full_name for r in repositories}
            if missing:
                raise CommandError(f"not indexed here: {', '.join(sorted(missing))}")
        outcomes = update_repositories(repositories, backend=options["backend"], address=options["address"])
        for outcome in outcomes:
            self.stdout.write(f"{outcome.repository}: {outcome.status}" + (f" ({outcome.detail})" if outcome.detail else ""))
        if any(o.status == "failed" for o in outcomes):
            raise CommandError("some repositories could not be updated")

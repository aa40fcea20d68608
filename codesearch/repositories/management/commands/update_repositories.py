from django.core.management.base import BaseCommand, CommandError

from codesearch.repositories.indexing import update_repositories
from codesearch.repositories.management.commands.add_repositories import summary
from codesearch.repositories.models import Repository


class Command(BaseCommand):
    help = ("Re-index repositories whose default branch (or local checkout) moved since they were indexed, "
            "each published as soon as its build finishes.")

    def add_arguments(self, parser):
        parser.add_argument("repositories", nargs="*", help="owner/name (default: every indexed repository)")
        parser.add_argument("--backend", choices=["local", "ray"], default="local",
                            help="local: one build at a time here; ray: every build as a Ray task at once")
        parser.add_argument("--address", help="Ray cluster address (default: start a Ray instance here); on a "
                                              "cluster of several machines indexes/ must be shared storage, see README")

    def handle(self, *args, **options):
        repositories = list(Repository.objects.exclude(live_version=None).select_related("live_version"))
        if options["repositories"]:
            wanted = set(options["repositories"])
            repositories = [r for r in repositories if r.full_name in wanted]
            missing = wanted - {r.full_name for r in repositories}
            if missing:
                raise CommandError(f"not indexed here: {', '.join(sorted(missing))}")
        outcomes = update_repositories(repositories, backend=options["backend"], address=options["address"],
                                       report=lambda outcome: self.stdout.write(str(outcome)))
        self.stdout.write(summary(outcomes))
        if any(o.status == "failed" for o in outcomes):
            raise CommandError("some repositories could not be updated")

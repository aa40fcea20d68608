from django.core.management.base import BaseCommand

from codesearch.repositories.indexing import work


class Command(BaseCommand):
    help = ("Run queued indexing jobs, one at a time per repository. SIGTERM stops the running build and puts "
            "its job back in the queue.")

    def add_arguments(self, parser):
        parser.add_argument("--once", action="store_true", help="exit when no job is queued")
        parser.add_argument("--poll", type=float, default=2.0, help="seconds between looks for new jobs")

    def handle(self, *args, **options):
        ran = work(once=options["once"], poll=options["poll"])
        self.stdout.write(f"ran {ran} job(s)")

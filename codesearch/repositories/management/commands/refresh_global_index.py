from django.core.management.base import BaseCommand, CommandError

from codesearch.repositories import global_index


class Command(BaseCommand):
    help = ("Build the index that the search across every repository reads (it is rebuilt by itself when a "
            "version goes live; run this after changing the base model or removing repositories).")

    def add_arguments(self, parser):
        parser.add_argument("--if-stale", action="store_true",
                            help="only when the live versions differ from those it was built from")

    def handle(self, *args, **options):
        manifest = global_index.refresh_if_stale() if options["if_stale"] else global_index.refresh()
        if manifest is None and not options["if_stale"]:
            raise CommandError("no base model to embed with: train one first (make base-model, or make demo)")
        if manifest is None:
            self.stdout.write("the global index is up to date")
            return
        self.stdout.write(f"global index of {manifest['rows']} units of {manifest['repositories']} repositories "
                          f"built in {manifest['seconds']} s")
        for part in manifest["left_out"]:
            self.stderr.write(f"left out {part['repository']}: {part['reason']}")

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from codesearch.repositories.pipeline import IndexingError, index_repository


class Command(BaseCommand):
    help = "Index a repository (a local checkout) so that it can be searched."

    def add_arguments(self, parser):
        parser.add_argument("full_name", help="owner/name on GitHub")
        parser.add_argument("--path", required=True, help="a local checkout of the repository")
        parser.add_argument("--commit", help="the commit or tag the checkout holds (default: its git HEAD)")
        parser.add_argument("--prefix", default="", help="path of the checkout inside the repository, e.g. django/")
        parser.add_argument("--trees", type=int, default=50, help="Annoy trees per language index")
        parser.add_argument("--base-model", type=Path, help="model directory (default: settings.BASE_MODEL_DIR)")
        parser.add_argument("--force", action="store_true", help="re-index even if this commit is live")

    def handle(self, *args, **options):
        try:
            version = index_repository(options["full_name"], Path(options["path"]), commit=options["commit"],
                                       prefix=options["prefix"], n_trees=options["trees"], force=options["force"],
                                       base_model=options["base_model"])
        except IndexingError as e:
            raise CommandError(str(e)) from e
        counts = ", ".join(f"{lang} {entry['count']}" for lang, entry in version.manifest["languages"].items())
        self.stdout.write(self.style.SUCCESS(
            f"{version.repository} @ {version.commit} is live: {counts} functions ({version.path})"))

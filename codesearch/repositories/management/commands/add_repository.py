from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from codesearch.repositories.indexing import IndexingError, index_repository


class Command(BaseCommand):
    help = "Index a repository from GitHub (shallow fetch), an https URL, or a local checkout."

    def add_arguments(self, parser):
        parser.add_argument("full_name", help="owner/name on GitHub")
        source = parser.add_mutually_exclusive_group()
        source.add_argument("--url", help="https clone URL (default: https://github.com/OWNER/NAME.git)")
        source.add_argument("--path", type=Path, help="a local checkout of the repository")
        parser.add_argument("--commit", help="commit, branch or tag (default: the checkout's HEAD / the default branch)")
        parser.add_argument("--prefix", default="", help="path of the checkout inside the repository, e.g. django/")
        parser.add_argument("--trees", type=int, default=50, help="Annoy trees per language index")
        parser.add_argument("--base-model", type=Path, help="model directory (default: settings.BASE_MODEL_DIR)")
        parser.add_argument("--force", action="store_true", help="re-index even if this commit is live")

    def handle(self, *args, **options):
        def progress(stage, fraction):
            self.stdout.write(f"[{fraction * 100:3.0f}%] {stage}")

        try:
            version = index_repository(options["full_name"], path=options["path"], url=options["url"],
                                       commit=options["commit"], prefix=options["prefix"], n_trees=options["trees"],
                                       force=options["force"], base_model=options["base_model"], progress=progress)
        except IndexingError as e:
            raise CommandError(str(e)) from e
        model = version.manifest.get("model", {})
        self.stdout.write(self.style.SUCCESS(
            f"{version.repository} @ {version.commit} is live: {version.counts_text} "
            f"({', '.join(version.languages)}), "
            f"{model.get('model', 'base')} model ({version.path})"))

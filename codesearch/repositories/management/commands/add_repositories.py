"""`manage.py add_repositories FILE`: index a list of repositories, each as `add_repository` would.

FILE ("-" for standard input) lists one repository a line, in `add_repository`'s own words:

    # owner/name [--path DIR | --url URL] [--commit C] [--prefix P]
    django/django --path .venv/lib/python3.11/site-packages/django --prefix django/ --commit 5.2.19
    pallets/flask
    psf/requests --url https://github.com/psf/requests.git --commit v2.32.3

Blank lines and `#` comments are skipped; a relative path is read from the current directory, as
`add_repository` reads it. Every line is checked before anything is built: a bad line is reported
with its number, and then nothing is indexed. Each repository is published as soon as its build
finishes (one line each), then a summary; the exit status is non-zero if any failed.
"""
import argparse
import shlex
import sys
from collections import Counter
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from codesearch.repositories.indexing import IndexingError, Outcome, Source, index_repositories


class _LineParser(argparse.ArgumentParser):
    def error(self, message):  # a bad line is reported with its number, not by exiting
        raise IndexingError(message)


def _line_parser() -> argparse.ArgumentParser:
    parser = _LineParser(prog="", add_help=False)
    parser.add_argument("full_name")
    source = parser.add_mutually_exclusive_group()
    source.add_argument("--url")
    source.add_argument("--path", type=Path)
    parser.add_argument("--commit")
    parser.add_argument("--prefix", default="")
    return parser


def _source(parser: argparse.ArgumentParser, line: str) -> Source | None:
    try:
        words = shlex.split(line, comments=True)
    except ValueError as e:  # unbalanced quotes
        raise IndexingError(f"cannot split the line into words: {e}") from None
    return Source(**vars(parser.parse_args(words))).checked() if words else None


def read_sources(lines, name: str) -> tuple[list[Source], list[str]]:
    """(the checked sources, one error line per bad line)."""
    parser, sources, errors, seen = _line_parser(), [], [], {}
    for number, line in enumerate(lines, 1):
        try:
            source = _source(parser, line)
            if source is not None and source.full_name in seen:
                raise IndexingError(f"{source.full_name} is already listed on line {seen[source.full_name]}")
        except IndexingError as e:
            errors.append(f"{name}:{number}: {e}")
            continue
        if source is not None:
            seen[source.full_name] = number
            sources.append(source)
    return sources, errors


def summary(outcomes: list[Outcome]) -> str:
    counts = Counter(o.status for o in outcomes)
    return ", ".join(f"{n} {status}" for status, n in counts.items()) or "nothing to do"


class Command(BaseCommand):
    help = ("Index the repositories listed in FILE, one a line as add_repository takes them: "
            "owner/name [--path DIR | --url URL] [--commit C] [--prefix P]; each is published as soon as "
            "its build finishes.")

    def add_arguments(self, parser):
        parser.add_argument("file", help="the list ('-': standard input); # starts a comment")
        parser.add_argument("--backend", choices=["local", "ray"], default="local",
                            help="local: one build at a time here; ray: every build as a Ray task at once")
        parser.add_argument("--address", help="Ray cluster address (default: start a Ray instance here); on a "
                                              "cluster of several machines indexes/ must be shared storage, see README")
        parser.add_argument("--force", action="store_true", help="re-index a repository already live at its --commit")

    def handle(self, *args, **options):
        name = "<stdin>" if options["file"] == "-" else options["file"]
        try:
            text = sys.stdin.read() if options["file"] == "-" else Path(name).read_text()
        except (OSError, UnicodeDecodeError) as e:
            raise CommandError(f"cannot read {name}: {e}") from e
        sources, errors = read_sources(text.splitlines(), name)
        if not sources and not errors:
            raise CommandError(f"{name} lists no repositories")
        if errors:
            for error in errors:
                self.stderr.write(error)
            raise CommandError(f"{len(errors)} bad line{'s' if len(errors) > 1 else ''} in {name}; nothing was indexed")
        outcomes = index_repositories(sources, backend=options["backend"], address=options["address"],
                                      force=options["force"], report=lambda outcome: self.stdout.write(str(outcome)))
        self.stdout.write(summary(outcomes))
        if any(o.status == "failed" for o in outcomes):
            raise CommandError("some repositories could not be indexed")

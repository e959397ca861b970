"""`parley export --site NAME [--output FILE] [--gzip]`: the site as Parley's export document
(docs/export-format.md), to standard output unless --output names a file."""

import gzip
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from parley.imports.export import SECTIONS, Output, write_export
from parley.sites.models import Site


class Command(BaseCommand):
    help = (
        "Write one site's articles, threads, comments, votes, subscriptions and kept import "
        "data as Parley's versioned JSON export; `parley import parley FILE` reads it back."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--site", required=True)
        parser.add_argument("--output", help="the file to write (default: standard output)")
        parser.add_argument(
            "--gzip", action="store_true", help="compress (implied by an --output ending .gz)"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        site = Site.objects.filter(name=options["site"]).first()
        if site is None:
            raise CommandError(f"There is no site {options['site']!r}.")
        output: str | None = options["output"]
        compress = options["gzip"] or (output or "").endswith(".gz")
        if output is None:
            with _compressed(sys.stdout.buffer, compress) as out:
                counts = write_export(site, out)
        else:
            # Written beside the file and renamed when complete, so a failed export never
            # leaves a partial file under the name asked for.
            partial = Path(f"{output}.partial")
            try:
                with partial.open("wb") as raw, _compressed(raw, compress) as out:
                    counts = write_export(site, out)
                os.replace(partial, output)
            finally:
                partial.unlink(missing_ok=True)
        summary = ", ".join(f"{counts[name]} {name}" for name in SECTIONS)
        self.stderr.write(f"Exported site {site.name}: {summary}.")


@contextmanager
def _compressed(raw: IO[bytes], compress: bool) -> Iterator[Output]:
    """`raw`, or a gzip stream into it; either way `raw` itself is left open."""
    if not compress:
        yield raw
    else:
        with gzip.GzipFile(filename="", mode="wb", compresslevel=6, fileobj=raw) as zipped:
            yield zipped
    raw.flush()

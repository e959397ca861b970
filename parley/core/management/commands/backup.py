"""`parley backup [--output FILE]`: the database, uploads and secret key in one file."""

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from parley.core.backup import BackupError, write_backup


class Command(BaseCommand):
    help = (
        "Back up this install (database, uploaded files, secret key) into one .tar.gz file, "
        "while Parley keeps serving. `parley restore FILE` brings it back."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--output", help="the file to write (default: parley-backup-DATE.tar.gz here)"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        out = Path(options["output"] or f"parley-backup-{datetime.now(UTC):%Y%m%d-%H%M%S}.tar.gz")
        if out.exists():
            raise CommandError(f"{out} exists already: name another file.")
        try:
            manifest = write_backup(out)
        except BackupError as error:
            raise CommandError(str(error)) from None
        self.stdout.write(
            f"Backed up the {manifest.database} database and {manifest.media_files} uploaded "
            f"files to {out} ({out.stat().st_size:,} bytes). It holds personal data and the "
            "secret key: keep it as safe as the server."
        )

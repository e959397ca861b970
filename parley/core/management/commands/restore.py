"""`parley restore FILE [--yes]`: put a `parley backup` back, replacing what is here."""

import sys
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from parley.core.backup import BackupError, read_manifest, restore_backup


class Command(BaseCommand):
    help = (
        "Replace this install's database, uploaded files and secret key with a backup made by "
        "`parley backup`. Stop Parley first; start it again after."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file")
        parser.add_argument("--yes", action="store_true", help="do not ask first")

    def handle(self, *args: Any, **options: Any) -> None:
        path = Path(options["file"])
        try:
            manifest = read_manifest(path)
        except BackupError as error:
            raise CommandError(str(error), returncode=2) from None
        if not options["yes"]:
            if not sys.stdin.isatty():
                raise CommandError(
                    "Restoring replaces everything in this install: add --yes to go ahead.",
                    returncode=2,
                )
            answer = input(
                f"Replace this install's data with the backup of {manifest['created_at']}? "
                "[yes/no] "
            )
            if answer.strip().lower() != "yes":
                raise CommandError("Nothing was changed.", returncode=1)
        try:
            restore_backup(path)
        except BackupError as error:
            raise CommandError(str(error)) from None
        self.stdout.write(
            f"Restored the backup of {manifest['created_at']} ({manifest['media_files']} "
            "uploaded files). Start Parley again."
        )

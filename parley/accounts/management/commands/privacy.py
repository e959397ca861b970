"""`parley privacy export EMAIL [--output FILE]` and `parley privacy erase EMAIL
[--remove-comments] [--yes]`: a person's data, handed over or erased, on every site.

Without `--yes`, `erase` shows what it would erase and asks on a terminal; run from a script
it exits with status 2, changing nothing."""

import json
import os
import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _

from parley.accounts.actions import KEEP, REMOVE
from parley.accounts.privacy import ErasureReport, erase_person, find_person, person_data
from parley.core.errors import ParleyError


class Command(BaseCommand):
    help = (
        "Everything Parley holds about an e-mail address, on every site: `export` writes it "
        "as JSON, `erase` erases it (GDPR articles 15 and 17)."
    )
    # Tests hand `erase` a terminal of their own.
    stealth_options = ("stdin",)

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        export = sub.add_parser("export", help="write the address's data as JSON")
        export.add_argument("email")
        export.add_argument("--output", help="a new file to write (default: standard output)")
        erase = sub.add_parser("erase", help="erase the address's data")
        erase.add_argument("email")
        erase.add_argument(
            "--remove-comments",
            action="store_true",
            help="remove the comments (default: keep them, shown as by a deleted user)",
        )
        erase.add_argument("--yes", action="store_true", help="erase without asking")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            if options["action"] == "export":
                self.export(options["email"], options.get("output"))
            else:
                mode = REMOVE if options["remove_comments"] else KEEP
                self.erase(options["email"], mode, options["yes"], options.get("stdin"))
        except ParleyError as error:
            raise CommandError(error.fields.get("email") or error.message) from None

    def export(self, email: str, output: str | None) -> None:
        text = json.dumps(person_data(email), indent=2, ensure_ascii=False) + "\n"
        if output is None:
            self.stdout.write(text, ending="")
            return
        try:
            # Readable by its owner alone: it is someone's personal data.
            fd = os.open(output, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except OSError as error:
            raise CommandError(
                _("Cannot write %(file)s: %(error)s") % {"file": output, "error": error.strerror}
            ) from None
        with os.fdopen(fd, "w", encoding="utf-8") as file:
            file.write(text)
        self.stdout.write(
            _("Wrote the data of %(email)s to %(file)s.")
            % {
                "email": find_person(email).email,
                "file": output,
            }
        )

    def erase(self, email: str, mode: str, yes: bool, stdin: Any) -> None:
        email = find_person(email).email
        if not yes:
            preview = erase_person(email, comments=mode, dry_run=True)
            if not preview.total:
                self.stdout.write(
                    _("Parley holds nothing about %(email)s to erase.") % {"email": email}
                )
                return
            self.stdout.write(_("Erasing %(email)s would change:") % {"email": email})
            self.write_counts(preview)
            if not self.confirmed(stdin or sys.stdin):
                return
        self.write_counts(erase_person(email, comments=mode))
        self.stdout.write(_("Erased %(email)s.") % {"email": email})

    def confirmed(self, stdin: Any) -> bool:
        if not stdin.isatty():
            raise CommandError(
                _("Nothing was erased: add --yes to erase without being asked."), returncode=2
            )
        self.stdout.write(_("Type “yes” to erase all of this: "), ending="")
        self.stdout.flush()
        if stdin.readline().strip().lower() in ("yes", _("yes")):
            return True
        self.stdout.write(_("Nothing was erased."))
        return False

    def write_counts(self, report: ErasureReport) -> None:
        for label, count in report.rows():
            if count:
                self.stdout.write(f"  {label}: {count}")
        if report.bans_kept:
            self.stdout.write(report.bans_note())

"""`parley funding reconcile [--fix]` and `parley funding retry`."""

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from parley.funding import ledger


class Command(BaseCommand):
    help = (
        "Check every campaign's cached totals against the ledger (`reconcile`; exit status 1 "
        "when any differs, `--fix` corrects them), or apply provider events still waiting "
        "for an earlier one (`retry`)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        reconcile = sub.add_parser("reconcile", help="compare cached totals with the ledger")
        reconcile.add_argument("--fix", action="store_true", help="set them from the ledger")
        sub.add_parser("retry", help="apply waiting provider events")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["action"] == "retry":
            with transaction.atomic():
                applied = ledger.retry_waiting()
            self.stdout.write(f"Applied {applied} waiting event(s).")
            return
        differences = ledger.reconcile(fix=options["fix"])
        for d in differences:
            self.stdout.write(
                f"{d.campaign}: {d.field} shown {d.cached}, ledger says {d.ledger}"
                + (" (fixed)" if options["fix"] else "")
            )
        if not differences:
            self.stdout.write("Every campaign's totals match the ledger.")
        elif not options["fix"]:
            raise CommandError(f"{len(differences)} difference(s) between totals and ledger.")

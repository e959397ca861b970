"""`parley notifications bounce|suppress|unsuppress|deliver|digest`.

`bounce` is what the MTA runs for each message that reaches Parley's bounce address, e.g. in
Postfix's aliases: `parley-bounces: "|env PARLEY_DATA_DIR=/srv/parley parley notifications
bounce"`. It exits with status 1, changing nothing, for a message that is not a report, so the
MTA returns or logs it instead of it vanishing."""

import sys
from pathlib import Path
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.core.validators import validate_email
from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from parley.notifications import bounces
from parley.notifications.delivery import deliver_due
from parley.notifications.digests import write_due_digests
from parley.notifications.models import Suppression


class Command(BaseCommand):
    help = (
        "Bounces and complaints (`bounce [FILE]`, standard input by default), suppressed "
        "addresses (`suppress`, `unsuppress`), and sending now (`deliver`, `digest`)."
    )
    # Tests hand `bounce` its standard input as bytes.
    stealth_options = ("stdin",)

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        bounce = sub.add_parser(
            "bounce", help="read a delivery report or complaint and suppress what it names"
        )
        bounce.add_argument("file", nargs="?", help="the message (default: standard input)")
        suppress = sub.add_parser("suppress", help="never e-mail this address again")
        suppress.add_argument("email")
        suppress.add_argument(
            "--reason", choices=Suppression.Reason.values, default=Suppression.Reason.MANUAL
        )
        unsuppress = sub.add_parser("unsuppress", help="e-mail this address again")
        unsuppress.add_argument("email")
        sub.add_parser("deliver", help="send every e-mail that is due now")
        sub.add_parser("digest", help="write today's daily digests, then send what is due")

    def handle(self, *args: Any, **options: Any) -> None:
        action = options["action"]
        if action == "bounce":
            self.bounce(options.get("file"), options.get("stdin") or sys.stdin.buffer)
        elif action == "suppress":
            self.suppress(_valid(options["email"]), options["reason"])
        elif action == "unsuppress":
            self.unsuppress(_valid(options["email"]))
        elif action == "deliver":
            self.report_sent(deliver_due())
        else:
            written = write_due_digests()
            self.stdout.write(
                ngettext("Wrote %(count)d digest.", "Wrote %(count)d digests.", written)
                % {"count": written}
            )
            self.report_sent(deliver_due())

    def bounce(self, file: str | None, stdin: Any) -> None:
        try:
            raw = Path(file).read_bytes() if file else stdin.read()
        except OSError as error:
            raise CommandError(
                _("Cannot read %(file)s: %(error)s") % {"file": file, "error": error.strerror}
            ) from None
        try:
            findings = bounces.read_report(raw)
        except bounces.NotAReport as error:
            raise CommandError(str(error), returncode=1) from None
        if not findings:
            self.stdout.write(_("The report names no address to stop mailing: nothing changed."))
        with transaction.atomic():
            for finding in findings:
                created = bounces.suppress(finding.email, finding.reason, finding.detail)
                self.report_suppressed(finding.email, finding.reason, created)

    def suppress(self, email: str, reason: str) -> None:
        self.report_suppressed(email, reason, bounces.suppress(email, reason))

    def unsuppress(self, email: str) -> None:
        if bounces.unsuppress(email):
            self.stdout.write(_("%(email)s will be e-mailed again.") % {"email": email})
        else:
            self.stdout.write(
                _("%(email)s was not suppressed: nothing changed.") % {"email": email}
            )

    def report_suppressed(self, email: str, reason: str, created: bool) -> None:
        if created:
            self.stdout.write(
                _("%(email)s will not be e-mailed again (%(reason)s).")
                % {"email": email, "reason": Suppression.Reason(reason).label}
            )
        else:
            self.stdout.write(_("%(email)s was suppressed already.") % {"email": email})

    def report_sent(self, sent: int) -> None:
        self.stdout.write(
            ngettext("Sent %(count)d e-mail.", "Sent %(count)d e-mails.", sent) % {"count": sent}
        )


def _valid(email: str) -> str:
    try:
        validate_email(email)
    except ValidationError:
        raise CommandError(_("%(email)s is not an e-mail address.") % {"email": email}) from None
    return email.lower()

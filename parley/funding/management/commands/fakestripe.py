"""`parley fakestripe [--host H] [--port N] [--webhook-url URL]`: the fake Stripe in the
foreground, for trying payments against a Parley started by hand."""

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from parley.funding.fake_stripe import DEMO_SECRET_KEY, DEMO_WEBHOOK_SECRET, FakeStripeServer
from parley.notifications.outbox import public_url


class Command(BaseCommand):
    help = (
        "Run a fake Stripe (checkout page, signed webhooks, test controls under /fake/) "
        "that Parley's STRIPE_API_BASE can point at."
    )
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8199)
        parser.add_argument(
            "--webhook-url",
            default=public_url("/webhooks/stripe"),
            help="where events are posted (default: PARLEY_PUBLIC_URL/webhooks/stripe)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        secret = settings.STRIPE_WEBHOOK_SECRET or DEMO_WEBHOOK_SECRET
        try:
            server = FakeStripeServer(
                options["host"], options["port"], options["webhook_url"], secret
            )
        except OSError as error:
            raise CommandError(f"Cannot listen on port {options['port']}: {error}") from None
        base = server.stripe.base_url
        shown_secret = "(yours)" if settings.STRIPE_WEBHOOK_SECRET else DEMO_WEBHOOK_SECRET
        self.stdout.write(
            f"Fake Stripe on {base}, posting events to {options['webhook_url']}.\n"
            f"Start Parley with STRIPE_API_BASE={base} STRIPE_SECRET_KEY={DEMO_SECRET_KEY} "
            f"STRIPE_WEBHOOK_SECRET={shown_secret}; events sent: {base}/fake/events"
        )
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            pass
        finally:
            server.server_close()

import os
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser

from parley.articles.demo import STAFF_USERNAME, seed_demo
from parley.articles.models import Article
from parley.funding.fake_stripe import DEMO_SECRET_KEY, DEMO_WEBHOOK_SECRET, start_fake_stripe


class Command(BaseCommand):
    help = "Seed the demo newsroom and serve it on 127.0.0.1, with a fake Stripe to donate through."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument(
            "--data-dir", help="where the demo keeps its database (read before start-up)"
        )
        parser.add_argument("--no-serve", action="store_true", help="seed only")

    def handle(self, *args: Any, **options: Any) -> None:
        call_command("migrate", interactive=False, verbosity=0)
        site, password = seed_demo()
        base = f"http://127.0.0.1:{options['port']}"
        self.stdout.write(f"Demo newsroom “{site}” is ready.")
        for article in Article.objects.filter(site=site):
            self.stdout.write(f"  {base}{article.get_absolute_url()}")
        self.stdout.write(f"Staff login: {base}/admin/  user {STAFF_USERNAME}  password {password}")
        if not options["no_serve"]:
            self._serve(options["port"], base)

    def _serve(self, port: int, base: str) -> None:
        # Port + 1 is the live-update server's; the fake Stripe takes the next one.
        secret = _default_env("STRIPE_WEBHOOK_SECRET", DEMO_WEBHOOK_SECRET)
        webhook_url = f"{settings.PUBLIC_URL or base}/webhooks/stripe"
        try:
            fake, fake_base = start_fake_stripe(port + 2, webhook_url, secret)
        except OSError as error:
            raise CommandError(
                f"The fake Stripe cannot listen on port {port + 2}: {error}"
            ) from None
        # `parley serve` passes its environment on to the processes it starts.
        _default_env("STRIPE_SECRET_KEY", DEMO_SECRET_KEY)
        _default_env("STRIPE_API_BASE", fake_base)
        self.stdout.write(
            f"Fake Stripe (test payments, no card): {fake_base}; events it sent: "
            f"{fake_base}/fake/events"
        )
        try:
            call_command("serve", host="127.0.0.1", port=port)
        finally:
            fake.shutdown()


def _default_env(name: str, value: str) -> str:
    """Set `name` in the environment unless it has a value; return the value it has."""
    if not os.environ.get(name):
        os.environ[name] = value
    return os.environ[name]

from typing import Any

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandParser

from parley.articles.demo import STAFF_USERNAME, seed_demo
from parley.articles.models import Article


class Command(BaseCommand):
    help = "Seed the demo newsroom and serve it on 127.0.0.1."

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
            call_command("serve", host="127.0.0.1", port=options["port"])

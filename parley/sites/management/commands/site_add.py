from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from parley.sites.actions import add_site


class Command(BaseCommand):
    help = (
        "Add a site, or more domains and embedding origins to an existing one: "
        "`parley site add NAME --domain D [--origin URL]...`"
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("name")
        parser.add_argument("--domain", action="append", required=True, dest="domains")
        parser.add_argument("--origin", action="append", default=[], dest="origins")
        parser.add_argument("--title", default="")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            site, created = add_site(
                options["name"], options["domains"], options["origins"], title=options["title"]
            )
        except ValueError as error:
            raise CommandError(str(error)) from error
        verb = "Added" if created else "Updated"
        self.stdout.write(
            f"{verb} site {site.name}: domains {', '.join(site.domains)}; "
            f"embedding origins {', '.join(site.origins) or 'none'}"
        )

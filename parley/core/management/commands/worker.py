import threading
from typing import Any

from django.core.management import call_command
from django.core.management.base import BaseCommand

from parley.notifications import schedule


class Command(BaseCommand):
    help = "Run the background task worker (django-tasks database backend) and its schedule."

    def handle(self, *args: Any, **options: Any) -> None:
        stop = threading.Event()
        schedule.run_in_background(stop)
        try:
            call_command("db_worker", interval=1.0)
        finally:
            stop.set()

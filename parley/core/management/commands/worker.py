import threading
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand

from parley.core import taskworker
from parley.notifications import schedule


class Command(BaseCommand):
    help = "Run the background task worker (django-tasks database backend) and its schedule."

    def handle(self, *args: Any, **options: Any) -> None:
        name = taskworker.new_worker_name()
        # Heard of before it takes a task, so that no other worker takes that task for orphaned.
        taskworker.beat(name)
        stop = threading.Event()
        taskworker.run_every(
            settings.PARLEY_TASK_LEASE_SECONDS / 4,
            lambda: taskworker.keep_alive(name),
            "task worker heartbeat",
            stop,
        )
        taskworker.run_every(
            schedule.INTERVAL_SECONDS, schedule.tick, "notification schedule", stop
        )
        try:
            call_command("db_worker", interval=1.0, worker_id=name)
        finally:
            stop.set()

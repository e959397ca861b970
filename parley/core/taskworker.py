"""Tasks left running by a worker that died. django-tasks' database worker marks a task
running when it takes it and finished when it is done; a worker killed in between (SIGKILL,
out of memory, the machine lost) would leave it running for ever, and its work undone.
Each worker says it is alive every quarter lease (`PARLEY_TASK_LEASE_SECONDS`); any worker
puts a running task whose worker has been silent for a lease back in the queue. A task may
therefore run twice (its first run got far, then its worker died): tasks are written to be
idempotent."""

import logging
import os
import socket
import threading
from collections.abc import Callable
from datetime import timedelta

from django.conf import settings
from django.db import close_old_connections
from django.utils import timezone
from django.utils.crypto import get_random_string
from django_tasks import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from .models import TaskWorker

logger = logging.getLogger(__name__)

# A task whose workers died this many times is failed, not run again: it may be what kills them.
MAX_RUNS = 5


def new_worker_name() -> str:
    """Unique across the pool and over time: a restarted worker (in a container, often with the
    same pid) must not pass for the dead one."""
    return f"{socket.gethostname()[:40]}:{os.getpid()}:{get_random_string(8)}"


def beat(name: str) -> None:
    TaskWorker.objects.update_or_create(name=name, defaults={"seen_at": timezone.now()})


def requeue_orphans() -> int:
    """Put back in the queue each task whose worker has been silent for a lease; return how
    many."""
    # Running tasks first, live workers second: a worker says it is alive before it takes its
    # first task, so one that took a task after the first read is in the second.
    running = list(DBTaskResult.objects.running().values_list("id", "worker_ids"))
    if not running:
        return 0
    since = timezone.now() - timedelta(seconds=settings.PARLEY_TASK_LEASE_SECONDS)
    alive = set(TaskWorker.objects.filter(seen_at__gte=since).values_list("name", flat=True))
    orphans = [(pk, runs) for pk, runs in running if not runs or runs[-1] not in alive]
    again = [pk for pk, runs in orphans if len(runs) < MAX_RUNS]
    given_up = [pk for pk, runs in orphans if len(runs) >= MAX_RUNS]
    still_running = DBTaskResult.objects.filter(status=TaskResultStatus.RUNNING)
    requeued = still_running.filter(id__in=again).update(status=TaskResultStatus.READY)
    if given_up:
        still_running.filter(id__in=given_up).update(
            status=TaskResultStatus.FAILED,
            finished_at=timezone.now(),
            traceback=f"its worker died {MAX_RUNS} times while running it",
        )
        logger.error("gave up on tasks whose workers died %d times: %s", MAX_RUNS, given_up)
    if requeued:
        logger.warning("requeued %d task(s) left running by a worker that died", requeued)
    TaskWorker.objects.filter(seen_at__lt=since).delete()
    return requeued


def keep_alive(name: str) -> None:
    """What a worker does every quarter lease: say it is alive, take over the dead's tasks."""
    beat(name)
    requeue_orphans()


def run_every(
    seconds: float, job: Callable[[], None], name: str, stop: threading.Event
) -> threading.Thread:
    """`job()` every `seconds` in a thread of its own until `stop` is set, on a fresh database
    connection each time; a failure is logged and the job tried again next time."""

    def loop() -> None:
        while not stop.wait(seconds):
            close_old_connections()
            try:
                job()
            except Exception:
                logger.exception("%s failed; trying again", name)

    thread = threading.Thread(target=loop, name=name, daemon=True)
    thread.start()
    return thread

"""A task left running by a worker that died is run again by another, once the dead one has
been silent for a lease; a live worker's task is left to it (core/taskworker.py). The crash
test (test_crash.py) kills real workers."""

from datetime import timedelta

import pytest
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from parley.core import taskworker
from parley.core.models import TaskWorker
from parley.notifications.tasks import deliver_outbox

pytestmark = pytest.mark.django_db


def running(*worker_ids: str) -> DBTaskResult:
    """A task taken by each of `worker_ids` in turn, the last still running it."""
    task = DBTaskResult.objects.get(id=deliver_outbox.enqueue().id)
    task.status, task.worker_ids = "RUNNING", list(worker_ids)
    task.save()
    return task


def status(task: DBTaskResult) -> str:
    task.refresh_from_db()
    return task.status


def test_the_tasks_of_a_silent_worker_run_again_and_a_live_one_s_are_left_to_it(settings):
    settings.PARLEY_TASK_LEASE_SECONDS = 60
    taskworker.beat("alive")
    TaskWorker.objects.create(name="dead", seen_at=timezone.now() - timedelta(seconds=61))
    live, orphaned, unknown = running("alive"), running("dead"), running("dead", "never-heard")

    assert taskworker.requeue_orphans() == 2

    assert [status(live), status(orphaned), status(unknown)] == ["RUNNING", "READY", "READY"]
    assert list(TaskWorker.objects.values_list("name", flat=True)) == ["alive"]


def test_a_task_whose_workers_keep_dying_is_failed_instead_of_run_again():
    task = running(*(f"dead-{n}" for n in range(taskworker.MAX_RUNS)))

    assert taskworker.requeue_orphans() == 0

    assert status(task) == "FAILED"
    assert "died 5 times" in task.traceback
    assert task.finished_at is not None


def test_each_worker_has_a_name_of_its_own():
    assert taskworker.new_worker_name() != taskworker.new_worker_name()

from django.db import models


class TaskWorker(models.Model):
    """A running task worker (`parley worker`) as last heard of (`taskworker.py`): a task
    still marked running whose worker has not been heard of for a lease was left by a process
    that died, and is run again."""

    name = models.CharField(max_length=64, unique=True)
    seen_at = models.DateTimeField()

    def __str__(self) -> str:
        return self.name

"""What the worker does on its own, besides the tasks it is given: send whatever the outbox
holds that is due (a message whose task was lost in a crash, a retry) and write the daily
digests. Every worker runs this; the work itself is safe to start twice."""

from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from .delivery import due
from .digests import due_items
from .models import OutboundEmail

INTERVAL_SECONDS = 15


def _waiting(task_path: str) -> bool:
    """A task that will run now; a retry deferred to later does not count."""
    return DBTaskResult.objects.ready().filter(task_path=task_path).exists()


def tick() -> None:
    from .tasks import deliver_outbox, send_daily_digests

    if OutboundEmail.objects.filter(due()).exists() and not _waiting(deliver_outbox.module_path):
        deliver_outbox.enqueue()
    if due_items(timezone.now()).exists() and not _waiting(send_daily_digests.module_path):
        send_daily_digests.enqueue()

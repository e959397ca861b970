"""Background work of notifications, run by the django-tasks worker (`parley worker`)."""

from django_tasks import task

from . import delivery, digests


# Ahead of the other tasks: a sign-in link or a notification must not wait behind a backlog
# of comments to score when a thread goes viral.
@task(priority=10)
def deliver_outbox() -> int:
    return delivery.deliver_due()


@task()
def send_daily_digests() -> int:
    return digests.write_due_digests()

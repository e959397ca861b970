"""Background work of notifications, run by the django-tasks worker (`parley worker`)."""

from django_tasks import task

from . import delivery, digests


@task()
def deliver_outbox() -> int:
    return delivery.deliver_due()


@task()
def send_daily_digests() -> int:
    return digests.write_due_digests()

"""GET /metrics in Prometheus' text format: the HTTP metrics of every worker of this server
(core/metrics.py) and, read from the database at each scrape, the work waiting: background
tasks, comments for moderators, e-mails. It reads several apps, so it lives here, above
them all.

Not public: it answers a scrape from the loopback address (Prometheus or an agent on the
same box, a proxy on it counted by PARLEY_PROXY_COUNT), and from elsewhere only with
`Authorization: Bearer <PARLEY_METRICS_TOKEN>`.
"""

import hmac
import ipaddress
from collections.abc import Iterator

from django.conf import settings
from django.db.models import Count
from django.http import HttpRequest, HttpResponse
from django.views.decorators.http import require_GET
from django_tasks.base import TaskResultStatus
from django_tasks_db.models import DBTaskResult
from prometheus_client import CONTENT_TYPE_LATEST
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from parley.comments.models import Comment
from parley.core.metrics import exposition
from parley.core.readers import client_ip
from parley.moderation.models import Report
from parley.moderation.views import HELD
from parley.notifications.models import OutboundEmail


class Backlogs(Collector):
    """Counted when scraped; the same from every app process and box (they share one
    database): aggregate them across instances with max, not sum."""

    def collect(self) -> Iterator[Metric]:
        tasks = GaugeMetricFamily(
            "parley_task_queue",
            "Background tasks ready to run now, and running.",
            labels=["state"],
        )
        tasks.add_metric(["ready"], DBTaskResult.objects.ready().count())
        tasks.add_metric(
            ["running"], DBTaskResult.objects.filter(status=TaskResultStatus.RUNNING).count()
        )
        yield tasks

        moderation = GaugeMetricFamily(
            "parley_moderation_backlog",
            "Comments waiting for a moderator: held (pending review) and reported "
            "(published, with open reports), by site.",
            labels=["site", "kind"],
        )
        held = Comment.objects.filter(HELD).values_list("thread__site__name").annotate(Count("pk"))
        reported = (
            Report.objects.filter(
                resolved_at__isnull=True, comment__status=Comment.Status.PUBLISHED
            )
            .values_list("comment__thread__site__name")
            .annotate(Count("comment", distinct=True))
        )
        for kind, counts in (("held", held), ("reported", reported)):
            for site, count in counts:
                moderation.add_metric([site, kind], count)
        yield moderation

        outbox = GaugeMetricFamily(
            "parley_outbox_messages",
            "E-mails not sent yet (queued, sending) and given up on (failed).",
            labels=["state"],
        )
        states = dict(
            OutboundEmail.objects.filter(state__in=_OUTBOX_STATES)
            .values_list("state")
            .annotate(Count("pk"))
        )
        for state in _OUTBOX_STATES:
            outbox.add_metric([state], states.get(state, 0))
        yield outbox


_OUTBOX_STATES = [
    OutboundEmail.State.QUEUED,
    OutboundEmail.State.SENDING,
    OutboundEmail.State.FAILED,
]


def _allowed(request: HttpRequest) -> bool:
    token = settings.PARLEY_METRICS_TOKEN
    sent = request.headers.get("Authorization", "")
    if token and hmac.compare_digest(sent.encode(), f"Bearer {token}".encode()):
        return True
    try:
        return ipaddress.ip_address(client_ip(request)).is_loopback
    except ValueError:
        return False


@require_GET
def metrics(request: HttpRequest) -> HttpResponse:
    if not _allowed(request):
        return HttpResponse(
            "Metrics are answered to the loopback address, or with the bearer token set in "
            "PARLEY_METRICS_TOKEN.\n",
            status=403,
            content_type="text/plain",
        )
    response = HttpResponse(exposition(Backlogs()), content_type=CONTENT_TYPE_LATEST)
    response["Cache-Control"] = "no-store"
    return response

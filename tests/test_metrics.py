"""GET /metrics: Prometheus' text format, requests counted by route and status class, the work
waiting (tasks, comments for moderators, e-mails), and not for the public."""

from typing import Any

import pytest
from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import request_started
from django.test import Client, override_settings
from prometheus_client.parser import text_string_to_metric_families

from parley.comments import hotpath
from parley.moderation.models import Report
from parley.notifications.models import OutboundEmail
from parley.notifications.tasks import deliver_outbox
from tests.factories import SiteFactory, ThreadFactory, post_comment
from tests.test_hotpath import read
from tests.test_outbox import queue

pytestmark = pytest.mark.django_db

LOCAL = Client(HTTP_HOST="127.0.0.1")


def scrape(
    client: Client = LOCAL, **extra: Any
) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample of a scrape, by name and labels; parsing proves the format."""
    response = client.get("/metrics", **extra)
    assert response.status_code == 200, response.content
    assert response["Content-Type"].startswith("text/plain; version=")
    samples = {}
    for family in text_string_to_metric_families(response.content.decode()):
        for sample in family.samples:
            samples[sample.name, tuple(sorted(sample.labels.items()))] = sample.value
    return samples


def value(samples: dict, name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def test_requests_are_counted_by_route_and_status_class_never_by_path() -> None:
    before = scrape()
    for _ in range(3):
        assert LOCAL.get("/healthz").status_code == 200
    assert LOCAL.get("/articles/no-such-story-7f3a/").status_code == 404
    assert LOCAL.get("/notifications/unsubscribe/sekrit-token-9/").status_code in (400, 404)
    after = scrape()

    def moved(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    ok = {"method": "GET", "route": "/healthz", "status": "2xx"}
    assert moved("parley_http_requests_total", **ok) == 3
    article = {"method": "GET", "route": "/articles/<slug:slug>/", "status": "4xx"}
    assert moved("parley_http_requests_total", **article) == 1
    assert moved("parley_http_request_duration_seconds_count", route="/healthz") == 3
    assert moved("parley_http_request_duration_seconds_bucket", route="/healthz", le="+Inf") == 3
    assert moved("parley_http_request_duration_seconds_sum", route="/healthz") > 0
    # The route's pattern names the request: paths (and the tokens in them) are not labels.
    labels = " ".join(str(key) for key in after)
    assert "no-such-story" not in labels and "sekrit" not in labels


def test_warm_reads_answered_in_front_of_django_are_counted_too(unscored_site) -> None:
    app = hotpath.HotReads(WSGIHandler())
    through_django = []

    def count(**kwargs: Any) -> None:
        through_django.append(kwargs)

    before = scrape()
    request_started.connect(count, weak=False, dispatch_uid="count-django-requests")
    try:
        assert [read(app).status for _ in range(3)] == [200, 200, 200]
    finally:
        request_started.disconnect(dispatch_uid="count-django-requests")
    after = scrape()
    assert len(through_django) == 1  # the others were replayed by the hot path
    route = {"route": "/api/v1/threads"}
    counted = {"method": "GET", "status": "2xx", **route}
    assert (
        value(after, "parley_http_requests_total", **counted)
        - value(before, "parley_http_requests_total", **counted)
        == 3
    )
    assert (
        value(after, "parley_http_request_duration_seconds_count", **route)
        - value(before, "parley_http_request_duration_seconds_count", **route)
        == 3
    )


def test_backlogs_count_comments_for_moderators_unsent_mail_and_waiting_tasks() -> None:
    site = SiteFactory.create(name="news")
    thread = ThreadFactory.create(site=site)
    before = scrape()
    assert value(before, "parley_moderation_backlog", site="news", kind="held") == 0

    post_comment(thread, "Held for review.", status="pending")
    reported = post_comment(thread, "Reported twice.")
    for reader in ("r:1", "r:2"):
        Report.objects.create(comment=reported, reason="insult", reader_key=reader)
    queue(1)
    queue(2)
    OutboundEmail.objects.filter(key="test:2").update(state=OutboundEmail.State.FAILED)
    deliver_outbox.enqueue()
    after = scrape()

    assert value(after, "parley_moderation_backlog", site="news", kind="held") == 1
    assert value(after, "parley_moderation_backlog", site="news", kind="reported") == 1
    assert value(after, "parley_outbox_messages", state="queued") == 1
    assert value(after, "parley_outbox_messages", state="failed") == 1
    assert value(after, "parley_outbox_messages", state="sending") == 0
    assert value(after, "parley_task_queue", state="ready") == (
        value(before, "parley_task_queue", state="ready") + 1
    )


def test_metrics_are_refused_to_the_public_even_through_the_proxy() -> None:
    outside = Client(HTTP_HOST="127.0.0.1", REMOTE_ADDR="203.0.113.9")
    assert outside.get("/metrics").status_code == 403
    with override_settings(PARLEY_PROXY_COUNT=1):
        # nginx on the same box: the peer is loopback, the reader is who nginx appended.
        proxied = LOCAL.get("/metrics", HTTP_X_FORWARDED_FOR="127.0.0.1, 203.0.113.9")
        assert proxied.status_code == 403
        assert LOCAL.get("/metrics").status_code == 200  # a local scrape, not proxied


@override_settings(PARLEY_METRICS_TOKEN="s3cret-scrape-token")
def test_a_scraper_elsewhere_needs_the_bearer_token() -> None:
    outside = Client(HTTP_HOST="127.0.0.1", REMOTE_ADDR="10.0.0.7")
    assert outside.get("/metrics", HTTP_AUTHORIZATION="Bearer wrong").status_code == 403
    assert outside.get("/metrics").status_code == 403
    assert scrape(outside, HTTP_AUTHORIZATION="Bearer s3cret-scrape-token")

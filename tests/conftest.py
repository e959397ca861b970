import json
import time
from collections.abc import Iterator
from http.cookies import SimpleCookie
from types import SimpleNamespace
from typing import Any

import pytest
from django.core.cache import caches
from django.db import connection
from django.test import Client

from parley.core import ratelimit
from tests.mail import smtp  # noqa: F401 (a real SMTP server, for every test that asks)


@pytest.fixture(autouse=True)
def _fresh_cache() -> Iterator[None]:
    """Thread reads are cached per (site, uri); each test starts with nothing cached."""
    for name in ("default", "rendered"):
        caches[name].clear()
    yield
    for name in ("default", "rendered"):
        caches[name].clear()


@pytest.fixture(autouse=True)
def _still_rate_limit_window(monkeypatch: pytest.MonkeyPatch) -> None:
    """Rate limits count in fixed windows of wall-clock time; a test that crossed a window
    boundary would see its counts reset halfway. Each test runs inside one window."""
    pinned = time.time()
    monkeypatch.setattr(ratelimit, "time", SimpleNamespace(time=lambda: pinned))


def pytest_report_header() -> str:
    return f"database: {connection.vendor}"


OWN_ORIGIN = "http://127.0.0.1"


class ApiClient(Client):
    """A reader's browser talking JSON to /api/v1/, from Parley's own origin; or, given
    another page's Origin, the widget there, whose requests carry no cookie of Parley's and
    keep none (it fetches with `credentials: "omit"`)."""

    def __init__(self, **defaults: Any) -> None:
        super().__init__(HTTP_HOST="127.0.0.1", **defaults)

    def request(self, **request: Any) -> Any:
        if request.get("HTTP_ORIGIN", OWN_ORIGIN) == OWN_ORIGIN:
            return super().request(**request)
        kept, self.cookies = self.cookies, SimpleCookie()
        try:
            return super().request(**request)
        finally:
            self.cookies = kept

    def post_json(self, path: str, data: Any, **extra: Any) -> Any:
        return self.post(
            f"/api/v1{path}", json.dumps(data), content_type="application/json", **extra
        )

    def patch_json(self, path: str, data: Any, **extra: Any) -> Any:
        return self.patch(
            f"/api/v1{path}", json.dumps(data), content_type="application/json", **extra
        )

    def api_get(self, path: str, **params: Any) -> Any:
        return self.get(f"/api/v1{path}", params)


@pytest.fixture
def client() -> ApiClient:
    return ApiClient()


@pytest.fixture
def other_reader() -> ApiClient:
    return ApiClient()


@pytest.fixture
def unscored_site(db: None) -> Any:
    """Site "news", post-moderated without the scorer: a comment publishes, and is news to
    subscribers, the moment it is posted."""
    from parley.moderation.models import Policy
    from tests.factories import SiteFactory

    site = SiteFactory.create()
    Policy.objects.update_or_create(site=site, defaults={"use_scorer": False})
    return site

import os
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, sync_playwright

from parley.comments.models import Thread
from parley.sites.models import Site
from tests.factories import SiteFactory, ThreadFactory

from .hostpage import HostPage, host_page

# Playwright's sync API runs an event loop in this thread; Django's ORM calls made by the test
# itself (arranging data, checking results) are still plain synchronous calls.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS
        )
        yield browser
        browser.close()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/browser/" in str(item.fspath):
            item.add_marker(pytest.mark.browser)


# The page of the publisher's site that embeds the widget, served from a second origin.
STORY_URI = "/story/"


# Fixtures for the widget embedded on another origin; a test module may define its own
# `page` (Parley's own pages, the moderator queue).
@pytest.fixture
def host() -> Iterator[HostPage]:
    with host_page() as page:
        yield page


@pytest.fixture
def parley_url(live_server, transactional_db, settings) -> str:
    settings.ALLOWED_HOSTS = ["localhost", "127.0.0.1"]
    return live_server.url


@pytest.fixture
def site(host: HostPage, parley_url: str) -> Site:
    site = SiteFactory.create(origins=[host.origin])
    post_without_waiting(site.name)
    return site


@pytest.fixture
def thread(site: Site) -> Thread:
    return ThreadFactory.create(site=site, uri=STORY_URI)


@pytest.fixture
def context(browser: Browser) -> Iterator[BrowserContext]:
    context = browser.new_context()
    yield context
    context.close()


@pytest.fixture
def page(context: BrowserContext) -> Page:
    return context.new_page()


def post_without_waiting(site_name: str) -> None:
    """Test readers post faster than people can, and comment forms carry the time they were
    shown: lift the site's minimum time-to-submit (that rule is tested in test_rules.py)."""
    from parley.moderation.models import Policy

    site = Site.objects.get(name=site_name)
    Policy.objects.update_or_create(site=site, defaults={"min_submit_seconds": 0})

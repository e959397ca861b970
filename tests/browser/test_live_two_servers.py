"""Two readers on two app servers that share PostgreSQL and Redis: one posts, the other sees
the comment arrive live, as happens when a site grows to several app processes."""

import os
import subprocess
import sys
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, expect

from tests.processes import free_port_pair, stop_groups, wait_for_port

from .hostpage import HostPage, article_html

pytestmark = pytest.mark.slow

DATABASE = "parley_live_test"
URI = "/live/"


@pytest.fixture
def two_servers(host: HostPage, tmp_path) -> Iterator[tuple[str, str]]:
    psql = ["psql", "-h", "127.0.0.1", "-U", "postgres", "-qc"]
    subprocess.run([*psql, f"DROP DATABASE IF EXISTS {DATABASE}"], check=True)
    subprocess.run([*psql, f"CREATE DATABASE {DATABASE}"], check=True)
    env = {
        **os.environ,
        "PARLEY_DATA_DIR": str(tmp_path),
        "DATABASE_URL": f"postgres://postgres@127.0.0.1:5432/{DATABASE}",
        "REDIS_URL": "redis://127.0.0.1:6379/8",
    }
    env.pop("PARLEY_STREAM_URL", None)
    parley = [sys.executable, "-m", "parley"]
    subprocess.run([*parley, "migrate", "-v0"], env=env, check=True)
    subprocess.run(
        [*parley, "site", "add", "news", "--domain", "127.0.0.1", "--origin", host.origin],
        env=env,
        check=True,
        capture_output=True,
    )
    # Test readers post faster than people can (the time-to-submit rule: test_rules.py).
    lift_wait = "from tests.browser.conftest import post_without_waiting as p; p('news')"
    subprocess.run([*parley, "shell", "-c", lift_wait], env=env, check=True)
    servers, urls = [], []
    try:
        for _ in range(2):
            port = free_port_pair()
            servers.append(
                subprocess.Popen(
                    [*parley, "serve", "--port", str(port), "--workers", "1", "--no-worker"],
                    env=env,
                    stdout=subprocess.DEVNULL,
                    start_new_session=True,
                )
            )
            wait_for_port(port)
            wait_for_port(port + 1)
            urls.append(f"http://127.0.0.1:{port}")
        yield urls[0], urls[1]
    finally:
        stop_groups(servers, 15)
        subprocess.run([*psql, f"DROP DATABASE IF EXISTS {DATABASE}"], check=False)


def test_a_comment_posted_on_one_server_arrives_live_on_the_other(
    browser: Browser, host: HostPage, two_servers: tuple[str, str]
):
    server_a, server_b = two_servers
    writer = browser.new_context().new_page()
    watcher = browser.new_context().new_page()
    watcher.goto(host.serve("/b", article_html(server_b, uri=URI)))
    writer.goto(host.serve("/a", article_html(server_a, uri=URI)))
    for page in (writer, watcher):
        expect(page.get_by_role("heading", name="0 comments")).to_be_visible()
    watcher.locator("#parley-thread").scroll_into_view_if_needed()  # the stream opens in view

    writer.get_by_role("textbox", name="Comment", exact=True).fill("Heard on server B?")
    writer.get_by_role("textbox", name="Name").fill("Ada")
    writer.get_by_role("button", name="Post comment").click()

    arrived = watcher.get_by_role("button", name="1 new comment")
    expect(arrived).to_be_visible(timeout=5000)
    arrived.click()
    expect(watcher.locator(".parley-body", has_text="Heard on server B?")).to_be_visible()
    expect(watcher.get_by_role("heading", name="1 comment")).to_be_visible()

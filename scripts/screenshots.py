"""Regenerates docs/screenshots/: the comment section as readers see it.

Seeds the demo newsroom in a temporary data dir, serves it, embeds the widget in a page on a
second loopback origin (127.0.0.2, as a publisher's site), and has Debian's Chromium take:
Parley's own article page, the widget on desktop, at 375 px, in Arabic (right-to-left), in the
dark scheme, and with Inline feedbacks shown.

    .venv/bin/python scripts/screenshots.py
"""

import contextlib
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from playwright.sync_api import Page, sync_playwright

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
from tests.browser.conftest import CHROMIUM_ARGS  # noqa: E402
from tests.browser.hostpage import HostPage, article_html, host_page  # noqa: E402

OUT = REPO / "docs" / "screenshots"
ARTICLE = "/articles/why-the-teyra-crossing-stalled/"
PARLEY = str(REPO / ".venv" / "bin" / "parley")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def widget_ready(page: Page) -> None:
    page.wait_for_function(
        "() => document.querySelector('#parley-thread')?.shadowRoot"
        "?.querySelector('.parley-comment')"
    )
    page.wait_for_timeout(300)


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    port = free_port()
    with tempfile.TemporaryDirectory() as data, host_page() as host:
        env = {**os.environ, "PARLEY_DATA_DIR": data}
        run = [PARLEY, "demo", "--no-serve"]
        subprocess.run(run, env=env, check=True, capture_output=True)  # noqa: S603
        allow = (
            "from parley.sites.models import Site; s = Site.objects.get(name='demo'); "
            f"s.origins = ['{host.origin}']; s.save()"
        )
        run = [PARLEY, "shell", "-c", allow]
        subprocess.run(run, env=env, check=True, capture_output=True)  # noqa: S603
        server = subprocess.Popen(  # noqa: S603
            [PARLEY, "serve", "--port", str(port), "--no-worker"],
            env=env,
            stdout=subprocess.DEVNULL,
            start_new_session=True,
        )
        try:
            parley = f"http://127.0.0.1:{port}"
            for _ in range(100):
                with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port)):
                    break
                time.sleep(0.1)
            shoot(parley, host)
        finally:
            os.killpg(server.pid, 15)
            server.wait(15)
    print(f"Screenshots written to {OUT.relative_to(REPO)}/")


def shoot(parley: str, host: HostPage) -> None:
    def embed(lang: str = "en", attrs: str = "") -> str:
        html = article_html(parley, site="demo", uri=ARTICLE, lang=lang, thread_attrs=attrs)
        return host.serve(f"/{lang}{len(attrs)}", html)

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS
        )

        def shot(
            name: str, url: str, *, phone: bool = False, dark: bool = False, inline: bool = False
        ) -> None:
            page = browser.new_page(
                viewport={"width": 375, "height": 812} if phone else {"width": 1200, "height": 900},
                device_scale_factor=2 if phone else 1,
                color_scheme="dark" if dark else "light",
            )
            page.goto(url)
            if url.startswith(host.origin):
                widget_ready(page)
                if dark:
                    page.evaluate("document.body.style.background = '#111'")
                if inline:
                    thread = page.locator("#parley-thread")
                    thread.get_by_role("button", name="Inline feedbacks").click()
                    page.wait_for_timeout(500)
                page.locator("#parley-thread").scroll_into_view_if_needed()
            page.screenshot(path=OUT / name)
            page.close()

        shot("article-page.png", f"{parley}{ARTICLE}?sort=votes#comments")
        shot("widget-desktop.png", embed())
        shot("widget-375px.png", embed(), phone=True)
        shot("widget-arabic-rtl.png", embed(lang="ar"), phone=True)
        shot("widget-dark.png", embed(attrs='data-theme="dark"'), dark=True)
        shot("widget-inline-feedback.png", embed(), inline=True)
        browser.close()


if __name__ == "__main__":
    main()

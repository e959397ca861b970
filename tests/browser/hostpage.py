"""A publisher's page on another origin, to test the widget embedded as integrators embed it.

The page is served from 127.0.0.2, a loopback address other than Parley's 127.0.0.1: a
different host as well as a different port, so the browser treats it as a foreign site.
"""

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

HOST = "127.0.0.2"


STREAM_PATH = "/stream"


class HostPage:
    """Pages by path; a test sets them, the browser fetches them. It also stands in for
    Parley's live stream (Server-Sent Events), whose events a test appends to `events`."""

    def __init__(self, server: ThreadingHTTPServer) -> None:
        self.pages: dict[str, str] = {}
        self.events: list[tuple[int, str, str]] = []  # (id, event, data)
        port = server.server_address[1]
        self.origin = f"http://{HOST}:{port}"

    def url(self, path: str) -> str:
        return self.origin + path

    def serve(self, path: str, html: str) -> str:
        self.pages[path] = html
        return self.url(path)


def article_html(
    parley_url: str,
    *,
    site: str = "news",
    uri: str = "/story/",
    thread_attrs: str = "",
    body: str = "",
    lang: str = "en",
) -> str:
    """An article page as a publisher writes it: their own markup, styles and one script tag."""
    return f"""<!doctype html>
<html lang="{lang}"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>A foreign story</title>
<style>
  body {{ font: 17px/1.6 Georgia, serif; margin: 0 auto; max-width: 46rem; padding: 1rem; }}
  /* must not reach into the widget */
  .parley-body, .parley-comment, button {{ color: #c00 !important; }}
  @media (prefers-color-scheme: dark) {{ body {{ background: #111; color: #eee; }} }}
</style></head>
<body>
<h1>A foreign story</h1>
<p>The publisher's own article text.</p>
{body}
<div id="parley-thread" data-site="{site}" data-uri="{uri}" {thread_attrs}></div>
<script src="{parley_url}/embed.js" async></script>
</body></html>"""


def _handler(page: HostPage) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            if self.path.split("?")[0] == STREAM_PATH:
                return self.stream()
            html = page.pages.get(self.path.split("?")[0])
            body = (html or "Not found").encode()
            self.send_response(200 if html is not None else 404)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def stream(self) -> None:
            """The events after Last-Event-ID, then a close: EventSource comes back soon."""
            last = int(self.headers.get("Last-Event-ID") or 0)
            lines = ["retry: 200\n\n"] + [
                f"id: {id}\nevent: {event}\ndata: {data}\n\n"
                for id, event, data in page.events
                if id > last
            ]
            body = "".join(lines).encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            pass  # keep test output quiet

    return Handler


@contextmanager
def host_page() -> Iterator[HostPage]:
    """A page server on 127.0.0.2 and a free port, for the length of the block."""
    server = ThreadingHTTPServer((HOST, 0), BaseHTTPRequestHandler)
    page = HostPage(server)
    server.RequestHandlerClass = _handler(page)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield page
    finally:
        server.shutdown()
        server.server_close()


SELECT_TEXT = """text => {
  const body = document.querySelector("[data-parley-article]");
  const walker = document.createTreeWalker(body, NodeFilter.SHOW_TEXT);
  for (let node; (node = walker.nextNode()); ) {
    const at = node.data.indexOf(text);
    if (at < 0) continue;
    const range = document.createRange();
    range.setStart(node, at);
    range.setEnd(node, at + text.length);
    getSelection().removeAllRanges();
    getSelection().addRange(range);
    return;
  }
  throw new Error("not in the article: " + text);
}"""
"""Selects `text` in the page's article, as a reader's mouse or keyboard would."""

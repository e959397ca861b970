"""Live updates over Server-Sent Events, driven as a browser's EventSource would."""

import asyncio
import concurrent.futures
from typing import Any

import orjson
import pytest
from asgiref.sync import sync_to_async
from django.db import connections

from parley.comments import reads
from parley.comments.stream import app
from parley.realtime import hub as hub_module
from tests.factories import ThreadFactory, post_comment

pytestmark = pytest.mark.django_db(transaction=True)


class EventSource:
    """Opens the stream on the ASGI app and collects what it sends."""

    def __init__(self, query: str, headers: dict[str, str] | None = None) -> None:
        self.scope = {
            "type": "http",
            "method": "GET",
            "path": "/api/v1/threads/stream",
            "query_string": query.encode(),
            "headers": [(k.lower().encode(), v.encode()) for k, v in (headers or {}).items()],
            "client": ("203.0.113.9", 50000),
        }
        self.sent: list[dict[str, Any]] = []
        self.closed = asyncio.Event()
        self.arrived = asyncio.Event()

    async def receive(self) -> dict[str, str]:
        await self.closed.wait()
        return {"type": "http.disconnect"}

    async def send(self, message: dict[str, Any]) -> None:
        self.sent.append(message)
        self.arrived.set()

    @property
    def status(self) -> int:
        return self.sent[0]["status"]

    @property
    def text(self) -> str:
        return b"".join(m.get("body", b"") for m in self.sent[1:]).decode()

    def events(self, kind: str) -> list[tuple[str, Any]]:
        found = []
        for block in self.text.split("\n\n"):
            lines = dict(line.split(": ", 1) for line in block.splitlines() if ": " in line)
            if lines.get("event") == kind:
                found.append((lines.get("id", ""), orjson.loads(lines["data"])))
        return found

    async def until(self, condition, timeout: float = 5.0) -> None:
        async def wait() -> None:
            while not condition():
                self.arrived.clear()
                await self.arrived.wait()

        await asyncio.wait_for(wait(), timeout)


@pytest.fixture(autouse=True)
def _fast_polling(monkeypatch):
    monkeypatch.setattr(hub_module, "POLL_SECONDS", 0.05)


def run(coroutine):
    """In a thread of its own: Playwright's sync API may hold this thread's event loop. The
    stream's database connections are closed at the end, or PostgreSQL cannot drop the test
    database afterwards."""

    async def and_close():
        try:
            return await coroutine
        finally:
            await sync_to_async(connections.close_all)()

    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, and_close()).result()


def post_and_announce(thread, body, **fields):
    comment = post_comment(thread, body, **fields)
    reads.invalidate(thread.site.name, thread.uri)  # what on_commit does after a real write
    return comment


@pytest.fixture(params=["polling", "redis"])
def wake_ups(request, settings):
    """Both ways a stream learns of a write: the shared cache polled, or Redis pub/sub."""
    if request.param == "redis":
        settings.REDIS_URL = "redis://127.0.0.1:6379/0"
    return request.param


def test_a_new_comment_arrives_and_a_held_one_never_does(wake_ups):
    thread = ThreadFactory.create(uri="/story/")
    post_comment(thread, "already there")

    async def scenario() -> EventSource:
        stream = EventSource("site=news&uri=/story/")
        task = asyncio.create_task(app(stream.scope, stream.receive, stream.send))
        await stream.until(lambda: stream.events("ready"))
        await sync_to_async(post_and_announce)(thread, "held back", status="pending")
        await sync_to_async(post_and_announce)(thread, "fresh news")
        await stream.until(lambda: stream.events("comment"))
        await asyncio.sleep(0.2)
        stream.closed.set()
        await asyncio.wait_for(task, 5)
        return stream

    stream = run(scenario())

    assert stream.status == 200
    [(event_id, data)] = stream.events("comment")
    assert data["comment"]["html"] == "<p>fresh news</p>"
    assert data["count"] == 2
    assert event_id == str(data["comment"]["id"])
    assert "held back" not in stream.text
    assert "already there" not in stream.text


def test_a_reconnecting_reader_gets_everything_after_its_last_event():
    thread = ThreadFactory.create(uri="/story/")
    seen = post_comment(thread, "seen before the drop")
    post_comment(thread, "missed one")
    post_comment(thread, "missed two")

    async def scenario() -> EventSource:
        stream = EventSource("site=news&uri=/story/", {"Last-Event-ID": str(seen.pk)})
        task = asyncio.create_task(app(stream.scope, stream.receive, stream.send))
        await stream.until(lambda: len(stream.events("comment")) == 2)
        stream.closed.set()
        await asyncio.wait_for(task, 5)
        return stream

    stream = run(scenario())

    assert [d["comment"]["html"] for _, d in stream.events("comment")] == [
        "<p>missed one</p>",
        "<p>missed two</p>",
    ]


def test_an_origin_the_site_does_not_allow_is_refused_readably():
    ThreadFactory.create(uri="/story/")
    stream = EventSource("site=news&uri=/story/", {"Origin": "https://copycat.example"})

    run(app(stream.scope, stream.receive, stream.send))

    assert stream.status == 403
    assert dict(stream.sent[0]["headers"])[b"access-control-allow-origin"] == (
        b"https://copycat.example"
    )
    assert orjson.loads(stream.text)["error"]["code"] == "origin_not_allowed"


def test_an_allowed_embedding_origin_may_listen():
    ThreadFactory.create(uri="/story/")

    async def scenario() -> EventSource:
        stream = EventSource("site=news&uri=/story/", {"Origin": "https://blog.example"})
        task = asyncio.create_task(app(stream.scope, stream.receive, stream.send))
        await stream.until(lambda: stream.events("ready"))
        stream.closed.set()
        await asyncio.wait_for(task, 5)
        return stream

    assert run(scenario()).status == 200


def test_one_address_cannot_hold_open_streams_without_end():
    ThreadFactory.create(uri="/story/")

    async def scenario() -> list[EventSource]:
        streams = [EventSource("site=news&uri=/story/") for _ in range(21)]
        tasks = []
        for stream in streams[:20]:
            tasks.append(asyncio.create_task(app(stream.scope, stream.receive, stream.send)))
            await stream.until(lambda s=stream: s.events("ready"))
        await app(streams[20].scope, streams[20].receive, streams[20].send)
        for stream in streams[:20]:
            stream.closed.set()
        await asyncio.wait_for(asyncio.gather(*tasks), 5)
        return streams

    streams = run(scenario())

    assert [s.status for s in streams[:20]] == [200] * 20
    assert streams[20].status == 429
    assert orjson.loads(streams[20].text)["error"]["code"] == "rate_limited"

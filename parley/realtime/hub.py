"""Wake-ups for live streams when something changes, across app processes.

A channel is the name of a shared-cache key whose value changes on every write (a thread's
generation). With REDIS_URL, writers also publish the channel and one subscription per
stream process wakes the streams at once. Without Redis (the embedded default) one loop per
stream process polls the keys that streams are waiting on, twice a second: the shared cache
(a SQLite file) is shared by every process of one server, so a write in any worker is seen.
"""

import asyncio
import contextlib
import functools
from collections.abc import AsyncIterator

import redis
import redis.asyncio as aioredis
from django.conf import settings
from django.core.cache import cache

POLL_SECONDS = 0.5
_PREFIX = "parley:"


def publish(channel: str) -> None:
    """Called by writers after commit; a no-op without Redis (streams poll instead)."""
    if settings.REDIS_URL:
        _redis().publish(_PREFIX + channel, b"1")


@functools.cache
def _redis() -> redis.Redis:
    return redis.Redis.from_url(settings.REDIS_URL)


class Hub:
    """One per stream process: fans a change on a channel out to every waiting stream."""

    def __init__(self) -> None:
        self._waiters: dict[str, set[asyncio.Event]] = {}
        self._task: asyncio.Task[None] | None = None

    @contextlib.asynccontextmanager
    async def listening(self, channel: str) -> AsyncIterator[asyncio.Event]:
        """An event set whenever `channel` changes, while the block runs."""
        event = asyncio.Event()
        self._waiters.setdefault(channel, set()).add(event)
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(
                self._listen_redis() if settings.REDIS_URL else self._poll()
            )
        try:
            yield event
        finally:
            waiting = self._waiters.get(channel, set())
            waiting.discard(event)
            if not waiting:
                self._waiters.pop(channel, None)

    def _wake(self, channel: str) -> None:
        for event in self._waiters.get(channel, ()):
            event.set()

    async def _poll(self) -> None:
        seen: dict[str, object] = {}
        while self._waiters:
            channels = list(self._waiters)
            values = await asyncio.to_thread(cache.get_many, channels)
            for channel in channels:
                value = values.get(channel)
                if channel in seen and seen[channel] != value:
                    self._wake(channel)
                seen[channel] = value
            for gone in set(seen) - set(channels):
                del seen[gone]
            await asyncio.sleep(POLL_SECONDS)

    async def _listen_redis(self) -> None:
        client = aioredis.Redis.from_url(settings.REDIS_URL)
        pubsub = client.pubsub()
        await pubsub.psubscribe(_PREFIX + "*")
        try:
            while self._waiters:
                message = await pubsub.get_message(ignore_subscribe_messages=True, timeout=1.0)
                if message:
                    self._wake(message["channel"].decode()[len(_PREFIX) :])
        finally:
            await pubsub.aclose()
            await client.aclose()


hub = Hub()

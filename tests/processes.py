"""For tests that run Parley as real processes (`parley serve`, `parley worker`) on the test
database."""

import contextlib
import os
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Iterable
from urllib.parse import quote

from django.conf import settings


def database_url() -> str:
    """The test database, for a process started by the test."""
    db = settings.DATABASES["default"]
    if db["ENGINE"] == "django.db.backends.sqlite3":
        return f"sqlite:///{db['NAME']}"
    user = quote(db["USER"]) + (f":{quote(db['PASSWORD'])}" if db["PASSWORD"] else "")
    return f"postgres://{user}@{db['HOST']}:{db['PORT']}/{db['NAME']}"


def wait_until(condition: Callable[[], bool], seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting until {what}"
        time.sleep(0.05)


def free_port_pair() -> int:
    """A port p with p + 1 free too: `parley serve` puts its stream server on p + 1."""
    while True:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = int(s.getsockname()[1])
        with socket.socket() as s, contextlib.suppress(OSError):
            s.bind(("127.0.0.1", port + 1))
            return port


def wait_for_port(port: int, seconds: float = 15) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.2):
            return
        time.sleep(0.1)
    raise RuntimeError(f"nothing listens on {port}")


def stop_groups(processes: Iterable[subprocess.Popen[bytes] | None], seconds: float = 20) -> None:
    """Stop processes started with `start_new_session=True`, their children with them:
    SIGTERM, then SIGKILL for a group that has not ended after `seconds`."""
    started = [process for process in processes if process is not None]
    for process in started:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
    for process in started:
        try:
            process.wait(seconds)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait(5)

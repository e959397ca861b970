#!/usr/bin/env python3
"""Live updates across app processes: post on one `parley serve`, see it on another's stream.

Starts two Parley servers (each: granian WSGI + its stream server) on loopback that share one
database and one shared cache, opens the thread's SSE stream on server B, posts comments
through server A's API, and prints the time from each POST returning to the event arriving
on B, as a table with the bound (< 1 s) beside it. Two set-ups, each measured in the run:

- postgres+redis: DATABASE_URL=postgres://…/parley_bench, REDIS_URL=redis://…/9 (pub/sub)
- sqlite: the embedded default, one data dir shared by both servers (file-cache polling)

    python bench/live_latency.py [--posts 20] [--parley-bin .venv/bin/parley] [--skip-postgres]

Standard library only; needs PostgreSQL and Redis on 127.0.0.1 for the first set-up.
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import json
import os
import signal
import socket
import statistics
import subprocess
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
HOST = "127.0.0.1"
SITE, URI = "bench", "/live/"
BOUND_SECONDS = 1.0


def free_port_pair() -> int:
    """A port p with p and p + 1 both free (`parley serve` uses port + 1 for streams)."""
    while True:
        with socket.socket() as s:
            s.bind((HOST, 0))
            port = s.getsockname()[1]
        with socket.socket() as s, contextlib.suppress(OSError):
            s.bind((HOST, port + 1))
            return port


def wait_until_up(port: int, deadline: float) -> None:
    while time.monotonic() < deadline:
        with (
            contextlib.suppress(OSError),
            socket.create_connection((HOST, port), timeout=0.5),
            socket.create_connection((HOST, port + 1), timeout=0.5),
        ):
            return
        time.sleep(0.2)
    raise RuntimeError(f"server on {port} did not start")


def post(port: int, body: str) -> None:
    data = json.dumps({"site": SITE, "uri": URI, "body": body, "author_name": "Bench"}).encode()
    request = urllib.request.Request(
        f"http://{HOST}:{port}/api/v1/comments", data, {"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.status == 201, response.status


class Stream(threading.Thread):
    """Reads the SSE stream and records when each comment event arrives, by its body."""

    def __init__(self, port: int) -> None:
        super().__init__(daemon=True)
        self.port, self.ready = port, threading.Event()
        self.arrived: dict[str, float] = {}

    def run(self) -> None:
        conn = http.client.HTTPConnection(HOST, self.port + 1, timeout=60)
        conn.request("GET", f"/api/v1/threads/stream?site={SITE}&uri={URI}")
        response = conn.getresponse()
        event, data = "", ""
        while line := response.readline():
            text = line.decode().rstrip("\n")
            if text.startswith("event: "):
                event = text[7:]
            elif text.startswith("data: "):
                data = text[6:]
            elif text == "":
                if event == "ready":
                    self.ready.set()
                elif event == "comment":
                    html = json.loads(data)["comment"]["html"]
                    self.arrived[html] = time.monotonic()
                event, data = "", ""


def measure(name: str, env: dict[str, str], parley: str, posts: int) -> list[float]:
    run = {**os.environ, **env, "PARLEY_RATE_LIMITS": "off"}
    subprocess.run([parley, "migrate", "-v0"], env=run, check=True)
    subprocess.run([parley, "site", "add", SITE, "--domain", HOST], env=run, capture_output=True)
    servers = []
    try:
        ports = []
        for _ in range(2):
            port = free_port_pair()
            servers.append(
                subprocess.Popen(
                    [parley, "serve", "--port", str(port), "--workers", "1", "--no-worker"],
                    env=run,
                    stdout=subprocess.DEVNULL,
                    start_new_session=True,
                )
            )
            ports.append(port)
            wait_until_up(port, time.monotonic() + 30)
        a, b = ports
        stream = Stream(b)
        stream.start()
        if not stream.ready.wait(10):
            raise RuntimeError("stream did not open")
        delays = []
        for n in range(posts):
            body = f"{name} {n}"
            post(a, body)
            sent = time.monotonic()
            html = f"<p>{body}</p>"
            while html not in stream.arrived and time.monotonic() - sent < 5:
                time.sleep(0.002)
            delays.append(stream.arrived.get(html, float("inf")) - sent)
            time.sleep(0.1)
        return delays
    finally:
        for server in servers:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(server.pid, signal.SIGTERM)
        for server in servers:
            server.wait(timeout=15)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--posts", type=int, default=20)
    parser.add_argument("--parley-bin", default=str(REPO / ".venv" / "bin" / "parley"))
    parser.add_argument("--skip-postgres", action="store_true")
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as data_dir:
        setups = [("sqlite", {"PARLEY_DATA_DIR": data_dir})]
        if not args.skip_postgres:
            subprocess.run(
                [
                    "psql",
                    "-h",
                    HOST,
                    "-U",
                    "postgres",
                    "-qc",
                    "DROP DATABASE IF EXISTS parley_bench",
                ],
                check=True,
            )
            subprocess.run(
                ["psql", "-h", HOST, "-U", "postgres", "-qc", "CREATE DATABASE parley_bench"],
                check=True,
            )
            setups.insert(
                0,
                (
                    "postgres+redis",
                    {
                        "PARLEY_DATA_DIR": data_dir,
                        "DATABASE_URL": f"postgres://postgres@{HOST}:5432/parley_bench",
                        "REDIS_URL": f"redis://{HOST}:6379/9",
                    },
                ),
            )
        for name, env in setups:
            delays = measure(name, env, args.parley_bin, args.posts)
            rows.append((name, delays))
    print(f"\nLive update, post on server A -> event on server B's stream ({args.posts} posts)\n")
    print("| set-up | p50 | p90 | max | missed | max ÷ bound (1 s) |")
    print("|---|---:|---:|---:|---:|---:|")
    for name, delays in rows:
        seen = sorted(d for d in delays if d != float("inf"))
        missed = len(delays) - len(seen)
        p50 = statistics.median(seen)
        p90 = seen[int(len(seen) * 0.9) - 1]
        print(
            f"| {name} | {p50 * 1000:.0f} ms | {p90 * 1000:.0f} ms | {seen[-1] * 1000:.0f} ms "
            f"| {missed} | {seen[-1] / BOUND_SECONDS:.2f} |"
        )


if __name__ == "__main__":
    main()

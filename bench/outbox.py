#!/usr/bin/env python3
"""Sending the outbox: how many e-mails per second `parley notifications deliver` sends.

Writes N messages (default 2,000, one per reader) into a throwaway database with the outbox's
own `queue_email`, then sends them to an aiosmtpd server in this process with 1 worker process
and with 2 started together (the outbox is reset to "queued" between runs). The bound, measured
in the same run against the same server: one process sending the same messages, already
rendered, with smtplib over one connection (the ceiling: SMTP and the server alone, no
database). Seconds are the server's: from a run's first EHLO to its last accepted message.
Duplicates and missing messages (counted by Message-ID) must both be 0.

Databases: SQLite in a temp data dir, and PostgreSQL on 127.0.0.1:5432 (a database this run
creates and drops) unless --skip-postgres or it does not answer.

    .venv/bin/python bench/outbox.py [--rows 2000] [--skip-postgres] [--parley-bin PATH]

Needs the test extras (aiosmtpd).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import socket
import subprocess
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller

REPO = Path(__file__).resolve().parent.parent
HOST = "127.0.0.1"
PG_DATABASE = "parley_bench_outbox"
MESSAGE_ID = re.compile(rb"^Message-ID:\s*(\S+)", re.IGNORECASE | re.MULTILINE)

SEED = """
from django.db import transaction
from parley.notifications.outbox import Letter, queue_email
with transaction.atomic():
    for n in range({rows}):
        queue_email(key=f"bench:{{n}}", kind="manage", to=f"reader{{n}}@example.org", lang="en",
                    letter=Letter(subject=f"Reply {{n}}", paragraphs=["Someone replied. " * 20]))
"""
RESET = """
from django.utils import timezone
from parley.notifications.models import OutboundEmail
OutboundEmail.objects.update(state="queued", attempts=0, claimed_by="", lease_until=None,
                             sent_at=None, next_attempt_at=timezone.now())
"""
STATES = """
import json
from django.db.models import Count
from parley.notifications.models import OutboundEmail
rows = OutboundEmail.objects.values("state", "attempts").annotate(n=Count("id"))
print(json.dumps({f"{r['state']}/{r['attempts']}": r["n"] for r in rows}))
"""
# The ceiling: the same messages as the worker builds them (delivery._message), rendered
# before the clock starts, sent with smtplib over one connection.
CEILING = """
import smtplib
from django.conf import settings
from parley.notifications.delivery import _message
from parley.notifications.models import OutboundEmail
messages = [(row.to, _message(row, None).message().as_bytes(linesep="\\r\\n"))
            for row in OutboundEmail.objects.order_by("id")]
with smtplib.SMTP("{host}", {port}) as smtp:
    for to, raw in messages:
        smtp.sendmail(settings.DEFAULT_FROM_EMAIL, [to], raw)
"""


@dataclass
class Received:
    """What the server saw during one run."""

    connections: int = 0
    first_ehlo: float = 0.0
    last_accepted: float = 0.0
    message_ids: Counter[bytes] = field(default_factory=Counter)


class Handler:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.run = Received()

    def reset(self) -> Received:
        with self.lock:
            done, self.run = self.run, Received()
        return done

    async def handle_EHLO(
        self, server: Any, session: Any, envelope: Any, hostname: str, responses: list[str]
    ) -> list[str]:
        session.host_name = hostname  # what aiosmtpd does itself when there is no hook
        with self.lock:
            self.run.connections += 1
            self.run.first_ehlo = self.run.first_ehlo or time.perf_counter()
        return responses

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        found = MESSAGE_ID.search(envelope.original_content or b"")
        with self.lock:
            self.run.message_ids[found.group(1) if found else b"?"] += 1
            self.run.last_accepted = time.perf_counter()
        return "250 OK"


@dataclass
class Row:
    database: str
    sender: str
    rows: int
    received: Received
    wall: float
    states: dict[str, int] = field(default_factory=dict)

    @property
    def seconds(self) -> float:
        return self.received.last_accepted - self.received.first_ehlo

    @property
    def rate(self) -> float:
        return sum(self.received.message_ids.values()) / self.seconds

    @property
    def duplicates(self) -> int:
        return sum(n - 1 for n in self.received.message_ids.values())

    @property
    def missing(self) -> int:
        return self.rows - len(self.received.message_ids)


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


def parley_python(parley: str, env: dict[str, str], code: str) -> str:
    """Run Python code with Parley's settings and database, as `parley shell -c` does."""
    done = subprocess.run(
        [parley, "shell", "--no-imports", "-c", code], env=env, capture_output=True, text=True
    )
    if done.returncode != 0:
        raise RuntimeError(f"parley shell failed:\n{done.stderr}")
    return done.stdout


def send_with_workers(parley: str, env: dict[str, str], workers: int) -> tuple[float, int]:
    """Start `workers` delivering processes together; wall seconds and how many they sent."""
    started = time.perf_counter()
    processes = [
        subprocess.Popen(
            [parley, "notifications", "deliver"], env=env, stdout=subprocess.PIPE, text=True
        )
        for _ in range(workers)
    ]
    outputs = [process.communicate(timeout=600)[0] for process in processes]
    wall = time.perf_counter() - started
    sent = 0
    for process, output in zip(processes, outputs, strict=True):
        found = re.search(r"Sent (\d+)", output)
        if process.returncode != 0 or not found:
            raise RuntimeError(f"worker exited with {process.returncode}: {output}")
        sent += int(found.group(1))
    return wall, sent


def measure(
    database: str, env: dict[str, str], parley: str, rows: int, handler: Handler, port: int
) -> list[Row]:
    subprocess.run([parley, "migrate", "--noinput", "-v0"], env=env, check=True)
    parley_python(parley, env, SEED.format(rows=rows))
    results = []
    if database == "sqlite":  # the ceiling needs no database; measured once
        handler.reset()
        started = time.perf_counter()
        parley_python(parley, env, CEILING.format(host=HOST, port=port))
        results.append(
            Row(
                database,
                "smtplib, 1 connection",
                rows,
                handler.reset(),
                time.perf_counter() - started,
            )
        )
    for workers in (1, 2):
        parley_python(parley, env, RESET)
        handler.reset()
        wall, sent = send_with_workers(parley, env, workers)
        row = Row(database, f"{workers} worker{'s' * (workers > 1)}", rows, handler.reset(), wall)
        row.states = json.loads(parley_python(parley, env, STATES))
        if sent != rows:
            raise RuntimeError(f"{database}, {workers} workers: sent {sent} of {rows}")
        results.append(row)
    return results


def postgres_answers() -> bool:
    try:
        socket.create_connection((HOST, 5432), timeout=1).close()
    except OSError:
        return False
    return True


def psql(sql: str) -> None:
    subprocess.run(["psql", "-h", HOST, "-U", "postgres", "-qc", sql], check=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=2000)
    parser.add_argument("--skip-postgres", action="store_true")
    parser.add_argument("--parley-bin", default=str(REPO / ".venv" / "bin" / "parley"))
    args = parser.parse_args()

    handler, port = Handler(), free_port()
    controller = Controller(handler, hostname=HOST, port=port)
    controller.start()
    results: list[Row] = []
    try:
        with tempfile.TemporaryDirectory(prefix="parley-outbox-bench-") as data_dir:
            env = {
                **os.environ,
                "PARLEY_DATA_DIR": data_dir,
                "PARLEY_SMTP_URL": f"smtp://{HOST}:{port}",
            }
            env.pop("DATABASE_URL", None)
            results += measure("sqlite", env, args.parley_bin, args.rows, handler, port)
            if not args.skip_postgres and postgres_answers():
                psql(f"DROP DATABASE IF EXISTS {PG_DATABASE}")
                psql(f"CREATE DATABASE {PG_DATABASE}")
                try:
                    env["DATABASE_URL"] = f"postgres://postgres@{HOST}:5432/{PG_DATABASE}"
                    results += measure("postgres", env, args.parley_bin, args.rows, handler, port)
                finally:
                    psql(f"DROP DATABASE IF EXISTS {PG_DATABASE}")
            elif not args.skip_postgres:
                print("PostgreSQL does not answer on 127.0.0.1:5432: SQLite only")
    finally:
        controller.stop()

    ceiling = results[0].rate
    print(f"\nOutbox delivery to a local aiosmtpd server, {args.rows} messages\n")
    print(
        "| database | sender | rows | seconds | e-mails/s | SMTP connections | duplicates "
        "| missing | ÷ ceiling | process wall s | rows by state/attempts |"
    )
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---|")
    for row in results:
        states = ", ".join(f"{k}: {v}" for k, v in sorted(row.states.items())) or "-"
        print(
            f"| {row.database} | {row.sender} | {row.rows} | {row.seconds:.2f} | {row.rate:.0f} "
            f"| {row.received.connections} | {row.duplicates} | {row.missing} "
            f"| {row.rate / ceiling:.2f} | {row.wall:.2f} | {states} |"
        )
    bad = [row for row in results if row.duplicates or row.missing]
    if bad:
        print("\nFAILED: some messages were sent twice or not at all")
        raise SystemExit(1)


if __name__ == "__main__":
    main()

"""Crash safety (issue 9): readers post comments and replies while app workers and task
workers are killed (SIGKILL) again and again. Afterwards every comment that got a 201 is
stored with its text, every thread's and comment's counters are true, every task ran to the
end once, and every e-mail the comments called for went out: each once, or in the documented
case (a worker killed between the server's 250 and marking the row sent) again with the same
Message-ID, never more often than workers were killed.

Real processes on the database this run of the suite is configured for — SQLite, or
PostgreSQL with Redis as the shared cache (CI runs the suite once on each, so each layout is
tested once and the test stays under a minute and a half): `parley serve` (two granian
workers, the stream server and its own task worker, which it restarts), and a second
`parley worker` as a worker box would run, which the test restarts as systemd would. Mail
goes to a real SMTP server on loopback. The site is post-moderated with the scorer on (the
default), so each comment queues a scoring task, and only once scored does it queue e-mails
to its thread's subscribers; one comment in eight has a banned phrase and alerts the
moderator from the request itself."""

import contextlib
import http.client
import json
import os
import random
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.db import connection
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from parley.comments.models import Comment, Subscription, Thread
from parley.moderation.models import Assessment, Policy
from parley.notifications.models import DigestItem, OutboundEmail
from tests.factories import SiteFactory
from tests.mail import Mailbox, start_smtp_server
from tests.processes import (
    database_url,
    free_port_pair,
    stop_groups,
    wait_for_port,
    wait_until,
)

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

REDIS_URL = "redis://127.0.0.1:6379/8"
CLIENTS = 4
# Seconds a reader waits between posts, at most: the scoring backlog, and the time the test
# waits for it, stay bounded on a slow machine.
PACE = 0.4
# Two subscribers per thread. Each address gets at most 10 instant e-mails an hour, then
# digests: enough threads spread the e-mails over the whole run.
THREADS = 40
SUBSCRIBERS = 2
ROUNDS = 3  # each kills an app worker, then a task worker (which reloads the scorer: ~4 s)
PAUSE = 3.0  # seconds before each kill
BANNED = "zorblax"
MODERATOR = "editor@news.example"
# Bodies differ in words, not digits: the duplicate rule reads "1" as "i" or "l".
WORDS = ["river", "budget", "council", "harbour", "school"]
WORDS += ["bridge", "market", "library", "tram", "garden"]


def body(client: int, n: int) -> str:
    words = [WORDS[n // 100 % 10], WORDS[n // 10 % 10], WORDS[n % 10]]
    text = f"{WORDS[client]} reader on the {' '.join(words)} story: a fair and careful report."
    return text + (f" Such {BANNED}." if n % 8 == 7 else "")


def uri(index: int) -> str:
    return f"/crash/{index}/"


# ------------------------------------------------------------------ processes


def children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                # The command name, in brackets, may hold spaces: the fields after it count.
                fields = (entry / "stat").read_text().rpartition(")")[2].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                found.append(int(entry.name))
    return found


def command_line(pid: int) -> str:
    try:
        return (Path("/proc") / str(pid) / "cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


def started(pid: int) -> int:
    """When the process started, in clock ticks since boot."""
    return int((Path("/proc") / str(pid) / "stat").read_text().rpartition(")")[2].split()[19])


def listeners(port: int) -> int:
    """Sockets listening on `port`: granian's workers each listen on a socket of their own
    (SO_REUSEPORT), from when they are ready until they die."""
    local = f"0100007F:{port:04X}"
    rows = [line.split() for line in Path("/proc/net/tcp").read_text().splitlines()[1:]]
    return sum(row[1] == local and row[3] == "0A" for row in rows)


def kill(pid: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)


@dataclass
class Deployment:
    """`parley serve` and a standalone `parley worker`, their output in `tmp`."""

    env: dict[str, str]
    tmp: Path
    port: int = field(default_factory=free_port_pair)
    serve: subprocess.Popen[bytes] | None = None
    worker: subprocess.Popen[bytes] | None = None
    worker_starts: int = 0

    def start(self) -> None:
        self.serve = self._spawn("serve", "--port", str(self.port), "--workers", "2", log="serve")
        self.start_worker()
        wait_for_port(self.port, 60)

    def restart_worker_if_dead(self) -> None:
        """As systemd would (`Restart=always`)."""
        if self.worker is not None and self.worker.poll() is not None:
            self.start_worker()

    def start_worker(self) -> None:
        self.worker_starts += 1
        self.worker = self._spawn("worker", log=f"worker-{self.worker_starts}")

    def _spawn(self, *args: str, log: str) -> subprocess.Popen[bytes]:
        with (self.tmp / f"{log}.log").open("wb") as out:
            return subprocess.Popen(
                [sys.executable, "-m", "parley", *args],
                env=self.env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def app_workers(self) -> list[int]:
        assert self.serve is not None
        granian = [p for p in children(self.serve.pid) if "--interface wsgi" in command_line(p)]
        assert granian, "parley serve has no WSGI server any more:\n" + self.logs()
        return children(granian[0])

    def task_worker(self, standalone: bool) -> int:
        """The standalone worker, or the one `parley serve` runs (and restarts)."""
        assert self.serve is not None and self.worker is not None
        serve, worker = self.serve, self.worker

        def running() -> list[int]:
            if standalone:
                return [worker.pid] if worker.poll() is None else []
            return [p for p in children(serve.pid) if "parley worker" in command_line(p)]

        wait_until(lambda: bool(running()), 10, "the task worker runs")
        return running()[0]

    def logs(self) -> str:
        return "\n".join(f"--- {p.name}\n{p.read_text()[-3000:]}" for p in self.tmp.glob("*.log"))

    def stop(self) -> None:
        stop_groups([self.serve, self.worker])


def running_a_task(pid: int) -> bool:
    running = DBTaskResult.objects.running().values_list("worker_ids", flat=True)
    return any(ids and ids[-1].split(":")[1:2] == [str(pid)] for ids in running)


def sending_mail(pid: int) -> bool:
    sender = f"{socket.gethostname()}:{pid}"
    return OutboundEmail.objects.filter(state="sending", claimed_by=sender).exists()


# ------------------------------------------------------------------ readers


@dataclass
class Load:
    """Readers posting in threads; what they were answered."""

    port: int
    stop: threading.Event = field(default_factory=threading.Event)
    acked: dict[int, str] = field(default_factory=dict)  # comment id -> body
    in_thread: dict[str, list[int]] = field(default_factory=dict)
    answers: Counter[str] = field(default_factory=Counter)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def reader(self, client: int) -> None:
        rng = random.Random(client)
        n = 0
        while not self.stop.wait(PACE * rng.random()):
            where = uri(rng.randrange(THREADS))
            with self.lock:
                earlier = self.in_thread.get(where, [])
                parent = rng.choice(earlier) if earlier and rng.random() < 0.3 else None
            text = body(client, n)
            n += 1
            data = {"site": "news", "uri": where, "body": text, "author_name": f"Reader {client}"}
            status, answer = self.post({**data, "parent": parent})
            with self.lock:
                self.answers[status] += 1
                if status == "201":
                    comment_id = answer["comment"]["id"]
                    self.acked[comment_id] = text
                    if answer["status"] == "published":
                        self.in_thread.setdefault(where, []).append(comment_id)
            if status.startswith("no answer"):
                time.sleep(0.1)  # the worker that had the connection died

    def post(self, data: dict[str, Any]) -> tuple[str, Any]:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        try:
            conn.request(
                "POST", "/api/v1/comments", json.dumps(data), {"Content-Type": "application/json"}
            )
            response = conn.getresponse()
            content = response.read()
        except (OSError, http.client.HTTPException) as error:
            return f"no answer: {type(error).__name__}", None
        finally:
            conn.close()
        return str(response.status), json.loads(content) if response.status == 201 else content


# ------------------------------------------------------------------ the test


@pytest.fixture
def mailbox() -> Iterator[Mailbox]:
    box = Mailbox()
    controller = start_smtp_server(box)
    yield box
    controller.stop()


@pytest.fixture
def deployment(tmp_path: Path, mailbox: Mailbox) -> Iterator[Deployment]:
    env = {
        **os.environ,
        "PARLEY_DATA_DIR": str(tmp_path),
        "DATABASE_URL": database_url(),
        "PARLEY_SMTP_URL": mailbox.url,
        "PARLEY_RATE_LIMITS": "off",
        # A killed worker's e-mails and tasks are taken over within seconds, not a minute.
        "PARLEY_OUTBOX_LEASE_SECONDS": "3",
        "PARLEY_TASK_LEASE_SECONDS": "4",
    }
    for name in ("PARLEY_PUBLIC_URL", "PARLEY_STREAM_URL", "REDIS_URL"):
        env.pop(name, None)
    if connection.vendor == "postgresql":
        env["REDIS_URL"] = REDIS_URL
    site = SiteFactory.create()
    # Readers here post faster than the flood rule allows people to.
    Policy.objects.update_or_create(
        site=site, defaults={"flood_comments": 32767, "banned_phrases": BANNED}
    )
    User.objects.create_superuser("editor", MODERATOR, "not-used-here")
    for t in range(THREADS):
        for s in range(SUBSCRIBERS):
            Subscription.objects.create(
                site=site,
                uri=uri(t),
                email=f"s{s}.t{t}@readers.example",
                kind=Subscription.Kind.THREAD,
                reader_key=f"subscriber-{t}-{s}",
                confirmed_at=timezone.now(),
            )
    parley = Deployment(env, tmp_path)
    try:
        parley.start()
        yield parley
    finally:
        parley.stop()  # before the test database is flushed


def test_killed_app_and_task_workers_lose_and_double_nothing(
    deployment: Deployment, mailbox: Mailbox
):
    load = Load(deployment.port)
    readers = [threading.Thread(target=load.reader, args=(c,)) for c in range(CLIENTS)]
    for reader in readers:
        reader.start()
    kills: Counter[str] = Counter()
    try:
        for turn in range(ROUNDS):
            time.sleep(PAUSE)
            # Once the last one killed is back, so that one always answers; the longest lived:
            # granian gives up on a worker that dies within 5.5 s of its respawn.
            wait_until(lambda: listeners(deployment.port) == 2, 30, "both app workers listen")
            kill(min(deployment.app_workers(), key=started))
            kills["app worker"] += 1

            time.sleep(PAUSE)
            # In the middle of a task, or of sending e-mails (in a task too), where a crash can
            # do harm: the worker `parley serve` restarts, then the standalone one, in turn.
            victim = deployment.task_worker(standalone=bool(turn % 2))
            busy = sending_mail if turn % 2 else running_a_task
            waited = time.monotonic() + 3
            while not busy(victim) and time.monotonic() < waited:
                time.sleep(0.02)
            kill(victim)
            kills["task worker"] += 1
            deployment.restart_worker_if_dead()
    finally:
        load.stop.set()
        for reader in readers:
            reader.join(60)
    deployment.restart_worker_if_dead()

    # The survivors (and the restarted) finish the work: tasks left running by the killed
    # ones are run again, e-mails they had claimed are sent once their lease ends.
    def drained() -> bool:
        return (
            not DBTaskResult.objects.filter(status__in=["READY", "RUNNING"]).exists()
            and not OutboundEmail.objects.filter(state__in=["queued", "sending"]).exists()
        )

    def report() -> str:
        tasks = Counter(DBTaskResult.objects.values_list("status", flat=True))
        tasks["taken over"] = sum(
            len(ids) > 1 for ids in DBTaskResult.objects.values_list("worker_ids", flat=True)
        )
        mail = Counter(OutboundEmail.objects.values_list("state", flat=True))
        mail["taken over"] = OutboundEmail.objects.filter(attempts__gt=1).count()
        mail["arrived"] = len(mailbox.messages)
        return f"kills {dict(kills)}, answers {dict(load.answers)}, tasks {dict(tasks)}, " + (
            f"e-mails {dict(mail)}\n{deployment.logs()}"
        )

    try:
        wait_until(drained, 120, "the task queue and the outbox are empty")
    finally:
        deployment.stop()
        print(report())

    # Every answer was a comment or a connection the killed worker took with it.
    assert {a for a in load.answers if not a.startswith("no answer")} == {"201"}, report()
    assert load.answers["201"] >= 50, report()

    # Every acknowledged comment is stored as it was written.
    stored = dict(Comment.objects.filter(pk__in=load.acked).values_list("pk", "body"))
    assert stored == load.acked

    # No write is half done, acknowledged or not: the counters are the real counts.
    comments = list(Comment.objects.values("pk", "thread_id", "parent_id", "status", "reply_count"))
    visible = Counter(
        c["parent_id"] for c in comments if c["status"] == "published" or c["reply_count"] > 0
    )
    assert {c["pk"]: c["reply_count"] for c in comments} == {
        c["pk"]: visible[c["pk"]] for c in comments
    }
    published = Counter(c["thread_id"] for c in comments if c["status"] == "published")
    counts = dict(Thread.objects.values_list("pk", "published_count"))
    assert counts == {pk: published[pk] for pk in counts}

    # Every task ran to the end, none twice to visible effect (reasons written twice).
    statuses = Counter(DBTaskResult.objects.values_list("status", flat=True))
    assert set(statuses) == {"SUCCESSFUL"}, statuses
    runs = DBTaskResult.objects.values_list("worker_ids", flat=True)
    taken_over = sum(len(ids) > 1 for ids in runs)
    assert taken_over > 0, "no task was running when its worker was killed: the test proves nothing"
    assessments = list(Assessment.objects.values_list("comment_id", "scored_at", "reasons"))
    assert len(assessments) == len(comments)
    assert [pk for pk, scored_at, _ in assessments if scored_at is None] == []
    assert [pk for pk, _, reasons in assessments if len(set(reasons)) != len(reasons)] == []

    # Each comment reached each of its readers once: by e-mail or in the daily digest.
    readers_of = defaultdict(list)
    for where, email in Subscription.objects.values_list("uri", "email"):
        readers_of[where].append(email)
    thread_uri = dict(Thread.objects.values_list("pk", "uri"))
    expected: Counter[tuple[str, int]] = Counter()
    for c in comments:
        if c["status"] == "published":
            expected.update((email, c["pk"]) for email in readers_of[thread_uri[c["thread_id"]]])
        elif c["status"] == "pending":
            expected[(MODERATOR, c["pk"])] += 1
    rows = list(OutboundEmail.objects.values("to", "comment_id", "state", "message_id", "attempts"))
    notices = Counter((r["to"], r["comment_id"]) for r in rows)
    notices.update(DigestItem.objects.values_list("email", "comment_id"))
    assert notices == expected
    assert {r["state"] for r in rows} == {"sent"}

    # The SMTP server got each of those e-mails, and only those; a second copy only of one
    # whose worker was killed after handing it over, with the same Message-ID.
    arrived = Counter(str(m.message["Message-ID"]) for m in mailbox.messages)
    sent = {r["message_id"]: r for r in rows}
    assert set(arrived) == set(sent)
    for message in mailbox.messages:
        assert message.envelope_to == [sent[str(message.message["Message-ID"])]["to"]]
    again = {mid: n for mid, n in arrived.items() if n > 1}
    assert sum(again.values()) - len(again) <= kills["task worker"], again
    assert all(sent[mid]["attempts"] > 1 for mid in again), again

"""The outbox delivers each message once: across a worker killed mid-send, two workers at once,
temporary failures, bounces, and comments that stopped being published before their
notification went out. Workers run as real processes against real SMTP servers on loopback."""

import asyncio
import contextlib
import io
import os
import re
import signal
import socket
import subprocess
import sys
from collections import Counter
from collections.abc import Callable, Iterator
from collections.abc import Set as AbstractSet
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session
from django.core.management import call_command
from django.db import transaction
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from parley.comments.actions import do_set_status
from parley.comments.models import Comment, Subscription
from parley.notifications import schedule
from parley.notifications.delivery import deliver_due
from parley.notifications.models import DigestItem, OutboundEmail, Suppression
from parley.notifications.outbox import Letter, queue_email
from parley.notifications.tasks import deliver_outbox
from tests.factories import ThreadFactory, post_comment, say
from tests.mail import Mailbox, _Handler, free_port, send_mail_to, smtp  # noqa: F401 (fixture)
from tests.processes import database_url, wait_until


def queue(n: int, *, to: str = "", **more: Any) -> bool:
    letter = Letter(subject=f"Message {n}", paragraphs=[f"Body {n}."])
    return queue_email(
        key=f"test:{n}",
        kind="manage",
        to=to or f"reader{n}@example.org",
        letter=letter,
        lang="en",
        **more,
    )


def queue_many(count: int) -> dict[str, str]:
    """`count` messages to as many readers, written in one transaction; their Message-IDs."""
    with transaction.atomic():
        for n in range(count):
            queue(n)
    return dict(OutboundEmail.objects.values_list("message_id", "to"))


# ------------------------------------------------------------------ workers as processes


class Worker:
    """`python -m parley ARGS` on the test database, sending to the SMTP server on
    `smtp_port`."""

    def __init__(self, log: Path, smtp_port: int, *args: str, lease: int = 60) -> None:
        env = {
            **os.environ,
            "PARLEY_DATA_DIR": str(log.parent),
            "DATABASE_URL": database_url(),
            "PARLEY_SMTP_URL": f"smtp://127.0.0.1:{smtp_port}",
            "PARLEY_OUTBOX_LEASE_SECONDS": str(lease),
        }
        self.log = log
        with log.open("wb") as out:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "parley", *args],
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
            )

    @property
    def name(self) -> str:
        """How delivery names this process in `claimed_by`."""
        return f"{socket.gethostname()}:{self.process.pid}"

    def output(self) -> str:
        return self.log.read_text()

    def finish(self, seconds: float = 60) -> str:
        assert self.process.wait(seconds) == 0, self.output()
        return self.output()

    def stop(self, sig: int = signal.SIGTERM) -> None:
        if self.process.poll() is None:
            self.process.send_signal(sig)
            self.process.wait(10)


@pytest.fixture
def workers(tmp_path: Path) -> Iterator[Callable[..., Worker]]:
    started: list[Worker] = []

    def start(smtp_port: int, *args: str, lease: int = 60) -> Worker:
        log = tmp_path / f"worker-{len(started)}.log"
        started.append(Worker(log, smtp_port, *args, lease=lease))
        return started[-1]

    yield start
    for worker in started:  # before the test database is flushed
        worker.stop(signal.SIGKILL)


class Stalling:
    """An SMTP server that takes each message's content and then never answers: its sender
    is left inside the send, as with a network that stopped mid-transaction."""

    def __init__(self) -> None:
        self.inside: list[list[str]] = []

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        self.inside.append(list(envelope.rcpt_tos))
        await asyncio.sleep(3600)
        return "451 4.4.2 Timed out"


@pytest.fixture
def stalling() -> Iterator[tuple[Stalling, int]]:
    handler, port = Stalling(), free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    yield handler, port
    controller.stop()


def message_ids(mailbox: Mailbox) -> Counter[str]:
    return Counter(str(m.message["Message-ID"]) for m in mailbox.messages)


def recipients(mailbox: Mailbox) -> Counter[str]:
    return Counter(address for m in mailbox.messages for address in m.envelope_to)


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_a_worker_killed_inside_a_send_leaves_each_message_to_be_sent_once_after_restart(
    workers,
    stalling,
    smtp,  # noqa: F811
):
    sent_ids = queue_many(20)
    stalled, stalled_port = stalling

    first = workers(stalled_port, "worker", lease=2)
    wait_until(lambda: len(stalled.inside) == 1, 30, "the worker is inside a send")
    claimed = OutboundEmail.objects.values_list("state", "claimed_by").distinct()
    assert list(claimed) == [("sending", first.name)], first.output()
    first.stop(signal.SIGKILL)

    # The dead worker's lease must run out before another worker may take its messages.
    wait_until(
        lambda: not OutboundEmail.objects.filter(lease_until__gte=timezone.now()).exists(),
        10,
        "the dead worker's lease has ended",
    )
    second = workers(smtp.port, "worker", lease=2)
    wait_until(
        lambda: OutboundEmail.objects.filter(state="sent").count() == 20,
        60,
        "every message is sent",
    )
    second.stop()

    assert stalled.inside == [["reader0@example.org"]]  # it never answered: nothing delivered
    assert message_ids(smtp) == Counter(dict.fromkeys(sent_ids, 1))
    assert recipients(smtp) == Counter(dict.fromkeys(sent_ids.values(), 1))
    rows = OutboundEmail.objects.values_list("state", "claimed_by", "attempts").distinct()
    assert list(rows) == [("sent", second.name, 2)]


class Gate(_Handler):
    """Holds each message until two senders are inside a send at the same moment (a worker
    sends one message at a time, so they are two workers), then lets all through."""

    def __init__(self, mailbox: Mailbox) -> None:
        super().__init__(mailbox)
        self.inside = 0
        self.opened = asyncio.Event()

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        self.inside += 1
        if self.inside == 2:
            self.opened.set()
        with contextlib.suppress(TimeoutError):  # the test then says they never overlapped
            await asyncio.wait_for(self.opened.wait(), timeout=20)
        self.inside -= 1
        return await super().handle_DATA(server, session, envelope)


def sent_count(output: str) -> int:
    found = re.search(r"^Sent (\d+) e-mails?\.$", output, re.MULTILINE)
    assert found, output
    return int(found.group(1))


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_two_workers_at_once_send_each_message_exactly_once(workers):
    sent_ids = queue_many(300)
    mailbox = Mailbox()
    gate = Gate(mailbox)
    controller = Controller(gate, hostname=mailbox.host, port=free_port())
    controller.start()
    try:
        pair = [workers(controller.port, "notifications", "deliver") for _ in range(2)]
        outputs = [worker.finish() for worker in pair]
    finally:
        controller.stop()

    assert gate.opened.is_set(), "the workers never overlapped"
    counts = [sent_count(output) for output in outputs]
    assert sum(counts) == 300 and min(counts) > 0, outputs
    assert message_ids(mailbox) == Counter(dict.fromkeys(sent_ids, 1))
    assert recipients(mailbox) == Counter(dict.fromkeys(sent_ids.values(), 1))
    # Claimed once each (one attempt), by one of the two, each sending its share.
    claims = Counter(
        OutboundEmail.objects.filter(state="sent", attempts=1).values_list("claimed_by", flat=True)
    )
    assert claims == {pair[0].name: counts[0], pair[1].name: counts[1]}


# ------------------------------------------------------------------ failures, in-process


class Recording(_Handler):
    """Records every recipient tried; answers 451 to the first `tempfail` tries of each
    address in `greylist`, as a greylisting server does."""

    def __init__(
        self, mailbox: Mailbox, greylist: set[str], tempfail: int, reject_content: bool = False
    ) -> None:
        super().__init__(mailbox)
        self.greylist, self.tempfail = greylist, tempfail
        self.reject_content = reject_content
        self.tried: list[str] = []
        self.connections = 0

    async def handle_EHLO(
        self,
        server: SMTP,
        session: Session,
        envelope: Envelope,
        hostname: str,
        responses: list[str],
    ) -> list[str]:
        session.host_name = hostname  # what aiosmtpd does itself when there is no hook
        self.connections += 1
        return responses

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: Any
    ) -> str:
        self.tried.append(address)
        if address in self.greylist and self.tried.count(address) <= self.tempfail:
            return "451 4.7.1 Greylisted, try again later"
        return await super().handle_RCPT(server, session, envelope, address, options)

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        if self.reject_content:
            return "554 5.7.1 Message content rejected"
        return await super().handle_DATA(server, session, envelope)


@pytest.fixture
def server(settings: Any) -> Iterator[Callable[..., Recording]]:
    """Parley's mail goes to a recording server, set up by the test."""
    controllers: list[Controller] = []

    def start(
        *, greylist: AbstractSet[str] = frozenset(), tempfail: int = 0, reject_content: bool = False
    ) -> Recording:
        mailbox = Mailbox(port=free_port())
        handler = Recording(mailbox, set(greylist), tempfail, reject_content)
        controllers.append(Controller(handler, hostname=mailbox.host, port=mailbox.port))
        controllers[-1].start()
        send_mail_to(settings, mailbox)
        return handler

    yield start
    for controller in controllers:
        controller.stop()


class Clock:
    def __init__(self) -> None:
        self.now = timezone.now().replace(microsecond=0)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: int) -> None:
        self.now += timedelta(seconds=seconds)


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    clock = Clock()
    monkeypatch.setattr(timezone, "now", clock)
    return clock


@pytest.mark.django_db
def test_a_temporary_failure_is_retried_later_with_a_growing_delay(server, clock):
    greylisting = server(greylist={"ann@example.org"}, tempfail=2)
    queue(1, to="ann@example.org")
    row = OutboundEmail.objects.get

    assert deliver_due() == 0
    started = clock.now
    assert (row().state, row().attempts) == ("queued", 1)
    assert row().next_attempt_at == started + timedelta(seconds=60)
    assert "451" in row().last_error

    clock.advance(59)
    assert deliver_due() == 0
    assert greylisting.tried == ["ann@example.org"]  # not due yet: not tried again

    clock.advance(1)
    assert deliver_due() == 0
    assert row().next_attempt_at == started + timedelta(seconds=60 + 120)  # doubled

    clock.advance(120)
    assert deliver_due() == 1
    assert (row().state, row().attempts, row().sent_at) == ("sent", 3, clock.now)
    assert greylisting.tried == ["ann@example.org"] * 3
    assert [m.envelope_to for m in greylisting.mailbox.messages] == [["ann@example.org"]]


@pytest.mark.django_db
def test_a_message_that_keeps_failing_is_given_up_after_the_last_attempt(server, clock, settings):
    settings.PARLEY_OUTBOX_MAX_ATTEMPTS = 2
    greylisting = server(greylist={"ann@example.org"}, tempfail=99)
    queue(1, to="ann@example.org")

    deliver_due()
    clock.advance(60)
    deliver_due()
    clock.advance(3600)
    deliver_due()

    row = OutboundEmail.objects.get()
    assert (row.state, row.attempts) == ("failed", 2)
    assert greylisting.tried == ["ann@example.org"] * 2
    assert not Suppression.objects.exists()  # a server that says "later" is no bounce


@pytest.mark.django_db
def test_a_transaction_that_writes_many_messages_queues_one_delivery(
    django_capture_on_commit_callbacks,
):
    with django_capture_on_commit_callbacks(execute=True):
        for n in range(3):
            queue(n)
    assert DBTaskResult.objects.filter(task_path=deliver_outbox.module_path).count() == 1


@pytest.mark.django_db
def test_a_worker_sends_its_batch_over_one_connection(server):
    recording = server()
    for n in range(3):
        queue(n)

    assert deliver_due() == 3
    assert recording.connections == 1


@pytest.mark.django_db
def test_the_sweep_sends_due_mail_at_once_while_a_retry_waits_for_later(server):
    server(greylist={"ann@example.org"}, tempfail=1)
    queue(1, to="ann@example.org")
    deliver_due()  # ann is greylisted: a delivery task is deferred a minute
    # Written in this test's transaction, which never commits: its delivery task is lost, as
    # in a crash, and the sweep must find it.
    queue(2, to="bob@example.org")

    schedule.tick()

    ready = DBTaskResult.objects.ready().filter(task_path=deliver_outbox.module_path)
    assert ready.exists()


@pytest.mark.django_db
def test_a_refused_recipient_is_suppressed_and_its_other_mail_is_never_sent(server):
    recording = server()
    recording.mailbox.refuse = {"ann@example.org"}
    queue(1, to="ann@example.org")
    queue(2, to="Ann@Example.org")
    queue(3, to="bob@example.org")

    assert deliver_due() == 1

    states = dict(OutboundEmail.objects.values_list("key", "state"))
    assert states == {"test:1": "failed", "test:2": "cancelled", "test:3": "sent"}
    assert OutboundEmail.objects.get(key="test:1").last_error == "550 5.1.1 No such user here"
    suppression = Suppression.objects.get()
    assert (suppression.email, suppression.reason) == ("ann@example.org", "bounce")
    assert recording.tried == ["ann@example.org", "bob@example.org"]
    assert not queue(4, to="ann@example.org")  # nothing more is written for the address


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("status", "state"),
    [
        ("pending", "cancelled"),
        ("deleted", "cancelled"),
        ("spam", "cancelled"),
        ("published", "sent"),
    ],
)
def test_a_notification_about_a_comment_taken_down_before_sending_is_cancelled(
    client, unscored_site, server, status, state
):
    recording = server()
    Subscription.objects.create(
        site=unscored_site,
        uri="/story/",
        email="ann@example.org",
        kind="thread",
        reader_key="r:ann",
        confirmed_at=timezone.now(),
    )
    comment_id = say(client, "A new angle", name="Bob")
    assert OutboundEmail.objects.get().comment_id == comment_id

    with transaction.atomic():
        if status != "published":
            do_set_status(Comment.objects.select_for_update().get(pk=comment_id), status)
    deliver_due()

    assert OutboundEmail.objects.get().state == state
    assert len(recording.mailbox.messages) == (state == "sent")


# ------------------------------------------------------------------ the command line


@pytest.mark.django_db
def test_deliver_sends_what_is_due_now_and_says_how_many(smtp):  # noqa: F811
    queue(1)
    queue(2)
    queue(3, send_after=timezone.now() + timedelta(hours=1))
    out = io.StringIO()

    call_command("notifications", "deliver", stdout=out)

    assert out.getvalue() == "Sent 2 e-mails.\n"
    assert sorted(m.envelope_to[0] for m in smtp.messages) == [
        "reader1@example.org",
        "reader2@example.org",
    ]


@pytest.mark.django_db
def test_digest_writes_the_days_digests_then_sends_them_once(smtp):  # noqa: F811
    comment = post_comment(ThreadFactory.create(), "Worth a read")
    DigestItem.objects.create(
        email="ann@example.org",
        kind="comment",
        comment=comment,
        created_at=timezone.now() - timedelta(days=2),
    )
    out = io.StringIO()

    call_command("notifications", "digest", stdout=out)
    call_command("notifications", "digest", stdout=out)

    assert out.getvalue().splitlines() == [
        "Wrote 1 digest.",
        "Sent 1 e-mail.",
        "Wrote 0 digests.",
        "Sent 0 e-mails.",
    ]
    (digest,) = smtp.messages
    assert digest.envelope_to == ["ann@example.org"]
    assert "Worth a read" in digest.text


@pytest.mark.django_db
def test_a_message_refused_for_good_fails_at_once_and_its_reader_is_not_suppressed(server):
    server(reject_content=True)
    queue(1, to="ann@example.org")

    assert deliver_due() == 0

    row = OutboundEmail.objects.get()
    assert (row.state, row.attempts) == ("failed", 1)
    assert "554" in row.last_error
    assert not Suppression.objects.exists()

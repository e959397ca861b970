"""Several app processes serving one site, as a grown install runs: two `parley serve` with two
granian workers each, sharing the database and the shared cache (Redis on the PostgreSQL run;
on the SQLite run the SQLite cache file of one box). Rate limits hold whichever process
counts, /metrics adds up its server's workers, request lines are JSON with their ids, and
on PostgreSQL the pool keeps connections between requests and replaces those PostgreSQL
dropped."""

import contextlib
import json
import os
import random
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from email.message import Message
from pathlib import Path
from typing import Any, TypeVar
from urllib.error import HTTPError
from urllib.request import Request, urlopen

import pytest
from django.db import connection

from parley.moderation.models import Policy
from tests.factories import SiteFactory
from tests.processes import database_url, free_port_pair, stop_groups

# Transactional: the servers must see what a test writes, and each test leaves nothing behind.
pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

REDIS_URL = "redis://127.0.0.1:6379/9"
# How the servers' PostgreSQL connections are told apart from the test's own.
SERVED = "parley_test_served"


@dataclass
class Servers:
    urls: list[str]
    logs: list[Path]
    metrics_dirs: list[Path]


def call(url: str, path: str, data: Any = None, **headers: str) -> tuple[int, Message, Any]:
    """One request on a new connection: (status, headers, parsed JSON or text)."""
    body = None if data is None else json.dumps(data).encode()
    headers = {"Content-Type": "application/json", **headers}
    request = Request(url + path, body, headers)  # noqa: S310 (our own server, http)
    try:
        with urlopen(request, timeout=30) as response:  # noqa: S310
            status, answer, raw = response.status, response.headers, response.read()
    except HTTPError as error:
        status, answer, raw = error.code, error.headers, error.read()
    text = raw.decode()
    is_json = (answer["Content-Type"] or "").startswith("application/json")
    return status, answer, json.loads(text) if is_json else text


def _database_url() -> str:
    """The test database, its PostgreSQL connections named so that tests can find them."""
    url = database_url()
    return f"{url}?application_name={SERVED}" if connection.vendor == "postgresql" else url


@pytest.fixture
def site() -> str:
    """A site of the test's own: the servers remember sites by name for 30 s."""
    name = f"news-{uuid.uuid4().hex[:8]}"
    created = SiteFactory.create(name=name)
    Policy.objects.update_or_create(site=created, defaults={"use_scorer": False})
    return name


@pytest.fixture(scope="module")
def servers(django_db_setup, tmp_path_factory) -> Iterator[Servers]:
    data_dir = tmp_path_factory.mktemp("served")
    env = {
        **os.environ,
        "PARLEY_DATA_DIR": str(data_dir),
        "DATABASE_URL": _database_url(),
        "PARLEY_PROXY_COUNT": "1",  # each test reads as readers of its own address
        "PARLEY_LOG_FORMAT": "json",
        "PARLEY_RATE_LIMITS": "on",
    }
    for name in ("REDIS_URL", "PARLEY_STREAM_URL", "PROMETHEUS_MULTIPROC_DIR"):
        env.pop(name, None)
    if connection.vendor == "postgresql":
        env["REDIS_URL"] = REDIS_URL
    processes, ports = [], []
    try:
        for n in range(2):
            port = free_port_pair()
            command = [sys.executable, "-m", "parley", "serve", "--port", str(port)]
            with open(data_dir / f"server{n}.log", "wb") as log:
                processes.append(
                    subprocess.Popen(
                        [*command, "--workers", "2", "--no-worker"],
                        env=env,
                        stdout=subprocess.DEVNULL,
                        stderr=log,
                        start_new_session=True,
                    )
                )
            ports.append(port)
        urls = [f"http://127.0.0.1:{port}" for port in ports]
        for url in urls:
            _wait_until_ready(url)
        yield Servers(
            urls,
            [data_dir / f"server{n}.log" for n in range(2)],
            [data_dir / "metrics" / f"{socket.gethostname()}-{port}" for port in ports],
        )
    finally:
        stop_groups(processes)


def _wait_until_ready(url: str) -> None:
    for _ in range(300):
        with contextlib.suppress(OSError):
            if call(url, "/readyz")[0] == 200:
                return
        time.sleep(0.1)
    raise RuntimeError(f"{url} never got ready")


def _server_backends() -> set[int]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pid FROM pg_stat_activity WHERE application_name = %s", [SERVED])
        return {pid for (pid,) in cursor.fetchall()}


# First in the file, while each worker's pool holds the one connection it keeps when idle:
# after the bursts below, each worker would find its several dead connections one at a time,
# psycopg_pool waiting 1, 2, 4 s between tries (docs/deploy.md), and the test take longer.
def test_pooled_connections_are_reused_and_replaced_when_postgresql_drops_them(
    servers: Servers,
) -> None:
    if connection.vendor != "postgresql":
        pytest.skip("SQLite has no connections to pool")

    def all_ready() -> bool:
        answers = [call(url, "/readyz") for url in servers.urls for _ in range(10)]
        return all(status == 200 and body["ready"] for status, _, body in answers)

    assert all_ready()
    kept = _server_backends()
    assert kept, "no connection was kept between requests"
    assert all_ready()
    assert _server_backends() == kept, "requests opened connections of their own"

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_terminate_backend(pid) FROM unnest(%s) AS pid", [list(kept)])
    assert all_ready(), "a request was given a connection PostgreSQL had closed"
    assert _server_backends().isdisjoint(kept)


def post(url: str, site: str, address: str, n: int) -> int:
    """A comment from a new reader (no token sent back) at `address`, through the proxy."""
    comment = {"site": site, "uri": "/several/", "body": f"Comment {n}", "author_name": "Ana"}
    return call(url, "/api/v1/comments", comment, **{"X-Forwarded-For": address})[0]


T = TypeVar("T")


def in_one_window(burst: Callable[[str], T]) -> T:
    """Limits count in fixed one-minute windows, and a burst across the minute would see its
    count start again halfway: run it again, from a new address, until one fits."""
    while True:
        address = f"10.{random.randrange(256)}.{random.randrange(256)}.{random.randrange(1, 255)}"
        window = time.time() // 60
        result = burst(address)
        if time.time() // 60 == window:
            return result


def test_the_eleventh_comment_is_refused_whichever_process_gets_it(
    servers: Servers, site: str
) -> None:
    a, b = servers.urls

    def ten_then_two_more(address: str) -> list[int]:
        return [post((a, b)[n % 2], site, address, n) for n in range(12)]

    assert in_one_window(ten_then_two_more) == [201] * 10 + [429] * 2
    assert post(a, site, "198.51.100.6", 12) == 201  # another address is not held back


def test_a_burst_across_processes_admits_exactly_the_limit(servers: Servers, site: str) -> None:
    def burst(address: str) -> list[int]:
        with ThreadPoolExecutor(12) as pool:
            return list(pool.map(lambda n: post(servers.urls[n % 2], site, address, n), range(30)))

    assert sorted(in_one_window(burst)) == [201] * 10 + [429] * 20


def test_metrics_add_up_every_worker_of_a_server(servers: Servers) -> None:
    url, folder = servers.urls[0], servers.metrics_dirs[0]

    def healthz_count() -> float:
        status, _, text = call(url, "/metrics")
        assert status == 200
        for line in text.splitlines():
            if line.startswith('parley_http_requests_total{method="GET",route="/healthz"'):
                return float(line.rsplit(" ", 1)[1])
        return 0.0

    before = healthz_count()
    sent = 0
    # Until both workers have answered some (each keeps its counts in its own file).
    with ThreadPoolExecutor(8) as pool:
        while len(list(folder.glob("counter_*.db"))) < 2 or sent < 40:
            assert sent < 2000, "one worker answered everything"
            assert all(s == 200 for s in pool.map(lambda _: call(url, "/healthz")[0], range(8)))
            sent += 8
    # Whichever worker answers the scrape counts both workers' requests.
    assert healthz_count() - before == sent
    assert healthz_count() - before == sent


def test_request_lines_are_json_with_the_proxys_request_id(servers: Servers, site: str) -> None:
    url, request_id = servers.urls[1], uuid.uuid4().hex
    comment = {
        "site": site,
        "uri": "/logged/",
        "body": "Words only the thread should see",
        "author_name": "Ana",
        "author_email": "ana.logged@example.org",
    }
    proxy = {"X-Forwarded-For": "198.51.100.9", "X-Request-ID": request_id}
    status, _, answer = call(url, "/api/v1/comments", comment, **proxy)
    assert status == 201
    time.sleep(0.5)  # stderr reaches the file
    text = servers.logs[1].read_text()
    lines = [json.loads(line) for line in text.splitlines()]  # every line one JSON object
    (line,) = [entry for entry in lines if entry.get("request_id") == request_id]
    assert line["logger"] == "parley.access"
    assert (line["method"], line["route"], line["status"]) == ("POST", "/api/v1/comments", 201)
    assert line["client"] == "198.51.100.9"
    for secret in (comment["body"], comment["author_email"], answer["reader_token"]):
        assert secret not in text

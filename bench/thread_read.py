#!/usr/bin/env python3
"""Thread-read benchmark: Parley vs Isso 0.14.0, loopback only.

Starts both servers on free 127.0.0.1 ports, seeds the same deterministic
200-comment thread into each (plus a 10,000-comment thread into Parley), loads
each read endpoint with wrk and prints a req/s / p50 / p99 table.

    python bench/thread_read.py [--duration 10] [--connections 16]
                                [--parley-bin PATH] [--skip-10k]

Standard library only, so any python3 (>= 3.9) can run it. Isso runs from its
own virtualenv, bench/.isso-venv, created on first use. See bench/README.md.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import contextlib
import gzip
import itertools
import json
import os
import pwd
import random
import re
import resource
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from live_latency import free_port_pair  # bench/ is on the path when run as a script

# --------------------------------------------------------------------------
# Constants (paths that may change while Parley is being written live here)
# --------------------------------------------------------------------------

BENCH_DIR = Path(__file__).resolve().parent
REPO_DIR = BENCH_DIR.parent
ISSO_VENV = BENCH_DIR / ".isso-venv"
ISSO_VERSION = "0.14.0"
DEFAULT_PARLEY_BIN = REPO_DIR / ".venv" / "bin" / "parley"
WRK = shutil.which("wrk") or "/usr/bin/wrk"

HOST = "127.0.0.1"
TIMES = "\u00d7"  # the multiplication sign, for ratios
SITE = "bench"
SITE_DOMAIN = "127.0.0.1"
ORIGIN = "http://127.0.0.1"
URI_200 = "/bench/200/"
URI_10K = "/bench/10000/"
N_200 = 200
N_10K = 10_000
TOP_LEVEL_SHARE = 0.25  # ~50 of 200 comments are top-level
MAX_DEPTH = 3  # 0 = top-level, so threads are at most 4 levels deep
SEED = 42
SEED_10K = 10_042
SEED_THREADS = 4
PAGE_LIMIT = 50

PARLEY_COMMENTS_PATH = "/api/v1/comments"
PARLEY_THREAD_PATH = "/api/v1/threads"
PARLEY_FRAGMENT_PATH = "/fragments/thread"
# Parley pages a thread by top-level comments (default 20, at most 100 per page).
# The 200-comment thread has 50 top-level comments, so these read it whole:
PARLEY_FULL_JSON_QUERY = "limit=100"
PARLEY_FULL_FRAGMENT_QUERY = "all=1"

# Isso's embed.js fetches a thread with api.fetch({tid, limit: max-comments-top,
# nested_limit: max-comments-nested, parent: null, sort: sorting, offset: 0}) and
# drops null/"inf" values; with the default client config (max-comments-top=inf,
# max-comments-nested=5, sorting=oldest) the request is exactly this:
ISSO_EMBED_QUERY = "sort=oldest&offset=0&nested_limit=5"

READY_TIMEOUT = 60.0  # seconds for a server to answer after start
HTTP_TIMEOUT = 30.0

ISSO_CFG = """\
[general]
dbpath = {dbpath}
host = http://127.0.0.1
max-age = 15m
notify = stdout
reply-notifications = false
gravatar = false
latest-enabled = false

[admin]
enabled = false

[moderation]
enabled = false

[server]
listen = http://127.0.0.1:{port}
public-endpoint = http://127.0.0.1:{port}

[guard]
enabled = false
ratelimit = 0
direct-reply = 0
reply-to-self = true
require-author = false
require-email = false

[markup]
renderer = mistune

[rss]
base =
"""


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


class BenchError(RuntimeError):
    pass


# --------------------------------------------------------------------------
# Deterministic thread shape and bodies
# --------------------------------------------------------------------------

_WORDS_TEXT = (
    "the council budget vote article reporter story school district water plan "
    "residents meeting housing rent transit bus route park library funding "
    "journalism local newsroom editor source data figure chart year month "
    "week mayor county state policy proposal amendment tax levy bond "
    "construction permit zoning neighbourhood street bridge road repair "
    "I think we should really it seems that honestly actually maybe perhaps "
    "clearly because however although while since unless whereas and or but "
    "not only more less than about around after before during between "
    "important interesting surprising unclear wrong right fair unfair good "
    "bad better worse long short small large new old public private open "
    "closed cost costs paid pay paying number numbers percent million "
    "thousand hundred people family families kids teachers parents drivers "
    "question answer point argument evidence context history reason result"
)
WORDS = _WORDS_TEXT.split()

LINKS = (
    "https://example.org/news/2024/council-budget-vote",
    "https://example.com/reports/transit-ridership.pdf",
    "https://en.wikipedia.org/wiki/Participatory_budgeting",
    "https://example.net/data/housing-permits?year=2023",
    "https://archive.example.org/meeting-minutes/2024-03-12",
)

AUTHORS = (
    "Ada", "Bashir", "Camille", "Dmitri", "Eun-ji", "Farah", "Gustavo", "Hana",
    "Ibrahim", "Joanna", "Kofi", "Lena", "Mateo", "Nadia", "Oskar", "Priya",
    "Quentin", "Rosa", "Sven", "Tamar", "Umar", "Vera", "Wen", "Ximena",
    "Yusuf", "Zofia", "Aiko", "Bruno", "Chiara", "Diego", "Elif", "Femi",
    "Greta", "Hugo", "Ines", "Jonas", "Kira", "Luis", "Mina", "Noor",
)


@dataclass(frozen=True)
class SeedComment:
    index: int
    parent: int | None  # index of the parent comment, None for top-level
    depth: int
    author: str
    email: str | None
    body: str


def _sentence(rng: random.Random) -> str:
    words = [rng.choice(WORDS) for _ in range(rng.randint(6, 16))]
    r = rng.random()
    if r < 0.08:
        i = rng.randrange(len(words))
        words[i] = f"**{words[i]}**"
    elif r < 0.16:
        i = rng.randrange(len(words))
        words[i] = f"*{words[i]}*"
    elif r < 0.20:
        i = rng.randrange(len(words))
        words[i] = f"`{words[i]}`"
    s = " ".join(words)
    return s[0].upper() + s[1:] + rng.choice(".....?!")


def make_body(rng: random.Random) -> str:
    """100-600 chars of Markdown-ish text, sometimes with a link or a quote."""
    while True:
        body = _make_body(rng)
        if 100 <= len(body) <= 600:
            return body


def _make_body(rng: random.Random) -> str:
    target = rng.randint(100, 600)
    paragraphs: list[str] = []
    current: list[str] = []
    length = 0
    while length < target:
        s = _sentence(rng)
        if rng.random() < 0.12:
            s += f" See [{rng.choice(WORDS)} {rng.choice(WORDS)}]({rng.choice(LINKS)})."
        elif rng.random() < 0.05:
            s += f" Source: {rng.choice(LINKS)}"
        if length + len(s) > 600 and length >= 100:
            break
        current.append(s)
        length += len(s) + 2
        if len(current) >= 2 and rng.random() < 0.35:
            paragraphs.append(" ".join(current))
            current = []
    if current:
        paragraphs.append(" ".join(current))
    if rng.random() < 0.1:
        paragraphs.insert(0, "> " + _sentence(rng))
    return "\n\n".join(paragraphs)


MAX_LINKS = 3  # a site's default moderation policy holds a comment with more
_LINK = re.compile(r" See \[([^\]]+)\]\(https?://[^)]+\)\.| Source: https?://\S+")


def postable(body: str) -> str:
    """`body` as the bench posts it: links past the MAX_LINKS-th left out (their words kept),
    so that no seeded comment is held for a moderator. (make_body itself stays as it is: the
    generated database of big_db.py holds its bodies.)"""
    seen = 0

    def keep(m: re.Match[str]) -> str:
        nonlocal seen
        seen += 1
        if seen <= MAX_LINKS:
            return m.group(0)
        return f" See {m.group(1)}." if m.group(1) else ""

    return _LINK.sub(keep, body)


def make_thread(n: int, seed: int = SEED) -> list[SeedComment]:
    """Deterministic thread: ~25% top-level, replies nested up to MAX_DEPTH.

    Replies favour recent comments (conversations happen near the bottom), and
    comments are listed in creation order, so a parent always precedes its
    replies.
    """
    rng = random.Random(seed)
    n_top = max(1, round(n * TOP_LEVEL_SHARE))
    top_idx = {0, *rng.sample(range(1, n), n_top - 1)}
    out: list[SeedComment] = []
    for i in range(n):
        if i in top_idx:
            parent, depth = None, 0
        else:
            candidates = [c for c in out[-40:] if c.depth < MAX_DEPTH]
            if not candidates:
                candidates = [c for c in out if c.depth < MAX_DEPTH]
            weights = [1.0 + k for k in range(len(candidates))]
            p = rng.choices(candidates, weights=weights)[0]
            parent, depth = p.index, p.depth + 1
        author = rng.choice(AUTHORS)
        email = f"{author.lower()}@example.org" if rng.random() < 0.7 else None
        out.append(SeedComment(i, parent, depth, author, email, make_body(rng)))
    return out


def describe_thread(comments: list[SeedComment]) -> str:
    depths: dict[int, int] = {}
    for c in comments:
        depths[c.depth] = depths.get(c.depth, 0) + 1
    lens = sorted(len(c.body) for c in comments)
    by_depth = ", ".join(f"d{d}={k}" for d, k in sorted(depths.items()))
    return (f"{len(comments)} comments ({by_depth}); body {lens[0]}-{lens[-1]} chars, "
            f"median {lens[len(lens) // 2]}")


# --------------------------------------------------------------------------
# HTTP helpers
# --------------------------------------------------------------------------


@dataclass
class Response:
    status: int
    headers: dict[str, str]
    body: bytes  # as received on the wire (possibly gzip-compressed)

    def text(self) -> str:
        data = self.body
        if self.headers.get("content-encoding", "").lower() == "gzip":
            data = gzip.decompress(data)
        return data.decode("utf-8", "replace")

    def json(self) -> object:
        return json.loads(self.text())


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        return None


_OPENER = urllib.request.build_opener(_NoRedirect)


def http(method: str, url: str, payload: object | None = None,
         headers: dict[str, str] | None = None, timeout: float = HTTP_TIMEOUT) -> Response:
    hdrs = {"User-Agent": "parley-bench/1", "Accept": "application/json, text/html;q=0.9"}
    if headers:
        hdrs.update(headers)
    data = None
    if payload is not None:
        data = json.dumps(payload).encode()
        hdrs["Content-Type"] = "application/json"
    req = urllib.request.Request(url, data=data, method=method, headers=hdrs)
    try:
        with _OPENER.open(req, timeout=timeout) as r:
            return Response(r.status, {k.lower(): v for k, v in r.headers.items()}, r.read())
    except urllib.error.HTTPError as e:
        return Response(e.code, {k.lower(): v for k, v in e.headers.items()}, e.read())


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


# --------------------------------------------------------------------------
# Process management
# --------------------------------------------------------------------------


@dataclass
class Server:
    name: str
    proc: subprocess.Popen[bytes]
    logfile: Path
    base: str

    def tail(self, lines: int = 40) -> str:
        try:
            text = self.logfile.read_text("utf-8", "replace")
        except OSError:
            return "(no log)"
        return "\n".join(text.splitlines()[-lines:])


class Processes:
    """Tracks every process group we start; stop_all() kills them all."""

    def __init__(self) -> None:
        self.procs: list[subprocess.Popen[bytes]] = []

    def start(self, argv: list[str], env: dict[str, str], logfile: Path,
              cwd: Path | None = None) -> subprocess.Popen[bytes]:
        with open(logfile, "ab") as fh:
            proc = subprocess.Popen(
                argv, env=env, cwd=cwd, stdin=subprocess.DEVNULL, stdout=fh,
                stderr=subprocess.STDOUT, start_new_session=True,
            )
        self.procs.append(proc)
        return proc

    @staticmethod
    def stop(proc: subprocess.Popen[bytes], grace: float = 5.0) -> None:
        if proc.poll() is not None:
            # the leader is gone; still sweep its group in case children linger
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(proc.pid, signal.SIGKILL)
            return
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, signal.SIGTERM)
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=grace)
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=grace)

    def stop_all(self) -> None:
        for proc in reversed(self.procs):
            self.stop(proc)
        self.procs.clear()


def clean_up(procs: Processes, tmp: Path, keep_tmp: bool) -> None:
    """The end of every bench run, however it ended: no alarm, no server, no temp dir."""
    signal.alarm(0)
    procs.stop_all()
    if keep_tmp:
        log(f"kept {tmp}")
    else:
        shutil.rmtree(tmp, ignore_errors=True)


def wait_ready(server: Server, probe: str, timeout: float = READY_TIMEOUT) -> None:
    deadline = time.monotonic() + timeout
    last = ""
    while time.monotonic() < deadline:
        if server.proc.poll() is not None:
            raise BenchError(f"{server.name} exited with {server.proc.returncode} during "
                             f"startup; log tail:\n{server.tail()}")
        try:
            r = http("GET", server.base + probe, timeout=2)
            if r.status < 500:
                return
            last = f"HTTP {r.status}"
        except (OSError, urllib.error.URLError) as e:
            last = str(e)
        time.sleep(0.2)
    raise BenchError(f"{server.name} not ready after {timeout:.0f}s ({last}); "
                     f"log tail:\n{server.tail()}")


def run_cmd(argv: list[str], env: dict[str, str], timeout: float, what: str) -> str:
    try:
        cp = subprocess.run(argv, env=env, stdin=subprocess.DEVNULL, capture_output=True,
                            text=True, timeout=timeout, start_new_session=True)
    except subprocess.TimeoutExpired as e:
        raise BenchError(f"{what}: timed out after {timeout:.0f}s: {' '.join(argv)}") from e
    if cp.returncode != 0:
        raise BenchError(f"{what} failed (exit {cp.returncode}): {' '.join(argv)}\n"
                         f"--- stdout ---\n{cp.stdout[-3000:]}\n"
                         f"--- stderr ---\n{cp.stderr[-3000:]}")
    return cp.stdout


# --------------------------------------------------------------------------
# Seeding (shared by both servers)
# --------------------------------------------------------------------------


def seed_http(comments: list[SeedComment], post: Callable[[SeedComment, object | None], object],
              threads: int = SEED_THREADS, deadline: float | None = None) -> list[object]:
    """POST every comment with a small thread pool, in creation order.

    A reply waits for its parent's future; since tasks start in submission
    order and a parent is always submitted before its replies, a waiting task
    never blocks its own parent, so this cannot deadlock.
    """
    futures: list[concurrent.futures.Future[object]] = []

    def task(c: SeedComment) -> object:
        if deadline is not None and time.monotonic() > deadline:
            raise BenchError("seeding deadline exceeded")
        parent_id = futures[c.parent].result() if c.parent is not None else None
        return post(c, parent_id)

    # The first comment creates the thread: post it alone so concurrent
    # requests don't race to create the same thread.
    first: concurrent.futures.Future[object] = concurrent.futures.Future()
    first.set_result(task(comments[0]))
    futures.append(first)
    with concurrent.futures.ThreadPoolExecutor(threads) as pool:
        try:
            for c in comments[1:]:
                futures.append(pool.submit(task, c))
            return [f.result() for f in futures]
        except BaseException:
            for f in futures:
                f.cancel()
            raise


# --------------------------------------------------------------------------
# Isso
# --------------------------------------------------------------------------


def ensure_isso_venv() -> Path:
    py = ISSO_VENV / "bin" / "python"
    gunicorn = ISSO_VENV / "bin" / "gunicorn"
    if py.exists() and gunicorn.exists():
        try:
            cp = subprocess.run(
                [str(py), "-c", "import importlib.metadata as m; print(m.version('isso'))"],
                capture_output=True, text=True, timeout=30)
            if cp.returncode == 0 and cp.stdout.strip() == ISSO_VERSION:
                return gunicorn
        except subprocess.TimeoutExpired:
            pass
        log(f"{ISSO_VENV} exists but has no isso=={ISSO_VERSION}; reinstalling")
    log(f"creating {ISSO_VENV} (python3 -m venv; pip install isso=={ISSO_VERSION} gunicorn)")
    run_cmd([sys.executable, "-m", "venv", "--clear", str(ISSO_VENV)], dict(os.environ), 300,
            "creating Isso venv")
    run_cmd([str(py), "-m", "pip", "install", "-q", "--disable-pip-version-check",
             f"isso=={ISSO_VERSION}", "gunicorn"], dict(os.environ), 600, "pip install isso")
    return gunicorn


def start_isso(procs: Processes, tmp: Path, workers: int = 2) -> Server:
    gunicorn = ensure_isso_venv()
    port = free_port()
    cfg = tmp / "isso.cfg"
    cfg.write_text(ISSO_CFG.format(dbpath=tmp / "isso.db", port=port))
    logfile = tmp / "isso.log"
    env = dict(os.environ, ISSO_SETTINGS=str(cfg), PYTHONUNBUFFERED="1")
    env.pop("PYTHONPATH", None)
    # As Isso's docs deploy it: gunicorn ... --preload isso.run (sync workers).
    argv = [str(gunicorn), "--bind", f"{HOST}:{port}", "--workers", str(workers),
            "--worker-class", "sync", "--preload", "--log-level", "warning",
            "--timeout", "120", "isso.run"]
    proc = procs.start(argv, env, logfile, cwd=tmp)
    server = Server("isso", proc, logfile, f"http://{HOST}:{port}")
    wait_ready(server, "/info")
    return server


def seed_isso(server: Server, uri: str,
              comments: list[SeedComment]) -> tuple[float, list[object]]:
    """Seconds it took, and the new comments' ids."""
    url = f"{server.base}/new?uri={urllib.parse.quote(uri, safe='')}"
    headers = {"Origin": ORIGIN, "Referer": ORIGIN + uri}

    def post(c: SeedComment, parent_id: object | None) -> object:
        payload: dict[str, object] = {"text": postable(c.body), "author": c.author,
                                      "email": c.email,
                                      "website": None, "parent": parent_id}
        if c.index == 0:
            payload["title"] = f"Bench thread {uri}"  # Isso won't fetch the page then
        r = http("POST", url, payload, headers)
        if r.status not in (201, 202):
            raise BenchError(f"Isso POST /new for comment #{c.index} -> HTTP {r.status}: "
                             f"{r.text()[:500]}")
        return r.json()["id"]  # type: ignore[index]

    # One at a time: Isso's Comments.add() reads the new row back with
    # "SELECT *, MAX(c.id) ...", and its lock is per process, so two concurrent
    # POSTs to different gunicorn workers can be told each other's id, which
    # would attach replies to the wrong parents.
    t0 = time.monotonic()
    ids = seed_http(comments, post, threads=1, deadline=time.monotonic() + 300)
    return time.monotonic() - t0, ids


# --------------------------------------------------------------------------
# Parley
# --------------------------------------------------------------------------


def parley_env(data_dir: Path, extra: list[str]) -> dict[str, str]:
    env = dict(os.environ, PARLEY_DATA_DIR=str(data_dir), PARLEY_RATE_LIMITS="off",
               PYTHONUNBUFFERED="1",
               # Each comment the bench posts comes from an address of its own (X-Forwarded-For,
               # as behind one reverse proxy): from one address, the flood rule (5 comments a
               # minute) would hold all but the first few, and refuse replies to them.
               PARLEY_PROXY_COUNT="1")
    # SQLite in the data dir unless the caller names a database (--parley-env, scale.py).
    for k in ("PYTHONPATH", "DJANGO_SETTINGS_MODULE", "DATABASE_URL", "REDIS_URL"):
        env.pop(k, None)
    for kv in extra:
        k, _, v = kv.partition("=")
        env[k] = v
    return env


def start_parley(procs: Processes, data_dir: Path, parley_bin: str, extra_env: list[str],
                 workers: int = 2, setup: bool = True) -> Server:
    """`parley serve --workers N --no-worker` on a free port; with `setup`, first migrate and
    add the site (a fresh database)."""
    data_dir.mkdir(exist_ok=True)
    env = parley_env(data_dir, extra_env)
    if setup:
        t0 = time.monotonic()
        run_cmd([parley_bin, "migrate", "--noinput"], env, 300, "parley migrate")
        run_cmd([parley_bin, "site", "add", SITE, "--domain", SITE_DOMAIN], env, 120,
                "parley site add")
        log(f"parley migrate + site add: {time.monotonic() - t0:.1f}s")
    port = free_port_pair()  # serve puts its live-update server on port + 1
    logfile = data_dir.parent / f"{data_dir.name}.log"
    argv = [parley_bin, "serve", "--host", HOST, "--port", str(port),
            "--workers", str(workers), "--no-worker"]
    proc = procs.start(argv, env, logfile, cwd=data_dir)
    server = Server("parley", proc, logfile, f"http://{HOST}:{port}")
    wait_ready(server, f"{PARLEY_THREAD_PATH}?site={SITE}&uri=/")
    return server


_ADDRESSES = itertools.count(1)


def next_address() -> str:
    """A client address no earlier request of this run came from."""
    n = next(_ADDRESSES)
    return f"10.{n >> 16 & 255}.{n >> 8 & 255}.{n & 255}"


def _find_comment_id(doc: object) -> object:
    if isinstance(doc, dict):
        c = doc.get("comment")
        if isinstance(c, dict) and "id" in c:
            return c["id"]
        if "id" in doc:
            return doc["id"]
    raise BenchError(f"no comment id in Parley response: {str(doc)[:300]}")


def seed_parley(server: Server, uri: str, comments: list[SeedComment], deadline_s: float,
                threads: int = SEED_THREADS) -> tuple[float, list[object]]:
    """Seconds it took, and the new comments' ids."""
    url = server.base + PARLEY_COMMENTS_PATH

    def post(c: SeedComment, parent_id: object | None) -> object:
        headers = {"Origin": ORIGIN, "Referer": ORIGIN + uri, "X-Forwarded-For": next_address()}
        payload: dict[str, object] = {"site": SITE, "uri": uri, "body": postable(c.body),
                                      "author_name": c.author}
        if parent_id is not None:
            payload["parent"] = parent_id
        if c.email:
            payload["author_email"] = c.email
        r = http("POST", url, payload, headers)
        if r.status != 201:
            raise BenchError(f"Parley POST {PARLEY_COMMENTS_PATH} for comment #{c.index} "
                             f"(depth {c.depth}) -> HTTP {r.status}: {r.text()[:500]}")
        return _find_comment_id(r.json())

    t0 = time.monotonic()
    ids = seed_http(comments, post, threads, deadline=time.monotonic() + deadline_s)
    return time.monotonic() - t0, ids


# --------------------------------------------------------------------------
# Payload inspection
# --------------------------------------------------------------------------


def count_comments(doc: object) -> int:
    """Count comment-like objects (dicts with an id and a text/body) anywhere in doc."""
    n = 0
    stack = [doc]
    while stack:
        x = stack.pop()
        if isinstance(x, dict):
            if "id" in x and any(k in x for k in ("text", "body", "body_html", "html")):
                n += 1
            stack.extend(x.values())
        elif isinstance(x, list):
            stack.extend(x)
    return n


@dataclass
class Payload:
    raw: int  # bytes uncompressed
    gz: int  # bytes gzip-compressed (as served, or compressed here when not served so)
    served_gzip: bool
    comments: int | None
    content_type: str  # the whole header
    wire: bytes = field(repr=False)  # the body as sent to a client that accepts gzip


def inspect_payload(label: str, url: str) -> Payload:
    plain = http("GET", url, headers={"Accept-Encoding": "identity"})
    zipped = http("GET", url, headers={"Accept-Encoding": "gzip"})
    if plain.status != 200 or zipped.status != 200:
        raise BenchError(f"{label}: GET {url} -> {plain.status}/{zipped.status}")
    served_gzip = zipped.headers.get("content-encoding", "").lower() == "gzip"
    gz = len(zipped.body) if served_gzip else len(gzip.compress(plain.body, 6))
    ctype = zipped.headers.get("content-type", "application/octet-stream")
    comments: int | None = None
    if "json" in ctype:
        with contextlib.suppress(ValueError):
            comments = count_comments(plain.json())
    elif "html" in ctype:
        ids = set(re.findall(r'\bid="(?:isso-|comment-)(\d+)"', plain.text()))
        comments = len(ids) or None
    return Payload(len(plain.body), gz, served_gzip, comments, ctype, zipped.body)


# --------------------------------------------------------------------------
# wrk
# --------------------------------------------------------------------------


@dataclass
class WrkResult:
    rps: float
    p50_ms: float
    p99_ms: float
    requests: int
    non2xx: int = 0
    socket_errors: str = ""
    # From the write script: answers by HTTP status, and 5xx bodies that mention a lock.
    statuses: dict[int, int] = field(default_factory=dict)
    lock_errors: int = 0
    raw: str = field(default="", repr=False)


_UNITS_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}


def _ms(value: str) -> float:
    m = re.fullmatch(r"([\d.]+)(us|ms|s|m)", value.strip())
    if not m:
        raise ValueError(value)
    return float(m.group(1)) * _UNITS_MS[m.group(2)]


def parse_wrk(out: str) -> WrkResult:
    rps = re.search(r"Requests/sec:\s*([\d.]+)", out)
    p50 = re.search(r"^\s*50%\s+(\S+)", out, re.M)
    p99 = re.search(r"^\s*99%\s+(\S+)", out, re.M)
    reqs = re.search(r"(\d+) requests in", out)
    if not (rps and p50 and p99 and reqs):
        raise BenchError(f"could not parse wrk output:\n{out}")
    non2xx = re.search(r"Non-2xx or 3xx responses:\s*(\d+)", out)
    sock = re.search(r"Socket errors:\s*(.*)", out)
    statuses = re.search(r"^bench-statuses:(.*)$", out, re.M)
    locked = re.search(r"^bench-lock-errors: (\d+)", out, re.M)
    return WrkResult(float(rps.group(1)), _ms(p50.group(1)), _ms(p99.group(1)),
                     int(reqs.group(1)), int(non2xx.group(1)) if non2xx else 0,
                     sock.group(1).strip() if sock else "",
                     {int(k): int(v) for k, v in re.findall(r"(\d+)=(\d+)", statuses.group(1))}
                     if statuses else {},
                     int(locked.group(1)) if locked else 0, out)


def run_wrk(url: str, duration: int, connections: int, threads: int,
            script: Path | None = None) -> WrkResult:
    argv = [WRK, f"-t{threads}", f"-c{connections}", f"-d{duration}s", "--latency",
            "--timeout", "30s", "-H", "Accept-Encoding: gzip",
            "-H", "Accept: application/json, text/html;q=0.9", url]
    if script is not None:
        # A write run's requests are numbered from a start of its own: no comment repeats one
        # an earlier run (its warm-up, say) posted.
        argv[1:1] = ["-s", str(script)]
        argv += ["--", str(next(_WRITE_RUNS) << 22)]
    try:
        cp = subprocess.run(argv, capture_output=True, text=True, timeout=duration + 60)
    except subprocess.TimeoutExpired as e:
        raise BenchError(f"wrk timed out: {' '.join(argv)}") from e
    if cp.returncode != 0:
        raise BenchError(f"wrk failed ({cp.returncode}): {cp.stderr}\n{cp.stdout}")
    return parse_wrk(cp.stdout)


# --------------------------------------------------------------------------
# Comment writes: wrk with a Lua script that POSTs a new comment per request
# --------------------------------------------------------------------------

WRITE_URI = "/bench/write/"
_WRITE_RUNS = itertools.count(1)
WRITE_BODIES = 256  # distinct bodies, 100-600 chars like the seeded ones
WRITE_PARENTS = 10  # top-level comments the write thread starts with, each with a reply

# Each request: a body from the pool plus four words numbered by the request, so no two
# comments read the same (the duplicate rule files repeated text as spam), from an address
# of its own (the flood rule); each run numbers from where the script's argument says (see
# run_wrk). Half are new top-level comments, half replies to the thread's first comments
# and to their replies (the `parents` list). Counts answers by status and 5xx bodies that
# mention a lock.
_WRITE_LUA = r"""
statuses, lock_errors = {}, 0
local threads, n, first = {}, 0, 0

function init(args)
  first = tonumber(args[1]) or 0  -- where this run's numbering starts
end

function setup(thread)
  thread:set("id", #threads)
  table.insert(threads, thread)
end

local function tag(k)
  local w, parts = #words, {}
  for _ = 1, 4 do
    parts[#parts + 1] = words[k % w + 1]
    k = math.floor(k / w)
  end
  return table.concat(parts, " ")
end

function request()
  n = n + 1
  local k = first + n * 64 + id
  local h = {}
  for name, value in pairs(headers) do h[name] = value end
  h["X-Forwarded-For"] = string.format("%d.%d.%d.%d", 11 + math.floor(k / 16777216) % 100,
                                       math.floor(k / 65536) % 256, math.floor(k / 256) % 256,
                                       k % 256)
  local body = bodies[(n + id * 97) % #bodies + 1]
  local parent = parents[(n * 7 + id) % #parents + 1]
  return wrk.format("POST", path, h, prefix .. body .. " " .. tag(k) .. middle .. parent .. suffix)
end

function response(status, hdrs, body)
  statuses[status] = (statuses[status] or 0) + 1
  if status >= 500 and body and string.find(body, "lock", 1, true) then
    lock_errors = lock_errors + 1
  end
end

function done(summary, latency, requests)
  local all, lk, parts = {}, 0, {}
  for _, t in ipairs(threads) do
    for status, count in pairs(t:get("statuses")) do all[status] = (all[status] or 0) + count end
    lk = lk + t:get("lock_errors")
  end
  for status, count in pairs(all) do parts[#parts + 1] = status .. "=" .. count end
  io.write("bench-statuses: " .. table.concat(parts, " ") .. "\n")
  io.write("bench-lock-errors: " .. lk .. "\n")
end
"""


def _lua_string(s: str) -> str:
    return json.dumps(s)  # a JSON string literal (ASCII, \n \" escapes) is a Lua one too


def write_script(path: Path, url_path: str, payload: Mapping[str, object], body_key: str,
                 parents: list[object], headers: dict[str, str]) -> Path:
    """A wrk script that POSTs `payload` as JSON to `url_path`, with a fresh `body_key`, and
    "parent" null for every other request, else one of `parents` in turn."""
    marks = {body_key: "@@BODY@@", "parent": "@@PARENT@@"}
    prefix, rest = json.dumps({**payload, **marks}).split(json.dumps(marks[body_key]))
    middle, suffix = rest.split(json.dumps(marks["parent"]))
    rng = random.Random(SEED)
    # Each pool entry is the opening of a JSON string (the body, escaped): the script appends
    # the numbering words and the closing quote.
    bodies = [json.dumps(postable(make_body(rng)))[:-1] for _ in range(WRITE_BODIES)]
    words = sorted({w.strip("*`") for w in WORDS if w.isalpha()})
    choices = ["null"] * len(parents) + [json.dumps(p) for p in parents]
    head = [
        f"path = {_lua_string(url_path)}",
        f"prefix = {_lua_string(prefix)}",
        f"middle = {_lua_string(chr(34) + middle)}",
        f"suffix = {_lua_string(suffix)}",
        "headers = {" + ", ".join(f"[{_lua_string(k)}] = {_lua_string(v)}"
                                 for k, v in headers.items()) + "}",
        "bodies = {" + ",\n".join(_lua_string(b) for b in bodies) + "}",
        "words = {" + ", ".join(_lua_string(w) for w in words) + "}",
        "parents = {" + ", ".join(_lua_string(c) for c in choices) + "}",
    ]
    path.write_text("\n".join(head) + "\n" + _WRITE_LUA)
    return path


def write_thread() -> list[SeedComment]:
    """What the write load's thread starts with: comments to reply to, two levels deep."""
    rng = random.Random(SEED + 1)
    top = [SeedComment(i, None, 0, "Bench", None, make_body(rng)) for i in range(WRITE_PARENTS)]
    return top + [SeedComment(WRITE_PARENTS + i, i, 1, "Bench", None, make_body(rng))
                  for i in range(WRITE_PARENTS)]


def isso_write_case(server: Server, tmp: Path) -> tuple[str, Path]:
    """URL and wrk script for new comments on one Isso thread (created here)."""
    _secs, ids = seed_isso(server, WRITE_URI, write_thread())
    query = f"/new?uri={urllib.parse.quote(WRITE_URI, safe='')}"
    headers = {"Origin": ORIGIN, "Referer": ORIGIN + WRITE_URI,
               "Content-Type": "application/json"}
    payload = {"author": "Bench", "email": None, "website": None}
    script = write_script(tmp / "isso-write.lua", query, payload, "text", ids, headers)
    return server.base + query, script


def parley_write_case(server: Server, tmp: Path, uri: str = WRITE_URI) -> tuple[str, Path]:
    """URL and wrk script for new comments on one Parley thread (created here, one comment
    at a time)."""
    _secs, ids = seed_parley(server, uri, write_thread(), deadline_s=60, threads=1)
    headers = {"Origin": ORIGIN, "Referer": ORIGIN + uri, "Content-Type": "application/json"}
    payload = {"site": SITE, "uri": uri, "author_name": "Bench"}
    name = f"parley-write-{uri.strip('/').replace('/', '-')}.lua"
    script = write_script(tmp / name, PARLEY_COMMENTS_PATH, payload, "body", ids, headers)
    return server.base + PARLEY_COMMENTS_PATH, script


def log_mentions(logfile: Path, offset: int, needles: Sequence[str]) -> bool:
    """Whether `logfile` mentions any of `needles` after byte `offset`."""
    try:
        with open(logfile, "rb") as f:
            f.seek(offset)
            text = f.read().decode("utf-8", "replace")
    except OSError:
        return False
    return any(needle in text for needle in needles)


def log_size(logfile: Path) -> int:
    try:
        return logfile.stat().st_size
    except OSError:
        return 0


# --------------------------------------------------------------------------
# nginx serving the same bytes from files: the ceiling
# --------------------------------------------------------------------------

NGINX = shutil.which("nginx") or "/usr/sbin/nginx"

_NGINX_CONF = """\
{user}worker_processes {workers};
daemon off;
pid {tmp}/nginx.pid;
error_log {tmp}/nginx-error.log warn;
events {{ worker_connections 1024; }}
http {{
    access_log off;
    sendfile on;
    tcp_nopush on;
    keepalive_requests 1000000;
    open_file_cache max=64 inactive=60s;
    client_body_temp_path {tmp}/body;
    proxy_temp_path {tmp}/proxy;
    fastcgi_temp_path {tmp}/fastcgi;
    uwsgi_temp_path {tmp}/uwsgi;
    scgi_temp_path {tmp}/scgi;
    types {{ }}
    server {{
        listen {host}:{port};
        root {root};
        gzip_static on;
{locations}
    }}
}}
"""


def start_nginx(procs: Processes, tmp: Path, files: dict[str, Payload],
                workers: int = 2) -> Server:
    """nginx serving each payload's bytes, as Parley sent them, at /<name>, with Parley's
    Content-Type, and Content-Encoding: gzip where Parley sent it compressed (gzip_static
    serves <name>.gz)."""
    if not Path(NGINX).exists():
        raise BenchError(f"nginx not found ({NGINX}); apt-get install -y nginx-light")
    home = tmp / "nginx"
    root = home / "root"
    root.mkdir(parents=True, exist_ok=True)
    locations = []
    for name, c in files.items():
        (root / (f"{name}.gz" if c.served_gzip else name)).write_bytes(c.wire)
        locations.append(f'        location = /{name} {{ default_type "{c.content_type}"; }}')
    port = free_port()
    # As root, nginx hands requests to workers running as "nobody", who cannot read the temp
    # dir: run them as whoever runs the bench.
    user = f"user {pwd.getpwuid(os.geteuid()).pw_name};\n" if os.geteuid() == 0 else ""
    conf = home / "nginx.conf"
    conf.write_text(_NGINX_CONF.format(user=user, workers=workers, tmp=home, host=HOST,
                                       port=port, root=root, locations="\n".join(locations)))
    logfile = tmp / "nginx.log"
    proc = procs.start([NGINX, "-e", str(home / "nginx-error.log"), "-p", str(home),
                        "-c", str(conf)], dict(os.environ), logfile, cwd=home)
    server = Server("nginx", proc, logfile, f"http://{HOST}:{port}")
    wait_ready(server, "/")
    return server


# --------------------------------------------------------------------------
# Main
# --------------------------------------------------------------------------


@dataclass(eq=False)
class Case:
    name: str
    url: str = ""
    script: Path | None = None  # a wrk Lua script: the case writes (POSTs) instead of reading
    peer: Case | None = None  # what "x Isso" compares it with (the same kind of request)
    bound: Case | None = None  # nginx serving the same bytes ("÷ nginx")
    payload: Payload | None = None
    result: WrkResult | None = None
    error: str = ""
    # 5xx answers that said "database is locked" or "deadlock detected", or all 5xx answers
    # when the server's log says so during the run (a 500's body rarely gives the reason, and
    # a log counts a chained error more than once)
    lock_errors: int = 0
    background_cpu: float | None = None  # % of all CPUs used by others just before the run
    during_cpu: float | None = None  # ... and while wrk ran
    cpu: dict[str, float] = field(default_factory=dict)  # while wrk ran: CpuSnapshot.split

    @property
    def interference(self) -> float | None:
        vals = [v for v in (self.background_cpu, self.during_cpu) if v is not None]
        return max(vals) if vals else None

    def ratio(self, other: Case | None) -> float | None:
        if self.result and other is not None and other.result and other.result.rps:
            return self.result.rps / other.result.rps
        return None


LOCK_ERRORS = ("database is locked", "deadlock detected")
BUSY_WARN = 15.0  # percent
_CLK_TCK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def _cpu_times() -> tuple[int, int]:
    with open("/proc/stat") as f:
        fields = [int(x) for x in f.readline().split()[1:]]
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)  # idle + iowait
    return sum(fields[:8]), idle


def _group_ticks(pgid: int) -> int:
    """utime + stime of every live process in process group `pgid` (clock ticks)."""
    total = 0
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                rest = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(rest[2]) == pgid:  # fields after "(comm)": state ppid pgrp ... utime stime
            total += int(rest[11]) + int(rest[12])
    return total


def _processes() -> dict[int, tuple[int, int, str]]:
    """pid -> (process group, utime + stime in clock ticks, name) of every live process; the
    name is the command line for PostgreSQL's processes (it says which database a backend
    serves), else the command."""
    out = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                head, rest = f.read().rsplit(")", 1)
            name = head.split("(", 1)[1]
            if name == "postgres":
                with open(f"/proc/{entry}/cmdline", "rb") as f:
                    name = f.read().replace(b"\0", b" ").decode("utf-8", "replace").strip()
        except (OSError, IndexError):
            continue
        fields = rest.split()  # after "(comm)": state ppid pgrp ... utime stime
        out[int(entry)] = (int(fields[2]), int(fields[11]) + int(fields[12]), name)
    return out


@dataclass
class CpuSnapshot:
    total: int
    idle: int
    procs: dict[int, tuple[int, int, str]]
    children: float  # seconds of CPU used by our waited-for children (wrk)

    @classmethod
    def take(cls) -> CpuSnapshot:
        total, idle = _cpu_times()
        ru = resource.getrusage(resource.RUSAGE_CHILDREN)
        return cls(total, idle, _processes(), ru.ru_utime + ru.ru_stime)

    def split(self, start: CpuSnapshot,
              classify: Callable[[int, str], str | None]) -> dict[str, float]:
        """% of all CPUs since `start`, by the class `classify(pgrp, name)` gives a process;
        "wrk" (our waited-for children), "other" (unclassified) and "idle" besides. A process
        that ended in between is lost (its time shows as "other")."""
        span = max(1, self.total - start.total)
        out = {"wrk": (self.children - start.children) * _CLK_TCK}
        for pid, (pgrp, ticks, name) in self.procs.items():
            kind = classify(pgrp, name)
            if kind is not None:
                before = start.procs.get(pid)
                out[kind] = out.get(kind, 0.0) + ticks - (before[1] if before else 0)
        idle = self.idle - start.idle
        out["other"] = max(0.0, span - idle - sum(out.values()))
        out["idle"] = idle
        return {k: 100.0 * v / span for k, v in out.items()}


def settle(pgid: int | None, max_wait: float = 15.0) -> float | None:
    """Wait (up to `max_wait` s) until the server has drained the last run's queued requests
    and other processes leave the CPUs mostly idle; return the % of all CPUs that *other*
    processes used over the last 1 s sample (Linux only)."""
    deadline = time.monotonic() + max_wait
    try:
        while True:
            t0, i0 = _cpu_times()
            g0 = _group_ticks(pgid) if pgid else 0
            time.sleep(1.0)
            t1, i1 = _cpu_times()
            g1 = _group_ticks(pgid) if pgid else 0
            span = max(1, t1 - t0)
            own = 100.0 * (g1 - g0) / span
            busy = 100.0 * (1 - (i1 - i0) / span)
            others = max(0.0, busy - own)
            if (own < 5.0 and others < BUSY_WARN) or time.monotonic() > deadline:
                return others
    except (OSError, ValueError, IndexError):
        return None


def bench_cases(cases: list[Case], args: argparse.Namespace, server: Server,
                classify: Callable[[int, str], str | None] | None = None) -> None:
    """Check each read URL once (it must answer 200), warm each case up with a short wrk run,
    so every worker process has its caches filled (Parley keeps rendered pages per process),
    then load it with wrk. Where the CPU time went meanwhile: by `classify` (see
    CpuSnapshot.split; by default "server", the server's process group, and the rest)."""
    pgid = server.proc.pid  # the server leads its process group
    if classify is None:
        def classify(pgrp: int, _name: str) -> str | None:
            return "server" if pgrp == pgid else None
    for c in cases:
        try:
            if c.script is None:
                warm(c)
            if args.warmup > 0:
                run_wrk(c.url, args.warmup, args.connections, args.threads, c.script)
        except (BenchError, OSError) as e:
            c.error = str(e).splitlines()[0]
            log(c.error)
            continue
        c.background_cpu = settle(pgid)
        log(f"wrk -t{args.threads} -c{args.connections} -d{args.duration}s  {c.name}"
            + (f"  (background CPU {c.background_cpu:.0f}%)"
               if c.background_cpu is not None else ""))
        before: CpuSnapshot | None = None
        with contextlib.suppress(OSError, ValueError, IndexError):
            before = CpuSnapshot.take()
        offset = log_size(server.logfile)
        try:
            c.result = run_wrk(c.url, args.duration, args.connections, args.threads, c.script)
        except BenchError as e:
            c.error = str(e).splitlines()[0]
            log(c.error)
            continue
        if before is not None:
            with contextlib.suppress(OSError, ValueError, IndexError):
                c.cpu = CpuSnapshot.take().split(before, classify)
                c.during_cpu = c.cpu["other"]
        r = c.result
        failed = sum(n for status, n in r.statuses.items() if status >= 500)
        c.lock_errors = (failed if log_mentions(server.logfile, offset, LOCK_ERRORS)
                         else r.lock_errors)
        log(f"  {r.rps:,.1f} req/s  p50 {fmt_ms(r.p50_ms)}  p99 {fmt_ms(r.p99_ms)}  "
            f"({r.requests} requests"
            + (f", answers {r.statuses}" if r.statuses else "")
            + (f"; other processes {c.during_cpu:.0f}% CPU meanwhile)"
               if c.during_cpu is not None else ")"))


def bound_cases(cases: list[Case]) -> list[Case]:
    """An nginx case for each case with a payload (its `bound`), serving the same bytes."""
    out = []
    for c in cases:
        if c.payload is not None:
            c.bound = Case(f"nginx, the bytes of: {c.name}", payload=c.payload)
            c.bound.bound = c.bound
            out.append(c.bound)
    return out


def fail_cases(cases: list[Case], error: BenchError, notes: list[str]) -> None:
    first = str(error).splitlines()[0]
    log(f"FAILED: {error}")
    notes.append(str(error))
    for c in cases:
        if not c.error and not c.result:
            c.error = first


def warm(case: Case) -> None:
    r = http("GET", case.url, headers={"Accept-Encoding": "gzip"})
    if r.status != 200:
        raise BenchError(f"warm-up {case.name}: GET {case.url} -> HTTP {r.status}: "
                         f"{r.text()[:500]}")


def fmt_ms(ms: float) -> str:
    return f"{ms:.1f} ms" if ms >= 10 else f"{ms:.2f} ms"


def fmt_ratio(x: float | None) -> str:
    if x is None:
        return "—"
    return f"{x:.2f}{TIMES}" if x < 10 else f"{x:,.0f}{TIMES}"


def print_rows(rows: Sequence[Sequence[str]]) -> None:
    """A Markdown table: the first row is the header; the first column left-aligned."""
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for i, row in enumerate(rows):
        cells = [row[0].ljust(widths[0])] + [row[j].rjust(widths[j])
                                             for j in range(1, len(row))]
        print("| " + " | ".join(cells) + " |")
        if i == 0:
            print("|" + "|".join("-" * (w + 1) + ":" if j else "-" * (w + 2)
                                 for j, w in enumerate(widths)) + "|")


def errors_cell(c: Case) -> str:
    """Non-2xx answers and socket errors; for writes, 5xx and lock errors too."""
    r = c.result
    if r is None:
        return "—"
    parts = [f"{r.non2xx} non-2xx"]
    if c.script is not None:
        parts.append(f"{sum(n for s, n in r.statuses.items() if s >= 500)} 5xx")
        parts.append(f"{c.lock_errors} lock errors")
    if r.socket_errors:
        parts.append(f"sockets: {r.socket_errors}")
    return ", ".join(parts)


def print_table(cases: list[Case]) -> None:
    rows = [("case", "req/s", "p50", "p99", f"{TIMES} Isso", "÷ nginx", "bytes gzip (raw)",
             "comments", "errors")]
    for c in cases:
        p = c.payload
        size = "—" if p is None else f"{p.gz:,}" + ("" if p.served_gzip else "*") + f" ({p.raw:,})"
        count = "—" if p is None or p.comments is None else str(p.comments)
        if c.result is None:
            rows.append((c.name, "—", "—", "—", "—", "—", size, count,
                         f"FAILED: {c.error}"[:60]))
            continue
        r = c.result
        rows.append((c.name, f"{r.rps:,.1f}", fmt_ms(r.p50_ms), fmt_ms(r.p99_ms),
                     fmt_ratio(c.ratio(c.peer)), fmt_ratio(c.ratio(c.bound)), size, count,
                     errors_cell(c)))
    print_rows(rows)


# The aims of issue 9, checked against the figures of the same run.
AIM_READ_VS_ISSO = 100.0
AIM_READ_VS_NGINX = 0.5
AIM_P99_MS = 20.0
AIM_WRITE_VS_ISSO = 1.0


def verdict(ok: bool) -> str:
    return "met" if ok else "NOT met"


def print_aims(cases: list[Case]) -> None:
    for c in cases:
        if not c.name.startswith("Parley") or c.result is None:
            continue
        r, parts = c.result, []
        vs_isso = c.ratio(c.peer)
        if c.script is None:
            if vs_isso is not None:
                parts.append(f"{fmt_ratio(vs_isso)} Isso (aim ≥ {AIM_READ_VS_ISSO:.0f}{TIMES}) "
                             + verdict(vs_isso >= AIM_READ_VS_ISSO))
            vs_nginx = c.ratio(c.bound)
            if vs_nginx is not None:
                parts.append(f"{fmt_ratio(vs_nginx)} nginx (aim ≥ {AIM_READ_VS_NGINX}{TIMES}) "
                             + verdict(vs_nginx >= AIM_READ_VS_NGINX))
            parts.append(f"p99 {fmt_ms(r.p99_ms)} (aim < {AIM_P99_MS:.0f} ms) "
                         + verdict(r.p99_ms < AIM_P99_MS))
        else:
            if vs_isso is not None:
                parts.append(f"{fmt_ratio(vs_isso)} Isso (aim ≥ {AIM_WRITE_VS_ISSO:.0f}{TIMES}) "
                             + verdict(vs_isso >= AIM_WRITE_VS_ISSO))
            failed = r.non2xx + sum(n for s, n in r.statuses.items() if s >= 500)
            parts.append(f"{c.lock_errors} lock errors (" + " / ".join(LOCK_ERRORS)
                         + f"), {failed} failed (aim 0) "
                         + verdict(c.lock_errors == 0 and failed == 0))
        print(f"- {c.name}: " + "; ".join(parts))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--duration", type=int, default=10, help="seconds per wrk run (10)")
    ap.add_argument("--connections", type=int, default=16, help="wrk connections (16)")
    ap.add_argument("--threads", type=int, default=2, help="wrk threads (2)")
    ap.add_argument("--warmup", type=int, default=2,
                    help="seconds of unmeasured wrk load before each case (2)")
    ap.add_argument("--parley-bin", default=str(DEFAULT_PARLEY_BIN),
                    help=f"parley console script ({DEFAULT_PARLEY_BIN})")
    ap.add_argument("--parley-env", action="append", default=[], metavar="KEY=VALUE",
                    help="extra environment for the Parley server (repeatable)")
    ap.add_argument("--skip-10k", action="store_true", help="skip the 10,000-comment thread")
    ap.add_argument("--skip-parley", action="store_true", help="benchmark Isso only")
    ap.add_argument("--skip-isso", action="store_true", help="benchmark Parley only")
    ap.add_argument("--skip-nginx", action="store_true", help="no nginx ceiling")
    ap.add_argument("--seed-10k-timeout", type=float, default=400.0,
                    help="give up seeding the 10k thread after this many seconds (400)")
    ap.add_argument("--keep-tmp", action="store_true", help="keep the temp dir (logs, dbs)")
    ap.add_argument("--max-runtime", type=int, default=900,
                    help="abort (and clean up) after this many seconds (900)")
    args = ap.parse_args(argv)

    if not Path(WRK).exists():
        print(f"wrk not found ({WRK}); apt-get install -y wrk", file=sys.stderr)
        return 2
    if not args.skip_parley and not os.access(args.parley_bin, os.X_OK):
        print(f"parley console script not found: {args.parley_bin} (use --parley-bin "
              "or --skip-parley)", file=sys.stderr)
        return 2

    # turn SIGTERM/SIGHUP into KeyboardInterrupt so the finally: block cleans up
    def _interrupt(signum: int, _frame: object) -> None:
        raise KeyboardInterrupt(f"signal {signum}")
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGALRM):
        signal.signal(sig, _interrupt)
    signal.alarm(args.max_runtime)  # a hard bound on the whole run

    started = time.monotonic()
    tmp = Path(tempfile.mkdtemp(prefix="parley-bench-"))
    procs = Processes()
    notes: list[str] = []
    isso_read = Case("Isso thread 200 (embed params: nested_limit=5)")
    isso_all = Case("Isso thread 200 (all replies, no nested_limit)", peer=isso_read)
    isso_write = Case("Isso comment write")
    isso_read.peer, isso_write.peer = isso_read, isso_write
    p_json = Case("Parley thread JSON 200", peer=isso_read)
    p_frag = Case("Parley rendered fragment 200", peer=isso_read)
    p_10k = Case(f"Parley 10k thread, first page (limit={PAGE_LIMIT})", peer=isso_read)
    p_write = Case("Parley comment write", peer=isso_write)
    p_reads = [p_json, p_frag] + ([] if args.skip_10k else [p_10k])
    isso_cases = [] if args.skip_isso else [isso_read, isso_all, isso_write]
    parley_cases = [] if args.skip_parley else [*p_reads, p_write]
    nginx_cases: list[Case] = []
    try:
        thread200 = make_thread(N_200)
        log(f"thread {URI_200}: {describe_thread(thread200)}")
        q200 = urllib.parse.quote(URI_200, safe="")

        # One server at a time: start, seed, load, stop, so none competes with another.
        if isso_cases:
            try:
                log("starting Isso (gunicorn, 2 sync workers)")
                isso = start_isso(procs, tmp)
                secs, _ids = seed_isso(isso, URI_200, thread200)
                log(f"seeded Isso with {N_200} comments over HTTP in {secs:.1f}s")
                isso_read.url = f"{isso.base}/?uri={q200}&{ISSO_EMBED_QUERY}"
                isso_all.url = f"{isso.base}/?uri={q200}&sort=oldest&offset=0"
                for c in (isso_read, isso_all):
                    c.payload = inspect_payload(c.name, c.url)
                isso_write.url, isso_write.script = isso_write_case(isso, tmp)
                bench_cases(isso_cases, args, isso)
            except BenchError as e:
                fail_cases(isso_cases, e, notes)
            finally:
                procs.stop_all()

        if parley_cases:
            try:
                log("starting Parley (parley serve, 2 workers)")
                parley = start_parley(procs, tmp / "parley-data", args.parley_bin, args.parley_env)
                secs, _ids = seed_parley(parley, URI_200, thread200, deadline_s=120)
                log(f"seeded Parley with {N_200} comments over HTTP in {secs:.1f}s "
                    f"({N_200 / secs:.0f}/s, {SEED_THREADS} threads)")
                p_json.url = (f"{parley.base}{PARLEY_THREAD_PATH}?site={SITE}&uri={q200}"
                              f"&{PARLEY_FULL_JSON_QUERY}")
                p_frag.url = (f"{parley.base}{PARLEY_FRAGMENT_PATH}?site={SITE}&uri={q200}"
                              f"&{PARLEY_FULL_FRAGMENT_QUERY}")
                if not args.skip_10k:
                    # A seed of its own: from the 200-thread's, some bodies come out the same,
                    # and the duplicate rule files a text its author posted before as spam.
                    thread10k = make_thread(N_10K, SEED_10K)
                    log(f"thread {URI_10K}: {describe_thread(thread10k)}")
                    try:
                        secs, _ids = seed_parley(parley, URI_10K, thread10k,
                                           deadline_s=args.seed_10k_timeout)
                        log(f"seeded Parley with {N_10K} comments over HTTP in {secs:.1f}s "
                            f"({N_10K / secs:.0f}/s, {SEED_THREADS} threads)")
                        q10k = urllib.parse.quote(URI_10K, safe="")
                        p_10k.url = (f"{parley.base}{PARLEY_THREAD_PATH}?site={SITE}"
                                     f"&uri={q10k}&limit={PAGE_LIMIT}")
                    except BenchError as e:
                        fail_cases([p_10k], e, notes)
                for c in p_reads:
                    if c.url and not c.error:
                        try:
                            c.payload = inspect_payload(c.name, c.url)
                        except (BenchError, OSError) as e:
                            notes.append(f"{c.name} payload: {e}")
                p_write.url, p_write.script = parley_write_case(parley, tmp)
                # The ceiling: nginx sending the very bytes Parley answered, from files. It
                # idles while Parley is loaded and the other way round; each Parley read is
                # followed at once by nginx's, so a busy spell of the machine falls on both.
                nginx = None
                if not args.skip_nginx:
                    nginx_cases += bound_cases(p_reads)
                    try:
                        log("starting nginx (2 worker processes)")
                        nginx = start_nginx(procs, tmp, {f"p{i}": c.payload for i, c in
                                                         enumerate(nginx_cases) if c.payload})
                        for i, c in enumerate(nginx_cases):
                            c.url = f"{nginx.base}/p{i}"
                    except BenchError as e:
                        fail_cases(nginx_cases, e, notes)
                for c in parley_cases:
                    if c.url and not c.error:
                        bench_cases([c], args, parley)
                    if nginx is not None and c.bound is not None:
                        bench_cases([c.bound], args, nginx)
            except BenchError as e:
                fail_cases([c for c in parley_cases + nginx_cases if not c.result], e, notes)
            finally:
                procs.stop_all()

        writes = [c for c in (isso_write, p_write) if c in isso_cases + parley_cases]
        cases = [c for c in isso_cases if c not in writes]
        for c in parley_cases:  # each read with its ceiling beside it
            if c not in writes:
                cases += [c] if c.bound is None else [c, c.bound]
        cases += writes
        print()
        print(f"Thread read and comment write, loopback, wrk -t{args.threads} "
              f"-c{args.connections} -d{args.duration}s --latency -H 'Accept-Encoding: gzip'; "
              f"{os.cpu_count()} CPUs shared by wrk and the server; Isso, Parley and nginx "
              "2 workers each, loaded one at a time")
        print()
        print_table(cases)
        print()
        print(f"\"{TIMES} Isso\": reads against Isso's embed read, writes against Isso's write; "
              "\"÷ nginx\": against nginx sending the same bytes from a file. "
              "* = not served gzipped (Isso): its size gzip-compressed here, for comparison.")
        print()
        print_aims(cases)
        if p_json.result and p_10k.result:
            print(f"- 10k first page vs 200 read: {p_10k.ratio(p_json):.2f}{TIMES} req/s, p50 "
                  f"{p_10k.result.p50_ms / p_json.result.p50_ms:.2f}{TIMES} "
                  f"({fmt_ms(p_10k.result.p50_ms)} vs {fmt_ms(p_json.result.p50_ms)})")
        busy = [c for c in cases if c.interference is not None and c.interference > BUSY_WARN]
        if busy:
            print(f"\nWARNING: other processes used the CPUs before or during {len(busy)} "
                  "case(s), so those numbers are low and noisy; run again on a quiet machine:")
            for c in busy:
                print(f"  {c.name}: {c.background_cpu or 0:.0f}% of all CPUs before, "
                      f"{c.during_cpu or 0:.0f}% during")
        for n in notes:
            print(f"note: {n}")
        print(f"\ntotal run time: {time.monotonic() - started:.0f}s")
        return 0 if cases and all(c.result for c in cases) else 1
    except BenchError as e:
        print(f"\nbenchmark failed: {e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("\ninterrupted", file=sys.stderr)
        return 130
    finally:
        clean_up(procs, tmp, args.keep_tmp)


if __name__ == "__main__":
    sys.exit(main())

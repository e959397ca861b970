#!/usr/bin/env python3
"""Thread reads on a generated 10,000,000-comment PostgreSQL database against a 10,000 one.

Both databases get Parley's schema (its migrations) and the same generator: many sites and
threads of very different sizes written over three years, interleaved as they would arrive,
replies nested up to six levels, some deleted, held, spam or rejected, votes, with every
counter (thread counts, reply counts, scores) true. Each also holds the same few probe threads
of 200 comments (the shape thread_read.py seeds), spread through the table. Then, against
each database, in the same run:

- an uncached read of a probe thread, the database path: Parley's own read functions
  (`reads.load_page` + `reads.thread_json`) called in a Django process, no cache at all;
- an uncached HTTP read: the thread's generation replaced (`reads.invalidate`, as a write
  does) before each GET of `/api/v1/threads`;
- the warm HTTP read under load (wrk).

    .venv/bin/python bench/big_db.py [--comments 10000000] [--duration 10] [--rounds 40]

Needs the venv's Python (psycopg), PostgreSQL and Redis on 127.0.0.1. The databases
(parley_bench_10m, parley_bench_10k) are kept between runs, with a marker table naming the
generator version: a run reuses a database whose marker matches and generates it otherwise
(10M: 16 GB on disk, ~20 minutes on a busy 2-core machine). See
bench/README.md.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.parse
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from thread_read import (  # bench/ is on the path when run as a script
    AUTHORS,
    DEFAULT_PARLEY_BIN,
    HOST,
    N_200,
    SEED,
    SITE,
    SITE_DOMAIN,
    TIMES,
    WRK,
    BenchError,
    Case,
    Processes,
    Server,
    bench_cases,
    clean_up,
    fmt_ms,
    log,
    make_body,
    make_thread,
    parley_env,
    print_rows,
    run_cmd,
    start_parley,
)

GENERATOR_VERSION = 1  # change whenever what the generator writes changes
PG = f"postgres://postgres@{HOST}:5432"
REDIS_URL = f"redis://{HOST}:6379/10"
MARKER = "bench_generated"
PROBES = 8  # probe threads of N_200 comments each, in both databases
PROBE_URI = "/bench/probe-{}/"
PAGE_QUERY = "limit=100"  # the whole probe thread (50 top-level comments) in one page
AIM_RATIO = 1.2  # 10M within 20 % of 10k

SPAN = timedelta(days=3 * 365)  # the comments are written over three years
START = datetime(2022, 1, 1, tzinfo=UTC)
ACTIVE_THREADS = 400  # threads taking comments at once: a thread's rows spread through the table
MAX_THREAD = 20_000
MAX_DEPTH = 6  # stored depth; the site shows replies deeper than its max_depth (4) flattened
BODY_POOL = 4096
BYTES_PER_COMMENT = 1700  # on disk with indexes and votes: 16.2 GB for 10M, measured


def ln_size(rng: random.Random) -> int:
    """Thread sizes: log-normal, median 20, mean ~47, a few in the thousands."""
    return max(1, min(MAX_THREAD, round(math.exp(rng.gauss(math.log(20), 1.3)))))


STATUSES = ("published", "deleted", "spam", "rejected", "pending")
STATUS_WEIGHTS = (0.95, 0.02, 0.015, 0.01, 0.005)


def copy_text(s: str) -> str:
    """A field in COPY's text format."""
    return (s.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n")
            .replace("\r", "\\r"))


# --------------------------------------------------------------------------
# The generator
# --------------------------------------------------------------------------


@dataclass
class Shape:
    """One thread's comments, in the order they were written (a parent before its replies),
    with what they add up to."""

    parent: list[int]  # local index of the parent, -1 for top-level
    depth: list[int]
    status: list[str]
    up: list[int]
    down: list[int]
    bodies: list[int]  # index into the rendered body pool
    readers: list[int]  # index into the reader pool
    reply_count: list[int] = field(default_factory=list)
    published: int = 0

    def count(self) -> None:
        """A comment shows its published replies and the placeholders that keep the place
        of shown replies: counted from the last comment back, each is final when reached."""
        n = len(self.parent)
        self.reply_count = [0] * n
        for i in range(n - 1, -1, -1):
            p = self.parent[i]
            if p >= 0 and (self.status[i] == "published" or self.reply_count[i] > 0):
                self.reply_count[p] += 1
        self.published = sum(s == "published" for s in self.status)


def votes(rng: random.Random) -> tuple[int, int]:
    if rng.random() >= 0.3:
        return 0, 0
    return int(rng.expovariate(0.35)), int(rng.expovariate(1.2))


def random_shape(rng: random.Random, size: int, pools: Pools) -> Shape:
    parent, depth, status = [-1], [1], ["published"]
    for i in range(1, size):
        if rng.random() < 0.3:
            parent.append(-1)
            depth.append(1)
        else:  # mostly answering one of the last few comments
            p = i - 1 - int(rng.random() ** 2 * min(i, 40))
            while depth[p] >= MAX_DEPTH:
                p = parent[p]
            parent.append(p)
            depth.append(depth[p] + 1)
        status.append(rng.choices(STATUSES, STATUS_WEIGHTS)[0])
    ups, downs = zip(*(votes(rng) if s == "published" else (0, 0) for s in status), strict=True)
    shape = Shape(parent, depth, status, list(ups), list(downs),
                  [rng.randrange(len(pools.bodies)) for _ in range(size)],
                  [rng.randrange(len(pools.readers)) for _ in range(size)])
    shape.count()
    return shape


def probe_shape(k: int, pools: Pools) -> Shape:
    """The 200-comment thread thread_read.py seeds (seed SEED + k), all published, with
    votes; its bodies follow the pool's others (Pools.probe_first)."""
    rng = random.Random(SEED + 1000 + k)
    seeded = make_thread(N_200, SEED + k)
    first = pools.probe_first[k]
    shape = Shape([-1 if c.parent is None else c.parent for c in seeded],
                  [c.depth + 1 for c in seeded], ["published"] * len(seeded), [], [],
                  [first + i for i in range(len(seeded))],
                  [rng.randrange(len(pools.readers)) for _ in seeded])
    for _ in seeded:
        up, down = votes(rng)
        shape.up.append(up)
        shape.down.append(down)
    shape.count()
    return shape


@dataclass
class Pools:
    bodies: list[tuple[str, str]]  # (body, body_html), COPY-escaped
    probe_first: list[int]  # where each probe's bodies start in `bodies`
    readers: list[tuple[str, str, str, str]]  # (reader_key, ip_hash, name, email), escaped


def make_pools(rng: random.Random, readers: int, parley_bin: str, env: dict[str, str]) -> Pools:
    """Bodies like thread_read.py's, rendered by Parley's own Markdown renderer (in a
    process of the app: this script imports no Django), and a pool of readers."""
    texts = [make_body(rng) for _ in range(BODY_POOL)]
    probe_first = []
    for k in range(PROBES):
        probe_first.append(len(texts))
        texts += [c.body for c in make_thread(N_200, SEED + k)]
    python = str(Path(parley_bin).with_name("python"))
    code = ("import json, sys, django; django.setup(); "
            "from parley.core.markdown import render_markdown; "
            "json.dump([render_markdown(t) for t in json.load(sys.stdin)], sys.stdout)")
    cp = subprocess.run([python, "-c", code], input=json.dumps(texts), capture_output=True,
                        text=True, env={**env, "DJANGO_SETTINGS_MODULE": "parley.config.settings"},
                        check=False, timeout=600)
    if cp.returncode != 0:
        raise BenchError(f"rendering the bodies failed:\n{cp.stderr[-2000:]}")
    html = json.loads(cp.stdout)
    people = []
    for i in range(readers):
        name = AUTHORS[i % len(AUTHORS)]
        email = f"{name.lower()}.{i}@example.org" if rng.random() < 0.6 else ""
        people.append((f"r:{rng.getrandbits(128):032x}", f"{rng.getrandbits(128):032x}",
                       copy_text(name), email))
    return Pools([(copy_text(t), copy_text(h)) for t, h in zip(texts, html, strict=True)],
                 probe_first, people)


@dataclass
class Open:
    """A thread that is taking comments."""

    tid: int
    shape: Shape
    gids: list[int] = field(default_factory=list)  # global ids of the comments written so far


COMMENT_COLUMNS = ("id, thread_id, parent_id, root_id, depth, author_name, author_email, "
                   "author_url, account_id, reader_key, body, body_html, quote, quote_prefix, "
                   "quote_suffix, status, created_at, edited_at, upvotes, downvotes, score, "
                   "reply_count, ip_hash, source_key")
VOTE_COLUMNS = "comment_id, reader_key, value, created_at"
THREAD_COLUMNS = "id, site_id, uri, title, closed_at, published_count, created_at"


@dataclass
class Generated:
    comments: int = 0
    votes: int = 0
    threads: int = 0
    probes: list[str] = field(default_factory=list)


def generate(n: int, site_ids: list[int], pools: Pools, comment_out, vote_out,  # type: ignore[no-untyped-def]
             thread_rows: list[str]) -> Generated:
    """Write `n` comments (COPY text lines to `comment_out`, their votes to `vote_out`) in
    the order they arrive: ACTIVE_THREADS threads take comments at once, each comment goes
    to one of them at random, a finished thread makes room for a new one, and the probe
    threads open at even intervals through the run. Thread rows go to `thread_rows`."""
    rng = random.Random(SEED)
    step = SPAN / n
    regular_budget = n - PROBES * N_200
    probe_at = [round((k + 0.5) * n / PROBES) for k in range(PROBES)]
    stats = Generated()
    active: list[Open] = []
    next_tid = 1
    bench_site = site_ids[0]

    def open_thread(shape: Shape, site_id: int, uri: str, title: str, at: datetime) -> Open:
        nonlocal next_tid
        tid, next_tid = next_tid, next_tid + 1
        thread_rows.append(f"{tid}\t{site_id}\t{copy_text(uri)}\t{copy_text(title)}\t\\N\t"
                           f"{shape.published}\t{at.isoformat()}\n")
        stats.threads += 1
        return Open(tid, shape)

    def new_regular(at: datetime) -> Open | None:
        nonlocal regular_budget
        if regular_budget <= 0:
            return None
        size = min(ln_size(rng), regular_budget)
        regular_budget -= size
        site_id = rng.choice(site_ids)
        return open_thread(random_shape(rng, size, pools), site_id,
                           f"/news/{next_tid}/", f"Story {next_tid}", at)

    for _ in range(ACTIVE_THREADS):
        t = new_regular(START)
        if t is not None:
            active.append(t)
    buf: list[str] = []
    vbuf: list[str] = []
    gid = 0
    while gid < n:
        at = START + step * gid
        # (or early, should every other thread have finished: the probes are what is left)
        while len(stats.probes) < PROBES and (gid >= probe_at[len(stats.probes)] or not active):
            k = len(stats.probes)
            uri = PROBE_URI.format(k)
            active.append(open_thread(probe_shape(k, pools), bench_site, uri, f"Probe {k}", at))
            stats.probes.append(uri)
        j = rng.randrange(len(active))
        t = active[j]
        s, i = t.shape, len(t.gids)
        gid += 1
        t.gids.append(gid)
        p = s.parent[i]
        parent, root = ("\\N", "\\N") if p < 0 else (str(t.gids[p]), str(t.gids[_root(s, p)]))
        body, html = pools.bodies[s.bodies[i]]
        key, ip_hash, name, email = pools.readers[s.readers[i]]
        up, down = s.up[i], s.down[i]
        quote = ("council budget vote\tThe \tand the" if p < 0 and rng.random() < 0.02
                 else "\t\t")
        edited = (at + timedelta(minutes=3)).isoformat() if rng.random() < 0.03 else "\\N"
        buf.append(f"{gid}\t{t.tid}\t{parent}\t{root}\t{s.depth[i]}\t{name}\t{email}\t\t\\N\t"
                   f"{key}\t{body}\t{html}\t{quote}\t{s.status[i]}\t{at.isoformat()}\t{edited}\t"
                   f"{up}\t{down}\t{up - down}\t{s.reply_count[i]}\t{ip_hash}\t\n")
        if up or down:
            first = rng.randrange(len(pools.readers))
            for v in range(up + down):
                voter = pools.readers[(first + v) % len(pools.readers)][0]
                vbuf.append(f"{gid}\t{voter}\t{1 if v < up else -1}\t{at.isoformat()}\n")
            stats.votes += up + down
        if len(t.gids) == len(s.parent):
            replacement = new_regular(at)
            if replacement is None:
                active[j] = active[-1]
                active.pop()
            else:
                active[j] = replacement
        if len(buf) >= 5000:
            comment_out("".join(buf))
            buf.clear()
            if vbuf:
                vote_out("".join(vbuf))
                vbuf.clear()
            if gid % 500_000 < 5000:
                log(f"  {gid:,} comments")
    comment_out("".join(buf))
    if vbuf:
        vote_out("".join(vbuf))
    stats.comments = gid
    return stats


def _root(s: Shape, i: int) -> int:
    while s.parent[i] >= 0:
        i = s.parent[i]
    return i


# --------------------------------------------------------------------------
# The databases
# --------------------------------------------------------------------------


def connect(db: str):  # type: ignore[no-untyped-def]
    """A connection whose backend runs at this process's niceness (`nice bench/big_db.py`
    keeps a long generation from crowding others out of a shared machine), where allowed."""
    import psycopg  # the venv's; everything else here is the standard library

    conn = psycopg.connect(f"{PG}/{db}", autocommit=True)
    with contextlib.suppress(OSError):
        os.setpriority(os.PRIO_PROCESS, conn.info.backend_pid,
                       os.getpriority(os.PRIO_PROCESS, 0))
    return conn


def marker(db: str) -> dict[str, object] | None:
    """What the marker table says about a kept database, None when it is not usable."""
    try:
        with connect("postgres") as conn:
            if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (db,)).fetchone():
                return None
        with connect(db) as conn:
            row = conn.execute(f"SELECT info FROM {MARKER}").fetchone()
    except Exception:  # no marker table: an interrupted generation
        return None
    return row[0] if row else None


def secondary_schema(conn, table: str) -> tuple[list[str], list[str]]:  # type: ignore[no-untyped-def]
    """`table`'s indexes (but its primary key) and its unique and foreign-key constraints,
    as the statements that recreate them; loading without them and building them afterwards
    is many times faster than maintaining them row by row."""
    constraints = conn.execute(
        "SELECT conname, pg_get_constraintdef(oid), contype FROM pg_constraint "
        "WHERE conrelid = %s::regclass AND contype IN ('u', 'f') ORDER BY contype DESC",
        (table,)).fetchall()  # unique ones first: a foreign key may refer to one
    indexes = conn.execute(
        "SELECT pg_get_indexdef(indexrelid) FROM pg_index WHERE indrelid = %s::regclass "
        "AND NOT indisprimary AND indexrelid NOT IN "
        "(SELECT conindid FROM pg_constraint WHERE conrelid = %s::regclass)",
        (table, table)).fetchall()
    create = [row[0] for row in indexes]
    create += [f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}'
               for name, definition, _kind in constraints]
    drop = [f'ALTER TABLE {table} DROP CONSTRAINT "{name}"'
            for name, _definition, _kind in reversed(constraints)]
    drop += ["DROP INDEX " + row[0].split(" INDEX ", 1)[1].split(" ON ", 1)[0]
             for row in indexes]
    return drop, create


def build(db: str, n: int, parley_bin: str, tmp: Path) -> dict[str, object]:
    """Create `db` afresh: Parley's migrations, the sites, then the generated rows."""
    started = time.monotonic()
    with connect("postgres") as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {db} WITH (FORCE)")
        conn.execute(f"CREATE DATABASE {db}")
    env = parley_env(tmp / f"data-{db}", [f"DATABASE_URL={PG}/{db}", f"REDIS_URL={REDIS_URL}"])
    (tmp / f"data-{db}").mkdir(exist_ok=True)
    run_cmd([parley_bin, "migrate", "--noinput"], env, 600, "parley migrate")
    run_cmd([parley_bin, "site", "add", SITE, "--domain", SITE_DOMAIN], env, 120,
            "parley site add")
    rng = random.Random(SEED)
    pools = make_pools(rng, max(1000, n // 20), parley_bin, env)
    n_sites = max(2, n // 250_000)
    with connect(db) as conn:
        # More sites like the one `site add` made, every column but the name copied.
        cols = [r[0] for r in conn.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_name = "
            "'parley_sites_site' AND column_name NOT IN ('id', 'name', 'title')").fetchall()]
        listed = ", ".join(cols)
        conn.execute(
            f"INSERT INTO parley_sites_site (name, title, {listed}) "
            f"SELECT 'gen-' || lpad(g::text, 3, '0'), 'Generated ' || g, {listed} "
            f"FROM parley_sites_site, generate_series(1, %s) g WHERE name = %s",
            (n_sites - 1, SITE))
        site_ids = [r[0] for r in conn.execute(
            "SELECT id FROM parley_sites_site ORDER BY name <> %s, id", (SITE,)).fetchall()]
        recreate = []
        for table in ("comments_comment", "comments_vote"):
            drop, create = secondary_schema(conn, table)
            for sql in drop:
                conn.execute(sql)
            recreate += create
        log(f"{db}: writing {n:,} comments ({n_sites} sites)")
        t0 = time.monotonic()
        thread_rows: list[str] = []
        with connect(db) as vconn, vconn.cursor() as vcur, conn.cursor() as cur, \
                cur.copy(f"COPY comments_comment ({COMMENT_COLUMNS}) FROM STDIN") as copy, \
                vcur.copy(f"COPY comments_vote ({VOTE_COLUMNS}) FROM STDIN") as vcopy:
            stats = generate(n, site_ids, pools, copy.write, vcopy.write, thread_rows)
        with conn.cursor() as cur, cur.copy(
                f"COPY comments_thread ({THREAD_COLUMNS}) FROM STDIN") as copy:
            for start in range(0, len(thread_rows), 10_000):
                copy.write("".join(thread_rows[start:start + 10_000]))
        log(f"{db}: rows written in {time.monotonic() - t0:.0f}s "
            f"({stats.comments:,} comments, {stats.votes:,} votes, {stats.threads:,} threads)")
        t0 = time.monotonic()
        conn.execute("SET maintenance_work_mem = '512MB'")
        for sql in recreate:  # indexes, then unique constraints, then foreign keys (checked)
            conn.execute(sql)
        for table in ("comments_comment", "comments_vote", "comments_thread",
                      "parley_sites_site"):
            conn.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                         f"(SELECT max(id) FROM {table}))")
        log(f"{db}: indexes and constraints in {time.monotonic() - t0:.0f}s")
        t0 = time.monotonic()
        conn.execute("VACUUM (ANALYZE) comments_comment, comments_vote, comments_thread")
        log(f"{db}: VACUUM ANALYZE in {time.monotonic() - t0:.0f}s")
        check_counts(conn)
        info: dict[str, object] = {
            "version": GENERATOR_VERSION, "comments": stats.comments, "votes": stats.votes,
            "threads": stats.threads, "sites": n_sites, "probes": stats.probes,
            "seconds": round(time.monotonic() - started),
            "generated_at": datetime.now(UTC).isoformat(timespec="seconds"),
        }
        conn.execute(f"CREATE TABLE {MARKER} (info jsonb NOT NULL)")
        conn.execute(f"INSERT INTO {MARKER} VALUES (%s::jsonb)", (json.dumps(info),))
    return info


def check_counts(conn) -> None:  # type: ignore[no-untyped-def]
    """The counters the app keeps agree with the rows, for the probe threads (each must show
    all its comments) and, over the whole table, the threads' published counts."""
    wrong = conn.execute(
        "SELECT count(*) FROM comments_thread t LEFT JOIN (SELECT thread_id, count(*) AS n "
        "FROM comments_comment WHERE status = 'published' GROUP BY thread_id) c "
        "ON c.thread_id = t.id WHERE t.published_count <> coalesce(c.n, 0)").fetchone()[0]
    if wrong:
        raise BenchError(f"{wrong} threads' published_count disagrees with their comments")
    wrong = conn.execute(
        "SELECT count(*) FROM comments_comment p JOIN comments_thread t ON t.id = p.thread_id "
        "WHERE t.uri LIKE '/bench/probe-%%' AND p.reply_count <> (SELECT count(*) FROM "
        "comments_comment r WHERE r.parent_id = p.id AND (r.status = 'published' "
        "OR r.reply_count > 0))").fetchone()[0]
    if wrong:
        raise BenchError(f"{wrong} probe comments' reply_count disagrees with their replies")


def ensure(db: str, n: int, parley_bin: str, tmp: Path, regenerate: bool) -> dict[str, object]:
    info = None if regenerate else marker(db)
    if info and info.get("version") == GENERATOR_VERSION and info.get("comments") == n:
        log(f"{db}: reusing ({n:,} comments, generated {info['generated_at']} "
            f"in {info['seconds']}s)")
        env = parley_env(tmp / f"data-{db}", [f"DATABASE_URL={PG}/{db}"])
        (tmp / f"data-{db}").mkdir(exist_ok=True)
        run_cmd([parley_bin, "migrate", "--noinput"], env, 1800, "parley migrate")
        return info
    need = n * BYTES_PER_COMMENT * 2  # and room for the WAL and the index sorts
    free = shutil.disk_usage("/").free
    log(f"{db}: generating {n:,} comments; disk: {free / 1e9:.0f} GB free, "
        f"~{n * BYTES_PER_COMMENT / 1e9:.1f} GB needed")
    if free < need:
        raise BenchError(f"not enough disk for {db}: {free / 1e9:.0f} GB free, want "
                         f"{need / 1e9:.0f} GB")
    return build(db, n, parley_bin, tmp)


def database_size(db: str) -> int:
    with connect(db) as conn:
        return int(conn.execute("SELECT pg_database_size(%s)", (db,)).fetchone()[0])


# --------------------------------------------------------------------------
# The measurements
# --------------------------------------------------------------------------

# Run in a Django process of the app: Parley's own read, no cache. "db": load_page +
# thread_json + orjson, per probe ("first": each probe's first read in this process, when
# argv[5] says so); "http": the thread's generation replaced as a write does, then (after
# 30 ms: a server process re-reads a thread's generation at most every 20 ms, see
# comments/hotpath.py) a GET of the server at argv[2] (on the same Redis), timed.
_TIMER = r"""
import json, sys, time, urllib.request
import django
django.setup()
import orjson
from parley.comments import reads

site, uris, rounds = sys.argv[1], json.loads(sys.argv[3]), int(sys.argv[4])
out = {"first": [], "db": [], "http": []}
query = reads.PageQuery(limit=100)
reads.load_page(site, "/no-such-page/", query)  # connects; imports what a read needs
for r in range(rounds):
    for uri in uris:
        t0 = time.perf_counter()
        page = reads.load_page(site, uri, query)
        body = orjson.dumps(reads.thread_json(page))
        out["first" if r == 0 and sys.argv[5] else "db"].append(time.perf_counter() - t0)
        if page.count != 200:
            sys.exit(f"{uri}: the page counts {page.count} comments, not 200")
if sys.argv[2]:
    for r in range(rounds):
        for uri in uris:
            reads.invalidate(site, uri)
            time.sleep(0.03)
            url = f"{sys.argv[2]}?site={site}&uri={uri}&limit=100"
            req = urllib.request.Request(url, headers={"Accept-Encoding": "gzip"})
            t0 = time.perf_counter()
            with urllib.request.urlopen(req) as resp:
                resp.read()
            out["http"].append(time.perf_counter() - t0)
print(json.dumps(out))
"""


@dataclass
class Side:
    """One database: its server and what was measured against it."""

    label: str
    db: str
    info: dict[str, object]
    size: int = 0
    server: Server | None = None
    times: dict[str, list[float]] = field(default_factory=lambda: {"first": [], "db": [],
                                                                   "http": []})
    warm: Case | None = None


def time_reads(side: Side, parley_bin: str, tmp: Path, rounds: int, first: bool) -> None:
    env = parley_env(tmp / f"data-{side.db}",
                     [f"DATABASE_URL={PG}/{side.db}", f"REDIS_URL={REDIS_URL}"])
    env["DJANGO_SETTINGS_MODULE"] = "parley.config.settings"
    python = str(Path(parley_bin).with_name("python"))
    base = f"{side.server.base}/api/v1/threads" if side.server else ""
    uris = side.info["probes"]
    out = run_cmd([python, "-c", _TIMER, SITE, base, json.dumps(uris), str(rounds),
                   "first" if first else ""], env, 1200, f"timing reads on {side.db}")
    for k, v in json.loads(out.strip().splitlines()[-1]).items():
        side.times[k] += v


def pct(values: list[float], q: float) -> float:
    """The q-th percentile (nearest rank), in ms."""
    s = sorted(values)
    return 1000 * s[min(len(s) - 1, max(0, math.ceil(q / 100 * len(s)) - 1))]


def print_table(small: Side, big: Side, args: argparse.Namespace) -> list[str]:
    rows: list[tuple[str, ...]] = [
        ("read", f"{small.label} p50", f"{small.label} p99", f"{big.label} p50",
         f"{big.label} p99", f"p50 {big.label} ÷ {small.label}",
         f"p99 {big.label} ÷ {small.label}", "samples each")]
    verdicts = []
    what = {
        "first": "uncached, database path, each probe's first read",
        "db": "uncached, database path (load_page + thread_json)",
        "http": "uncached HTTP (generation replaced before each GET)",
    }
    for key, name in what.items():
        a, b = small.times[key], big.times[key]
        if not a or not b:
            continue
        r50, r99 = pct(b, 50) / pct(a, 50), pct(b, 99) / pct(a, 99)
        rows.append((name, fmt_ms(pct(a, 50)), fmt_ms(pct(a, 99)), fmt_ms(pct(b, 50)),
                     fmt_ms(pct(b, 99)), f"{r50:.2f}{TIMES}", f"{r99:.2f}{TIMES}",
                     str(min(len(a), len(b)))))
        if key != "first":
            verdicts.append((name, r50))
    if small.warm and big.warm and small.warm.result and big.warm.result:
        w1, w2 = small.warm.result, big.warm.result
        rows.append((f"warm HTTP, wrk -c{args.connections} -d{args.duration}s, best of "
                     f"{args.warm_runs}",
                     fmt_ms(w1.p50_ms), fmt_ms(w1.p99_ms), fmt_ms(w2.p50_ms), fmt_ms(w2.p99_ms),
                     f"{w2.p50_ms / w1.p50_ms:.2f}{TIMES}", f"{w2.p99_ms / w1.p99_ms:.2f}{TIMES}",
                     f"{min(w1.requests, w2.requests):,}"))
        rows.append((f"warm HTTP req/s, same runs (ratio: {small.label} ÷ {big.label})",
                     f"{w1.rps:,.0f}", "", f"{w2.rps:,.0f}", "", f"{w1.rps / w2.rps:.2f}{TIMES}",
                     "", ""))
        verdicts.append(("warm HTTP", w2.p50_ms / w1.p50_ms))
    print_rows(rows)
    return [f"- {name}: p50 {big.label} ÷ {small.label} = {r:.2f}{TIMES} "
            f"(aim ≤ {AIM_RATIO:.2f}{TIMES}) " + ("met" if r <= AIM_RATIO else "NOT met")
            for name, r in verdicts]


def human(n: int) -> str:
    return f"{n / 1e9:.1f} GB" if n >= 1e9 else f"{n / 1e6:.0f} MB"


def label(n: int) -> str:
    return f"{n // 1_000_000}M" if n >= 1_000_000 else f"{n // 1000}k"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--comments", type=int, default=10_000_000,
                    help="comments in the big database (10,000,000)")
    ap.add_argument("--small", type=int, default=10_000,
                    help="comments in the small database (10,000)")
    ap.add_argument("--rounds", type=int, default=40,
                    help="uncached reads of each probe thread per database (40)")
    ap.add_argument("--duration", type=int, default=10, help="seconds per wrk run (10)")
    ap.add_argument("--connections", type=int, default=16, help="wrk connections (16)")
    ap.add_argument("--threads", type=int, default=2, help="wrk threads (2)")
    ap.add_argument("--warmup", type=int, default=2,
                    help="seconds of unmeasured wrk load before each warm run (2)")
    ap.add_argument("--warm-runs", type=int, default=2,
                    help="warm runs per database, in turn; the best counts (2)")
    ap.add_argument("--regenerate", action="store_true",
                    help="generate both databases again even where the marker matches")
    ap.add_argument("--generate-only", action="store_true", help="make the databases, stop")
    ap.add_argument("--parley-bin", default=str(DEFAULT_PARLEY_BIN))
    ap.add_argument("--keep-tmp", action="store_true", help="keep the temp dir (logs)")
    args = ap.parse_args(argv)
    if not Path(WRK).exists():
        print(f"wrk not found ({WRK}); apt-get install -y wrk", file=sys.stderr)
        return 2

    def _interrupt(signum: int, _frame: object) -> None:
        raise KeyboardInterrupt(f"signal {signum}")
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, _interrupt)

    started = time.monotonic()
    tmp = Path(tempfile.mkdtemp(prefix="parley-bigdb-"))
    procs = Processes()
    try:
        sides = []
        for n in (args.small, args.comments):
            db = f"parley_bench_{label(n).lower()}"
            sides.append(Side(label(n), db, ensure(db, n, args.parley_bin, tmp,
                                                   args.regenerate)))
        for side in sides:
            side.size = database_size(side.db)
        if args.generate_only:
            for side in sides:
                log(f"{side.db}: {human(side.size)}, {side.info}")
            return 0
        small, big = sides
        for side in sides:
            log(f"starting Parley on {side.db} (2 processes)")
            side.server = start_parley(
                procs, tmp / f"data-{side.db}", args.parley_bin,
                [f"DATABASE_URL={PG}/{side.db}", f"REDIS_URL={REDIS_URL}"], setup=False)
        # Uncached reads: the two databases in turn, a few rounds each, so a quiet or busy
        # spell of the machine falls on both.
        chunks = 4
        for i in range(chunks):
            for side in sides:
                log(f"uncached reads on {side.db} ({i + 1}/{chunks})")
                time_reads(side, args.parley_bin, tmp, max(2, args.rounds // chunks), i == 0)
        # Warm reads touch no database: any difference is the machine's. The two servers in
        # turn, --warm-runs times; each keeps its best run.
        for _ in range(args.warm_runs):
            for side in sides:
                assert side.server is not None
                q = urllib.parse.quote(str(side.info["probes"][0]), safe="")  # type: ignore[index]
                run = Case(f"warm read {side.label}",
                           f"{side.server.base}/api/v1/threads?site={SITE}&uri={q}&{PAGE_QUERY}")
                bench_cases([run], args, side.server)
                if run.result and (side.warm is None or side.warm.result is None
                                   or run.result.rps > side.warm.result.rps):
                    side.warm = run
        print()
        print(f"Reading a {N_200}-comment thread (the whole thread, JSON) from a "
              f"{big.info['comments']:,}-comment PostgreSQL database ({human(big.size)}) and "
              f"from a {small.info['comments']:,}-comment one ({human(small.size)}); "
              f"{PROBES} probe threads of the same shape in each; Parley with 2 processes, "
              f"Redis; {os.cpu_count()} CPUs shared by everything")
        print()
        verdicts = print_table(small, big, args)
        print()
        for line in verdicts:
            print(line)
        for side in sides:
            info = side.info
            print(f"- {side.db}: {info['comments']:,} comments, {info['votes']:,} votes, "
                  f"{info['threads']:,} threads on {info['sites']} sites, {human(side.size)}; "
                  f"generated {info['generated_at']} in {info['seconds']}s "
                  f"(generator version {info['version']})")
        busy = [s.warm for s in sides if s.warm and (s.warm.interference or 0) > 15]
        if busy:
            print("\nWARNING: other processes used the CPUs during the warm runs; run again "
                  "on a quiet machine.")
        print(f"\ntotal run time: {time.monotonic() - started:.0f}s")
        return 0
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

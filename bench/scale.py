#!/usr/bin/env python3
"""One app process on SQLite against 2 and 4 on PostgreSQL + Redis: reads, writes, CPU split.

The same warm 200-comment thread read and the same comment write load (see thread_read.py),
against each layout in turn, with where the CPU went meanwhile (the app server, PostgreSQL,
Redis, wrk, everything else), and ratios to the SQLite single process of the same run.

    python3 bench/scale.py [--duration 10] [--connections 16] [--processes 2,4]

Standard library only; needs wrk, and PostgreSQL (psql) and Redis on 127.0.0.1 for the
PostgreSQL layouts. See bench/README.md.
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
from dataclasses import dataclass
from pathlib import Path

from thread_read import (  # bench/ is on the path when run as a script
    DEFAULT_PARLEY_BIN,
    HOST,
    N_200,
    PARLEY_FULL_JSON_QUERY,
    PARLEY_THREAD_PATH,
    SEED_THREADS,
    SITE,
    TIMES,
    URI_200,
    WRK,
    BenchError,
    Case,
    Processes,
    bench_cases,
    clean_up,
    describe_thread,
    fail_cases,
    fmt_ms,
    fmt_ratio,
    log,
    make_thread,
    parley_write_case,
    print_rows,
    seed_parley,
    start_parley,
)

PG_DATABASE = "parley_bench_scale"
PG_URL = f"postgres://postgres@{HOST}:5432"
REDIS_DB = 10
CPU_CLASSES = ("server", "PG", "Redis", "wrk", "other", "idle")


@dataclass
class Layout:
    name: str
    processes: int
    env: list[str]  # KEY=VALUE for parley serve
    database: str | None  # the PostgreSQL database, or None for SQLite
    read: Case
    write: Case


def psql(sql: str) -> None:
    subprocess.run(["psql", "-h", HOST, "-U", "postgres", "-v", "ON_ERROR_STOP=1", "-qc", sql],
                   check=True, stdin=subprocess.DEVNULL)


def redis_flush(db: int) -> None:
    """FLUSHDB on our own Redis database (others share the server), over RESP."""
    with socket.create_connection((HOST, 6379), timeout=5) as s:
        s.sendall(f"*2\r\n$6\r\nSELECT\r\n${len(str(db))}\r\n{db}\r\n"
                  "*1\r\n$7\r\nFLUSHDB\r\n".encode())
        answer = b""
        while answer.count(b"\r\n") < 2:
            chunk = s.recv(100)
            if not chunk:
                break
            answer += chunk
    if answer != b"+OK\r\n+OK\r\n":
        raise BenchError(f"Redis SELECT {db} / FLUSHDB answered {answer!r}")


def classifier(server_pgid: int, database: str | None):  # type: ignore[no-untyped-def]
    """CpuSnapshot.split's classes: the app server's process group; PostgreSQL's backends
    for our database and its shared processes (checkpointer, WAL writer...: they work for
    every database, ours included); Redis (shared too, idle otherwise)."""

    def classify(pgrp: int, name: str) -> str | None:
        if pgrp == server_pgid:
            return "server"
        if name.startswith("redis-server"):
            return "Redis"
        if name.startswith("postgres") or "/bin/postgres" in name:
            # a client backend's title: "postgres: 15/main: user database host(port) state"
            if "(" in name:
                return "PG" if database and f" {database} " in name else None
            return "PG"
        return None

    return classify


def cpu_cell(c: Case) -> str:
    if not c.cpu:
        return "—"
    return "/".join(f"{c.cpu.get(k, 0.0):.0f}" for k in CPU_CLASSES)


def bottleneck(c: Case) -> str:
    """The biggest user of the CPUs when they were (nearly) all busy; otherwise say that
    something other than CPU limited the run (locks, fsync, the network stack)."""
    if not c.cpu:
        return "—"
    idle = c.cpu.get("idle", 0.0)
    if idle > 15:
        return f"not CPU ({idle:.0f}% idle)"
    top = max((k for k in CPU_CLASSES if k != "idle"), key=lambda k: c.cpu.get(k, 0.0))
    return f"CPU: {top} {c.cpu[top]:.0f}%"


def run_layout(layout: Layout, args: argparse.Namespace, procs: Processes, tmp: Path) -> None:
    """A fresh database (and Redis database) per layout, seeded the same way."""
    log(f"--- {layout.name}")
    if layout.database:
        psql(f"DROP DATABASE IF EXISTS {layout.database} WITH (FORCE)")
        psql(f"CREATE DATABASE {layout.database}")
        redis_flush(REDIS_DB)
    server = start_parley(procs, tmp / f"data-{layout.processes}-{layout.database or 'sqlite'}",
                          args.parley_bin, layout.env, workers=layout.processes)
    # One comment at a time on PostgreSQL: concurrent replies there can deadlock (a reply
    # locks its parent FOR UPDATE, which blocks the deferred foreign-key check of another
    # reply under it that already updated the thread's count); the write load shows it.
    secs, _ids = seed_parley(server, URI_200, make_thread(N_200), deadline_s=180,
                             threads=1 if layout.database else SEED_THREADS)
    log(f"seeded {N_200} comments over HTTP in {secs:.1f}s")
    q200 = urllib.parse.quote(URI_200, safe="")
    layout.read.url = (f"{server.base}{PARLEY_THREAD_PATH}?site={SITE}&uri={q200}"
                       f"&{PARLEY_FULL_JSON_QUERY}")
    layout.write.url, layout.write.script = parley_write_case(
        server, tmp, f"/bench/write-{layout.processes}-{layout.database or 'sqlite'}/")
    bench_cases([layout.read, layout.write], args, server,
                classifier(server.proc.pid, layout.database))


def print_table(layouts: list[Layout]) -> None:
    base = layouts[0]
    rows: list[tuple[str, ...]] = [
        ("layout", "read req/s", "p50 / p99", f"{TIMES} SQLite", "write req/s", "p50 / p99",
         f"{TIMES} SQLite", "write errors", "read CPU %", "write CPU %", "read bound by",
         "write bound by")]
    for lay in layouts:
        cells = [lay.name]
        for c, peer in ((lay.read, base.read), (lay.write, base.write)):
            if c.result is None:
                cells += ["—", f"FAILED: {c.error}"[:50], "—"]
                continue
            r = c.result
            cells += [f"{r.rps:,.1f}", f"{fmt_ms(r.p50_ms)} / {fmt_ms(r.p99_ms)}",
                      fmt_ratio(c.ratio(peer))]
        w = lay.write.result
        cells.append("—" if w is None else
                     f"{w.non2xx} non-2xx, {lay.write.lock_errors} lock errors"
                     + (f", sockets: {w.socket_errors}" if w.socket_errors else ""))
        cells += [cpu_cell(lay.read), cpu_cell(lay.write), bottleneck(lay.read),
                  bottleneck(lay.write)]
        rows.append(tuple(cells))
    print_rows(rows)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--duration", type=int, default=10, help="seconds per wrk run (10)")
    ap.add_argument("--connections", type=int, default=16, help="wrk connections (16)")
    ap.add_argument("--threads", type=int, default=2, help="wrk threads (2)")
    ap.add_argument("--warmup", type=int, default=2,
                    help="seconds of unmeasured wrk load before each case (2)")
    ap.add_argument("--processes", default="2,4",
                    help="app processes of the PostgreSQL + Redis layouts (2,4)")
    ap.add_argument("--parley-bin", default=str(DEFAULT_PARLEY_BIN))
    ap.add_argument("--keep-tmp", action="store_true", help="keep the temp dir (logs, dbs)")
    ap.add_argument("--max-runtime", type=int, default=900,
                    help="abort (and clean up) after this many seconds (900)")
    args = ap.parse_args(argv)
    if not Path(WRK).exists():
        print(f"wrk not found ({WRK}); apt-get install -y wrk", file=sys.stderr)
        return 2

    def _interrupt(signum: int, _frame: object) -> None:
        raise KeyboardInterrupt(f"signal {signum}")
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGALRM):
        signal.signal(sig, _interrupt)
    signal.alarm(args.max_runtime)

    started = time.monotonic()
    tmp = Path(tempfile.mkdtemp(prefix="parley-scale-"))
    procs = Processes()
    notes: list[str] = []
    pg_env = [f"DATABASE_URL={PG_URL}/{PG_DATABASE}", f"REDIS_URL=redis://{HOST}:6379/{REDIS_DB}"]
    layouts = [Layout("SQLite, 1 process", 1, [], None,
                      Case("read 1 sqlite"), Case("write 1 sqlite"))]
    for n in (int(x) for x in args.processes.split(",") if x):
        layouts.append(Layout(f"PostgreSQL + Redis, {n} processes", n, pg_env, PG_DATABASE,
                              Case(f"read {n} pg"), Case(f"write {n} pg")))
    try:
        log(f"thread {URI_200}: {describe_thread(make_thread(N_200))}")
        for lay in layouts:
            try:
                run_layout(lay, args, procs, tmp)
            except BenchError as e:
                fail_cases([lay.read, lay.write], e, notes)
            except (subprocess.CalledProcessError, OSError) as e:
                fail_cases([lay.read, lay.write], BenchError(str(e)), notes)
            finally:
                procs.stop_all()

        print()
        print(f"Warm read of the {N_200}-comment thread (JSON, gzip) and comment writes, "
              f"loopback, wrk -t{args.threads} -c{args.connections} -d{args.duration}s; "
              f"{os.cpu_count()} CPUs shared by everything; app processes = granian workers of "
              "one `parley serve --no-worker`")
        print()
        print_table(layouts)
        print()
        print(f"CPU %: share of all {os.cpu_count()} CPUs while wrk ran, as "
              + "/".join(CPU_CLASSES) + " (PG: this database's backends and PostgreSQL's "
              "shared processes; other: everything else on the machine).")
        busy = [c for lay in layouts for c in (lay.read, lay.write)
                if c.interference is not None and c.interference > 15]
        if busy:
            print(f"\nWARNING: other processes used the CPUs before or during {len(busy)} "
                  "run(s); those numbers are low and noisy: run again on a quiet machine.")
        for note in notes:
            print(f"note: {note}")
        print(f"\ntotal run time: {time.monotonic() - started:.0f}s")
        return 0 if all(c.result for lay in layouts for c in (lay.read, lay.write)) else 1
    except (BenchError, subprocess.CalledProcessError, OSError) as e:
        print(f"\nbenchmark failed: {e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("\ninterrupted", file=sys.stderr)
        return 130
    finally:
        clean_up(procs, tmp, args.keep_tmp)
        if len(layouts) > 1:
            subprocess.run(["psql", "-h", HOST, "-U", "postgres", "-qc",
                            f"DROP DATABASE IF EXISTS {PG_DATABASE} WITH (FORCE)"],
                           check=False, stdin=subprocess.DEVNULL)


if __name__ == "__main__":
    sys.exit(main())

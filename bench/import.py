#!/usr/bin/env python3
"""Importing a big Disqus export: time and peak memory of `parley import disqus`.

Generates a Disqus export (default 1,000,000 comments in 50,000 threads, ~540 MB) with the
project's own generator, then imports it with the `parley` command into a fresh SQLite data
dir and into a fresh PostgreSQL database (127.0.0.1:5432, created and dropped by this run),
each in a process of its own whose peak resident memory is read from the kernel
(`ru_maxrss` of that child). Every import must end with a report saying nothing was lost and
the database must hold every comment. A second run on SQLite shows what a re-run costs (it
must add nothing).

Bounds measured in the same run, for the ratios:
- reading only: the same file through the Disqus reader with nothing written (the parse's
  share, the floor for any import of this file);
- the aim the issue sets: 5 minutes and 500 MB for 1,000,000 comments.

    .venv/bin/python bench/import.py [--comments 1000000] [--threads 50000]
                                     [--skip-postgres] [--keep]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
PG_DATABASE = "parley_bench_import"
PG_URL = f"postgres://postgres@127.0.0.1:5432/{PG_DATABASE}"
AIM_SECONDS = 300.0
AIM_MB = 500.0

READ_ONLY = """
import sys
from collections import deque
from parley.imports.readers.disqus import read
from parley.imports.records import Meter, Options
deque(read(sys.argv[1], Meter(), Options()), maxlen=0)
"""
GENERATE = """
import sys
from pathlib import Path
from tests.importdata.disqus import write_export
print(write_export(Path(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])))
"""
COUNT = """
from parley.comments.models import Comment
print(Comment.objects.count())
"""


@dataclass
class Row:
    database: str
    step: str
    comments: int
    seconds: float
    peak_mb: float
    added: int | None = None


def python() -> str:
    venv = REPO / ".venv" / "bin" / "python"
    return str(venv) if venv.exists() else sys.executable


def measured(args: list[str], env: dict[str, str]) -> tuple[float, float, str]:
    """Run a module (`parley …`) or a script (`x.py …`) in a process of its own: its wall
    time, its own peak resident memory in MB (reported by the child as it exits), its output."""
    wrapper = [
        python(),
        "-c",
        "import atexit, resource, runpy, sys\n"
        "atexit.register(lambda: print(f'PEAK-KB {resource.getrusage(resource.RUSAGE_SELF)"
        ".ru_maxrss}', file=sys.stderr))\n"
        "sys.argv = sys.argv[1:]\n"
        "if sys.argv[0].endswith('.py'):\n"
        "    runpy.run_path(sys.argv[0], run_name='__main__')\n"
        "else:\n"
        "    runpy.run_module(sys.argv[0], run_name='__main__', alter_sys=True)\n",
    ]
    started = time.perf_counter()
    child = subprocess.run(
        wrapper + args, env=env, cwd=REPO, capture_output=True, text=True, check=False
    )
    seconds = time.perf_counter() - started
    peaks = [line for line in child.stderr.splitlines() if line.startswith("PEAK-KB ")]
    if child.returncode != 0 or not peaks:
        raise SystemExit(
            f"{' '.join(args[:5])}… failed ({child.returncode}):\n{child.stdout[-2000:]}\n"
            f"{child.stderr[-2000:]}"
        )
    return seconds, int(peaks[-1].split()[1]) / 1024, child.stdout


def parley(env: dict[str, str], *args: str) -> str:
    done = subprocess.run(
        [python(), "-m", "parley", *args], env=env, cwd=REPO, capture_output=True, text=True
    )
    if done.returncode != 0:
        raise SystemExit(f"parley {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")
    return done.stdout


def shell(env: dict[str, str], code: str) -> str:
    return parley(env, "shell", "--no-imports", "-c", code).strip()


def postgres_answers() -> bool:
    return (
        subprocess.run(
            ["psql", "-h", "127.0.0.1", "-U", "postgres", "-c", "SELECT 1"],
            capture_output=True,
            check=False,
        ).returncode
        == 0
    )


def psql(sql: str) -> None:
    subprocess.run(
        ["psql", "-h", "127.0.0.1", "-U", "postgres", "-q", "-c", sql],
        check=True,
        capture_output=True,
    )


def import_into(database: str, export: Path, workdir: Path, comments: int) -> list[Row]:
    data_dir = workdir / f"data-{database}"
    data_dir.mkdir()
    env = os.environ | {"PARLEY_DATA_DIR": str(data_dir), "PYTHONPATH": str(REPO)}
    env.pop("DATABASE_URL", None)
    if database == "postgres":
        psql(f"DROP DATABASE IF EXISTS {PG_DATABASE}")
        psql(f"CREATE DATABASE {PG_DATABASE}")
        env["DATABASE_URL"] = PG_URL
    parley(env, "migrate", "--noinput", "-v0")
    parley(env, "site", "add", "bench", "--domain", "news.example")
    rows = []
    for step in ("import", "re-run"):
        if step == "re-run" and database == "postgres":
            break
        seconds, peak, out = measured(
            ["parley", "import", "disqus", str(export), "--site", "bench",
             "--map-url", "https://news.example/=>/"],
            env,
        )  # fmt: skip
        if "Nothing was lost" not in out:
            raise SystemExit(f"the report does not say nothing was lost:\n{out[-3000:]}")
        added = int(out.split("comments", 1)[1].split()[2].replace(",", ""))
        rows.append(Row(database, step, comments, seconds, peak, added))
    stored = int(shell(env, COUNT))
    if stored != comments:
        raise SystemExit(f"{database}: {stored:,} comments stored, {comments:,} in the export")
    if database == "postgres":
        psql(f"DROP DATABASE IF EXISTS {PG_DATABASE}")
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--comments", type=int, default=1_000_000)
    parser.add_argument("--threads", type=int, default=50_000)
    parser.add_argument("--skip-postgres", action="store_true")
    parser.add_argument("--keep", action="store_true", help="keep the temp dir")
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="parley-bench-import-"))
    env = os.environ | {"PARLEY_DATA_DIR": str(workdir / "gen"), "PYTHONPATH": str(REPO),
                        "DJANGO_SETTINGS_MODULE": "parley.config.settings"}  # fmt: skip
    try:
        export = workdir / "disqus.xml"
        started = time.perf_counter()
        subprocess.run(
            [python(), "-c", "import django; django.setup()\n" + GENERATE, str(export),
             str(args.threads), str(args.comments)],
            env=env, cwd=REPO, check=True, capture_output=True,
        )  # fmt: skip
        generated = time.perf_counter() - started
        size_mb = export.stat().st_size / 1e6
        print(
            f"Generated {args.comments:,} comments in {args.threads:,} threads: "
            f"{size_mb:,.0f} MB in {generated:.0f} s. Load average: {os.getloadavg()[0]:.1f}",
            flush=True,
        )
        read_seconds, read_peak = measured_read(export, env)
        rows = [Row("none", "read only (bound)", args.comments, read_seconds, read_peak)]
        databases = ["sqlite"]
        if not args.skip_postgres:
            if postgres_answers():
                databases.append("postgres")
            else:
                print("PostgreSQL does not answer on 127.0.0.1:5432: skipped.")
        for database in databases:
            rows += import_into(database, export, workdir, args.comments)
            print(f"{database} done.", flush=True)
        print_table(rows, read_seconds, generated)
    finally:
        if args.keep:
            print(f"Kept {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)


def measured_read(export: Path, env: dict[str, str]) -> tuple[float, float]:
    script = export.parent / "read_only.py"
    script.write_text("import django\ndjango.setup()\n" + READ_ONLY)
    seconds, peak, _out = measured([str(script), str(export)], env)
    return seconds, peak


def print_table(rows: list[Row], read_seconds: float, generated: float) -> None:
    print()
    print(
        "| database | step | comments | added | seconds | comments/s | peak RSS MB "
        "| ÷ 300 s aim | ÷ 500 MB aim | ÷ read only |"
    )
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for row in rows:
        added = "" if row.added is None else f"{row.added:,}"
        print(
            f"| {row.database} | {row.step} | {row.comments:,} | {added} | {row.seconds:,.1f} "
            f"| {row.comments / row.seconds:,.0f} | {row.peak_mb:,.0f} "
            f"| {row.seconds / AIM_SECONDS:.2f} | {row.peak_mb / AIM_MB:.2f} "
            f"| {row.seconds / read_seconds:.1f} |"
        )
    print(f"\n(generating the export took {generated:.0f} s and is not in any row)")
    print(json.dumps([row.__dict__ for row in rows]))


if __name__ == "__main__":
    main()

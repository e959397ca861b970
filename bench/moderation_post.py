#!/usr/bin/env python3
"""Posting under post-moderation: does the scorer slow the answer down?

Starts one `parley serve` (granian WSGI workers + the in-process task worker) on SQLite in a
temp dir with two post-moderated sites: "scored" (the offline scorer on: each comment is
scored by the task worker after the answer) and "unscored" (scorer off). Posts to both,
interleaved, at a steady pace, and prints the latency of each as a table with the ratio,
then checks that every comment on "scored" was in fact scored during the run.

    python bench/moderation_post.py [--posts 100] [--rate 4] [--parley-bin .venv/bin/parley]

Standard library only.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import socket
import statistics
import subprocess
import tempfile
import time
import urllib.request
from pathlib import Path

from live_latency import free_port_pair  # bench/ is on the path when run as a script

REPO = Path(__file__).resolve().parent.parent
HOST = "127.0.0.1"
BODIES = [
    "I think the council got the budget numbers wrong, see page 4 of the report.",
    "Thanks for this piece. The map of the flood zones is very clear.",
    "You people are idiots and should shut up about things you do not understand.",
    "Die Zahlen im Artikel stimmen nicht mit dem Bericht des Ministeriums überein.",
    "Excelente análisis, aunque falta la opinión de los vecinos del barrio.",
    "Спасибо за статью, но хотелось бы больше данных о расходах.",  # noqa: RUF001
]


def wait_until_up(port: int, deadline: float) -> None:
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError), socket.create_connection((HOST, port), timeout=0.5):
            return
        time.sleep(0.2)
    raise RuntimeError(f"server on {port} did not start")


def post(port: int, site: str, body: str) -> float:
    data = json.dumps({"site": site, "uri": "/a/", "body": body, "author_name": "Bench"})
    request = urllib.request.Request(
        f"http://{HOST}:{port}/api/v1/comments",
        data.encode(),
        {"Content-Type": "application/json"},
    )
    started = time.perf_counter()
    with urllib.request.urlopen(request, timeout=30) as response:
        response.read()
        assert response.status == 201, response.status
    return time.perf_counter() - started


def run_parley(parley: str, env: dict[str, str], *args: str) -> str:
    return subprocess.run(
        [parley, *args], env=env, check=True, capture_output=True, text=True
    ).stdout


def parley_python(parley: str, env: dict[str, str], code: str) -> str:
    """Run Python code with Parley's settings and database, as `parley shell -c` does."""
    return run_parley(parley, env, "shell", "--no-imports", "-c", code)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--posts", type=int, default=100, help="posts per site")
    parser.add_argument("--rate", type=float, default=4.0, help="posts per second, both sites")
    parser.add_argument("--parley-bin", default=str(REPO / ".venv/bin/parley"))
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="parley-modbench-") as tmp:
        env = {**os.environ, "PARLEY_DATA_DIR": tmp, "PARLEY_RATE_LIMITS": "off"}
        env.pop("DATABASE_URL", None)
        env.pop("REDIS_URL", None)
        run_parley(args.parley_bin, env, "migrate", "--noinput")
        for site in ("scored", "unscored"):
            run_parley(args.parley_bin, env, "site", "add", site, "--domain", HOST)
        parley_python(
            args.parley_bin,
            env,
            "from parley.sites.models import Site; from parley.moderation.gate import policy_for;"
            "p = policy_for(Site.objects.get(name='unscored')); p.use_scorer = False; p.save()",
        )
        port = free_port_pair()
        server = subprocess.Popen(
            [args.parley_bin, "serve", "--port", str(port), "--workers", "2"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        try:
            wait_until_up(port, time.monotonic() + 60)
            for site in ("scored", "unscored"):  # first requests load code; not measured
                post(port, site, "warm-up")
            time.sleep(5)  # let the worker load the scorer before measuring
            latencies: dict[str, list[float]] = {"scored": [], "unscored": []}
            pause = 1 / args.rate
            for i in range(args.posts):
                for site in ("scored", "unscored") if i % 2 else ("unscored", "scored"):
                    latencies[site].append(post(port, site, BODIES[i % len(BODIES)] + f" #{i}"))
                    time.sleep(pause)
            deadline = time.monotonic() + 120
            scored = 0
            while time.monotonic() < deadline:
                scored = int(
                    parley_python(
                        args.parley_bin,
                        env,
                        "from parley.moderation.models import Assessment;"
                        "print(Assessment.objects.filter(comment__thread__site__name='scored',"
                        " scored_at__isnull=False).count())",
                    ).strip()
                )
                if scored >= args.posts + 1:
                    break
                time.sleep(2)
        finally:
            os.killpg(server.pid, signal.SIGTERM)
            server.wait(timeout=30)

    def ms(values: list[float], q: float) -> float:
        return statistics.quantiles(values, n=100)[int(q) - 1] * 1000

    print(f"POST /api/v1/comments, post-moderated site, {args.posts} posts each, SQLite")
    print(f"{'site':<22}{'p50 ms':>10}{'p90 ms':>10}{'p99 ms':>10}")
    for site, label in (("unscored", "scorer off"), ("scored", "scorer on")):
        values = latencies[site]
        print(f"{label:<22}{ms(values, 50):>10.1f}{ms(values, 90):>10.1f}{ms(values, 99):>10.1f}")
    ratio = ms(latencies["scored"], 50) / ms(latencies["unscored"], 50)
    print(f"{'on / off (p50)':<22}{ratio:>10.2f}   bound: <= 1.2")
    print(f"scored by the worker during the run: {scored} of {args.posts + 1}")


if __name__ == "__main__":
    main()

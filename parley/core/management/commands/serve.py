import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandParser
from django.db import connection, connections

from parley.comments.stream import STREAM_PATH

WORKER_CMD = [sys.executable, "-m", "parley", "worker"]


def _stop(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt


class Command(BaseCommand):
    help = "Serve Parley with granian (WSGI), and the background task worker unless --no-worker."
    # WSGI, not ASGI: Django under ASGI measured 2-10x slower here (shared/BENCHMARKS.md).
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument("--workers", type=int, default=2)
        parser.add_argument("--no-worker", action="store_true", help="no background task worker")
        parser.add_argument(
            "--stream-port", type=int, help="live-update server's port (default: --port + 1)"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        call_command("migrate", interactive=False, verbosity=0)
        # The child processes serve; this one keeps no database connection (or pool) open.
        connections.close_all()
        if connection.vendor == "postgresql":
            connection.close_pool()  # type: ignore[attr-defined]
        stream_port = options["stream_port"] or options["port"] + 1
        env = {
            **os.environ,
            "PARLEY_DATA_DIR": str(settings.DATA_DIR),
            # Links in e-mails point here (PRODUCT.md: the serve address unless configured).
            "PARLEY_PUBLIC_URL": settings.PUBLIC_URL
            or f"http://{options['host']}:{options['port']}",
            # Where readers' browsers open the live stream; behind a reverse proxy, set it to
            # the public address the proxy forwards to the stream server.
            "PARLEY_STREAM_URL": settings.PARLEY_STREAM_URL
            or f"http://{options['host']}:{stream_port}{STREAM_PATH}",
        }
        # /metrics adds up the counters of all granian workers from files in this folder
        # (core/metrics.py); prometheus_client needs it empty when the workers start.
        if "PROMETHEUS_MULTIPROC_DIR" not in os.environ:
            serve_id = f"{socket.gethostname()}-{options['port']}"
            metrics_dir = settings.DATA_DIR / "metrics" / serve_id
            shutil.rmtree(metrics_dir, ignore_errors=True)
            metrics_dir.mkdir(parents=True)
            env["PROMETHEUS_MULTIPROC_DIR"] = str(metrics_dir)
        server_cmd = [
            sys.executable,
            "-m",
            "granian",
            "--interface",
            "wsgi",
            "--no-ws",
            "--host",
            options["host"],
            "--port",
            str(options["port"]),
            "--workers",
            str(options["workers"]),
            "--blocking-threads",
            "4",
            # A worker that dies (killed, out of memory) is replaced; without this, granian
            # stops every other worker with it.
            "--respawn-failed-workers",
            "--log-level",
            "warning",
            "parley.config.wsgi:application",
        ]
        children: list[subprocess.Popen[bytes]] = []
        worker = None
        signal.signal(signal.SIGTERM, _stop)
        try:
            if not options["no_worker"]:
                worker = subprocess.Popen(WORKER_CMD, env=env)  # noqa: S603
                children.append(worker)
            server = subprocess.Popen(server_cmd, env=env)  # noqa: S603
            children.append(server)
            # Live streams are long-lived: an async server of their own, so that a reader
            # holding one open does not hold a WSGI worker thread.
            stream_cmd = [
                sys.executable,
                "-m",
                "granian",
                "--interface",
                "asgi",
                "--no-ws",
                "--host",
                options["host"],
                "--port",
                str(stream_port),
                "--workers",
                "1",
                "--respawn-failed-workers",
                "--log-level",
                "warning",
                "parley.config.stream_asgi:application",
            ]
            children.append(subprocess.Popen(stream_cmd, env=env))  # noqa: S603
            self.stdout.write(
                f"Parley is serving http://{options['host']}:{options['port']}/ "
                f"(live updates on port {stream_port})"
            )
            while server.poll() is None:
                if worker is not None and worker.poll() is not None:
                    # The worker died (a task's work is taken over by taskworker.py): the
                    # queue and the outbox need one.
                    self.stderr.write(f"task worker exited ({worker.returncode}); restarting it")
                    children.remove(worker)
                    worker = subprocess.Popen(WORKER_CMD, env=env)  # noqa: S603
                    children.append(worker)
                time.sleep(1)
        except KeyboardInterrupt:
            pass
        finally:
            for child in children:
                child.terminate()
            for child in children:
                try:
                    child.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    child.kill()

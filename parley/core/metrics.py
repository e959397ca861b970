"""Prometheus metrics of the HTTP side, and the text a scrape gets (`config/metrics.py`
serves it at /metrics with what the apps hold: queues and backlogs).

`parley serve` answers one port with several granian worker processes, and a scrape reaches
whichever of them the kernel picks: counters kept in that worker's memory would show a
random share of the traffic and jump back and forth between scrapes. So `parley serve`
sets PROMETHEUS_MULTIPROC_DIR to a folder of its own in the data dir (emptied when it
starts); prometheus_client then keeps each worker's values in memory-mapped files there,
and a scrape, whichever worker answers it, adds up every worker's files, those of workers
that have since exited included (so counters never go back). Without that variable (tests,
a bare WSGI server with one process), the values are the process's own.
"""

import os

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Histogram,
    disable_created_metrics,
    generate_latest,
)
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector

# "*_created" series, one per label set, say when a process first saw it: noise here.
disable_created_metrics()

# Anything else a client sends as a method is counted as "other": labels stay a small set.
_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})

_OWN = CollectorRegistry()
REQUESTS = Counter(
    "parley_http_requests",
    "HTTP requests answered, by method, route (the URL pattern) and status class.",
    ["method", "route", "status"],
    registry=_OWN,
)
LATENCY = Histogram(
    "parley_http_request_duration_seconds",
    "Time from a request reaching Django to its response, by route.",
    ["route"],
    # A warm thread read takes about a millisecond; a write with scoring, tens.
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
    registry=_OWN,
)


# Each label set's counter and histogram, found once: prometheus_client's labels() costs
# more than the counting itself, and warm thread reads are answered in ~10 µs
# (comments/hotpath.py). Routes, methods and status classes are few, so this stays small.
_children: dict[tuple[str, str, int], tuple[Counter, Histogram]] = {}


def observe_request(method: str, route: str, status: int, seconds: float) -> None:
    method = method if method in _METHODS else "other"
    key = (method, route, status // 100)
    children = _children.get(key)
    if children is None:
        counter = REQUESTS.labels(method, route, f"{status // 100}xx")
        children = _children.setdefault(key, (counter, LATENCY.labels(route)))
    children[0].inc()
    children[1].observe(seconds)


def exposition(*collectors: Collector) -> bytes:
    """The scrape's text: the HTTP metrics of every worker of this server, then what
    `collectors` report."""
    registry = CollectorRegistry()
    if folder := os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        MultiProcessCollector(registry, folder)
    else:
        registry.register(_OWN)
    for collector in collectors:
        registry.register(collector)
    return generate_latest(registry)

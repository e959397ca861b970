"""The progress line an import shows on standard error: counts, rate and time left."""

import sys
import time
from typing import TextIO


def _duration(seconds: float) -> str:
    seconds = int(seconds)
    hours, rest = divmod(seconds, 3600)
    return f"{hours}:{rest // 60:02d}:{rest % 60:02d}" if hours else f"{rest // 60}:{rest % 60:02d}"


class Progress:
    def __init__(self, stream: TextIO | None = None) -> None:
        self.stream = stream or sys.stderr
        self.live = self.stream.isatty()
        # On a terminal the line redraws itself; in a log, a line every few seconds.
        self.every = 0.2 if self.live else 5.0
        self.started = time.monotonic()
        self.phase_started = self.started
        self.last = 0.0
        self.phase = ""

    def begin(self, phase: str) -> None:
        self.end()
        self.phase, self.phase_started, self.last = phase, time.monotonic(), 0.0

    def show(self, done: int, total: int, unit: str, items: int, item_name: str) -> None:
        now = time.monotonic()
        if now - self.last < self.every and done < total:
            return
        self.last = now
        elapsed = max(now - self.phase_started, 1e-6)
        rate = items / elapsed
        parts = [f"{self.phase:<8}"]
        if total:
            parts.append(f"{100 * done / total:5.1f}%")
            left = (total - done) * elapsed / done if done else 0.0
            eta = f"ETA {_duration(left)}" if done else "ETA ?"
        else:
            eta = ""
        size = (
            f"{done / 1e6:,.1f}/{total / 1e6:,.1f} MB" if unit == "bytes" else f"{done:,}/{total:,}"
        )
        parts += [size, f"{items:,} {item_name}", f"{rate:,.0f}/s", eta]
        text = " · ".join(p for p in parts if p)
        if self.live:
            self.stream.write("\r" + text.ljust(100))
        else:
            self.stream.write(text + "\n")
        self.stream.flush()

    def end(self) -> None:
        if self.live and self.phase:
            self.stream.write("\n")
            self.stream.flush()
        self.phase = ""

"""Progress of long work as one short line: what is being counted, done/total, the rate and the time left.

The stages already log counters ("gate rollouts 64/248", "eval seed 0: 12/48 items", "arm human-4 seed 0 step
3/8: ..."); `ProgressTracker` reads such messages, keeps a rate per kind of counter and estimates the rest.
`ProgressPrinter` decides how often a line is printed: on a terminal one line rewritten in place every couple of
seconds, in a log file (not a TTY) a new line at most every `log_interval` seconds and only when it changed, so
a CI log gets a heartbeat, not a flood.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

COUNTER = re.compile(r"(?P<kind>[^\n]*?)(?P<done>\d+)/(?P<total>\d+)(?P<unit> [a-z]+)?")


@dataclass(frozen=True)
class Reading:
    """One counter at one moment: `kind` names it ("gate rollouts"), rate is units per second."""

    kind: str
    unit: str
    done: int
    total: int
    rate: float | None
    eta_seconds: float | None

    def describe(self) -> str:
        text = f"{self.kind} {self.done}/{self.total}{self.unit}".strip()
        if self.rate:
            text += f", {self.rate:.2g}/s" if self.rate >= 1 else f", {1 / self.rate:.3g} s each"
        if self.eta_seconds is not None:
            text += f", ETA {format_seconds(self.eta_seconds)}"
        return text


def format_seconds(seconds: float) -> str:
    seconds = max(0, round(seconds))
    if seconds < 90:
        return f"{seconds}s"
    minutes, rest = divmod(seconds, 60)
    return f"{minutes}m{rest:02d}s" if minutes < 90 else f"{minutes // 60}h{minutes % 60:02d}m"


class ProgressTracker:
    """Counters seen in log messages, each with the time and count it was first seen at (for its rate)."""

    def __init__(self) -> None:
        self._first: dict[str, tuple[float, int]] = {}
        self.latest: Reading | None = None

    def observe(self, message: str, now: float) -> Reading | None:
        """Read a counter out of `message` (None if it has none, or done > total); the latest one is kept."""
        match = COUNTER.search(message.splitlines()[0] if message else "")
        if match is None:
            return None
        done, total = int(match["done"]), int(match["total"])
        if total <= 0 or done > total:
            return None
        kind = match["kind"].strip().rstrip(":").strip()
        start = self._first.setdefault(kind, (now, done))
        elapsed, counted = now - start[0], done - start[1]
        rate = counted / elapsed if elapsed > 0 and counted > 0 else None
        eta = (total - done) / rate if rate else None
        self.latest = Reading(kind, match["unit"] or "", done, total, rate, eta)
        return self.latest


class ProgressPrinter:
    """Prints heartbeat lines for a stage, throttled for the kind of output it writes to."""

    def __init__(
        self, write: Callable[[str], None], interactive: bool, log_interval: float = 30.0, tty_interval: float = 2.0
    ) -> None:
        self._write = write
        self.interactive = interactive
        self.interval = tty_interval if interactive else log_interval
        self._last_time: float | None = None
        self._last_text = ""
        self._open_line = False

    def update(self, label: str, elapsed: float, reading: Reading | None, now: float) -> bool:
        """Maybe print `label: elapsed, reading`; returns whether it printed."""
        if elapsed < self.interval or (self._last_time is not None and now - self._last_time < self.interval):
            return False
        text = f"   ... {label}: {format_seconds(elapsed)}" + (f", {reading.describe()}" if reading else "")
        if not self.interactive and reading is not None and reading == getattr(self, "_last_reading", None):
            return False  # nothing new to say in a log file
        self._last_time, self._last_text = now, text
        self._last_reading = reading
        if self.interactive:
            self._write("\r\033[K" + text)
            self._open_line = True
        else:
            self._write(text + "\n")
        return True

    def clear(self) -> None:
        """Wipe the in-place line before a regular line is printed (terminal only)."""
        if self._open_line:
            self._write("\r\033[K")
            self._open_line = False


__all__ = ["COUNTER", "ProgressPrinter", "ProgressTracker", "Reading", "format_seconds"]

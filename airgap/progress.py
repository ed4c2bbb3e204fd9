"""How far a long build step is, as lines a person can read in a terminal or a CI log.

In a terminal one status line is rewritten in place, at most once a second; anywhere else
(a CI log, a file) plain lines are written, at most one every CI_INTERVAL seconds, so the log
stays short. The Go step counts packages: `go build -v` names each package as it compiles
it, against what `go list -deps` says the programs need (cached packages are not compiled
again, so a warm build finishes below the total).
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TextIO

PREFIX = "[airgap]"
TTY_INTERVAL = 1.0
CI_INTERVAL = 20.0


def say(line: str) -> None:
    """Progress goes to stderr; stdout is a command's result (`python -m airgap build`)."""
    print(line, file=sys.stderr, flush=True)


def duration(seconds: float) -> str:
    """'4.5s', '2m10s', '1h02m'."""
    whole = int(seconds)
    if whole < 60:
        return f"{seconds:.1f}s"
    if whole < 3600:
        return f"{whole // 60}m{whole % 60:02d}s"
    return f"{whole // 3600}h{whole % 3600 // 60:02d}m"


def go_line(step: str, module: str, compiled: int, total: int, seconds: float) -> str:
    """'[airgap] Go programs 2/6: kubernetes, 812/2140 packages compiled, 2m10s'."""
    return (
        f"{PREFIX} Go programs {step}: {module}, "
        f"{min(compiled, total)}/{total} packages compiled, {duration(seconds)}"
    )


def compiled_package(line: str, wanted: frozenset[str]) -> str | None:
    """The package a line of `go build -v` output names, when it is one the build needs (other
    lines, such as compiler messages, are not progress)."""
    name = line.strip()
    return name if name in wanted else None


@dataclass
class Throttle:
    """Lets a report through at most once per `interval` seconds (the first one at once)."""

    interval: float
    last: float | None = None

    def due(self, now: float) -> bool:
        if self.last is not None and now - self.last < self.interval:
            return False
        self.last = now
        return True


@dataclass
class StatusLine:
    """Writes status lines: rewritten in place on a terminal, plain and throttled elsewhere."""

    stream: TextIO = field(default_factory=lambda: sys.stderr)
    clock: Callable[[], float] = time.monotonic
    tty: bool | None = None
    throttle: Throttle = field(init=False)
    _shown: bool = field(default=False, init=False)

    def __post_init__(self) -> None:
        if self.tty is None:
            self.tty = self.stream.isatty()
        self.throttle = Throttle(TTY_INTERVAL if self.tty else CI_INTERVAL)

    def update(self, text: str) -> None:
        if not self.throttle.due(self.clock()):
            return
        if self.tty:
            self.stream.write(f"\r\033[K{text}")
            self._shown = True
        else:
            self.stream.write(text + "\n")
        self.stream.flush()

    def finish(self) -> None:
        """End a line rewritten in place, so what follows starts on a line of its own."""
        if self._shown:
            self.stream.write("\n")
            self.stream.flush()
            self._shown = False


@dataclass
class GoProgress:
    """Counts the packages a `go build -v` compiled, reporting through a StatusLine."""

    step: str  # e.g. "2/6"
    module: str
    wanted: frozenset[str]
    status: StatusLine
    started: float = field(default=0.0)
    compiled: set[str] = field(default_factory=set)

    def __post_init__(self) -> None:
        self.started = self.status.clock()

    def line(self) -> str:
        seconds = self.status.clock() - self.started
        return go_line(self.step, self.module, len(self.compiled), len(self.wanted), seconds)

    def close(self) -> None:
        """The last count, as a plain line whatever the throttle says."""
        self.status.finish()
        self.status.stream.write(self.line() + "\n")
        self.status.stream.flush()

    def feed(self, lines: Iterable[str]) -> None:
        for text in lines:
            package = compiled_package(text, self.wanted)
            if package:
                self.compiled.add(package)
                self.status.update(self.line())

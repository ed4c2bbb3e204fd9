"""What the suite's slow set-up is doing (creating the cluster, loading images) and how long
it took, as plain lines on the terminal while pytest captures the tests' output."""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext

import pytest

PREFIX = "[stsconf]"


def started_line(what: str) -> str:
    return f"{PREFIX} {what} ..."


def finished_line(what: str, seconds: float, ok: bool = True) -> str:
    return f"{PREFIX} {what}: {'done' if ok else 'failed'} in {seconds:.1f}s"


def write_line(config: pytest.Config, text: str) -> None:
    """One line on the terminal now, past pytest's output capture."""
    reporter = config.pluginmanager.getplugin("terminalreporter")
    capture = config.pluginmanager.getplugin("capturemanager")
    worker = getattr(config, "workerinput", {}).get("workerid")
    with capture.global_and_fixture_disabled() if capture else nullcontext():
        if worker or reporter is None:  # an xdist worker's stderr is the run's terminal
            print(f"{text} ({worker})" if worker else text, file=sys.stderr, flush=True)
        else:
            reporter.write_line(text)


@contextmanager
def setup_step(config: pytest.Config, what: str) -> Iterator[None]:
    """Say that `what` starts, then that it finished (or failed) and after how long."""
    write_line(config, started_line(what))
    started = time.monotonic()
    ok = False
    try:
        yield
        ok = True
    finally:
        write_line(config, finished_line(what, time.monotonic() - started, ok))

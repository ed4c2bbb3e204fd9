"""A suite run in a subprocess is stopped when it goes silent, not when it grows long: under
load a whole run takes longer, but a run that prints nothing for a long time has stopped."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

from stsconf.selftest import REPO, STOP_SECONDS, run_suite, run_until_silent, wait_while_printing

WEB = REPO / "manifests" / "web.yaml"
PLUGIN = ["-p", "stsconf.plugin"]  # a target outside the repository does not load its conftest

HANGS = """
import threading

def test_hangs():
    threading.Event().wait()
"""

def test_a_silent_run_is_stopped_and_says_why(tmp_path: Path) -> None:
    target = tmp_path / "test_hang.py"
    target.write_text(HANGS)
    run = run_suite(WEB, tmp_path / "out", PLUGIN, silent_for=3.0, target=target)
    assert run.returncode == -1
    assert "the run printed nothing for 3s" in run.output


def test_a_run_longer_than_the_silence_limit_that_keeps_printing_ends(tmp_path: Path) -> None:
    # a line a second for 6 s, under a limit of 4 s of silence (a pytest child would spend
    # most of such a limit starting up on a loaded machine)
    log = tmp_path / "output.log"
    with log.open("wb") as sink:
        child = subprocess.Popen(
            ["sh", "-c", "for i in 1 2 3 4 5 6; do echo $i; sleep 1; done"], stdout=sink
        )
        assert wait_while_printing(child, log, silent_for=4.0) == 0
    assert log.read_text().split() == ["1", "2", "3", "4", "5", "6"]


def test_a_silent_run_is_interrupted_even_when_this_process_ignores_ctrl_c(tmp_path: Path) -> None:
    # as in a script's background job (`./run all &`, CI): SIGINT ignored, and inherited
    child = "import time; print('asleep', flush=True); time.sleep(600)"  # allow-sleep: stopped
    sleeper = [sys.executable, "-c", child]
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    started = time.monotonic()
    try:
        returncode, output = run_until_silent(sleeper, tmp_path / "output.log", silent_for=3.0)
    finally:
        signal.signal(signal.SIGINT, previous)
    assert returncode == -1
    assert "KeyboardInterrupt" in output, output
    assert time.monotonic() - started < STOP_SECONDS / 2

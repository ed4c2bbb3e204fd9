"""A suite run in a subprocess is stopped when it goes silent, not when it grows long: under
load a whole run takes longer, but a run that prints nothing for a long time has stopped."""

from __future__ import annotations

from pathlib import Path

from stsconf.selftest import REPO, run_suite

WEB = REPO / "manifests" / "web.yaml"
PLUGIN = ["-p", "stsconf.plugin"]  # a target outside the repository does not load its conftest

HANGS = """
import threading

def test_hangs():
    threading.Event().wait()
"""

SLOW_BUT_PRINTING = """
import threading
import pytest

@pytest.mark.parametrize("step", range(3))
def test_step(step):
    threading.Event().wait({seconds})
"""


def test_a_silent_run_is_stopped_and_says_why(tmp_path: Path) -> None:
    target = tmp_path / "test_hang.py"
    target.write_text(HANGS)
    run = run_suite(WEB, tmp_path / "out", PLUGIN, silent_for=3.0, target=target)
    assert run.returncode == -1
    assert "the run printed nothing for 3s" in run.output


def test_a_run_longer_than_the_silence_limit_that_keeps_printing_ends(tmp_path: Path) -> None:
    target = tmp_path / "test_slow.py"
    target.write_text(SLOW_BUT_PRINTING.format(seconds=6.0))  # 18 s in all, a dot each 6 s
    run = run_suite(WEB, tmp_path / "out", PLUGIN, silent_for=15.0, target=target)
    assert run.returncode == 0, run.output
    assert len(run.with_result("passed")) == 3

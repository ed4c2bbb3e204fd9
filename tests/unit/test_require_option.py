"""--require with an id it cannot take is a usage error naming the ids it takes."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from stsconf.selftest import CONFORMANCE, run_until_silent
from tests.unit.subprocesses import SILENT_FOR

USAGE_ERROR = 4  # pytest's exit code for a usage error


def collect(tmp_path: Path, *args: str) -> tuple[int, str]:
    command = [sys.executable, "-m", "pytest", str(CONFORMANCE), "--collect-only", "-q",
               "-p", "no:cacheprovider", f"--junitxml={tmp_path / 'junit.xml'}",
               f"--html={tmp_path / 'report.html'}", *args]  # fmt: skip
    return run_until_silent(command, tmp_path / "output.log", SILENT_FOR)


@pytest.mark.parametrize(
    ("value", "says"),
    [
        ("ordered_start", "--require: unknown property 'ordered_start'"),
        ("ordered_startup,stable_hostnames", "--require: stable_hostnames has no opt-out"),
    ],
)
def test_require_refuses_ids_without_opt_out(tmp_path: Path, value: str, says: str) -> None:
    code, output = collect(tmp_path, f"--require={value}")
    assert code == USAGE_ERROR, output
    assert "Traceback" not in output
    [line] = [line for line in output.splitlines() if says in line]
    assert "properties a manifest can opt out of: ordered_startup, scale_up_order" in line


def test_require_takes_the_opt_outs(tmp_path: Path) -> None:
    code, output = collect(tmp_path, "--require=ordered_startup,scale_down_order",
                   "--require", "pvcs_kept_after_scale_down")  # fmt: skip
    assert code == 0, output

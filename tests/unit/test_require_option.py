"""--require with an id it cannot take is a usage error naming the ids it takes."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from stsconf.selftest import CONFORMANCE, REPO

USAGE_ERROR = 4  # pytest's exit code for a usage error


def collect(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "pytest", str(CONFORMANCE), "--collect-only", "-q",
               "-p", "no:cacheprovider", f"--junitxml={tmp_path / 'junit.xml'}",
               f"--html={tmp_path / 'report.html'}", *args]  # fmt: skip
    return subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=120,
                          check=False)  # fmt: skip


@pytest.mark.parametrize(
    ("value", "says"),
    [
        ("ordered_start", "--require: unknown property 'ordered_start'"),
        ("ordered_startup,stable_hostnames", "--require: stable_hostnames has no opt-out"),
    ],
)
def test_require_refuses_ids_without_opt_out(tmp_path: Path, value: str, says: str) -> None:
    done = collect(tmp_path, f"--require={value}")
    output = done.stdout + done.stderr
    assert done.returncode == USAGE_ERROR, output
    assert "Traceback" not in output
    [line] = [line for line in output.splitlines() if says in line]
    assert "properties a manifest can opt out of: ordered_startup, scale_up_order" in line


def test_require_takes_the_opt_outs(tmp_path: Path) -> None:
    done = collect(tmp_path, "--require=ordered_startup,scale_down_order",
                   "--require", "pvcs_kept_after_scale_down")  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr

"""The end-of-session check: a registry password in test output or a report fails the run,
and the check's own message never repeats it. (Runs pytest on a tiny test file.)"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from stsconf.selftest import run_until_silent
from tests.unit.subprocesses import SILENT_FOR

REPO = Path(__file__).resolve().parents[2]
PASSWORD = "leak-check-pw-3f9a"

PRINTS_THE_PASSWORD = """
import os

def test_prints_the_password():
    print("the password is", os.environ["STSCONF_REGISTRY_PASSWORD"])
    assert False
"""

KEEPS_QUIET = """
def test_keeps_quiet():
    print("nothing secret here")
"""


def run_pytest(tmp_path: Path, test_source: str) -> tuple[int, str]:
    (tmp_path / "pytest.ini").write_text("[pytest]\n")
    (tmp_path / "test_sample.py").write_text(test_source)
    command = [
        sys.executable, "-m", "pytest", "-p", "stsconf.plugin", "-p", "no:cacheprovider",
        "--registry-server", "team-registry:5000", "--registry-user", "bob",
        f"--junitxml={tmp_path / 'junit.xml'}", f"--html={tmp_path / 'report.html'}",
        "test_sample.py",
    ]  # fmt: skip
    env = {**os.environ, "PYTHONPATH": str(REPO), "STSCONF_REGISTRY_PASSWORD": PASSWORD}
    return run_until_silent(command, tmp_path / "output.log", SILENT_FOR, cwd=tmp_path, env=env)


def last_line(output: str) -> str:
    return output.strip().splitlines()[-1]


def test_a_password_in_output_and_reports_fails_the_run_without_repeating_it(
    tmp_path: Path,
) -> None:
    code, output = run_pytest(tmp_path, PRINTS_THE_PASSWORD)
    verdict = last_line(output)
    assert code == 1
    assert verdict.startswith("stsconf: a registry password appears in:")
    assert "test_sample.py::test_prints_the_password (Captured stdout call)" in verdict
    assert str(tmp_path / "report.html") in verdict
    assert PASSWORD not in verdict


def test_a_clean_run_says_where_it_looked(tmp_path: Path) -> None:
    code, output = run_pytest(tmp_path, KEEPS_QUIET)
    assert code == 0, output
    assert last_line(output) == (
        f"stsconf: no registry password in test output or in {tmp_path / 'report.html'}, "
        f"{tmp_path / 'junit.xml'}"
    )
    assert PASSWORD not in output

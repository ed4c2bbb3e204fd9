"""Running the conformance suite against a broken manifest and reading what it reported."""

from __future__ import annotations

import subprocess
import sys
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
CONFORMANCE = REPO / "tests" / "conformance"


@dataclass(frozen=True)
class Outcome:
    name: str
    result: str  # passed, failed, error or skipped
    message: str


@dataclass(frozen=True)
class SuiteRun:
    command: tuple[str, ...]
    returncode: int
    output: str
    outcomes: dict[str, Outcome]

    def failed(self) -> set[str]:
        return {name for name, o in self.outcomes.items() if o.result == "failed"}

    def with_result(self, result: str) -> set[str]:
        return {name for name, o in self.outcomes.items() if o.result == result}


def suite_command(manifest: Path, out_dir: Path, extra: list[str]) -> list[str]:
    return [
        sys.executable, "-m", "pytest", str(CONFORMANCE),
        "--manifest", str(manifest),
        f"--junitxml={out_dir / 'junit.xml'}",
        f"--html={out_dir / 'report.html'}",
        "-p", "no:cacheprovider",
        "-q",
        *extra,
    ]  # fmt: skip


def run_suite(manifest: Path, out_dir: Path, extra: list[str], timeout: float) -> SuiteRun:
    out_dir.mkdir(parents=True, exist_ok=True)
    command = suite_command(manifest, out_dir, extra)
    try:
        done = subprocess.run(
            command, cwd=REPO, capture_output=True, text=True, timeout=timeout, check=False
        )
        returncode, output = done.returncode, done.stdout + done.stderr
    except subprocess.TimeoutExpired as error:
        returncode, output = -1, f"suite did not finish within {timeout:.0f}s: {error.stdout!r}"
    junit = out_dir / "junit.xml"
    outcomes = read_junit(junit.read_text()) if junit.exists() else {}
    return SuiteRun(tuple(command), returncode, output, outcomes)


def read_junit(text: str) -> dict[str, Outcome]:
    """Outcome per test function name (the property id is the name without `test_`)."""
    outcomes: dict[str, Outcome] = {}
    for case in ET.fromstring(text).iter("testcase"):
        name = case.get("name", "")
        result, message = "passed", ""
        for tag in ("failure", "error", "skipped"):
            element = case.find(tag)
            if element is not None:
                result = {"failure": "failed"}.get(tag, tag)
                message = element.get("message") or element.text or ""
                break
        previous = outcomes.get(name)
        if previous is None or previous.result == "passed":
            # a teardown error after a pass comes as a second entry: the worse one wins
            outcomes[name] = Outcome(name, result, message)
    return outcomes

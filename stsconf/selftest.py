"""Running the conformance suite against a broken manifest and reading what it reported."""

from __future__ import annotations

import html
import json
import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
CONFORMANCE = REPO / "tests" / "conformance"
PROPERTIES = frozenset({
    "ordered_startup", "stable_hostnames", "dns_records", "pvc_per_pod",
    "data_survives_pod_deletion", "scale_up_order", "scale_down_order",
    "pvcs_kept_after_scale_down", "cleanup_keeps_pvcs",
})  # fmt: skip
STORAGE_PROPERTIES = frozenset({
    "pvc_per_pod", "data_survives_pod_deletion", "pvcs_kept_after_scale_down",
    "cleanup_keeps_pvcs",
})  # fmt: skip


@dataclass(frozen=True)
class Outcome:
    name: str
    result: str  # passed, failed, error or skipped
    message: str  # shortened by pytest when long
    text: str = ""  # the full report


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
        result, message, text = "passed", "", ""
        for tag in ("failure", "error", "skipped"):
            element = case.find(tag)
            if element is not None:
                result = {"failure": "failed"}.get(tag, tag)
                message = element.get("message") or element.text or ""
                text = element.text or message
                break
        previous = outcomes.get(name)
        if previous is None or previous.result == "passed":
            # a teardown error after a pass comes as a second entry: the worse one wins
            outcomes[name] = Outcome(name, result, message, text)
    return outcomes


Table = list[dict[str, str]]


def report_tables(report_html: str, test_name: str) -> list[Table]:
    """The tables a test's observations left in a pytest-html report, as rows of
    {column header: cell text}."""
    blob = re.search(r'data-jsonblob="([^"]*)"', report_html)
    if blob is None:
        return []
    tests = json.loads(html.unescape(blob.group(1))).get("tests") or {}
    tables: list[Table] = []
    for test_id, reports in tests.items():
        if test_id.rsplit("::", 1)[-1] != test_name:
            continue
        for report in reports:
            for extra in report.get("extras") or []:
                if extra.get("format_type") == "html":
                    tables += html_tables(str(extra.get("content", "")))
    return tables


def html_tables(fragment: str) -> list[Table]:
    reader = _TableReader()
    reader.feed(fragment)
    return [
        [dict(zip(header, row, strict=False)) for row in rows]
        for header, *rows in reader.tables
        if header
    ]


class _TableReader(HTMLParser):
    """Collects each <table>'s rows of cell texts (the header row first)."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: list[list[list[str]]] = []
        self._cell: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: object) -> None:
        if tag == "table":
            self.tables.append([])
        elif tag == "tr" and self.tables:
            self.tables[-1].append([])
        elif tag in ("td", "th"):
            self._cell = []

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "th") and self._cell is not None and self.tables and self.tables[-1]:
            self.tables[-1][-1].append("".join(self._cell).strip())
            self._cell = None

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)

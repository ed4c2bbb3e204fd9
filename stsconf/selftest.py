"""Running the conformance suite against a broken manifest and reading what it reported."""

from __future__ import annotations

import html
import json
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path
from typing import TYPE_CHECKING

from stsconf.access import resources
from stsconf.model.availability import NO_CLIENT_READ
from stsconf.report.junit import Outcome, read_junit
from stsconf.report.matrix import GUARANTEES

if TYPE_CHECKING:
    from stsconf.settings import Settings

REPO = Path(__file__).resolve().parent.parent
CONFORMANCE = resources.CONFORMANCE  # tests/conformance, or its copy in the installed package
# The properties a run of the whole suite leaves out (see suite_command): the lifecycle test
# (test_lifecycle.py) has budgets of its own, the disruption tests (test_disruption.py) need
# several nodes. tests/unit/test_matrix.py checks these sets against the test files.
LIFECYCLE_PROPERTIES = frozenset({"lifecycle"})
DISRUPTION_PROPERTIES = frozenset({
    "node_restart_keeps_pods", "at_most_one_per_identity", "replacement_follows_its_volume",
    "available_during_drain",
})  # fmt: skip
# What a run of the whole suite asserts: every property of the matrix but those.
PROPERTIES = (
    frozenset(g.property_id for g in GUARANTEES) - LIFECYCLE_PROPERTIES - DISRUPTION_PROPERTIES
)
# The nine guarantees of the article (tests/conformance/test_statefulset_guarantees.py).
CORE_PROPERTIES = frozenset({
    "ordered_startup", "stable_hostnames", "dns_records", "pvc_per_pod",
    "data_survives_pod_deletion", "scale_up_order", "scale_down_order",
    "pvcs_kept_after_scale_down", "cleanup_keeps_pvcs",
})  # fmt: skip
STORAGE_PROPERTIES = frozenset({
    "pvc_per_pod", "data_survives_pod_deletion", "pvcs_kept_after_scale_down",
    "cleanup_keeps_pvcs", "pvc_retention_policy",
})  # fmt: skip
# What fails when pods lose their data: the storage properties, and the rolling update (each
# pod keeps its data through its replacement).
DATA_LOSS_PROPERTIES = STORAGE_PROPERTIES | {"rolling_update_order"}
# Properties a cluster may not offer, by the feature gate they need: where the gate is off
# (MaxUnavailableStatefulSet on Kubernetes 1.34) their tests skip, naming it.
FEATURE_GATED = {"max_unavailable": "MaxUnavailableStatefulSet"}
# Properties a client checks by reading the data from another pod: a manifest that declares no
# way to (annotation stsconf.io/probe-http-path or probe-client-read) has them skipped, saying so.
CLIENT_PROPERTIES = frozenset({
    "available_during_update", "available_during_partitioned_update", "no_stale_reads",
    "available_during_rollback", "available_during_scaling", "available_during_pod_deletion",
})  # fmt: skip
# How long a run stopped for its silence may take to remove what it created.
STOP_SECONDS = 180.0
# Starts a command with Ctrl-C (SIGINT) back to its default, so that `stop` can interrupt it:
# a process started in the background by a non-interactive shell (`cmd &` in a script, nohup,
# CI) ignores SIGINT, its children inherit that, and a Python child then never sees the
# KeyboardInterrupt: it ran on to STOP_SECONDS and was killed, its namespaces left behind.
INTERRUPTIBLE = (
    sys.executable, "-c",
    "import os, signal, sys; signal.signal(signal.SIGINT, signal.SIG_DFL); "
    "os.execvp(sys.argv[1], sys.argv[1:])",
)  # fmt: skip


@dataclass(frozen=True)
class SuiteRun:
    command: tuple[str, ...]
    returncode: int
    output: str
    outcomes: dict[str, Outcome]
    report: Path  # its HTML report (absent when the run broke off before writing it)

    def failed(self) -> set[str]:
        return {name for name, o in self.outcomes.items() if o.result == "failed"}

    def with_result(self, result: str) -> set[str]:
        return {name for name, o in self.outcomes.items() if o.result == result}

    def skipped_without_client_read(self) -> set[str]:
        """The client properties this run skipped, saying the manifest declares no client read."""
        return {
            name
            for name in CLIENT_PROPERTIES
            if (o := self.outcomes.get(f"test_{name}")) and o.result == "skipped"
            and NO_CLIENT_READ in o.message
        }  # fmt: skip

    def skipped_for_gates(self) -> set[str]:
        """The feature-gated properties this run skipped, each naming the gate it needs."""
        return {
            name
            for name, gate in FEATURE_GATED.items()
            if (o := self.outcomes.get(f"test_{name}")) and o.result == "skipped"
            and gate in o.message
        }  # fmt: skip


LIFECYCLE = CONFORMANCE / "test_lifecycle.py"


def only(properties: Iterable[str]) -> list[str]:
    """Options that run just these properties' tests (a broken manifest's self-test runs the
    nine and what it breaks, not all thirty: that would take minutes each)."""
    return ["-k", " or ".join(f"test_{p}" for p in sorted(properties))]


def same_cluster_options(kubeconfig: Path, settings: Settings, airgap_file: Path) -> list[str]:
    """Options for a suite run in a subprocess to test this run's cluster as this run does:
    its kubeconfig, images and timeouts, and with --airgap the build's images standing in
    for public ones (busybox: the probe image)."""
    airgap = (
        [f"--airgap-file={airgap_file}", "--airgap", f"--kubernetes={settings.airgap.minor}"]
        if settings.airgap
        else []
    )
    return [
        f"--existing-kubeconfig={kubeconfig}",
        f"--image={settings.image}",
        f"--probe-image={settings.probe_image}",
        f"--pod-timeout={settings.timeouts.pods}",
        f"--dns-timeout={settings.timeouts.dns}",
        *airgap,
    ]


def suite_command(
    manifest: Path, out_dir: Path, extra: list[str], target: Path = CONFORMANCE
) -> list[str]:
    """The suite's command line; on the whole suite, without the lifecycle test, which has a
    self-test of its own (tests/selftest/test_lifecycle_shrinks.py), and without the
    disruption tests (they restart nodes: never several runs at once; see tests/unit/
    test_node_loss.py for their checkers on violating streams)."""
    skip_lifecycle = ["-k", "not test_lifecycle and not test_disruption"]  # `extra`'s -k wins
    return [
        sys.executable, "-m", "pytest", str(target),
        "--manifest", str(manifest),
        f"--junitxml={out_dir / 'junit.xml'}",
        f"--html={out_dir / 'report.html'}",
        "-p", "no:cacheprovider",
        "-n", "0",  # the self-tests start several runs at once: each runs serially
        *(skip_lifecycle if target == CONFORMANCE else []),
        "-q",
        *extra,
    ]  # fmt: skip


def run_suite(
    manifest: Path,
    out_dir: Path,
    extra: list[str],
    silent_for: float,
    target: Path = CONFORMANCE,
) -> SuiteRun:
    """Run the suite to its end, or until it has printed nothing for `silent_for` seconds."""
    out_dir.mkdir(parents=True, exist_ok=True)
    command = suite_command(manifest, out_dir, extra, target)
    returncode, output = run_until_silent(command, out_dir / "output.log", silent_for)
    junit = out_dir / "junit.xml"
    outcomes = read_junit(junit.read_text()) if junit.exists() else {}
    return SuiteRun(
        command=tuple(command),
        returncode=returncode,
        output=output,
        outcomes=outcomes,
        report=out_dir / "report.html",
    )


def run_until_silent(
    command: Sequence[str],
    log: Path,
    silent_for: float,
    cwd: Path = REPO,
    env: Mapping[str, str] | None = None,
) -> tuple[int, str]:
    """Run the command to its end, or until it has printed nothing for `silent_for` seconds
    (exit code -1 then); its output and errors, as printed, go to `log`.

    Every wait of the suite ends at a timeout of its own, so a run always ends; how long it
    takes grows with the machine's load (several runs at once on 2 cores). So the guard is on
    silence, a run that stopped making progress, not on its length."""
    with log.open("wb") as sink:
        child = subprocess.Popen(
            [*INTERRUPTIBLE, *command], cwd=cwd, stdout=sink, stderr=subprocess.STDOUT,
            env={**(env or os.environ), "PYTHONUNBUFFERED": "1"},  # each dot logged as printed
        )  # fmt: skip
        returncode = wait_while_printing(child, log, silent_for)
    output = log.read_text(errors="replace")
    if returncode is None:
        return -1, output + f"\n[stsconf] stopped: the run printed nothing for {silent_for:.0f}s"
    return returncode, output


def wait_while_printing(child: subprocess.Popen[bytes], log: Path, silent_for: float) -> int | None:
    """The child's exit code; None when it printed nothing to `log` (created as it started) for
    `silent_for` seconds. It is interrupted then, as Ctrl-C would, so that it removes its
    namespaces, and killed if that takes longer than STOP_SECONDS."""
    while True:
        quiet = time.time() - log.stat().st_mtime
        try:
            return child.wait(timeout=max(silent_for - quiet, 0.0))
        except subprocess.TimeoutExpired:
            if time.time() - log.stat().st_mtime >= silent_for:
                stop(child)
                return None


def stop(child: subprocess.Popen[bytes]) -> None:
    child.send_signal(signal.SIGINT)
    try:
        child.wait(timeout=STOP_SECONDS)
    except subprocess.TimeoutExpired:
        child.kill()
        child.wait()


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

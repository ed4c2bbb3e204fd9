"""Bench: the suite serial and parallel on one warm cluster, and per property its seconds, the
pods it started and each mode's wall time, as a Markdown table (the README's).

    python -m stsconf.bench [--workers W] [--target PATH] [--out DIR] [-- PYTEST OPTIONS]

    python -m stsconf.bench -- --airgap
    python -m stsconf.bench --workers 6 -- --existing-kubeconfig ~/.kube/config

First a warm-up, unless --existing-kubeconfig: tests/cluster/test_cluster_basics.py gets the
kind cluster --cluster-name (default stsconf-bench) ready, creating it when it does not exist.
Then the target runs twice on that cluster: serially (-n 0), then with W workers (-n W; default
auto, the suite's own default). The target is tests/conformance with -k "not test_disruption"
(the one-node properties and the lifecycle test); --target PATH replaces both, a -k after
`--` the selection. While each run goes, the bench watches the suite's namespaces and the
`Scheduled` events of pods: they say which pods each test started (a namespace's
stsconf/purpose names the test or module that made it; the JUnit properties started_at and
ended_at give each test's window). The run deletes its namespaces as always.

The table (one row per test function, its parametrized cases summed) is printed and written to
--out/bench.md; each run's JUnit file and HTML report stay in --out/serial/ and
--out/parallel/, the warm-up's in --out/warm-up/. A kind cluster the bench created is deleted at
the end, also after a failure or Ctrl-C (unless --keep-cluster); one it found is kept. Exits 0
when both runs passed, else with the first non-zero exit status.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import time
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from stsconf.access.airgap import AirgapError
from stsconf.access.namespaces import MANAGED_BY, SUITE
from stsconf.access.rest import Kube
from stsconf.access.watching import Recorder
from stsconf.model.timeline import api_time
from stsconf.report.junit import Case, read_cases
from stsconf.report_hooks import WINDOW
from stsconf.run_plugin import DEFAULT_WORKERS
from stsconf.selftest import CONFORMANCE, REPO
from stsconf.suite_options import one_cluster_for_runs, option_value, without_option

DEFAULT_CLUSTER = "stsconf-bench"
DEFAULT_OUT = Path("reports") / "bench"
DEFAULT_SELECTION = "not test_disruption"  # the one-node properties and the lifecycle test
WARM_UP = REPO / "tests" / "cluster" / "test_cluster_basics.py"
PURPOSE = f"{SUITE}/purpose"  # a namespace's annotation: the node id of what created it
SEQUENCE = re.compile(r" #\d+$")  # the lifecycle test's purposes: "<node id> #<sequence>"
SCHEDULED = "reason=Scheduled,involvedObject.kind=Pod"
STAMP_SLACK = 1.0  # seconds: an event's firstTimestamp has whole seconds only
UNATTRIBUTED = ""  # the key of pods no test case could be found for
RANK = ("skipped", "passed", "failed", "error")  # of a function's cases, the last one found wins
MODES = ("serial", "parallel")

Obj = dict[str, Any]


# The command lines


@dataclass(frozen=True)
class BenchCluster:
    """The cluster both runs test: kind's --cluster-name, or that of --existing-kubeconfig."""

    kubeconfig: Path
    options: tuple[str, ...]  # what each run adds to test it
    kind_name: str | None = None  # None: an existing cluster, never created nor deleted here


def bench_cluster(options: Sequence[str]) -> BenchCluster:
    existing = option_value(options, "--existing-kubeconfig")
    if existing is not None:
        return BenchCluster(REPO / Path(existing).expanduser(), ())
    name = option_value(options, "--cluster-name") or DEFAULT_CLUSTER
    kubeconfig = option_value(options, "--kubeconfig") or Path(".pytest-kind", name, "kubeconfig")
    reuse = ("--reuse-cluster", "--keep-cluster", f"--cluster-name={name}")
    return BenchCluster(REPO / kubeconfig, reuse, name)


def reports(out: Path, step: str) -> list[str]:
    return [f"--junitxml={out / step / 'junit.xml'}", f"--html={out / step / 'report.html'}"]


def warm_up_command(name: str, options: Sequence[str], out: Path) -> list[str]:
    """The cluster tests on kind's cluster `name`: created unless it exists, kept (a -k of
    the options is for the runs, not for these)."""
    return [
        sys.executable, "-m", "pytest", str(WARM_UP),
        "-p", "no:cacheprovider", "-n", "0",
        f"--cluster-name={name}", "--keep-cluster", "--reuse-cluster",
        *without_option(options, "-k"),
        *reports(out, "warm-up"),
    ]  # fmt: skip


def target_args(target: str | None, options: Sequence[str]) -> list[str]:
    """What the runs test: --target, else the conformance tests but the disruption ones
    (a -k of the options selects instead)."""
    if target is not None:
        return [target]
    selection = [] if option_value(options, "-k") is not None else ["-k", DEFAULT_SELECTION]
    return [str(CONFORMANCE), *selection]


def run_command(
    mode: str, workers: str, target: Sequence[str], options: Sequence[str], cluster: BenchCluster,
    out: Path,
) -> list[str]:  # fmt: skip
    """One timed run: `workers` workers ("0": serial)."""
    return [
        sys.executable, "-m", "pytest", *target, *options, *cluster.options,
        "-p", "no:cacheprovider", *reports(out, mode),
        "-n", workers,
    ]  # fmt: skip


def workers_option(text: str) -> str:
    if text == "auto" or (text.isdigit() and int(text) > 0):
        return text
    raise argparse.ArgumentTypeError(f"'auto' or a number above zero; got {text!r}")


def workers_label(workers: str) -> str:
    return f"{DEFAULT_WORKERS}, auto" if workers == "auto" else workers


# The pods each test started


@dataclass(frozen=True)
class Scheduled:
    """A pod the scheduler placed in a namespace of the suite."""

    purpose: str  # the namespace's stsconf/purpose: the node id of the test or module
    pod: str  # its uid
    at: float  # epoch seconds


def scheduled(purpose: str, event: Obj) -> Scheduled | None:
    """The pod placement a `Scheduled` event tells of; None for any other event."""
    involved = event.get("involvedObject") or {}
    at = api_time(event.get("eventTime") or event.get("firstTimestamp"))
    if event.get("reason") != "Scheduled" or involved.get("kind") != "Pod" or at is None:
        return None
    pod = involved.get("uid") or involved.get("name", "")
    return Scheduled(purpose, pod, at)


def junit_address(nodeid: str) -> tuple[str, str]:
    """Where pytest's JUnit file puts a node id: its classname and name ("" for a module)."""
    path, sep, rest = nodeid.partition("::")
    module = re.sub(r"\.py$", "", path).replace("/", ".")
    if not sep:
        return module, ""
    names, bracket, params = rest.partition("[")
    *classes, function = names.split("::")
    return ".".join([module, *classes]), function + bracket + params


def case_key(case: Case) -> str:
    return f"{case.classname}::{case.name}"


def window(case: Case) -> tuple[float, float] | None:
    """When the test's set-up began and its teardown ended (epoch seconds), when recorded."""
    start, end = (case.properties.get(WINDOW[when]) for when in ("setup", "teardown"))
    return (float(start), float(end)) if start and end else None


def distance(span: tuple[float, float], at: float) -> float:
    return max(span[0] - at, at - span[1], 0.0)


def case_of(pod: Scheduled, cases: Sequence[Case]) -> Case | None:
    """The test case that started the pod: the one its namespace's purpose names, or of a
    module's namespace, the test of that module whose window holds the pod's time."""
    classname, name = junit_address(SEQUENCE.sub("", pod.purpose))
    if name:
        return next((c for c in cases if (c.classname, c.name) == (classname, name)), None)
    timed = [
        (distance(span, pod.at), index, case)
        for index, case in enumerate(cases)
        if (case.classname == classname or case.classname.startswith(classname + "."))
        and (span := window(case))
    ]
    best = min(timed, default=None, key=lambda found: found[:2])
    return best[2] if best and best[0] <= STAMP_SLACK else None


def pods_per_test(pods: Iterable[Scheduled], cases: Sequence[Case]) -> dict[str, int]:
    """The distinct pods each test case started, by case_key (under UNATTRIBUTED: the pods no
    test case was found for)."""
    found: dict[str, set[str]] = defaultdict(set)
    for pod in pods:
        case = case_of(pod, cases)
        found[case_key(case) if case else UNATTRIBUTED].add(pod.pod)
    return {key: len(uids) for key, uids in found.items()}


# The table


@dataclass(frozen=True)
class Row:
    property_id: str  # the test function's name without `test_`
    serial: float | None  # seconds, its cases summed; None: not in that run
    parallel: float | None
    pods: int | None  # started in the serial run
    serial_outcome: str
    parallel_outcome: str

    def cells(self) -> list[str]:
        return [
            f"`{self.property_id}`",
            _seconds(self.serial),
            _seconds(self.parallel),
            "-" if self.pods is None else str(self.pods),
            f"{self.serial_outcome}/{self.parallel_outcome}",
        ]


@dataclass(frozen=True)
class Totals:
    serial_wall: float  # seconds
    parallel_wall: float
    workers: str  # as the parallel run's -n said it, e.g. "4, auto"
    load_start: tuple[float, float, float]  # os.getloadavg() before the serial run
    load_end: tuple[float, float, float]  # and after the parallel one
    unattributed: int = 0  # pods of the serial run no test case was found for


def _seconds(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}"


def by_function(cases: Iterable[Case]) -> dict[str, list[Case]]:
    """The cases of each test function (parameters dropped), in the order they came."""
    functions: dict[str, list[Case]] = {}
    for case in cases:
        functions.setdefault(case.name.partition("[")[0], []).append(case)
    return functions


def outcome(cases: Sequence[Case]) -> str:
    """The worst result of a function's cases (error, failed, passed, skipped); `-`: none."""
    return max((c.result for c in cases), key=RANK.index, default="-")


def rows(serial: Sequence[Case], parallel: Sequence[Case], pods: Mapping[str, int]) -> list[Row]:
    """One row per test function of either run, in the order the serial run had them."""
    ran, spread = by_function(serial), by_function(parallel)
    return [
        Row(
            property_id=name.removeprefix("test_"),
            serial=sum(c.seconds for c in ran[name]) if name in ran else None,
            parallel=sum(c.seconds for c in spread[name]) if name in spread else None,
            pods=sum(pods.get(key, 0) for key in {case_key(c) for c in ran[name]})
            if name in ran
            else None,
            serial_outcome=outcome(ran.get(name, [])),
            parallel_outcome=outcome(spread.get(name, [])),
        )
        for name in {**ran, **spread}
    ]


COLUMNS = ("property", "serial s", "parallel s", "pods started", "outcome serial/parallel")


def markdown(table: Sequence[Row], totals: Totals) -> str:
    def line(cells: Sequence[str]) -> str:
        return "| " + " | ".join(cells) + " |"

    serial = sum(row.serial or 0.0 for row in table)
    parallel = sum(row.parallel or 0.0 for row in table)
    speed_up = totals.serial_wall / totals.parallel_wall if totals.parallel_wall else 0.0
    lines = [
        line(COLUMNS),
        line(["---", "---:", "---:", "---:", "---"]),
        *(line(row.cells()) for row in table),
        "",
        f"- wall time serial (-n 0): {totals.serial_wall:.0f} s",
        f"- wall time parallel (-n {totals.workers}): {totals.parallel_wall:.0f} s",
        f"- sum of the test durations: serial {serial:.0f} s, parallel {parallel:.0f} s",
        f"- speed-up (serial wall time / parallel wall time): {speed_up:.2f}x",
        f"- load average (1, 5, 15 min): {_load(totals.load_start)} before the serial run, "
        f"{_load(totals.load_end)} after the parallel run",
    ]
    if totals.unattributed:
        lines.append(f"- pods started that no test was found for: {totals.unattributed}")
    return "\n".join(lines) + "\n"


def _load(load: Sequence[float]) -> str:
    return ", ".join(f"{value:.2f}" for value in load)


# On the cluster


def purposes(namespaces: Recorder) -> dict[str, str]:
    """Every suite namespace the watch saw (deleted ones too), each with its purpose."""
    _, events = namespaces.snapshot()
    return {
        event.name: (event.object["metadata"].get("annotations") or {}).get(PURPOSE, "")
        for event in events
    }


def scheduled_pods(events: Recorder, namespaces: Mapping[str, str]) -> list[Scheduled]:
    """The pods scheduled in the suite's namespaces while the watch ran."""
    _, seen = events.snapshot()
    found = []
    for event in seen:
        namespace = event.object["metadata"].get("namespace", "")
        if namespace in namespaces and (pod := scheduled(namespaces[namespace], event.object)):
            found.append(pod)
    return found


@dataclass(frozen=True)
class ModeRun:
    returncode: int
    wall: float  # seconds, around the pytest process
    cases: list[Case]
    pods: dict[str, int]  # see pods_per_test


def run_mode(kube: Kube, command: list[str], junit: Path) -> ModeRun:
    """Run the suite while watching the suite's namespaces and the pods scheduled in them
    (the run deletes its namespaces as usual: the watch keeps what it saw)."""
    junit.unlink(missing_ok=True)  # a run that breaks off early must not show an older one
    suite = f"{MANAGED_BY}={SUITE}"
    with Recorder(kube.core.list_namespace, label_selector=suite) as namespaces, Recorder(
        kube.core.list_event_for_all_namespaces, field_selector=SCHEDULED
    ) as events:
        began = time.monotonic()
        returncode = subprocess.run(command, cwd=REPO, check=False).returncode
        wall = time.monotonic() - began
    cases = read_cases(junit.read_text()) if junit.exists() else []
    pods = pods_per_test(scheduled_pods(events, purposes(namespaces)), cases)
    return ModeRun(returncode, wall, cases, pods)


def measure(
    cluster: BenchCluster, target: list[str], options: list[str], workers: str, out: Path
) -> tuple[ModeRun, ModeRun, Totals]:
    """The serial run, then the parallel one, on the warm cluster."""
    kube = Kube(cluster.kubeconfig)
    load_start = os.getloadavg()
    runs = []
    for mode, count in zip(MODES, ("0", workers), strict=True):
        command = run_command(mode, count, target, options, cluster, out)
        print(f"[bench] {mode} run (-n {count}) on {cluster.kubeconfig}", flush=True)
        run = run_mode(kube, command, out / mode / "junit.xml")
        print(
            f"[bench] {mode} run: exit {run.returncode} in {run.wall:.0f}s, "
            f"{sum(run.pods.values())} pods started",
            flush=True,
        )
        runs.append(run)
    serial, parallel = runs
    load_end = os.getloadavg()
    unattributed = serial.pods.get(UNATTRIBUTED, 0)
    totals = Totals(
        serial.wall, parallel.wall, workers_label(workers), load_start, load_end, unattributed
    )
    return serial, parallel, totals



def warm_up(cluster: BenchCluster, options: Sequence[str], out: Path) -> int:
    if cluster.kind_name is None:
        return 0  # an existing cluster: nothing to create
    print(f"[bench] warm-up: kind cluster {cluster.kind_name!r}", flush=True)
    command = warm_up_command(cluster.kind_name, options, out)
    return subprocess.run(command, cwd=REPO, check=False).returncode


def parse(argv: list[str]) -> tuple[argparse.Namespace, list[str]]:
    parser = argparse.ArgumentParser(
        prog="python -m stsconf.bench",
        usage="%(prog)s [--workers W] [--target PATH] [--out DIR] [-- PYTEST OPTIONS]",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--workers",
        type=workers_option,
        default="auto",
        metavar="W",
        help=f"workers of the parallel run (default auto: {DEFAULT_WORKERS})",
    )
    parser.add_argument(
        "--target",
        metavar="PATH",
        help='what the runs test, instead of tests/conformance -k "not test_disruption"',
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=DEFAULT_OUT,
        metavar="DIR",
        help="where reports go (default %(default)s)",
    )
    split = argv.index("--") if "--" in argv else len(argv)  # after `--`: pytest's options
    return parser.parse_args(argv[:split]), argv[split + 1 :]


def main(argv: list[str] | None = None) -> int:
    args, options = parse(sys.argv[1:] if argv is None else argv)
    out: Path = args.out.resolve()
    cluster = bench_cluster(options)
    try:
        named = [f"--cluster-name={cluster.kind_name}"] if cluster.kind_name else []
        with one_cluster_for_runs([*options, *named]):
            code = warm_up(cluster, options, out)
            if code:
                print(f"[bench] the warm-up failed (exit {code}); reports in {out}/warm-up/")
                return code
            target = target_args(args.target, options)
            serial, parallel, totals = measure(cluster, target, options, args.workers, out)
    except AirgapError as error:
        print(f"[bench] {error}", file=sys.stderr)
        return 2
    table = markdown(rows(serial.cases, parallel.cases, serial.pods), totals)
    out.mkdir(parents=True, exist_ok=True)
    (out / "bench.md").write_text(table)
    print(f"\n{table}\n[bench] table in {out / 'bench.md'}, reports in {out}/")
    return next((code for code in (serial.returncode, parallel.returncode) if code), 0)


if __name__ == "__main__":
    sys.exit(main())

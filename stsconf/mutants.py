"""Mutant StatefulSet controllers against the suite, and the table of what killed them.

    python -m stsconf.mutants [NAMES] [--out DIR] [PYTEST OPTIONS]
    python -m stsconf.mutants --airgap                      # every mutant
    python -m stsconf.mutants partition-ignored pod-index-label-missing --airgap

Each mutant (stsconf/model/mutants.py) is the real kube-controller-manager with one small,
named change to its StatefulSet controller, compiled from the same source by the air-gapped
build (airgap/mutants.py: built once, then cached). On one kind cluster (--cluster-name,
default stsconf-mutants) the real controller first runs every property the selected mutants
are run against (all must pass), then each mutant in turn runs the properties it must fail and
a few it must pass; the real controller is put back at the end, also after a failure. Each
mutant is killed (every must-fail property failed, every must-pass passed), survived (a
must-fail property passed: the suite missed the change) or inconclusive.

The runs are the tests of tests/mutants (one per mutant, ids `test_mutant_killed[NAME]`), so
CI runs them as any pytest module. Their JUnit file, HTML report, every suite run's own report,
and the table (mutants.md, mutants.html) land in --out (reports/mutants). A cluster that
existed before is kept (--keep-cluster is added), one the run created is deleted at the end
unless --keep-cluster. Exits 0 only when the real controller passed and every mutant was
killed. The must-fail sets are worked out for the suite's own manifest (manifests/web.yaml).
"""

from __future__ import annotations

import argparse
import re
import shlex
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from collections import defaultdict
from collections.abc import Collection, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from stsconf.access.controller_swap import ControlPlane, kind_clusters
from stsconf.checks.mutants import PASSED, Judgement, judge
from stsconf.model.mutants import BY_NAME, Check, Mutant, UnknownMutant, select
from stsconf.report.mutants import Baseline, MutantRow, html_page, markdown
from stsconf.selftest import CONFORMANCE, REPO, SuiteRun, run_suite
from stsconf.suite_options import kind_binary, option_value

SELFTEST_MANIFESTS = REPO / "tests" / "selftest" / "manifests"
MUTANT_TESTS = REPO / "tests" / "mutants"
DEFAULT_CLUSTER = "stsconf-mutants"
DEFAULT_OUT = Path("reports") / "mutants"
# --pod-timeout of the suite runs: long enough for every wait of the real controller on a busy
# machine (at load 40 on 2 cores, claims took over 60 s to bind), short enough that a property
# a mutant breaks by never getting somewhere fails within two minutes, not three.
POD_TIMEOUT = 120.0
# a run that printed nothing this long has stopped (selftest.run_suite): one lifecycle test
# shrinking a failure prints nothing for minutes
SILENT_FOR = 3600.0
# Suite runs at once (one per test module and manifest): more make their claims wait in line
# for the one storage provisioner.
WORKERS = 3
# the end of a failing test's report shown in run_details: its assertion and what it saw
MESSAGE_CHARS = 3000

# JUnit properties of the tests in tests/mutants, read back for the table
MUTANT_PROPERTY = "mutant"
VERDICT_PROPERTY = "mutant_verdict"
FAILED_PROPERTY = "mutant_failed"
SECONDS_PROPERTY = "mutant_seconds"
BASELINE_CHECKS_PROPERTY = "baseline_checks"
BASELINE_PROBLEMS_PROPERTY = "baseline_problems"


# Running checks: the suite in subprocesses, one per test module and manifest


def conformance_modules() -> dict[str, Path]:
    """The test module of each property (its test is `def test_<id>(` in it), in the order
    the modules define them."""
    modules = {}
    for module in sorted(CONFORMANCE.glob("test_*.py")):
        for property_id in re.findall(r"^def test_(\w+)\(", module.read_text(), re.M):
            modules[property_id] = module
    return modules


@dataclass(frozen=True)
class PlannedRun:
    """One suite run: some properties of one test module, on one manifest."""

    manifest: str  # "" = the manifest of the session
    module: Path
    properties: tuple[str, ...]

    @property
    def label(self) -> str:
        manifest = Path(self.manifest).stem if self.manifest else "own-manifest"
        return f"{manifest}-{self.module.stem.removeprefix('test_')}"

    def node_ids(self) -> list[str]:
        return [f"{self.module}::test_{property_id}" for property_id in self.properties]


def plan_runs(checks: Sequence[Check], modules: Mapping[str, Path]) -> list[PlannedRun]:
    unknown = sorted({c.property_id for c in checks} - set(modules))
    if unknown:
        raise UnknownMutant(f"no conformance test for {', '.join(unknown)}")
    # in each module's own order: a test may leave the set as the next one expects it, and a
    # mutant breaking one must not take those that run before it down with it
    position = {property_id: index for index, property_id in enumerate(modules)}
    grouped: dict[tuple[str, Path], list[str]] = defaultdict(list)
    for check in sorted(set(checks), key=lambda c: (c.manifest, position[c.property_id])):
        grouped[(check.manifest, modules[check.property_id])].append(check.property_id)
    return [PlannedRun(m, module, tuple(ids)) for (m, module), ids in sorted(grouped.items())]


@dataclass(frozen=True)
class ChecksRun:
    outcomes: dict[Check, str]
    runs: tuple[SuiteRun, ...]
    seconds: float


def run_checks(
    checks: Sequence[Check],
    manifest: Path,
    options: Sequence[str],
    out: Path,
    workers: int = WORKERS,
) -> ChecksRun:
    """Run the checks' tests on the cluster that `options` name, a few suite runs at once."""
    started = time.monotonic()
    planned = plan_runs(checks, conformance_modules())
    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        futures = [pool.submit(_run_planned, run, manifest, options, out) for run in planned]
        runs = [future.result() for future in futures]
    outcomes = {}
    for run, done in zip(planned, runs, strict=True):
        for property_id in run.properties:
            found = done.outcomes.get(f"test_{property_id}")
            if found is not None:
                outcomes[Check(property_id, run.manifest)] = found.result
    return ChecksRun(outcomes, tuple(runs), time.monotonic() - started)


def _run_planned(run: PlannedRun, manifest: Path, options: Sequence[str], out: Path) -> SuiteRun:
    chosen = SELFTEST_MANIFESTS / run.manifest if run.manifest else manifest
    first, *others = run.node_ids()
    return run_suite(chosen, out / run.label, [*others, *options], SILENT_FOR, Path(first))


# The lab: one cluster, its controller-manager swapped between runs


@dataclass(frozen=True)
class MutantRun:
    judgement: Judgement
    seconds: float  # the swap and the suite runs
    swap_seconds: float
    checks: ChecksRun


@dataclass
class MutantLab:
    control_plane: ControlPlane
    images: Mapping[str, str]  # mutant name -> its controller-manager image
    manifest: Path
    options: list[str]  # suite options for this cluster (kubeconfig, images, timeouts)
    out: Path
    workers: int = WORKERS
    loading: Future[None] | None = None

    def start_loading(self) -> None:
        """Load the mutants' images into the node in the background, while the real
        controller runs: each swap then finds its image there."""
        pool = ThreadPoolExecutor(max_workers=1)
        self.loading = pool.submit(self.control_plane.load, list(self.images.values()))
        pool.shutdown(wait=False)

    def run_real(self, checks: Sequence[Check]) -> ChecksRun:
        self.control_plane.restore()
        return run_checks(checks, self.manifest, self.options, self.out / "real", self.workers)

    def run_mutant(self, mutant: Mutant) -> MutantRun:
        started = time.monotonic()
        if self.loading is not None:
            self.loading.result()  # raises what the loading raised
        swap = self.control_plane.run_image(self.images[mutant.name])
        ran = run_checks(
            mutant.checks, self.manifest, self.options, self.out / mutant.name, self.workers
        )
        return MutantRun(judge(mutant, ran.outcomes), time.monotonic() - started, swap, ran)


def run_details(ran: ChecksRun, must_pass: Collection[str] = ()) -> str:
    """Where each suite run's report is, the tail of a run that did not finish, and what each
    test of the `must_pass` properties said when it did not pass (CI keeps only this output)."""
    lines = []
    for run in ran.runs:
        lines.append(f"  {' '.join(run.command[3:5])} ... -> exit {run.returncode}, {run.report}")
        if not run.outcomes:
            lines.append("    " + run.output[-2000:].replace("\n", "\n    "))
        for property_id in must_pass:
            found = run.outcomes.get(f"test_{property_id}")
            if found and found.result != PASSED:
                said = (found.text or found.message)[-MESSAGE_CHARS:]
                lines.append(f"    test_{property_id} {found.result}:")
                lines.append("      " + said.replace("\n", "\n      "))
    return "\n".join(lines)


# The command line


def split_arguments(argv: Sequence[str]) -> tuple[list[str], list[str]]:
    """Leading mutant names, then options (ours and pytest's)."""
    names: list[str] = []
    for index, arg in enumerate(argv):
        if arg.startswith("-"):
            return names, list(argv[index:])
        names.append(arg)
    return names, []


def cluster_options(options: list[str]) -> tuple[list[str], str]:
    """The options with --cluster-name (default stsconf-mutants) and, for a cluster that
    exists already, --keep-cluster: the run never deletes a cluster it did not create."""
    cluster = option_value(options, "--cluster-name")
    if cluster is None:
        cluster = DEFAULT_CLUSTER
        options = [*options, f"--cluster-name={cluster}"]
    kind = kind_binary(options)
    existing = kind_clusters(kind) if kind and kind.exists() else []
    if cluster in existing and "--keep-cluster" not in options:
        options = [*options, "--keep-cluster"]
        print(f"[mutants] kind cluster {cluster!r} exists: using it, and keeping it", flush=True)
    return options, cluster


NOT_RUN = Baseline(0, (), None)


def table_rows(junit: str) -> tuple[list[MutantRow], Baseline]:
    """The mutant table from the JUnit file of tests/mutants."""
    rows, baseline = [], NOT_RUN
    for case in ET.fromstring(junit).iter("testcase"):
        props = {p.get("name"): p.get("value", "") for p in case.iter("property")}
        seconds = float(props[SECONDS_PROPERTY]) if SECONDS_PROPERTY in props else None
        if BASELINE_CHECKS_PROPERTY in props:
            problems = props.get(BASELINE_PROBLEMS_PROPERTY, "")
            baseline = Baseline(
                int(props[BASELINE_CHECKS_PROPERTY]),
                tuple(p for p in problems.split("; ") if p),
                seconds,
            )
        name = props.get(MUTANT_PROPERTY)
        if name in BY_NAME:
            mutant = BY_NAME[name]
            verdict = props.get(VERDICT_PROPERTY) or ("error" if _broke(case) else "not run")
            rows.append(
                MutantRow(
                    name,
                    mutant.change,
                    ", ".join(map(str, mutant.must_fail)),
                    props.get(FAILED_PROPERTY, "-"),
                    verdict,
                    seconds,
                )
            )
    return rows, baseline


def _broke(case: ET.Element) -> bool:
    return case.find("error") is not None or case.find("failure") is not None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m stsconf.mutants",
        usage="%(prog)s [NAMES] [--out DIR] [--workers N] [PYTEST OPTIONS]",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="where reports go")
    parser.add_argument("--list", action="store_true", help="list the mutants and exit")
    argv = sys.argv[1:] if argv is None else argv
    names, rest = split_arguments(argv)
    args, pytest_options = parser.parse_known_args(rest)
    try:
        mutants = select(names)
    except UnknownMutant as error:
        parser.error(str(error))
    if args.list:
        print("\n".join(f"{m.name}: {m.change}" for m in mutants))
        return 0
    options, _ = cluster_options(pytest_options)
    if option_value(options, "--mutant-pod-timeout") is None:
        options.append(f"--mutant-pod-timeout={POD_TIMEOUT:g}")
    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)
    command = [
        sys.executable, "-m", "pytest", str(MUTANT_TESTS),
        f"--mutants={','.join(m.name for m in mutants)}",
        f"--mutant-out={out}",
        f"--junitxml={out / 'junit.xml'}",
        f"--html={out / 'report.html'}",
        "-p", "no:cacheprovider",
        *options,
    ]  # fmt: skip
    started = time.monotonic()
    returncode = subprocess.run(command, cwd=REPO, check=False).returncode
    junit = out / "junit.xml"
    rows, baseline = table_rows(junit.read_text()) if junit.exists() else ([], NOT_RUN)
    shown = "python -m stsconf.mutants " + shlex.join(argv)
    table = markdown(rows, baseline)
    (out / "mutants.md").write_text(table)
    (out / "mutants.html").write_text(html_page(rows, baseline, shown))
    print(f"\n{table}\n[mutants] {time.monotonic() - started:.0f}s in all; table in "
          f"{out / 'mutants.md'} and {out / 'mutants.html'}, reports in {out}/")  # fmt: skip
    return returncode


if __name__ == "__main__":
    sys.exit(main())

"""Soak: the conformance suite N times against one cluster, then the failures per property.

    python -m stsconf.soak 20 -- --airgap --existing-kubeconfig KUBECONFIG

Each run is the suite's own command line (stsconf.selftest.run_suite: every property but the
lifecycle and the disruption tests, which have budgets and nodes of their own, unless `-k`
after `--` says otherwise; the default manifest unless `--manifest`); its JUnit file says how
each test went. Without --existing-kubeconfig the first run creates the suite's kind cluster,
the next ones reuse it (--reuse-cluster --keep-cluster), and the soak deletes it at the end
(stsconf.suite_options.one_cluster_for_runs).
Each run spreads its tests over the suite's default workers (-n auto), as `./run suite`
does; `-n 0` after `--` soaks them in one process.
Every run's report and JUnit file stay in --out (reports/soak/N/), so a failure can be read.
Zero flaky failures is the bar: a failure here is a race or a tight timeout to fix, never
an assertion to retry.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import Counter
from collections.abc import Iterable, Mapping
from pathlib import Path

from stsconf.access.resources import DEFAULT_MANIFEST
from stsconf.report.junit import Outcome
from stsconf.selftest import run_suite
from stsconf.suite_options import one_cluster_for_runs

SILENT_FOR = 3600.0  # a run that printed nothing this long has stopped (selftest.run_suite)
DEFAULT_OUT = Path("reports") / "soak"


def failures_per_property(runs: Iterable[Mapping[str, Outcome]]) -> Counter[str]:
    """How many runs each property failed or errored in (the id is the test name less
    `test_`); a test absent from a run (the run broke off) counts under `(no result)`."""
    counts: Counter[str] = Counter()
    seen: set[str] = set()
    every = list(runs)
    for outcomes in every:
        seen |= set(outcomes)
    for outcomes in every:
        for name in seen:
            outcome = outcomes.get(name)
            if outcome is None:
                counts["(no result)"] += 1
            elif outcome.result in ("failed", "error"):
                counts[name.removeprefix("test_")] += 1
    return counts


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m stsconf.soak",
        usage="%(prog)s [--out DIR] RUNS [-- SUITE OPTIONS]",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("runs", type=int, help="how many times to run the suite")
    parser.add_argument(
        "--out", type=Path, default=DEFAULT_OUT, help="where each run's report and JUnit go"
    )
    argv = sys.argv[1:] if argv is None else argv
    split = argv.index("--") if "--" in argv else len(argv)  # after `--`: the suite's options
    args = parser.parse_args(argv[:split])
    suite_args = argv[split + 1 :]
    results = []
    started = time.monotonic()
    with one_cluster_for_runs(suite_args) as shared:
        for number in range(1, args.runs + 1):
            began = time.monotonic()
            options = ["-n", "auto", *suite_args, *shared]  # workers, as the suite's default
            run = run_suite(DEFAULT_MANIFEST, args.out / str(number), options, SILENT_FOR)
            passed = len(run.with_result("passed"))
            print(
                f"[soak] run {number}/{args.runs}: exit {run.returncode}, {passed} passed, "
                f"failed: {sorted(run.failed()) or 'none'}, {time.monotonic() - began:.0f}s",
                flush=True,
            )
            results.append(run.outcomes)
    counts = failures_per_property(results)
    print(
        f"[soak] {args.runs} runs in {time.monotonic() - started:.0f}s; failures per "
        f"property: {dict(counts) or 'none'}; reports in {args.out}/"
    )
    return 1 if counts else 0


if __name__ == "__main__":
    sys.exit(main())

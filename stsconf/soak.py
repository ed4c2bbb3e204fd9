"""Soak: the conformance suite N times against one cluster, then the failures per property.

    python -m stsconf.soak 20 -- --airgap --existing-kubeconfig KUBECONFIG

Each run is the suite's own command line (stsconf.selftest.run_suite, the default manifest
unless the arguments after `--` give --manifest); its JUnit file says how each test went.
Zero flaky failures is the bar: a failure here is a race or a tight timeout to fix, never
an assertion to retry.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from collections import Counter
from collections.abc import Iterable, Mapping
from pathlib import Path

from stsconf.selftest import Outcome, run_suite

RUN_TIMEOUT = 3600.0  # seconds for one run of the suite
DEFAULT_MANIFEST = Path(__file__).resolve().parent.parent / "manifests" / "web.yaml"


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
    parser = argparse.ArgumentParser(prog="python -m stsconf.soak", description=__doc__)
    parser.add_argument("runs", type=int, help="how many times to run the suite")
    parser.add_argument("pytest_args", nargs="*", help="after --: the suite's arguments")
    args = parser.parse_args(argv)
    results = []
    with tempfile.TemporaryDirectory(prefix="stsconf-soak-") as scratch:
        for number in range(1, args.runs + 1):
            run = run_suite(
                DEFAULT_MANIFEST, Path(scratch) / str(number), args.pytest_args, RUN_TIMEOUT
            )
            failed = sorted(run.failed())
            print(f"[soak] run {number}/{args.runs}: exit {run.returncode}, failed: {failed}")
            results.append(run.outcomes)
    counts = failures_per_property(results)
    print(f"[soak] {args.runs} runs; failures per property: {dict(counts) or 'none'}")
    return 1 if counts else 0


if __name__ == "__main__":
    sys.exit(main())

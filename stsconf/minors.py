"""The suite on every Kubernetes minor of the air-gapped build: one table of outcomes.

    python -m airgap build --kubernetes all
    python -m stsconf.minors [--kubernetes 1.35,1.36,1.37] [--out DIR] [-- SUITE OPTIONS]

For each minor, one kind cluster (named stsconf-MINOR) runs the suite on each manifest in turn
(the default web.yaml and the Redis example): the first run creates it, the last deletes it.
Every run's report and JUnit file stay in --out/MINOR/MANIFEST/; the table of each property's
outcome per minor and manifest is printed as Markdown and written to --out/minors.md.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from airgap import config
from stsconf.access.resources import DEFAULT_MANIFEST, MANIFESTS
from stsconf.report.junit import Outcome
from stsconf.report.summary import compare_markdown
from stsconf.selftest import run_suite
from stsconf.suite_options import one_cluster_for_runs

SILENT_FOR = 3600.0  # a run that printed nothing this long has stopped (selftest.run_suite)
DEFAULT_OUT = Path("reports") / "minors"
MANIFESTS_TESTED = {"web": DEFAULT_MANIFEST, "redis": MANIFESTS / "examples" / "redis.yaml"}


def minor_options(minor: str, suite_args: list[str]) -> list[str]:
    """The suite's options for one minor: its node image, and a cluster of its own."""
    return ["--airgap", f"--kubernetes={minor}", f"--cluster-name=stsconf-{minor}", *suite_args]


def run_minor(minor: str, out: Path, suite_args: list[str]) -> dict[str, dict[str, Outcome]]:
    results = {}
    options = minor_options(minor, suite_args)
    with one_cluster_for_runs(options) as shared:
        for name, manifest in MANIFESTS_TESTED.items():
            results[f"{minor} {name}"] = run_manifest(
                minor, name, manifest, out, [*options, *shared]
            )
    return results


def run_manifest(
    minor: str, name: str, manifest: Path, out: Path, options: list[str]
) -> dict[str, Outcome]:
    began = time.monotonic()
    run = run_suite(manifest, out / minor / name, options, SILENT_FOR)
    print(
        f"[minors] Kubernetes {minor}, {name}: exit {run.returncode}, "
        f"{len(run.with_result('passed'))} passed, {len(run.with_result('skipped'))} "
        f"skipped, failed: {sorted(run.failed()) or 'none'}, "
        f"{time.monotonic() - began:.0f}s",
        flush=True,
    )
    if not run.outcomes:
        print(run.output[-3000:], flush=True)
    return run.outcomes


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m stsconf.minors",
        usage="%(prog)s [--kubernetes MINORS] [--out DIR] [-- SUITE OPTIONS]",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--kubernetes",
        default=",".join(config.known_minors()),
        help="the minors, comma-separated (default: every minor the build knows)",
    )
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    argv = sys.argv[1:] if argv is None else argv
    split = argv.index("--") if "--" in argv else len(argv)
    args = parser.parse_args(argv[:split])
    try:
        minors = [config.check_minor(m) for m in args.kubernetes.split(",") if m.strip()]
    except config.UnknownMinor as error:
        parser.error(str(error))
    results: dict[str, dict[str, Outcome]] = {}
    for minor in minors:
        results.update(run_minor(minor, args.out, argv[split + 1 :]))
    table = compare_markdown(results)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "minors.md").write_text(table)
    print(table)
    failed = any(o.result in ("failed", "error") for run in results.values() for o in run.values())
    return 1 if failed or not all(results.values()) else 0


if __name__ == "__main__":
    sys.exit(main())

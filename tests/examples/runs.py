"""Runs of the conformance suite on an example manifest (manifests/examples) and variants of
it, in subprocesses against this run's cluster, several at once; what the example tests share.
"""

from __future__ import annotations

import copy
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from stsconf.cluster_fixture import Cluster
from stsconf.model.manifest import ManifestError, default_image, load_manifest
from stsconf.report.observations import Observations
from stsconf.run_plugin import suite_runs_at_once
from stsconf.selftest import REPO, SuiteRun, Table, run_suite, same_cluster_options
from stsconf.settings import Settings

EXAMPLES = REPO / "manifests" / "examples"
SILENT_FOR = 900.0  # a run that printed nothing this long has stopped (selftest.run_suite)

Obj = dict[str, Any]


@dataclass(frozen=True)
class Variant:
    """The example, changed by `edit`, run with `options` added."""

    edit: Callable[[Obj], None]  # changes the StatefulSet in place
    options: tuple[str, ...]
    example: Path  # a file, or a directory run as it is


@dataclass(frozen=True)
class TimedRun:
    run: SuiteRun
    seconds: float

    def context(self) -> str:
        return f"\n--- suite output ({' '.join(self.run.command)}) ---\n{self.run.output[-6000:]}"


def unchanged(statefulset: Obj) -> None:
    """The example as it is."""


def members_slow_to_stop(statefulset: Obj) -> None:
    """The etcd example's members, taking their whole grace period (10 s) to stop: the reader
    container's httpd as PID 1, which ignores SIGTERM (as the example's did until session 9).
    Two members that stop at once are back within seconds, too soon for the third member's
    readers to see its quorum gone; the budget self-tests need the loss to last."""
    containers = statefulset["spec"]["template"]["spec"]["containers"]
    reader = next(c for c in containers if c["name"] == "reader")
    reader["command"] = ["sh", "-c", READER_AS_PID_1]


READER_AS_PID_1 = (
    "mkdir -p /tmp/www/cgi-bin && ln -sf /scripts/value /tmp/www/cgi-bin/value && "
    "exec httpd -f -p 8080 -h /tmp/www"
)


def write_variant(variant: Variant, directory: Path) -> Path:
    if variant.example.is_dir():
        return variant.example
    documents = [copy.deepcopy(d) for d in yaml.safe_load_all(variant.example.read_text()) if d]
    variant.edit(next(d for d in documents if d["kind"] == "StatefulSet"))
    path = directory / variant.example.name
    path.write_text(yaml.safe_dump_all(documents, sort_keys=False))
    return path


def timed_run(manifest: Path, out_dir: Path, options: list[str]) -> TimedRun:
    started = time.monotonic()
    run = run_suite(manifest, out_dir, options, SILENT_FOR)
    return TimedRun(run, time.monotonic() - started)


def example_image(example: Path, settings: Settings) -> str:
    """The example's image: its own, or the air-gapped build's stand-in for it."""
    try:
        return default_image(
            load_manifest(example), settings.airgap.images if settings.airgap else None
        )
    except ManifestError as error:
        pytest.fail(f"no image for the example {example.name}: {error}", pytrace=False)


@dataclass(frozen=True)
class Runs:
    """What a module's runs need from pytest's fixtures."""

    request: pytest.FixtureRequest
    cluster: Cluster
    settings: Settings
    load_image: Callable[[str], None]
    tmp_path_factory: pytest.TempPathFactory

    def start(
        self, variants: dict[str, Variant], image: str
    ) -> Iterator[dict[str, Future[TimedRun]]]:
        """Start the suite on each selected variant (keyed by the test that asserts on its run),
        all on this cluster; yield their futures."""
        self.load_image(image)
        common = [
            *same_cluster_options(
                self.cluster.info.kubeconfig, self.settings, self.request.config.option.airgap_file
            ),
            f"--image={image}",  # the example's image, not the suite's (the later option wins)
        ]
        selected = [item.name for item in self.request.session.items if item.name in variants]
        workers = suite_runs_at_once(self.request.config)
        with ThreadPoolExecutor(max_workers=workers) as pool:
            futures = {}
            for name in selected:
                directory = self.tmp_path_factory.mktemp(name.removeprefix("test_"))
                manifest = write_variant(variants[name], directory)
                options = [*common, *variants[name].options]
                futures[name] = pool.submit(timed_run, manifest, directory, options)
            yield futures


def finished(
    runs: dict[str, Future[TimedRun]], request: pytest.FixtureRequest, observe: Observations
) -> TimedRun:
    """The test's run, once it is over; what ran and how long it took go into the report."""
    timed = runs[request.node.name].result()
    observe.text(
        "the suite run",
        f"{' '.join(timed.run.command)}\n"
        f"exit code {timed.run.returncode} after {timed.seconds:.0f}s; report {timed.run.report}",
    )
    assert timed.run.returncode != -1, f"expected the run to finish; it did not{timed.context()}"
    return timed


def outcome_names(run: SuiteRun, result: str) -> set[str]:
    return {name.removeprefix("test_") for name in run.with_result(result)}


def table_with(tables: list[Table], column: str) -> Table:
    """The first of a report's tables that has this column."""
    return next((table for table in tables if table and column in table[0]), [])

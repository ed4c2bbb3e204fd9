"""The self-tests' suite runs, started together as soon as the first self-test begins.

Each self-test module declares the runs its tests need as `RUNS` (test name -> PlannedRun);
the package-scoped `suite_runs` starts the selected ones in one pool, longest first, so the
lifecycle self-test's run and the broken manifests' runs go on at the same time. Runs that
disrupt nodes are not planned here: they must not overlap anything (test_detects_disruption).
"""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor

import pytest

from stsconf.cluster_fixture import Cluster
from stsconf.run_plugin import suite_runs_at_once
from stsconf.selftest import SuiteRun, run_suite
from stsconf.settings import Settings
from tests.selftest.detection import suite_options

SILENT_FOR = 900.0  # a run that printed nothing this long has stopped (selftest.run_suite)


@pytest.fixture(scope="package")
def suite_runs(
    request: pytest.FixtureRequest,
    cluster: Cluster,
    settings: Settings,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[dict[str, Future[SuiteRun]]]:
    """One suite run per selected self-test that plans one, a few at a time, on this cluster."""
    planned = {
        item.name: item.module.RUNS[item.name]
        for item in request.session.items
        if isinstance(item, pytest.Function) and item.name in getattr(item.module, "RUNS", {})
    }
    extra = suite_options(request, cluster, settings)
    longest_first = sorted(planned.items(), key=lambda entry: -entry[1].expected_seconds)
    workers = suite_runs_at_once(request.config)
    with ThreadPoolExecutor(max_workers=workers) as pool:
        yield {
            name: pool.submit(
                run_suite,
                run.manifest or settings.manifest.path,
                out_dir=tmp_path_factory.mktemp(name.removeprefix("test_")),
                extra=[*extra, *run.options],
                silent_for=SILENT_FOR,
                target=run.target,
            )
            for name, run in longest_first
        }

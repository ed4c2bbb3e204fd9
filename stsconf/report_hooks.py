"""What the HTML report and the property matrix get from pytest: each test's outcome, what it
observed (the `observe` fixture), why it failed and its namespace at failure; and above all
else the matrix and the manifest."""

from __future__ import annotations

import time
from dataclasses import asdict
from typing import Any

import pytest

from stsconf.cluster_fixture import CLUSTER, STOPPED
from stsconf.observe.diagnostics import namespace_sections
from stsconf.report.matrix import (
    CheckedTest,
    RunResults,
    checked_test,
    failure_detail,
    matrix_html,
    matrix_rows,
    record_report,
)
from stsconf.report.observations import (
    Observations,
    diagnostics_extra,
    failure_extra,
    manifest_html,
    report_style,
    stopped_html,
    to_extras,
)
from stsconf.report.run_header import RunTimes, run_times_html
from stsconf.run_plugin import (
    FINISH,
    is_controller,
    run_cluster,
    run_context,
    take_run_setup,
)
from stsconf.settings import SETTINGS

REPORT_TITLE = "StatefulSet guarantees on a kind cluster"

OBSERVATIONS = pytest.StashKey[Observations]()
RESULTS = pytest.StashKey[RunResults]()
WINDOW = {"setup": "started_at", "teardown": "ended_at"}  # JUnit properties, epoch seconds


@pytest.fixture
def observe(request: pytest.FixtureRequest) -> Observations:
    """Record what the test saw; it goes into the HTML report."""
    observations = Observations()
    request.node.stash[OBSERVATIONS] = observations
    return observations


@pytest.hookimpl(optionalhook=True)
def pytest_html_report_title(report: Any) -> None:
    report.title = REPORT_TITLE


@pytest.hookimpl(optionalhook=True)
def pytest_html_results_summary(prefix: list[str], session: pytest.Session) -> None:
    """The run's times, the property matrix (from this run's outcomes) and the manifest,
    above all else."""
    config = session.config
    results = config.stash.get(RESULTS, RunResults())
    stopped = config.stash.get(STOPPED, None)
    prefix[:0] = [
        report_style(),
        stopped_html(stopped) if stopped else "",
        run_times_html(run_times(config, results)),
        matrix_html(results),
        manifest_html(config.stash[SETTINGS].manifest),
    ]


def run_times(config: pytest.Config, results: RunResults) -> RunTimes:
    run = run_context(config)
    got = run_cluster(config)
    steps = [*(got.steps if got else ()), *config.stash.get(FINISH, [])]
    return RunTimes(
        wall_seconds=time.time() - run.started,
        workers=run.workers,
        setup=[(step.what, step.seconds) for step in steps],
        properties=[(row.property_id, row.seconds) for row in matrix_rows(results) if row.test],
    )


@pytest.hookimpl(optionalhook=True)
def pytest_html_results_table_html(report: pytest.TestReport, data: list[str]) -> None:
    """No empty log box under tests that printed nothing."""
    if data == ["No log output captured."]:
        data.clear()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    """On the worker: what the matrix needs rides on the report to the controller."""
    report = yield
    error = call.excinfo.value if call.excinfo else None
    if call.when in WINDOW:  # when the test began and ended, for `python -m stsconf.bench`
        window = (WINDOW[call.when], round(call.start if call.when == "setup" else call.stop, 3))
        item.user_properties.append(window)
        report.user_properties = [*report.user_properties, window]
    report.stsconf = {  # plain data: xdist sends it with the report
        "test": asdict(checked_test(item)),
        "detail": failure_detail(report, error),
        "run_setup": take_run_setup(item.config),
    }
    extras = []
    if report.failed and error is not None:
        extras.append(failure_extra(error))  # what was expected and seen, first
    if report.when == "call" and OBSERVATIONS in item.stash:
        extras += to_extras(item.stash[OBSERVATIONS])
    if report.failed:
        diagnostics = _namespace_diagnostics(item)
        if diagnostics:
            extras.append(diagnostics_extra(diagnostics))
    if extras:
        report.extras = [*getattr(report, "extras", []), *extras]
    return report


class ResultsCollector:
    """On the controller (or the one process): each report into the run's results."""

    def __init__(self, config: pytest.Config) -> None:
        self.results = config.stash.setdefault(RESULTS, RunResults())

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        facts = getattr(report, "stsconf", None)
        if facts is None:
            return
        test = CheckedTest(**facts["test"])
        record_report(self.results, test, report, facts["detail"], facts["run_setup"])


def pytest_configure(config: pytest.Config) -> None:
    if is_controller(config):
        config.pluginmanager.register(ResultsCollector(config), "stsconf-results")


def _namespace_diagnostics(item: pytest.Item) -> list[tuple[str, str]] | None:
    """The sections of the test's own namespace, else of its module's."""
    handle = item.config.stash.get(CLUSTER, None)
    module = item.getparent(pytest.Module)
    keys = [item.nodeid, module.nodeid if module else ""]
    found = next((handle.namespaces[k] for k in keys if handle and k in handle.namespaces), None)
    if handle is None or found is None:
        return None
    return namespace_sections(handle.kube, found)

"""What the HTML report and the property matrix get from pytest: each test's outcome, what it
observed (the `observe` fixture), why it failed and its namespace at failure; and above all
else the matrix and the manifest."""

from __future__ import annotations

from typing import Any

import pytest

from stsconf.cluster_fixture import CLUSTER, STOPPED
from stsconf.observe.diagnostics import namespace_sections
from stsconf.report.matrix import RunResults, matrix_html, record_report
from stsconf.report.observations import (
    Observations,
    diagnostics_extra,
    failure_extra,
    manifest_html,
    report_style,
    stopped_html,
    to_extras,
)
from stsconf.settings import SETTINGS

REPORT_TITLE = "StatefulSet guarantees on a kind cluster"

OBSERVATIONS = pytest.StashKey[Observations]()
RESULTS = pytest.StashKey[RunResults]()


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
    """The property matrix (from this run's outcomes) and the manifest, above all else."""
    config = session.config
    results = config.stash.get(RESULTS, RunResults())
    stopped = config.stash.get(STOPPED, None)
    prefix[:0] = [
        report_style(),
        stopped_html(stopped) if stopped else "",
        matrix_html(results),
        manifest_html(config.stash[SETTINGS].manifest),
    ]


@pytest.hookimpl(optionalhook=True)
def pytest_html_results_table_html(report: pytest.TestReport, data: list[str]) -> None:
    """No empty log box under tests that printed nothing."""
    if data == ["No log output captured."]:
        data.clear()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    report = yield
    error = call.excinfo.value if call.excinfo else None
    record_report(item.config.stash.setdefault(RESULTS, RunResults()), item, report, error)
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


def _namespace_diagnostics(item: pytest.Item) -> list[tuple[str, str]] | None:
    """The sections of the test's own namespace, else of its module's."""
    handle = item.config.stash.get(CLUSTER, None)
    module = item.getparent(pytest.Module)
    keys = [item.nodeid, module.nodeid if module else ""]
    found = next((handle.namespaces[k] for k in keys if handle and k in handle.namespaces), None)
    if handle is None or found is None:
        return None
    return namespace_sections(handle.kube, found)

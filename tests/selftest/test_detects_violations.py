"""The suite is sensitive: each broken manifest makes exactly the affected properties fail.

Each self-test runs the conformance suite in a subprocess against the same cluster (through
its kubeconfig), in its own namespace; the selected runs go on in parallel (conftest.py).
"""

from __future__ import annotations

from concurrent.futures import Future
from pathlib import Path

import pytest

from stsconf.selftest import DATA_LOSS_PROPERTIES, SuiteRun
from tests.selftest.detection import PlannedRun, Violation, assert_detects

pytestmark = pytest.mark.selftest

MANIFESTS = Path(__file__).resolve().parent / "manifests"


UPDATE_PROPERTIES = frozenset({
    "rolling_update_order", "partitioned_update", "on_delete_update", "rollback",
    "forced_rollback", "min_ready_seconds", "max_unavailable",
})  # fmt: skip
ORDERING = frozenset({"ordered_startup", "scale_up_order", "scale_down_order",
                      "halts_on_unhealthy"})  # fmt: skip

VIOLATIONS = {
    "parallel_pod_management": Violation("parallel.yaml", ORDERING, require=True),
    "claims_deleted_when_scaled": Violation(
        "when_scaled_delete.yaml", frozenset({"pvcs_kept_after_scale_down"}), require=True
    ),
    "claims_deleted_with_statefulset": Violation(
        "when_deleted_delete.yaml", frozenset({"cleanup_keeps_pvcs"}), require=True
    ),
    # Without --require the same manifests pass: each property asserts the declared form
    # (halts_on_unhealthy is skipped under Parallel, as not applicable).
    "parallel_declared_passes": Violation(
        "parallel.yaml",
        frozenset(),
        forms=dict.fromkeys(ORDERING, "Parallel"),
        skipped=frozenset({"halts_on_unhealthy"}),
    ),
    "when_scaled_delete_declared_passes": Violation(
        "when_scaled_delete.yaml",
        frozenset(),
        forms={"pvcs_kept_after_scale_down": "whenScaled: Delete"},
    ),
    "when_deleted_delete_declared_passes": Violation(
        "when_deleted_delete.yaml",
        frozenset(),
        forms={"cleanup_keeps_pvcs": "whenDeleted: Delete"},
    ),
    # emptydir.yaml declares a data probe, as web.yaml does: its pods keep data, so the
    # storage properties apply and fail (without a declared probe they would be skipped as
    # not applicable: a StatefulSet without claim templates promises no storage). A rolling
    # update loses the data too, and so does a deleted pod that a client then reads.
    "emptydir_instead_of_claims": Violation(
        "emptydir.yaml",
        DATA_LOSS_PROPERTIES | {"no_stale_reads", "available_during_pod_deletion"},
        expected_seconds=130.0,
    ),
    # Ready at once, serving 90 s later: a rolling update leaves clients without either pod.
    # Only what does not read over HTTP right after the pods are Ready runs beside it.
    "ready_before_serving": Violation(
        "ready_before_serving.yaml",
        frozenset({"available_during_update"}),
        holds=frozenset({"ordered_startup", "stable_hostnames", "pvc_per_pod"}),
        expected_seconds=180.0,
    ),
    "hostname_as_fqdn": Violation("hostname_fqdn.yaml", frozenset({"stable_hostnames"})),
    "service_not_headless": Violation(  # the DNS wait runs to its timeout
        "clusterip_service.yaml", frozenset({"dns_records"}), expected_seconds=90.0
    ),
    # Not a violation: the Service's first port is a metrics port; the HTTP probe reads from
    # the port named http.
    "metrics_port_first_breaks_nothing": Violation("metrics_port_first.yaml", frozenset()),
    # Not a violation: a manifest declaring updateStrategy OnDelete breaks nothing, since each
    # update test sets the strategy it exercises (the matrix shows what the manifest declares).
    "on_delete_declared_breaks_nothing": Violation(
        "on_delete.yaml", frozenset(), holds=UPDATE_PROPERTIES
    ),
}


RUNS = {
    f"test_detects_{name}": PlannedRun(
        MANIFESTS / violation.manifest,
        tuple(violation.options()),
        expected_seconds=violation.expected_seconds,
    )
    for name, violation in VIOLATIONS.items()
}


def assert_detects_violation(runs: dict[str, Future[SuiteRun]], violation: str) -> None:
    assert_detects(runs[f"test_detects_{violation}"].result(), VIOLATIONS[violation])


def test_detects_parallel_pod_management(suite_runs: dict[str, Future[SuiteRun]]) -> None:
    assert_detects_violation(suite_runs, "parallel_pod_management")


def test_detects_parallel_declared_passes(suite_runs: dict[str, Future[SuiteRun]]) -> None:
    assert_detects_violation(suite_runs, "parallel_declared_passes")


def test_detects_emptydir_instead_of_claims(suite_runs: dict[str, Future[SuiteRun]]) -> None:
    assert_detects_violation(suite_runs, "emptydir_instead_of_claims")


def test_detects_claims_deleted_when_scaled(suite_runs: dict[str, Future[SuiteRun]]) -> None:
    assert_detects_violation(suite_runs, "claims_deleted_when_scaled")


def test_detects_claims_deleted_with_statefulset(suite_runs: dict[str, Future[SuiteRun]]) -> None:
    assert_detects_violation(suite_runs, "claims_deleted_with_statefulset")


def test_detects_when_scaled_delete_declared_passes(
    suite_runs: dict[str, Future[SuiteRun]],
) -> None:
    assert_detects_violation(suite_runs, "when_scaled_delete_declared_passes")


def test_detects_when_deleted_delete_declared_passes(
    suite_runs: dict[str, Future[SuiteRun]],
) -> None:
    assert_detects_violation(suite_runs, "when_deleted_delete_declared_passes")


def test_detects_hostname_as_fqdn(suite_runs: dict[str, Future[SuiteRun]]) -> None:
    assert_detects_violation(suite_runs, "hostname_as_fqdn")


def test_detects_service_not_headless(suite_runs: dict[str, Future[SuiteRun]]) -> None:
    assert_detects_violation(suite_runs, "service_not_headless")


def test_detects_on_delete_declared_breaks_nothing(
    suite_runs: dict[str, Future[SuiteRun]],
) -> None:
    assert_detects_violation(suite_runs, "on_delete_declared_breaks_nothing")


def test_detects_metrics_port_first_breaks_nothing(
    suite_runs: dict[str, Future[SuiteRun]],
) -> None:
    assert_detects_violation(suite_runs, "metrics_port_first_breaks_nothing")


def test_detects_ready_before_serving(suite_runs: dict[str, Future[SuiteRun]]) -> None:
    assert_detects_violation(suite_runs, "ready_before_serving")

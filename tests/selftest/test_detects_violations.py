"""The suite is sensitive: each broken manifest makes exactly the affected properties fail.

Each self-test runs the conformance suite in a subprocess against the same cluster (through
its kubeconfig), in its own namespace; the selected runs go on in parallel.
"""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest

from stsconf.plugin import Cluster, Settings
from stsconf.selftest import PROPERTIES, STORAGE_PROPERTIES, SuiteRun, run_suite

pytestmark = pytest.mark.selftest

MANIFESTS = Path(__file__).resolve().parent / "manifests"
RUN_TIMEOUT = 900.0


@dataclass(frozen=True)
class Violation:
    manifest: str
    breaks: frozenset[str]


VIOLATIONS = {
    "parallel_pod_management": Violation(
        "parallel.yaml", frozenset({"ordered_startup", "scale_up_order", "scale_down_order"})
    ),
    # emptydir.yaml declares a data probe, as web.yaml does: its pods keep data, so the
    # storage properties apply and fail (without a declared probe they would be skipped as
    # not applicable: a StatefulSet without claim templates promises no storage).
    "emptydir_instead_of_claims": Violation("emptydir.yaml", STORAGE_PROPERTIES),
    "claims_deleted_when_scaled": Violation(
        "when_scaled_delete.yaml", frozenset({"pvcs_kept_after_scale_down"})
    ),
    "claims_deleted_with_statefulset": Violation(
        "when_deleted_delete.yaml", frozenset({"cleanup_keeps_pvcs"})
    ),
    "hostname_as_fqdn": Violation("hostname_fqdn.yaml", frozenset({"stable_hostnames"})),
    "service_not_headless": Violation("clusterip_service.yaml", frozenset({"dns_records"})),
}


@pytest.fixture(scope="module")
def suite_runs(
    request: pytest.FixtureRequest,
    cluster: Cluster,
    settings: Settings,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[dict[str, Future[SuiteRun]]]:
    """Start one suite run per selected self-test, a few at a time, all on this cluster."""
    selected = [
        item.name.removeprefix("test_detects_")
        for item in request.session.items
        if item.name.startswith("test_detects_")
    ]
    extra = [
        f"--existing-kubeconfig={cluster.info.kubeconfig}",
        f"--image={settings.image}",
        f"--probe-image={settings.probe_image}",
        f"--pod-timeout={settings.timeouts.pods}",
        f"--dns-timeout={settings.timeouts.dns}",
    ]
    workers = max(1, request.config.getoption("selftest_workers"))
    with ThreadPoolExecutor(max_workers=workers) as pool:
        yield {
            name: pool.submit(
                run_suite,
                MANIFESTS / VIOLATIONS[name].manifest,
                tmp_path_factory.mktemp(name),
                extra,
                RUN_TIMEOUT,
            )
            for name in selected
            if name in VIOLATIONS
        }


def assert_detects(runs: dict[str, Future[SuiteRun]], violation: str) -> None:
    run = runs[violation].result()
    expected = VIOLATIONS[violation].breaks
    ran = {name.removeprefix("test_") for name in run.outcomes}
    failed = {name.removeprefix("test_") for name in run.failed()}
    context = f"\n--- suite output ({' '.join(run.command)}) ---\n{run.output[-6000:]}"
    assert ran == PROPERTIES, f"expected all properties to run; saw {sorted(ran)}{context}"
    assert not run.with_result("error"), (
        f"expected no errors; saw errors in {sorted(run.with_result('error'))}{context}"
    )
    assert failed == expected, (
        f"expected exactly {sorted(expected)} to fail; saw {sorted(failed)} fail{context}"
    )
    for name in run.failed():
        message = run.outcomes[name].message
        assert "expected" in message, (
            f"expected {name}'s failure to say 'expected'; saw {message!r}"
        )
        assert "saw" in message, f"expected {name}'s failure to say 'saw'; saw {message!r}"


def test_detects_parallel_pod_management(suite_runs: dict[str, Future[SuiteRun]]) -> None:
    assert_detects(suite_runs, "parallel_pod_management")


def test_detects_emptydir_instead_of_claims(suite_runs: dict[str, Future[SuiteRun]]) -> None:
    assert_detects(suite_runs, "emptydir_instead_of_claims")


def test_detects_claims_deleted_when_scaled(suite_runs: dict[str, Future[SuiteRun]]) -> None:
    assert_detects(suite_runs, "claims_deleted_when_scaled")


def test_detects_claims_deleted_with_statefulset(suite_runs: dict[str, Future[SuiteRun]]) -> None:
    assert_detects(suite_runs, "claims_deleted_with_statefulset")


def test_detects_hostname_as_fqdn(suite_runs: dict[str, Future[SuiteRun]]) -> None:
    assert_detects(suite_runs, "hostname_as_fqdn")


def test_detects_service_not_headless(suite_runs: dict[str, Future[SuiteRun]]) -> None:
    assert_detects(suite_runs, "service_not_headless")

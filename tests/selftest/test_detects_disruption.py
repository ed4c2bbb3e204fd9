"""The disruption properties are sensitive: on a cluster of several nodes, a broken manifest
or a fault in the cluster makes exactly the affected ones fail.

Needs a cluster with two or more worker nodes (`--nodes 3`, as CI's 3-node step runs it);
on fewer the disruption properties skip, so nothing could be detected, and these skip too.
The runs go one after another: a disruption restarts or silences a node.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from stsconf.access import resources, rest
from stsconf.cluster_fixture import Cluster
from stsconf.observe import placement
from stsconf.selftest import SuiteRun, run_suite
from stsconf.settings import Settings
from tests.selftest.detection import Violation, assert_detects, suite_options
from tests.selftest.faults import ForceDeletingAutomation

pytestmark = [pytest.mark.selftest, pytest.mark.alone]  # it restarts nodes

MANIFESTS = Path(__file__).resolve().parent / "manifests"
DISRUPTION_TESTS = resources.CONFORMANCE / "test_disruption.py"
SILENT_FOR = 900.0  # a run that printed nothing this long has stopped (selftest.run_suite)
NONE = frozenset[str]()


@pytest.fixture
def workers(cluster: Cluster) -> list[str]:
    names = placement.ordinary_workers(rest.raw(cluster.kube.core.list_node).get("items") or [])
    if len(names) < 2:
        pytest.skip(
            f"needs 2 or more worker nodes (--nodes 3); this cluster has {len(names)}: the "
            "disruption properties skip on it, so no fault could show"
        )
    return names


def test_detects_data_wiped_when_pods_start_again(
    request: pytest.FixtureRequest, cluster: Cluster, settings: Settings, workers: list[str],
    cluster_to_itself: None, tmp_path: Path,
) -> None:  # fmt: skip
    """An init container that empties the volume on every start loses the data through a
    node restart and through a replacement on another node."""
    violation = Violation(
        "wipe_on_start.yaml",
        frozenset({"node_restart_keeps_pods", "replacement_follows_its_volume"}),
        holds=NONE,
    )
    assert_detects(run_on_disruptions(request, cluster, settings, violation, tmp_path), violation)


def test_detects_automation_force_deleting_pods_of_a_silent_node(
    request: pytest.FixtureRequest, cluster: Cluster, settings: Settings, workers: list[str],
    cluster_to_itself: None, tmp_path: Path,
) -> None:  # fmt: skip
    """Automation that force-deletes pods stuck terminating on a node that stopped
    answering lets the controller create a second pod of the name while the first may
    still run there."""
    violation = Violation(
        str(resources.DEFAULT_MANIFEST), frozenset({"at_most_one_per_identity"}), holds=NONE
    )
    with ForceDeletingAutomation(cluster.kube) as automation:
        run = run_suite(
            Path(violation.manifest),
            tmp_path,
            [*suite_options(request, cluster, settings), *violation.options()],
            SILENT_FOR,
            target=DISRUPTION_TESTS,
        )
    assert automation.deleted, (
        "expected the automation to force-delete the pod on the silent node; it deleted "
        f"nothing\n{run.output[-4000:]}"
    )
    assert_detects(run, violation)


def test_detects_pods_ready_before_serving_through_a_drain(
    request: pytest.FixtureRequest, cluster: Cluster, settings: Settings, workers: list[str],
    cluster_to_itself: None, tmp_path: Path,
) -> None:  # fmt: skip
    """A readiness probe that says Ready 90 s before nginx serves: the drained pod's
    replacement is Ready while it refuses the client."""
    violation = Violation("ready_before_serving.yaml", frozenset({"available_during_drain"}),
                          holds=NONE)  # fmt: skip
    assert_detects(run_on_disruptions(request, cluster, settings, violation, tmp_path), violation)


def run_on_disruptions(
    request: pytest.FixtureRequest, cluster: Cluster, settings: Settings, violation: Violation,
    tmp_path: Path,
) -> SuiteRun:  # fmt: skip
    """The disruption properties the violation names, run on its manifest."""
    return run_suite(
        MANIFESTS / violation.manifest,
        tmp_path,
        [*suite_options(request, cluster, settings), *violation.options()],
        SILENT_FOR,
        target=DISRUPTION_TESTS,
    )

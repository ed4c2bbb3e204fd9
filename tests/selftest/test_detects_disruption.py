"""The disruption properties are sensitive: on a cluster of several nodes, a broken manifest
or a fault in the cluster makes exactly the affected ones fail.

Needs a cluster with two or more worker nodes (`--nodes 3`, as CI's 3-node step runs it);
on fewer the disruption properties skip, so nothing could be detected, and these skip too.
The runs go one after another: a disruption restarts or silences a node.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from stsconf.access import resources, rest
from stsconf.cluster_fixture import Cluster
from stsconf.model.manifest import default_image, load_manifest
from stsconf.observe import placement
from stsconf.selftest import REPO, SuiteRun, only, run_suite
from stsconf.settings import Settings
from tests.examples.runs import members_slow_to_stop
from tests.selftest.detection import Violation, assert_detects, suite_options
from tests.selftest.faults import ForceDeletingAutomation

pytestmark = [pytest.mark.selftest, pytest.mark.alone]  # it restarts nodes

MANIFESTS = Path(__file__).resolve().parent / "manifests"
DISRUPTION_TESTS = resources.CONFORMANCE / "test_disruption.py"
ETCD = REPO / "manifests" / "examples" / "etcd.yaml"
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


def test_etcd_keeps_its_quorum_through_a_drain(
    request: pytest.FixtureRequest, cluster: Cluster, settings: Settings, workers: list[str],
    load_image: Callable[[str], None], cluster_to_itself: None, tmp_path: Path,
) -> None:  # fmt: skip
    """The etcd example's PodDisruptionBudget (maxUnavailable 1) lets one member of the drained
    node go and refuses the next: two members keep the quorum and answer throughout."""
    run = run_on_etcd(request, cluster, settings, load_image, ETCD, tmp_path)
    drained = run.outcomes.get("test_available_during_drain")
    assert drained is not None, f"expected available_during_drain to run\n{run.output[-6000:]}"
    assert drained.result == "passed", (
        f"expected available_during_drain to pass on etcd; saw {drained}\n{run.output[-6000:]}"
    )


def test_detects_a_budget_that_lets_two_of_three_members_go(
    request: pytest.FixtureRequest, cluster: Cluster, settings: Settings, workers: list[str],
    load_image: Callable[[str], None], cluster_to_itself: None, tmp_path: Path,
) -> None:  # fmt: skip
    """A PodDisruptionBudget of maxUnavailable 2 on 3 etcd members: the drain evicts both
    members of the node that runs two (3 pods on 2 workers: one runs two), and the third has
    no quorum; three unanswering is more than the 2 the budget allows.

    The members here take their grace period to go (tests/examples/runs.py,
    members_slow_to_stop). Members that stop at once are back within about 2.5 s on kind (the
    drain uncordons as soon as their replacements wait for the node), too short a loss of
    quorum for the third member's readers to notice."""
    manifest = with_budget(ETCD, tmp_path / "etcd.yaml", max_unavailable=2, slow_to_stop=True)
    violation = Violation(str(manifest), frozenset({"available_during_drain"}), holds=NONE)
    run = run_on_etcd(request, cluster, settings, load_image, manifest, tmp_path)
    assert_detects(run, violation)
    text = run.outcomes["test_available_during_drain"].text
    for shown in ("replicas unanswering at once", "at most 2", "3 (etcd-0, etcd-1, etcd-2)"):
        assert shown in text, f"expected {shown!r} in the failure; saw:\n{text}"


def with_budget(example: Path, path: Path, max_unavailable: int, slow_to_stop: bool) -> Path:
    documents = [d for d in yaml.safe_load_all(example.read_text()) if d]
    budget = next(d for d in documents if d["kind"] == "PodDisruptionBudget")
    budget["spec"]["maxUnavailable"] = max_unavailable
    if slow_to_stop:
        members_slow_to_stop(next(d for d in documents if d["kind"] == "StatefulSet"))
    path.write_text(yaml.safe_dump_all(documents, sort_keys=False))
    return path


def run_on_etcd(
    request: pytest.FixtureRequest, cluster: Cluster, settings: Settings,
    load_image: Callable[[str], None], manifest: Path, tmp_path: Path,
) -> SuiteRun:  # fmt: skip
    """available_during_drain on the etcd example (or a variant), with its own image."""
    image = default_image(load_manifest(ETCD), settings.airgap.images if settings.airgap else None)
    load_image(image)
    return run_suite(
        manifest,
        tmp_path / "run",
        [*suite_options(request, cluster, settings), f"--image={image}",
         *only({"available_during_drain"})],
        SILENT_FOR,
        target=DISRUPTION_TESTS,
    )  # fmt: skip


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

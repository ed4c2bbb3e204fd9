"""A failed pod must be deleted and recreated: the checks, fed event streams that break it."""

from __future__ import annotations

from pathlib import Path

from stsconf.checks.failed_pod import (
    failed_uids,
    recreated_after_failure,
    recreation_problems,
    running_replacement,
)
from stsconf.model.manifest import load_manifest
from stsconf.model.timeline import ADDED, DELETED, MODIFIED, PodEvent, PodState, Timeline
from stsconf.workload.failed_pod import VARIANT_LABEL, failing_variant, used_host_ports

POD = "web-failing-0"
ROOT = Path(__file__).resolve().parents[2]


def state(uid: str, phase: str, ready: bool = False) -> PodState:
    return PodState(POD, uid, phase, ready, False)


def timeline(*steps: tuple[str, PodState]) -> Timeline:
    return Timeline([PodEvent(i, float(i), kind, pod) for i, (kind, pod) in enumerate(steps)])


RECREATED = (
    (ADDED, state("a", "Pending")),
    (MODIFIED, state("a", "Failed")),
    (DELETED, state("a", "Failed")),
    (ADDED, state("b", "Pending")),
)


def test_failed_deleted_recreated_and_running_passes() -> None:
    events = timeline(*RECREATED, (MODIFIED, state("b", "Running", ready=True)))
    assert failed_uids(events, POD) == ["a"]
    assert recreated_after_failure(events, POD)
    assert running_replacement(events, POD)
    assert recreation_problems(events, POD) == []


def test_a_failed_pod_that_is_kept_is_reported() -> None:
    events = timeline((ADDED, state("a", "Pending")), (MODIFIED, state("a", "Failed")))
    assert not recreated_after_failure(events, POD)
    assert recreation_problems(events, POD) == [
        f"{POD} uid=a (Failed): expected deleted by the StatefulSet controller; saw kept",
        f"{POD}: expected in the end a new pod Running and Ready; saw Failed/NotReady uid=a",
    ]


def test_a_failed_pod_deleted_but_not_recreated_is_reported() -> None:
    events = timeline(*RECREATED[:3])
    assert not recreated_after_failure(events, POD)
    assert recreation_problems(events, POD) == [
        f"{POD} uid=a (Failed): expected a new pod after its deletion; saw none added",
        f"{POD}: expected in the end a new pod Running and Ready; saw no pod",
    ]


def test_a_replacement_that_never_runs_is_reported() -> None:
    events = timeline(*RECREATED)
    assert recreated_after_failure(events, POD)
    assert not running_replacement(events, POD)
    [problem] = recreation_problems(events, POD)
    assert "saw Pending/NotReady uid=b" in problem


def test_a_pod_that_never_fails_is_reported() -> None:
    events = timeline((ADDED, state("a", "Running", ready=True)))
    assert recreation_problems(events, POD) == [
        f"{POD}: expected to fail (phase Failed) while its host port was held; saw phases Running"
    ]


def test_the_failing_copy_keeps_containers_and_pins_node_and_port() -> None:
    manifest = load_manifest(ROOT / "manifests" / "web.yaml")
    body = failing_variant(manifest, "node-1", 21017)
    spec = body["spec"]
    assert body["metadata"] == {"name": "web-failing"}
    assert spec["replicas"] == 1
    assert spec["selector"] == {"matchLabels": {VARIANT_LABEL: "failed-pod"}}
    assert spec["template"]["metadata"]["labels"] == {VARIANT_LABEL: "failed-pod"}
    pod = spec["template"]["spec"]
    assert pod["nodeName"] == "node-1"
    assert pod["containers"][0]["ports"][-1]["hostPort"] == 21017
    assert "volumeClaimTemplates" not in spec
    assert pod["volumes"] == [{"name": "www", "emptyDir": {}}]
    assert manifest.statefulset["spec"]["replicas"] == 2  # the manifest is not changed


def test_used_host_ports() -> None:
    pods = [
        {"spec": {"containers": [{"ports": [{"containerPort": 80}, {"hostPort": 8080}]}]}},
        {"spec": {"containers": [{"ports": [{"hostPort": 21017}]}, {}]}},
    ]
    assert used_host_ports(pods) == {8080, 21017}

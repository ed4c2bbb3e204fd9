"""Holding pods unready and releasing them, whatever the image: a pod readiness gate.

The pod template gets `spec.readinessGates` with a condition type of the suite's own. A pod is
Ready only while that condition is True as well (the kubelet keeps conditions it does not own),
and the suite sets it through the pod status API, so any pod can be made unhealthy and healthy
again without touching the app.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from stsconf.access import rest, wait
from stsconf.access.rest import Kube
from stsconf.access.watching import Recorder
from stsconf.model.manifest import Manifest
from stsconf.model.timeline import pod_state_from_object
from stsconf.workload.variants import with_statefulset

Obj = dict[str, Any]

CONDITION = "stsconf.io/healthy"  # the gate's condition type


def gated(manifest: Manifest) -> Manifest:
    """A copy of the manifest whose pods carry the suite's readiness gate (their other gates
    are kept)."""

    def change(statefulset: Obj) -> None:
        pod_spec = statefulset["spec"]["template"]["spec"]
        gates = [g for g in pod_spec.get("readinessGates") or [] if g["conditionType"] != CONDITION]
        pod_spec["readinessGates"] = [*gates, {"conditionType": CONDITION}]

    return with_statefulset(manifest, change)


def set_healthy(kube: Kube, namespace: str, pod: str, healthy: bool) -> None:
    """Set the gate's condition of `pod` through the status subresource."""
    now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    condition = {
        "type": CONDITION,
        "status": "True" if healthy else "False",
        "reason": "StsconfReleased" if healthy else "StsconfHeld",
        "message": "set by stsconf through the pod status API",
        "lastTransitionTime": now,
    }
    kube.core.patch_namespaced_pod_status(
        pod,
        namespace,
        {"status": {"conditions": [condition]}},
        _content_type="application/strategic-merge-patch+json",
        _request_timeout=rest.REQUEST_TIMEOUT,
    )


def gate_status(pod: Mapping[str, Any]) -> str | None:
    """ "True", "False", or None while the condition was never set."""
    for condition in (pod.get("status") or {}).get("conditions") or []:
        if condition.get("type") == CONDITION:
            return str(condition.get("status"))
    return None


def pods_to_release(pods: Mapping[str, Obj], names: Sequence[str]) -> list[str]:
    """Those of `names` that exist, are not being deleted, and whose gate is not True."""
    return [
        name
        for name in names
        if name in pods
        and not pod_state_from_object(pods[name]).terminating
        and gate_status(pods[name]) != "True"
    ]


def release_until_ready(
    kube: Kube,
    namespace: str,
    recorder: Recorder,
    names: Sequence[str],
    timeout: float,
    diagnose: Callable[[], str] = str,
) -> None:
    """Release each of `names` as it appears until exactly they are Running and Ready (the
    controller may create them one at a time, each after the one before is Ready)."""
    ready, exactly = wait.pods_running_and_ready(names), wait.only_pods(names)
    while True:
        wait.wait_on_watch(
            recorder,
            lambda pods: (exactly(pods) and ready(pods)) or bool(pods_to_release(pods, names)),
            expected=f"exactly pods {', '.join(names)} Running and Ready (released as they came)",
            seen=wait.describe_pods,
            timeout=timeout,
            diagnose=diagnose,
        )
        objects, _ = recorder.snapshot()
        waiting = pods_to_release(objects, names)
        if not waiting:
            return
        for name in waiting:
            set_healthy(kube, namespace, name, True)
        wait_for_gate(recorder, waiting, "True", timeout, diagnose)


def wait_for_gate(
    recorder: Recorder,
    names: Sequence[str],
    status: str,
    timeout: float,
    diagnose: Callable[[], str] = str,
) -> None:
    """Wait until the watch shows the gate's condition of each of `names` at `status`."""
    wait.wait_on_watch(
        recorder,
        lambda pods: all(n in pods and gate_status(pods[n]) == status for n in names),
        expected=f"the readiness gate of {', '.join(names)} {status}",
        seen=wait.describe_pods,
        timeout=timeout,
        diagnose=diagnose,
    )


def hold_unready(
    kube: Kube,
    namespace: str,
    recorder: Recorder,
    pod: str,
    timeout: float,
    diagnose: Callable[[], str] = str,
) -> None:
    """Make `pod` unhealthy (its gate False) and wait until the watch shows it not Ready."""
    set_healthy(kube, namespace, pod, False)
    wait.wait_on_watch(
        recorder,
        lambda pods: pod in pods and not pod_state_from_object(pods[pod]).ready,
        expected=f"{pod} not Ready once its readiness gate {CONDITION} is False",
        seen=wait.describe_pods,
        timeout=timeout,
        diagnose=diagnose,
    )

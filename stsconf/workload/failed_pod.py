"""Making a StatefulSet's pod fail, as upstream's "Should recreate evicted statefulset" does: a pod
pinned to a node holds a host port, and a one-replica copy of the StatefulSet pinned to the same
node asks for that port, so the kubelet rejects its pod (phase Failed). Then the StatefulSet
controller must delete the failed pod and create it again until one runs.

The copy keeps the manifest's containers and probes; it gets its own name and labels (so the
StatefulSet under test and its Service never see its pods), and its claim templates become
emptyDir volumes of the same names: a pod given a node by `nodeName` bypasses the scheduler,
which claims of a WaitForFirstConsumer StorageClass wait for.

What must then happen to the failing pod is checked by checks/failed_pod.py.
"""

from __future__ import annotations

import copy
import random
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from kubernetes import client

from stsconf.access import rest, wait
from stsconf.access.rest import REQUEST_TIMEOUT, Kube
from stsconf.access.watching import Recorder
from stsconf.checks.failed_pod import recreated_after_failure, running_replacement
from stsconf.model.expectations import mismatch
from stsconf.model.manifest import Manifest
from stsconf.model.timeline import Timeline
from stsconf.workload.statefulset import pod_timeline

Obj = Mapping[str, Any]
HOLDER = "stsconf-port-holder"
VARIANT_LABEL = "stsconf.io/variant"
VARIANT = "failed-pod"
PORTS = range(20000, 30000)  # where a free host port is picked
ATTEMPTS = 3  # host ports tried: a concurrent run may take the same one


# The copy of the StatefulSet whose pod fails


def variant_name(manifest: Manifest) -> str:
    return f"{manifest.statefulset_name}-failing"


def variant_selector() -> str:
    return f"{VARIANT_LABEL}={VARIANT}"


def failing_variant(manifest: Manifest, node: str, port: int) -> dict[str, Any]:
    """One replica of the manifest's StatefulSet, pinned to `node`, asking for host `port`."""
    body = copy.deepcopy(manifest.statefulset)
    body["metadata"] = {"name": variant_name(manifest)}
    spec = body["spec"]
    labels = {VARIANT_LABEL: VARIANT}
    spec.update(replicas=1, selector={"matchLabels": labels})
    for field in ("ordinals", "persistentVolumeClaimRetentionPolicy"):
        spec.pop(field, None)
    spec["template"].setdefault("metadata", {})["labels"] = labels
    pod = spec["template"]["spec"]
    pod["nodeName"] = node
    held = {"name": "stsconf-hold", "containerPort": port, "hostPort": port, "protocol": "TCP"}
    pod["containers"][0].setdefault("ports", []).append(held)
    templates = spec.pop("volumeClaimTemplates", None) or []
    volumes = [{"name": t["metadata"]["name"], "emptyDir": {}} for t in templates]
    pod["volumes"] = [*pod.get("volumes", []), *volumes]
    return body


def create_variant(kube: Kube, namespace: str, body: Obj) -> None:
    kube.apps.create_namespaced_stateful_set(
        namespace, client.V1StatefulSet.model_validate(body), _request_timeout=REQUEST_TIMEOUT
    )


def delete_variant(kube: Kube, namespace: str, name: str, timeout: float) -> None:
    """Delete the copy and the port holder; wait until the copy's pods are gone."""
    with Recorder(
        kube.core.list_namespaced_pod, namespace=namespace, label_selector=variant_selector()
    ) as recorder:
        rest.ignore_missing(kube.apps.delete_namespaced_stateful_set, name, namespace)
        rest.delete_pod(kube, HOLDER, namespace, grace_seconds=0)
        wait.wait_on_watch(
            recorder,
            wait.only_pods([]),
            expected=f"the pods of {name} gone after deleting it",
            seen=wait.describe_pods,
            timeout=timeout,
        )


@dataclass(frozen=True)
class FailedPodRun:
    statefulset: str  # the failing copy
    pod: str
    node: str
    port: int
    freed_after: int  # the number of watch events seen before the port was freed
    timeline: Timeline  # the copy's pods, from its creation until one ran


def fail_then_free(
    kube: Kube,
    namespace: str,
    manifest: Manifest,
    node: str,
    image: str,
    timeout: float,
    diagnose: Callable[[], str] = str,
) -> FailedPodRun:
    """Hold a host port on `node` (a pod of `image`), create the failing copy, wait until its
    pod failed, was deleted and created again, then free the port and wait until a new pod
    runs. The copy and the holder are deleted afterwards, also when a wait fails."""
    name = variant_name(manifest)
    pod = f"{name}-0"
    try:
        port = hold_host_port(kube, namespace, node, image, timeout, diagnose)
        with Recorder(
            kube.core.list_namespaced_pod, namespace=namespace, label_selector=variant_selector()
        ) as recorder:
            create_variant(kube, namespace, failing_variant(manifest, node, port))
            wait.wait_on_watch(
                recorder,
                lambda _: recreated_after_failure(pod_timeline(recorder), pod),
                expected=f"{pod} Failed (host port {port} taken on {node}), deleted and created "
                "again",
                seen=wait.describe_pods,
                timeout=timeout,
                diagnose=diagnose,
            )
            freed_after = len(pod_timeline(recorder).events)
            rest.delete_pod(kube, HOLDER, namespace, grace_seconds=0)
            wait.wait_on_watch(
                recorder,
                lambda _: running_replacement(pod_timeline(recorder), pod),
                expected=f"a new {pod} Running and Ready once port {port} was free",
                seen=wait.describe_pods,
                timeout=timeout,
                diagnose=diagnose,
            )
            timeline = pod_timeline(recorder)
    finally:
        delete_variant(kube, namespace, name, timeout)
    return FailedPodRun(name, pod, node, port, freed_after, timeline)


# The pod that holds the port


def used_host_ports(pods: Sequence[Obj]) -> set[int]:
    return {
        int(port["hostPort"])
        for pod in pods
        for container in (pod.get("spec") or {}).get("containers") or []
        for port in container.get("ports") or []
        if port.get("hostPort")
    }


def free_host_port(kube: Kube, node: str, rng: random.Random) -> int:
    pods = rest.raw(kube.core.list_pod_for_all_namespaces, field_selector=f"spec.nodeName={node}")
    used = used_host_ports(pods.get("items") or [])
    return rng.choice([port for port in PORTS if port not in used])


def holder_pod(node: str, port: int, image: str) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": HOLDER, "labels": {"app.kubernetes.io/name": HOLDER}},
        "spec": {
            "nodeName": node,
            "terminationGracePeriodSeconds": 0,
            "containers": [
                {
                    "name": "hold",
                    "image": image,
                    "imagePullPolicy": "IfNotPresent",
                    "command": ["sleep", "86400"],
                    "ports": [{"containerPort": port, "hostPort": port, "protocol": "TCP"}],
                }
            ],
        },
    }


def hold_host_port(
    kube: Kube,
    namespace: str,
    node: str,
    image: str,
    timeout: float,
    diagnose: Callable[[], str] = str,
) -> int:
    """Run the holder pod on `node` with a free host port; return the port. A port that
    another run took in the meantime makes the holder fail: then the next port is tried."""
    rng = random.Random()
    for _ in range(ATTEMPTS):
        port = free_host_port(kube, node, rng)
        if _holder_runs(kube, namespace, holder_pod(node, port, image), timeout, diagnose):
            return port
    raise AssertionError(
        mismatch(
            f"pod {HOLDER} on {node}",
            "to run with a free host port",
            f"rejected {ATTEMPTS} times (ports taken)",
        )
    )


def _holder_runs(
    kube: Kube, namespace: str, body: Obj, timeout: float, diagnose: Callable[[], str]
) -> bool:
    with Recorder(
        kube.core.list_namespaced_pod, namespace=namespace, field_selector=f"metadata.name={HOLDER}"
    ) as recorder:
        kube.core.create_namespaced_pod(
            namespace, client.V1Pod.model_validate(body), _request_timeout=REQUEST_TIMEOUT
        )

        def settled(pods: wait.Objects) -> bool:
            phase = (pods.get(HOLDER) or {}).get("status", {}).get("phase")
            return phase in ("Running", "Failed")

        wait.wait_on_watch(
            recorder,
            settled,
            expected=f"pod {HOLDER} Running (or rejected: port taken)",
            seen=wait.describe_pods,
            timeout=timeout,
            diagnose=diagnose,
        )
        objects, _ = recorder.snapshot()
        if objects[HOLDER]["status"]["phase"] == "Running":
            return True
        rest.delete_pod(kube, HOLDER, namespace, grace_seconds=0)
        wait.wait_on_watch(
            recorder,
            lambda pods: HOLDER not in pods,
            expected=f"rejected pod {HOLDER} gone",
            seen=wait.describe_pods,
            timeout=timeout,
            diagnose=diagnose,
        )
        return False

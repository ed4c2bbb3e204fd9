"""Every node works, and the pod network spans them: one pod with a claim on each node.

On one node this is the same check as test_cluster_basics' on that node; on several (e.g.
`--nodes 3`) it shows what a StatefulSet spread over nodes relies on: the default
StorageClass binds a claim on every node, and a pod on one node reaches a pod on another by
its per-pod DNS name.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import product
from typing import Any

import pytest
from kubernetes import client

from stsconf.access import rest, wait
from stsconf.access.watching import Recorder
from stsconf.cluster_fixture import Cluster
from stsconf.model.expectations import expect
from stsconf.observe.dns import nslookup_ipv4_answers
from stsconf.observe.placement import volume_node
from stsconf.report.observations import Observations
from stsconf.settings import Settings

pytestmark = pytest.mark.cluster

SERVICE = "spread"
PORT = 8080
CONTROL_PLANE_TAINT = "node-role.kubernetes.io/control-plane"


@dataclass(frozen=True)
class Member:
    """The pod (and claim) of the same name on one node."""

    name: str
    node: str

    def fqdn(self, namespace: str) -> str:
        return f"{self.name}.{SERVICE}.{namespace}.svc.cluster.local"


def schedulable(node: dict[str, Any]) -> bool:
    """A node our pods may go to: no taint but the control plane's (which they tolerate)."""
    taints = (node.get("spec") or {}).get("taints") or []
    return all(
        taint["key"] == CONTROL_PLANE_TAINT or taint["effect"] == "PreferNoSchedule"
        for taint in taints
    )


@pytest.fixture(scope="module")
def members(cluster: Cluster, namespace: str, settings: Settings) -> list[Member]:
    """A Running and Ready pod with a claim of its own on every node."""
    nodes = rest.raw(cluster.kube.core.list_node).get("items") or []
    names = sorted(node["metadata"]["name"] for node in nodes if schedulable(node))
    spread = [Member(f"{SERVICE}-{index}", node) for index, node in enumerate(names)]
    core = cluster.kube.core
    core.create_namespaced_service(namespace, service_body())
    selector = f"app={SERVICE}"
    with Recorder(core.list_namespaced_pod, namespace=namespace, label_selector=selector) as pods:
        for member in spread:
            core.create_namespaced_persistent_volume_claim(namespace, claim_body(member))
            core.create_namespaced_pod(namespace, pod_body(member, settings.probe_image))
        wait.wait_on_watch(
            pods,
            wait.pods_running_and_ready([member.name for member in spread]),
            expected=f"one pod Running and Ready on each of {', '.join(names)}",
            seen=wait.describe_pods,
            timeout=settings.timeouts.pods,
        )
    return spread


def test_the_default_storage_class_binds_a_claim_on_every_node(
    cluster: Cluster, namespace: str, members: list[Member], observe: Observations
) -> None:
    """On every node, a claim of the default StorageClass binds to a volume of that node."""
    rows = [claim_on_node(cluster, namespace, member) for member in members]
    observe.table("claims, one per node", rows)
    for row in rows:
        expect(
            row["phase"] == "Bound" and row["pod on"] == row["volume on"] == row["node"],
            f"claim {row['claim']} (its pod placed on {row['node']})",
            f"Bound, pod and volume on {row['node']}",
            f"{row['phase']}, pod on {row['pod on']}, volume on {row['volume on']}",
        )


def test_pods_on_different_nodes_reach_each_other_by_per_pod_name(
    cluster: Cluster, namespace: str, members: list[Member], settings: Settings,
    observe: Observations,
) -> None:  # fmt: skip
    """A pod on each node resolves every other node's pod by its per-pod name to that pod's
    IP, and fetches over HTTP the hostname the other pod serves."""
    ips = {m.name: pod_ip(cluster, namespace, m.name) for m in members}
    pairs = [(a, b) for a, b in product(members, members) if a != b] or [(members[0], members[0])]
    rows = []
    for source, target in pairs:
        name = target.fqdn(namespace)
        answer = resolved_by(cluster, namespace, source, name, ips[target.name], settings)
        body = fetch_from(cluster, namespace, source, f"http://{name}:{PORT}/")
        rows.append(
            {
                "from": f"{source.name} ({source.node})",
                "to": f"{target.name} ({target.node})",
                "resolved": ", ".join(answer),
                "served": body.strip(),
            }
        )
    observe.table("pod to pod, across nodes", rows)
    for row, (source, target) in zip(rows, pairs, strict=True):
        expect(
            row["served"] == target.name,
            f"GET http://{target.fqdn(namespace)}:{PORT}/ from {source.name} on {source.node}",
            f"{target.name!r} (served by the pod on {target.node})",
            repr(row["served"]),
        )


def claim_on_node(cluster: Cluster, namespace: str, member: Member) -> dict[str, str]:
    core = cluster.kube.core
    claim = rest.raw(core.read_namespaced_persistent_volume_claim, member.name, namespace)
    pod = rest.raw(core.read_namespaced_pod, member.name, namespace)
    volume_name = (claim.get("spec") or {}).get("volumeName") or ""
    volume = rest.raw(core.read_persistent_volume, volume_name) if volume_name else {}
    return {
        "claim": member.name,
        "node": member.node,
        "phase": str((claim.get("status") or {}).get("phase")),
        "pod on": str(pod["spec"].get("nodeName")),
        "volume on": volume_node(volume) or "none",
    }


def pod_ip(cluster: Cluster, namespace: str, name: str) -> str:
    return str(rest.raw(cluster.kube.core.read_namespaced_pod, name, namespace)["status"]["podIP"])


def resolved_by(
    cluster: Cluster, namespace: str, source: Member, name: str, ip: str, settings: Settings
) -> list[str]:
    """What `source` resolves `name` to, once it is `ip` (DNS follows the API shortly)."""
    return wait.retry_until(
        lambda: resolve_from(cluster, namespace, source, name),
        lambda addresses: addresses == [ip],
        expected=f"{name} -> {ip} (asked in {source.name} on {source.node})",
        seen=lambda addresses: ", ".join(addresses) or "no address",
        timeout=settings.timeouts.dns,
    )


def resolve_from(cluster: Cluster, namespace: str, source: Member, name: str) -> list[str]:
    result = rest.exec_in_pod(cluster.kube, source.name, namespace, ["nslookup", name])
    return list(nslookup_ipv4_answers(result.stdout))


def fetch_from(cluster: Cluster, namespace: str, source: Member, url: str) -> str:
    command = ["timeout", "10", "wget", "-q", "-O", "-", url]
    result = rest.exec_in_pod(cluster.kube, source.name, namespace, command)
    return result.stdout if result.ok else f"(failed: exit {result.returncode} {result.stderr})"


def service_body() -> client.V1Service:
    return client.V1Service(
        metadata=client.V1ObjectMeta(name=SERVICE),
        spec=client.V1ServiceSpec(
            cluster_ip="None",
            selector={"app": SERVICE},
            ports=[client.V1ServicePort(name="http", port=PORT)],
        ),
    )


def claim_body(member: Member) -> client.V1PersistentVolumeClaim:
    return client.V1PersistentVolumeClaim(
        metadata=client.V1ObjectMeta(name=member.name),
        spec=client.V1PersistentVolumeClaimSpec(
            access_modes=["ReadWriteOnce"],
            resources=client.V1VolumeResourceRequirements(requests={"storage": "16Mi"}),
        ),
    )


def pod_body(member: Member, image: str) -> client.V1Pod:
    """Serves its hostname over HTTP from its claim; placed on its node by the scheduler (a
    node selector, not nodeName, so that the claim's volume is bound for that node)."""
    serve = f"hostname > /data/index.html && exec httpd -f -p {PORT} -h /data"
    return client.V1Pod(
        metadata=client.V1ObjectMeta(name=member.name, labels={"app": SERVICE}),
        spec=client.V1PodSpec(
            hostname=member.name,
            subdomain=SERVICE,
            termination_grace_period_seconds=0,
            node_selector={"kubernetes.io/hostname": member.node},
            tolerations=[client.V1Toleration(key=CONTROL_PLANE_TAINT, operator="Exists")],
            containers=[
                client.V1Container(
                    name="member",
                    image=image,
                    image_pull_policy="IfNotPresent",
                    command=["sh", "-c", serve],
                    volume_mounts=[client.V1VolumeMount(name="data", mount_path="/data")],
                    readiness_probe=client.V1Probe(
                        tcp_socket=client.V1TCPSocketAction(port=PORT), period_seconds=1
                    ),
                )
            ],
            volumes=[
                client.V1Volume(
                    name="data",
                    persistent_volume_claim=client.V1PersistentVolumeClaimVolumeSource(
                        claim_name=member.name
                    ),
                )
            ],
        ),
    )

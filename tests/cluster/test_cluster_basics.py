"""The cluster itself works: what every StatefulSet guarantee silently relies on.

These run first, so that a broken cluster (air-gapped or not) is reported as such,
not as a StatefulSet that breaks its promises.
"""

from __future__ import annotations

import ipaddress
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from kubernetes import client

from stsconf.access import rest, wait
from stsconf.access.kind_config import SERVICE_SUBNET
from stsconf.access.namespaces import DEFAULT_ACCOUNT
from stsconf.access.watching import Recorder
from stsconf.cluster_fixture import Cluster
from stsconf.model.expectations import expect
from stsconf.model.timeline import condition_true
from stsconf.observe.probe import Probe
from stsconf.report.observations import Observations
from stsconf.settings import Settings

pytestmark = pytest.mark.cluster

MEMBER = "member-0"
MEMBERS = "members"
CLAIM = "basics-claim"
GREETING = "cluster-basics: member started"
REFUSED = "Connection refused"  # busybox wget's words


def describe_nodes(nodes: wait.Objects) -> str:
    return (
        ", ".join(f"{name} Ready={condition_true(node, 'Ready')}" for name, node in nodes.items())
        or "no nodes"
    )


def test_every_node_is_ready(cluster: Cluster, settings: Settings) -> None:
    """Every node of the cluster reports Ready."""
    with Recorder(cluster.kube.core.list_node) as nodes:
        wait.wait_on_watch(
            nodes,
            lambda objs: bool(objs) and all(condition_true(n, "Ready") for n in objs.values()),
            expected="every node Ready",
            seen=describe_nodes,
            timeout=settings.timeouts.pods,
        )


def test_coredns_is_ready(cluster: Cluster, settings: Settings) -> None:
    """The cluster DNS (CoreDNS) pods are Running and Ready."""
    with Recorder(
        cluster.kube.core.list_namespaced_pod,
        namespace="kube-system",
        label_selector="k8s-app=kube-dns",
    ) as dns_pods:
        wait.wait_on_watch(
            dns_pods,
            lambda pods: bool(pods) and wait.pods_running_and_ready(list(pods))(pods),
            expected="CoreDNS pods (k8s-app=kube-dns) Running and Ready",
            seen=wait.describe_pods,
            timeout=settings.timeouts.pods,
        )


def test_a_new_namespace_has_its_default_service_account_before_any_pod(
    cluster: Cluster, namespace: str
) -> None:
    """A namespace the suite made already has the ServiceAccount its pods run as: without it
    the API server refuses every pod in it (403), as on a cluster created seconds before."""
    account = rest.read_or_none(
        cluster.kube.core.read_namespaced_service_account, DEFAULT_ACCOUNT, namespace
    )
    expect(
        account is not None,
        f"ServiceAccount {DEFAULT_ACCOUNT!r} in {namespace}",
        "present when the namespace is handed to the tests",
        "absent",
    )


def test_default_storage_class_binds_a_claim_once_a_pod_uses_it(
    cluster: Cluster, namespace: str, settings: Settings, observe: Observations
) -> None:
    """A claim of the default StorageClass waits for its first consumer, then binds."""
    core = cluster.kube.core
    with Recorder(core.list_namespaced_persistent_volume_claim, namespace=namespace) as claims:
        core.create_namespaced_persistent_volume_claim(namespace, claim_body())
        wait.wait_on_watch(
            claims,
            lambda objs: CLAIM in objs,
            expected=f"claim {CLAIM} listed",
            seen=describe_claims,
            timeout=settings.timeouts.pods,
        )
        phase_before_pod = claim_phase(claims.objects[CLAIM])
        core.create_namespaced_pod(namespace, member_pod_body(settings.probe_image))
        wait.wait_on_watch(
            claims,
            lambda objs: claim_phase(objs.get(CLAIM)) == "Bound",
            expected=f"claim {CLAIM} Bound once pod {MEMBER} uses it",
            seen=describe_claims,
            timeout=settings.timeouts.pods,
        )
    observe.table(
        "claim of the default StorageClass",
        [
            {"moment": "before any pod used it", "phase": phase_before_pod},
            {"moment": f"after pod {MEMBER} mounted it", "phase": "Bound"},
        ],
    )
    expect(
        phase_before_pod == "Pending",
        f"claim {CLAIM} before any pod used it",
        "Pending (WaitForFirstConsumer, as in stock kind)",
        phase_before_pod,
    )


def test_a_pod_resolves_the_kubernetes_service(
    cluster: Cluster, probe: Probe, settings: Settings, observe: Observations
) -> None:
    """kubernetes.default.svc.cluster.local resolves to the API service's cluster IP."""
    service = rest.raw(cluster.kube.core.read_namespaced_service, "kubernetes", "default")
    service_ip = service["spec"]["clusterIP"]
    name = "kubernetes.default.svc.cluster.local"
    answer = wait.retry_until(
        lambda: probe.resolve(name),
        lambda a: service_ip in a.addresses,
        expected=f"{name} -> {service_ip}",
        seen=lambda a: a.output,
        timeout=settings.timeouts.dns,
    )
    observe.table("DNS answer", [{"name": name, "answer": answer.describe()}])


def test_a_pod_resolves_a_headless_services_per_pod_name(
    cluster: Cluster, namespace: str, probe: Probe, settings: Settings, observe: Observations
) -> None:
    """<hostname>.<headless service>.<namespace>.svc.cluster.local resolves to that pod's IP."""
    ensure_member(cluster, namespace, settings)
    cluster.kube.core.create_namespaced_service(namespace, headless_service_body())
    pod_ip = rest.raw(cluster.kube.core.read_namespaced_pod, MEMBER, namespace)["status"]["podIP"]
    name = f"{MEMBER}.{MEMBERS}.{namespace}.svc.cluster.local"
    answer = wait.retry_until(
        lambda: probe.resolve(name),
        lambda a: a.addresses == (pod_ip,),
        expected=f"{name} -> {pod_ip}",
        seen=lambda a: a.output,
        timeout=settings.timeouts.dns,
    )
    observe.table("DNS answer", [{"name": name, "answer": answer.describe(), "pod IP": pod_ip}])


def test_a_service_address_no_service_holds_is_refused_inside_the_cluster(
    cluster: Cluster, probe: Probe, settings: Settings, observe: Observations
) -> None:
    """A connection to an address of the Service range that no Service holds is refused in the
    node, as one to a Service without endpoints: it never reaches the network outside, whose
    answer a client would take for the app's (stsconf/access/kind_config.py)."""
    if settings.existing_kubeconfig is not None:
        pytest.skip("the suite's kind config sets this up; this cluster was not created by it")
    address = unheld_service_address(cluster)
    answer = probe.http_get(address, 80)
    seen = answer.error or f"an answer: {answer.body[:200]!r}"
    observe.table("a request to an address no Service holds", [{"url": answer.url, "seen": seen}])
    expect(
        REFUSED in answer.error,
        f"GET {answer.url} from a pod",
        REFUSED,
        f"{seen} (a cluster kept from before the suite set this up lacks the rule: delete it "
        "and let the run create it)",
    )


def test_kubectl_exec_and_logs_work(
    cluster: Cluster, namespace: str, settings: Settings, observe: Observations
) -> None:
    """`kubectl exec` runs a command in a pod and `kubectl logs` shows what it printed."""
    kubectl = kubectl_binary(settings)
    ensure_member(cluster, namespace, settings)
    base = [str(kubectl), "--kubeconfig", str(cluster.info.kubeconfig), "-n", namespace]
    hostname = run([*base, "exec", MEMBER, "--", "hostname"])
    logs = run([*base, "logs", MEMBER])
    observe.table(
        "kubectl",
        [
            {"command": "exec -- hostname", "output": hostname.strip()},
            {"command": "logs", "output": logs.strip()},
        ],
    )
    expect(hostname.strip() == MEMBER, "kubectl exec -- hostname", MEMBER, repr(hostname))
    expect(GREETING in logs, "kubectl logs", f"a line {GREETING!r}", repr(logs))


def unheld_service_address(cluster: Cluster) -> str:
    """The highest address of the Service range that no Service of the cluster holds."""
    services = rest.raw(cluster.kube.core.list_service_for_all_namespaces)["items"]
    held = {ip for s in services for ip in s["spec"].get("clusterIPs") or []}
    network = ipaddress.ip_network(SERVICE_SUBNET)
    below_broadcast = (str(network[-offset]) for offset in range(2, network.num_addresses))
    return next(address for address in below_broadcast if address not in held)


def kubectl_binary(settings: Settings) -> Path:
    found = settings.airgap.kubectl_bin if settings.airgap else shutil.which("kubectl")
    if not found:
        pytest.skip("no kubectl: put one on PATH or use --airgap")
    return Path(found)


def run(argv: list[str]) -> str:
    done = subprocess.run(argv, capture_output=True, text=True, timeout=60, check=False)
    expect(
        done.returncode == 0,
        " ".join(argv[3:]),
        "exit code 0",
        f"exit code {done.returncode}: {done.stderr.strip()}",
    )
    return done.stdout


def ensure_member(cluster: Cluster, namespace: str, settings: Settings) -> None:
    """The member pod (with its claim) exists and is Ready, whichever test needs it first."""
    core = cluster.kube.core
    with Recorder(
        core.list_namespaced_pod, namespace=namespace, field_selector=f"metadata.name={MEMBER}"
    ) as pods:
        if MEMBER not in pods.objects:
            read_claim = core.read_namespaced_persistent_volume_claim
            if rest.read_or_none(read_claim, CLAIM, namespace) is None:
                core.create_namespaced_persistent_volume_claim(namespace, claim_body())
            core.create_namespaced_pod(namespace, member_pod_body(settings.probe_image))
        wait.wait_on_watch(
            pods,
            wait.pods_running_and_ready([MEMBER]),
            expected=f"pod {MEMBER} Running and Ready",
            seen=wait.describe_pods,
            timeout=settings.timeouts.pods,
        )


def claim_phase(claim: dict[str, Any] | None) -> str:
    return str(((claim or {}).get("status") or {}).get("phase", "absent"))


def describe_claims(claims: wait.Objects) -> str:
    return ", ".join(f"{name} {claim_phase(c)}" for name, c in claims.items()) or "no claims"


def claim_body() -> client.V1PersistentVolumeClaim:
    return client.V1PersistentVolumeClaim(
        metadata=client.V1ObjectMeta(name=CLAIM),
        spec=client.V1PersistentVolumeClaimSpec(
            access_modes=["ReadWriteOnce"],
            resources=client.V1VolumeResourceRequirements(requests={"storage": "16Mi"}),
        ),
    )


def member_pod_body(image: str) -> client.V1Pod:
    return client.V1Pod(
        metadata=client.V1ObjectMeta(name=MEMBER, labels={"app": MEMBERS}),
        spec=client.V1PodSpec(
            hostname=MEMBER,
            subdomain=MEMBERS,
            termination_grace_period_seconds=0,
            containers=[
                client.V1Container(
                    name="member",
                    image=image,
                    image_pull_policy="IfNotPresent",
                    command=["sh", "-c", f"echo '{GREETING}'; exec sleep 86400"],
                    volume_mounts=[client.V1VolumeMount(name="data", mount_path="/data")],
                )
            ],
            volumes=[
                client.V1Volume(
                    name="data",
                    persistent_volume_claim=(
                        client.V1PersistentVolumeClaimVolumeSource(claim_name=CLAIM)
                    ),
                )
            ],
        ),
    )


def headless_service_body() -> client.V1Service:
    return client.V1Service(
        metadata=client.V1ObjectMeta(name=MEMBERS),
        spec=client.V1ServiceSpec(
            cluster_ip="None",
            selector={"app": MEMBERS},
            ports=[client.V1ServicePort(name="none", port=1)],
        ),
    )

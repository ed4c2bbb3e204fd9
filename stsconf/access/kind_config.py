"""The kind configuration of the clusters the suite creates.

containerd on every node reads per-registry host settings from a directory (config_path,
set by a `containerdConfigPatches` entry) that the suite writes on this machine and kind
mounts into the nodes (`extraMounts`). Its one entry makes containerd reach the test
registry over plain HTTP; credentials still come from each pod's imagePullSecrets. This
works alike for containerd 1.6 (the air-gapped node) and 2.x (kind's own node images),
unlike the older `registry.mirrors` settings that containerd 2 dropped.

On a host whose Docker runs on cgroup v1, the kubelet is told not to refuse it (from
Kubernetes 1.35 it does unless `failCgroupV1: false`); feature gates given to the suite go
to every component through kind's own `featureGates`.

A connection from a pod to an address of the Service range that kube-proxy has not programmed
(a Service just created, or one whose endpoints are being replaced) leaves the node through
Docker's gateway for the host's network. A network that answers every address (a transparent
proxy does: the project's CI machines answer HTTP 404 on any port) then answers in the app's
place, and a client takes that answer for the app's. Every node rejects such connections, as
kube-proxy does for a Service without endpoints: a kubelet drop-in (a file mounted like the host
settings) inserts the iptables rule before the kubelet starts, at each start of the node.
"""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pytest_kind import KindCluster

from stsconf.access.cluster import run_tool
from stsconf.access.registry import HOST_IN_CLUSTER

HOSTS_DIR_IN_NODE = "/etc/containerd/certs.d"
CONFIG_FILE = "kind-config.yaml"
HOSTS_DIR = "containerd-certs.d"
SERVICE_RANGE_FILE = "kubelet-service-range.conf"
SERVICE_RANGE_IN_NODE = "/etc/systemd/system/kubelet.service.d/20-stsconf-service-range.conf"
# kind's default, set in the config so that the rule below names the range the cluster uses
SERVICE_SUBNET = "10.96.0.0/16"
SERVICE_RANGE_COMMENT = "stsconf: no Service holds this address"

CONTAINERD_PATCH = f"""\
[plugins."io.containerd.grpc.v1.cri".registry]
  config_path = "{HOSTS_DIR_IN_NODE}"
"""


def hosts_toml(host: str) -> str:
    """containerd's host settings for `host`: pull from it over plain HTTP. (containerd 1.6
    takes the scheme from a [host."http://..."] entry, not from `server` alone.)"""
    return f'[host."http://{host}"]\n  capabilities = ["pull", "resolve"]\n'


def service_range_rule(subnet: str = SERVICE_SUBNET) -> str:
    """iptables' match of the rule in FORWARD: a connection to the Service range that kube-proxy
    did not translate to a pod's address is refused."""
    return f'-d {subnet} -m comment --comment "{SERVICE_RANGE_COMMENT}" -j REJECT'


def service_range_drop_in(subnet: str = SERVICE_SUBNET) -> str:
    """The kubelet drop-in inserting the rule once (checked first: the kubelet may restart);
    the leading `-` lets the kubelet start should iptables fail."""
    rule = service_range_rule(subnet)
    insert = f"iptables -w -C FORWARD {rule} 2>/dev/null || iptables -w -I FORWARD 1 {rule}"
    return (
        "# written by stsconf (stsconf/access/kind_config.py)\n"
        f"[Service]\nExecStartPre=-/bin/sh -c '{insert}'\n"
    )


KUBELET_CGROUP_V1_PATCH = """\
kind: KubeletConfiguration
failCgroupV1: false
"""


def kind_config(
    directory: Path,
    nodes: int = 1,
    *,
    feature_gates: dict[str, bool] | None = None,
    cgroup_v1: bool = False,
) -> dict[str, Any]:
    """One control-plane node (kind's default) and `nodes` - 1 workers, each node mounting
    from `directory` its containerd's host settings and the Service range's kubelet drop-in."""
    mounts = [
        {"hostPath": str(directory / HOSTS_DIR), "containerPath": HOSTS_DIR_IN_NODE},
        {"hostPath": str(directory / SERVICE_RANGE_FILE), "containerPath": SERVICE_RANGE_IN_NODE},
    ]
    read_only = [{**mount, "readOnly": True} for mount in mounts]
    roles = ["control-plane"] + ["worker"] * (nodes - 1)
    config: dict[str, Any] = {
        "kind": "Cluster",
        "apiVersion": "kind.x-k8s.io/v1alpha4",
        "networking": {"serviceSubnet": SERVICE_SUBNET},
        "containerdConfigPatches": [CONTAINERD_PATCH],
        "nodes": [{"role": role, "extraMounts": read_only} for role in roles],
    }
    if feature_gates:
        config["featureGates"] = dict(feature_gates)
    if cgroup_v1:
        config["kubeadmConfigPatches"] = [KUBELET_CGROUP_V1_PATCH]
    return config


def merged_gates(given: list[dict[str, bool]]) -> dict[str, bool]:
    """Every --feature-gates given, a later one winning for the same gate."""
    merged: dict[str, bool] = {}
    for gates in given:
        merged.update(gates)
    return merged


def docker_uses_cgroup_v1() -> bool:
    """Whether Docker, and so every kind node, runs on cgroup v1."""
    done = subprocess.run(
        ["docker", "info", "--format", "{{.CgroupVersion}}"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    return done.returncode == 0 and done.stdout.strip() == "1"


@dataclass(frozen=True)
class KindConfigFiles:
    directory: Path

    @property
    def config(self) -> Path:
        return self.directory / CONFIG_FILE

    @property
    def hosts_dir(self) -> Path:
        return self.directory / HOSTS_DIR

    @property
    def service_range(self) -> Path:
        return self.directory / SERVICE_RANGE_FILE

    def remove(self) -> None:
        self.config.unlink(missing_ok=True)
        self.service_range.unlink(missing_ok=True)
        shutil.rmtree(self.hosts_dir, ignore_errors=True)


def write_kind_config(
    directory: Path, nodes: int = 1, feature_gates: dict[str, bool] | None = None
) -> KindConfigFiles:
    """Write the kind config (`nodes` nodes, `feature_gates`) and the files it mounts into
    `directory`."""
    files = KindConfigFiles(directory.resolve())
    host_file = files.hosts_dir / HOST_IN_CLUSTER / "hosts.toml"
    host_file.parent.mkdir(parents=True, exist_ok=True)
    host_file.write_text(hosts_toml(HOST_IN_CLUSTER))
    files.service_range.write_text(service_range_drop_in())
    settings = kind_config(
        files.directory, nodes, feature_gates=feature_gates, cgroup_v1=docker_uses_cgroup_v1()
    )
    files.config.write_text(yaml.safe_dump(settings, sort_keys=False))
    return files


def kind_cluster_of(option: Any) -> KindCluster:
    """pytest-kind's KindCluster for the options --cluster-name, --kubeconfig, --kind-image,
    --kind-bin and --kind-kubectl-bin."""
    return KindCluster(
        option.cluster_name,
        Path(option.kubeconfig) if option.kubeconfig else None,
        image=option.kind_image,
        kind_path=Path(option.kind_bin) if option.kind_bin else None,
        kubectl_path=Path(option.kind_kubectl_bin) if option.kind_kubectl_bin else None,
    )


def create_cluster(option: Any) -> KindCluster:
    """Create the kind cluster with the suite's kind config: --nodes and --feature-gates."""
    cluster = kind_cluster_of(option)
    gates = merged_gates(getattr(option, "feature_gates", []))
    files = write_kind_config(cluster.path, getattr(option, "nodes", 1), gates)
    try:
        cluster.create(config_file=files.config)
    except BaseException:
        files.remove()
        raise
    return cluster


def delete_cluster(option: Any) -> None:
    """Delete the kind cluster and the kind config written for it."""
    cluster = kind_cluster_of(option)
    cluster.delete()
    KindConfigFiles(cluster.path).remove()


def nodes_without_registry_hosts(kind_bin: Path, cluster_name: str) -> list[str]:
    """Nodes of the kind cluster whose containerd has no settings for the test registry
    (a cluster created without the suite's kind config)."""
    nodes = run_tool([str(kind_bin), "get", "nodes", "--name", cluster_name]).split()
    host_file = f"{HOSTS_DIR_IN_NODE}/{HOST_IN_CLUSTER}/hosts.toml"
    return [node for node in nodes if not _node_has_file(node, host_file)]


def _node_has_file(node: str, path: str) -> bool:
    done = subprocess.run(
        ["docker", "exec", node, "test", "-f", path], capture_output=True, timeout=60, check=False
    )
    return done.returncode == 0

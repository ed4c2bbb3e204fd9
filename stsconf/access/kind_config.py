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

CONTAINERD_PATCH = f"""\
[plugins."io.containerd.grpc.v1.cri".registry]
  config_path = "{HOSTS_DIR_IN_NODE}"
"""


def hosts_toml(host: str) -> str:
    """containerd's host settings for `host`: pull from it over plain HTTP. (containerd 1.6
    takes the scheme from a [host."http://..."] entry, not from `server` alone.)"""
    return f'[host."http://{host}"]\n  capabilities = ["pull", "resolve"]\n'


KUBELET_CGROUP_V1_PATCH = """\
kind: KubeletConfiguration
failCgroupV1: false
"""


def kind_config(
    hosts_dir: Path,
    nodes: int = 1,
    *,
    feature_gates: dict[str, bool] | None = None,
    cgroup_v1: bool = False,
) -> dict[str, Any]:
    """One control-plane node (kind's default) and `nodes` - 1 workers, each node's
    containerd reading `hosts_dir`."""
    mount = {"hostPath": str(hosts_dir), "containerPath": HOSTS_DIR_IN_NODE, "readOnly": True}
    roles = ["control-plane"] + ["worker"] * (nodes - 1)
    config: dict[str, Any] = {
        "kind": "Cluster",
        "apiVersion": "kind.x-k8s.io/v1alpha4",
        "containerdConfigPatches": [CONTAINERD_PATCH],
        "nodes": [{"role": role, "extraMounts": [mount]} for role in roles],
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
    config: Path
    hosts_dir: Path

    def remove(self) -> None:
        self.config.unlink(missing_ok=True)
        shutil.rmtree(self.hosts_dir, ignore_errors=True)


def write_kind_config(
    directory: Path, nodes: int = 1, feature_gates: dict[str, bool] | None = None
) -> KindConfigFiles:
    """Write the kind config (`nodes` nodes, `feature_gates`) and the host settings it mounts
    into `directory`."""
    directory = directory.resolve()
    hosts_dir = directory / HOSTS_DIR
    host_file = hosts_dir / HOST_IN_CLUSTER / "hosts.toml"
    host_file.parent.mkdir(parents=True, exist_ok=True)
    host_file.write_text(hosts_toml(HOST_IN_CLUSTER))
    config = directory / CONFIG_FILE
    settings = kind_config(
        hosts_dir, nodes, feature_gates=feature_gates, cgroup_v1=docker_uses_cgroup_v1()
    )
    config.write_text(yaml.safe_dump(settings, sort_keys=False))
    return KindConfigFiles(config, hosts_dir)


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
    KindConfigFiles(cluster.path / CONFIG_FILE, cluster.path / HOSTS_DIR).remove()


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

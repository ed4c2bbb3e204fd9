"""The kind config of the suite's clusters: containerd reaches the test registry, and a
connection to an address of the Service range that no Service holds is refused in the node."""

from __future__ import annotations

import argparse
import configparser
import shlex
import tomllib
from pathlib import Path

import pytest
import yaml

from stsconf.access.kind_config import (
    CONTAINERD_PATCH,
    HOSTS_DIR,
    HOSTS_DIR_IN_NODE,
    SERVICE_RANGE_FILE,
    SERVICE_RANGE_IN_NODE,
    SERVICE_SUBNET,
    hosts_toml,
    kind_config,
    merged_gates,
    service_range_drop_in,
    service_range_rule,
    write_kind_config,
)
from stsconf.access.registry import HOST_IN_CLUSTER
from stsconf.nodes_plugin import feature_gates, node_count


def test_containerd_patch_points_config_path_at_the_mounted_directory() -> None:
    patch = tomllib.loads(CONTAINERD_PATCH)
    registry = patch["plugins"]["io.containerd.grpc.v1.cri"]["registry"]
    assert registry == {"config_path": HOSTS_DIR_IN_NODE}


def test_hosts_toml_pulls_over_plain_http() -> None:
    hosts = tomllib.loads(hosts_toml(HOST_IN_CLUSTER))
    assert hosts["host"][f"http://{HOST_IN_CLUSTER}"]["capabilities"] == ["pull", "resolve"]


def test_kind_config_mounts_the_hosts_directory_and_the_drop_in_into_one_control_plane(
    tmp_path: Path,
) -> None:
    config = kind_config(tmp_path)
    assert (config["kind"], config["apiVersion"]) == ("Cluster", "kind.x-k8s.io/v1alpha4")
    (node,) = config["nodes"]
    assert node["role"] == "control-plane"
    assert node["extraMounts"] == [
        {
            "hostPath": str(tmp_path / HOSTS_DIR),
            "containerPath": HOSTS_DIR_IN_NODE,
            "readOnly": True,
        },
        {
            "hostPath": str(tmp_path / SERVICE_RANGE_FILE),
            "containerPath": SERVICE_RANGE_IN_NODE,
            "readOnly": True,
        },
    ]


def test_kind_config_of_three_nodes_has_one_control_plane_and_two_workers_all_mounted(
    tmp_path: Path,
) -> None:
    nodes = kind_config(tmp_path, nodes=3)["nodes"]
    assert [node["role"] for node in nodes] == ["control-plane", "worker", "worker"]
    assert all(node["extraMounts"] == nodes[0]["extraMounts"] for node in nodes)


def test_the_cluster_uses_the_service_range_the_drop_in_rejects(tmp_path: Path) -> None:
    assert kind_config(tmp_path)["networking"] == {"serviceSubnet": SERVICE_SUBNET}
    assert f"-d {SERVICE_SUBNET} " in service_range_rule()


def test_the_drop_in_inserts_the_rule_once_before_the_kubelet_and_never_stops_it() -> None:
    drop_in = configparser.ConfigParser(interpolation=None)
    drop_in.read_string(service_range_drop_in("10.0.0.0/16"))
    line = drop_in["Service"]["ExecStartPre"]
    assert line.startswith("-/bin/sh -c '")
    assert line.endswith("'")
    check, insert = line.removeprefix("-/bin/sh -c '").removesuffix("'").split(" || ")
    rule = service_range_rule("10.0.0.0/16")
    assert check == f"iptables -w -C FORWARD {rule} 2>/dev/null"
    assert insert == f"iptables -w -I FORWARD 1 {rule}"
    assert shlex.split(rule)[-2:] == ["-j", "REJECT"]


@pytest.mark.parametrize("text", ["0", "-1", "two"])
def test_nodes_option_refuses_anything_but_a_positive_count(text: str) -> None:
    with pytest.raises(argparse.ArgumentTypeError, match="--nodes"):
        node_count(text)


def test_write_kind_config_writes_its_files_and_removes_them(tmp_path: Path) -> None:
    files = write_kind_config(tmp_path / "cluster")
    written = yaml.safe_load(files.config.read_text())
    assert written["containerdConfigPatches"] == [CONTAINERD_PATCH]
    mount = written["nodes"][0]["extraMounts"][0]
    assert Path(mount["hostPath"]).is_absolute()
    host_file = files.hosts_dir / HOST_IN_CLUSTER / "hosts.toml"
    assert host_file.read_text() == hosts_toml(HOST_IN_CLUSTER)
    assert files.service_range.read_text() == service_range_drop_in()
    files.remove()
    assert not files.directory.exists() or not any(files.directory.iterdir())


def test_feature_gates_go_to_kinds_cluster_wide_feature_gates(tmp_path: Path) -> None:
    config = kind_config(tmp_path, feature_gates={"StatefulSetFoo": True, "Bar": False})
    assert config["featureGates"] == {"StatefulSetFoo": True, "Bar": False}
    assert "featureGates" not in kind_config(tmp_path)


def test_on_cgroup_v1_the_kubelet_is_told_not_to_refuse_it(tmp_path: Path) -> None:
    (patch,) = kind_config(tmp_path, cgroup_v1=True)["kubeadmConfigPatches"]
    assert yaml.safe_load(patch) == {"kind": "KubeletConfiguration", "failCgroupV1": False}
    assert "kubeadmConfigPatches" not in kind_config(tmp_path, cgroup_v1=False)


def test_feature_gates_option_reads_name_bool_pairs() -> None:
    assert feature_gates("A=true, B=FALSE,") == {"A": True, "B": False}


@pytest.mark.parametrize("text", ["A", "A=yes", "=true", "A=true,B"])
def test_feature_gates_option_refuses_anything_else(text: str) -> None:
    with pytest.raises(argparse.ArgumentTypeError, match="--feature-gates"):
        feature_gates(text)


def test_later_feature_gates_win() -> None:
    assert merged_gates([{"A": True, "B": True}, {"A": False}]) == {"A": False, "B": True}

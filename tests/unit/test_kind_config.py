"""The kind config of the suite's clusters: containerd reaches the test registry."""

from __future__ import annotations

import argparse
import tomllib
from pathlib import Path

import pytest
import yaml

from stsconf.access.kind_config import (
    CONTAINERD_PATCH,
    HOSTS_DIR_IN_NODE,
    hosts_toml,
    kind_config,
    write_kind_config,
)
from stsconf.access.registry import HOST_IN_CLUSTER
from stsconf.nodes_plugin import node_count


def test_containerd_patch_points_config_path_at_the_mounted_directory() -> None:
    patch = tomllib.loads(CONTAINERD_PATCH)
    registry = patch["plugins"]["io.containerd.grpc.v1.cri"]["registry"]
    assert registry == {"config_path": HOSTS_DIR_IN_NODE}


def test_hosts_toml_pulls_over_plain_http() -> None:
    hosts = tomllib.loads(hosts_toml(HOST_IN_CLUSTER))
    assert hosts["host"][f"http://{HOST_IN_CLUSTER}"]["capabilities"] == ["pull", "resolve"]


def test_kind_config_mounts_the_hosts_directory_into_one_control_plane(tmp_path: Path) -> None:
    config = kind_config(tmp_path)
    assert (config["kind"], config["apiVersion"]) == ("Cluster", "kind.x-k8s.io/v1alpha4")
    (node,) = config["nodes"]
    assert node["role"] == "control-plane"
    assert node["extraMounts"] == [
        {"hostPath": str(tmp_path), "containerPath": HOSTS_DIR_IN_NODE, "readOnly": True}
    ]


def test_kind_config_of_three_nodes_has_one_control_plane_and_two_workers_all_mounted(
    tmp_path: Path,
) -> None:
    nodes = kind_config(tmp_path, nodes=3)["nodes"]
    assert [node["role"] for node in nodes] == ["control-plane", "worker", "worker"]
    assert all(node["extraMounts"][0]["hostPath"] == str(tmp_path) for node in nodes)


@pytest.mark.parametrize("text", ["0", "-1", "two"])
def test_nodes_option_refuses_anything_but_a_positive_count(text: str) -> None:
    with pytest.raises(argparse.ArgumentTypeError, match="--nodes"):
        node_count(text)


def test_write_kind_config_writes_both_files_and_removes_them(tmp_path: Path) -> None:
    files = write_kind_config(tmp_path / "cluster")
    written = yaml.safe_load(files.config.read_text())
    assert written["containerdConfigPatches"] == [CONTAINERD_PATCH]
    mount = written["nodes"][0]["extraMounts"][0]
    assert Path(mount["hostPath"]).is_absolute()
    host_file = files.hosts_dir / HOST_IN_CLUSTER / "hosts.toml"
    assert host_file.read_text() == hosts_toml(HOST_IN_CLUSTER)
    files.remove()
    assert not files.config.exists()
    assert not files.hosts_dir.exists()

"""Where the build reads its inputs and keeps its outputs, and what it builds."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

SOURCE = Path(__file__).resolve().parent
GO_MODULES = SOURCE / "go"
FILES = SOURCE / "files"

DEBIAN_SUITE = "bookworm"  # its systemd runs on cgroup v1 hosts; trixie's does not
IMAGE_PREFIX = "stsconf"

# Packages of the node's root filesystem, as kind's own base image lists them,
# less those only rootless or network storage need, plus Debian's container runtime.
NODE_PACKAGES = (
    "systemd",
    "conntrack",
    "iptables",
    "nftables",
    "iproute2",
    "ethtool",
    "util-linux",
    "mount",
    "kmod",
    "libseccomp2",
    "pigz",
    "e2fsprogs",
    "bash",
    "ca-certificates",
    "jq",
    "procps",
    "containerd",
    "runc",
    "containernetworking-plugins",
)
# The donor root filesystem that small images copy programs and their libraries from.
DONOR_PACKAGES = (
    "iptables",
    "conntrack",
    "nginx-light",
    "busybox-static",
    "redis-server",
    "redis-tools",
)


def cache_root() -> Path:
    base = os.environ.get("STSCONF_CACHE") or Path.home() / ".cache" / "stsconf"
    return Path(base) / "airgap"


def manifest_path() -> Path:
    """The file the test suite reads to find the built kind, node image and images."""
    return cache_root() / "airgap.json"


@dataclass(frozen=True)
class Versions:
    kubernetes: str
    kind: str
    etcd: str
    coredns: str
    local_path_provisioner: str
    crictl: str
    registry: str


def required_version(module_dir: str, module_path: str) -> str:
    """The version of module_path that GO_MODULES/module_dir/go.mod pins."""
    text = (GO_MODULES / module_dir / "go.mod").read_text()
    match = re.search(rf"^\s*(?:require\s+)?{re.escape(module_path)}\s+(v\S+)", text, re.M)
    if not match:
        raise ValueError(f"{module_path} is not required in {module_dir}/go.mod")
    return match.group(1)


def versions() -> Versions:
    return Versions(
        kubernetes=required_version("kubernetes", "k8s.io/kubernetes"),
        kind=required_version("tools", "sigs.k8s.io/kind"),
        etcd=required_version("etcd", "go.etcd.io/etcd/server/v3"),
        coredns=required_version("coredns", "github.com/coredns/coredns"),
        local_path_provisioner=required_version(
            "localpath", "github.com/rancher/local-path-provisioner"
        ),
        crictl=required_version("tools", "sigs.k8s.io/cri-tools"),
        registry=required_version("registry", "github.com/distribution/distribution/v3"),
    )

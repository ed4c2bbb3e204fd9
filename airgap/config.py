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


MINOR_MODULES = ("kubernetes", "etcd", "coredns")  # each minor has its own of these


class UnknownMinor(ValueError):
    """A Kubernetes minor the build has no modules for."""


def known_minors() -> tuple[str, ...]:
    """The Kubernetes minors the build can make, oldest first: those with a module of each
    kind under airgap/go (kubernetes-1.37, etcd-1.37, coredns-1.37)."""
    found = {path.name.split("-", 1)[1] for path in GO_MODULES.glob("kubernetes-*")}
    complete = [
        minor
        for minor in found
        if all((GO_MODULES / f"{kind}-{minor}" / "go.mod").is_file() for kind in MINOR_MODULES)
    ]
    return tuple(sorted(complete, key=minor_key))


def minor_key(minor: str) -> tuple[int, ...]:
    return tuple(int(part) for part in minor.split("."))


def default_minor() -> str:
    """The newest minor the build knows: what `build` makes and `--airgap` runs by default."""
    return known_minors()[-1]


def check_minor(minor: str) -> str:
    """`minor` as given ('1.36', 'v1.36'), or UnknownMinor naming the known ones."""
    minor = minor.removeprefix("v")
    known = known_minors()
    if minor not in known:
        raise UnknownMinor(
            f"Kubernetes {minor!r} is not a minor this build knows; known: {', '.join(known)}"
        )
    return minor


def module(kind: str, minor: str) -> str:
    """The wrapper module of `kind` (kubernetes, etcd, coredns) for a Kubernetes minor."""
    return f"{kind}-{minor}"


@dataclass(frozen=True)
class Versions:
    minor: str
    kubernetes: str
    kind: str
    etcd: str
    coredns: str
    crictl: str
    registry: str


def required_version(module_dir: str, module_path: str) -> str:
    """The version of module_path that GO_MODULES/module_dir/go.mod pins."""
    text = (GO_MODULES / module_dir / "go.mod").read_text()
    match = re.search(rf"^\s*(?:require\s+)?{re.escape(module_path)}\s+(v\S+)", text, re.M)
    if not match:
        raise ValueError(f"{module_path} is not required in {module_dir}/go.mod")
    return match.group(1)


def versions(minor: str) -> Versions:
    return Versions(
        minor=minor,
        kubernetes=required_version(module("kubernetes", minor), "k8s.io/kubernetes"),
        kind=required_version("tools", "sigs.k8s.io/kind"),
        etcd=required_version(module("etcd", minor), "go.etcd.io/etcd/server/v3"),
        coredns=required_version(module("coredns", minor), "github.com/coredns/coredns"),
        crictl=required_version("tools", "sigs.k8s.io/cri-tools"),
        registry=required_version("registry", "github.com/distribution/distribution/v3"),
    )

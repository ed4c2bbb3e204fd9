"""The whole air-gapped build, step by step; each step is skipped when its inputs are unchanged."""

from __future__ import annotations

import json
import shutil
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from . import config, engine, gobuild, images, nodeimage, rootfs
from .errors import AirgapError
from .progress import duration, say

MIN_FREE_GIB = 10


@contextmanager
def step(name: str) -> Iterator[None]:
    started = time.monotonic()
    say(f"[airgap] {name} ...")
    yield
    say(f"[airgap] {name}: done in {duration(time.monotonic() - started)}")


def check_disk(cache: Path) -> None:
    cache.mkdir(parents=True, exist_ok=True)
    free_gib = shutil.disk_usage(cache).free / 2**30
    if free_gib < MIN_FREE_GIB:
        raise AirgapError(
            f"only {free_gib:.1f} GiB free under {cache}; the build needs "
            f"{MIN_FREE_GIB} GiB. Free some space or set STSCONF_CACHE elsewhere."
        )


def build(minors: list[str] | None = None) -> dict[str, object]:
    """Build what the cluster of each Kubernetes minor needs (default: the newest the build
    knows) and record it in airgap.json beside the minors built before."""
    minors = [config.check_minor(minor) for minor in minors or [config.default_minor()]]
    cache = config.cache_root()
    logs = cache / "logs"
    check_disk(cache)
    with step("Docker engine"):
        say(f"[airgap]   {engine.ensure_engine(logs)}")
    with step("Go programs (kind, crictl, registry, podnet, nodevolumes)"):
        programs = gobuild.build_all(cache / "bin", gobuild.shared_builds(), logs / "go.log")
    with step("Debian root filesystems"):
        donor = rootfs.rootfs(cache, "donor", config.DONOR_PACKAGES, logs / "debootstrap.log")
        node_root = rootfs.rootfs(cache, "node", config.NODE_PACKAGES, logs / "debootstrap.log")
    with step("images"):
        app_images = build_app_images(programs, donor, config.versions(minors[0]).registry, logs)
        network_image = images.build(node_agent_image(programs, "podnet"), logs / "images.log")
        volumes_image = images.build(node_agent_image(programs, "nodevolumes"), logs / "images.log")
    shared = Shared(programs, donor, node_root, app_images, network_image, volumes_image)
    result: dict[str, object] = {}
    for minor in minors:  # each minor recorded as soon as it is built
        cluster, built = build_minor(config.versions(minor), shared, cache, logs)
        if minor == minors[0]:
            app_images["etcd"] = build_etcd_image(built["etcd"], shared.donor, minor, logs)
        result = {
            "kind_bin": str(programs["kind"]),
            "kind_version": config.versions(minor).kind,
            "images": app_images,
            "default_kubernetes": config.default_minor(),
            "kubernetes": {**built_before(), minor: cluster},
        }
        config.manifest_path().write_text(json.dumps(result, indent=2) + "\n")
    return result


@dataclass(frozen=True)
class Shared:
    """What every minor's node image is made with."""

    programs: dict[str, Path]
    donor: Path
    node_root: Path
    app_images: dict[str, str]
    network_image: str
    volumes_image: str


def build_minor(
    versions: config.Versions, shared: Shared, cache: Path, logs: Path
) -> tuple[dict[str, str], dict[str, Path]]:
    """One minor's programs and node image: its entry in airgap.json, and the programs."""
    with step(f"Go programs of Kubernetes {versions.minor} (Kubernetes, etcd, CoreDNS, pause)"):
        built = gobuild.build_all(
            cache / "bin", gobuild.minor_builds(versions), logs / "go.log", f"{versions.minor} "
        )
        built["pause"] = gobuild.build_pause(cache / "bin", versions, logs / "pause.log")
    programs = {**shared.programs, **built}
    with step(f"node image of Kubernetes {versions.kubernetes}"):
        node_image = build_minor_node_image(
            versions,
            programs,
            shared.donor,
            shared.node_root,
            shared.app_images,
            shared.network_image,
            shared.volumes_image,
            logs,
        )
    entry = {
        "kubernetes_version": versions.kubernetes,
        "node_image": node_image,
        "kubectl_bin": str(programs["kubectl"]),
    }
    return entry, built


def build_etcd_image(binary: Path, donor: Path, minor: str, logs: Path) -> str:
    """The etcd example's image, from the etcd the first minor built (its control plane's)."""
    with step(f"etcd example image (etcd of Kubernetes {minor})"):
        spec = images.etcd_image(binary, donor, config.versions(minor).etcd)
        return images.build(spec, logs / "images.log")


def built_before() -> dict[str, dict[str, str]]:
    """The minors an earlier build recorded whose node image Docker still has."""
    try:
        recorded = json.loads(config.manifest_path().read_text()).get("kubernetes", {})
    except (OSError, ValueError, AttributeError):
        return {}
    return {
        minor: entry
        for minor, entry in recorded.items()
        if isinstance(entry, dict) and images.image_exists(str(entry.get("node_image", "")))
    }


def build_app_images(
    programs: dict[str, Path], donor: Path, registry_version: str, logs: Path
) -> dict[str, str]:
    """The suite's own images: the app under test, the probe, Redis and the registry."""
    app_specs = {
        "nginx": images.nginx_image(donor),
        "probe": images.probe_image(donor),
        "redis": images.redis_image(donor),
        "registry": images.registry_image(programs["registry"], registry_version),
    }
    return {name: images.build(spec, logs / "images.log") for name, spec in app_specs.items()}


def build_minor_node_image(
    versions: config.Versions,
    programs: dict[str, Path],
    donor: Path,
    node_root: Path,
    app_images: dict[str, str],
    network_image: str,
    volumes_image: str,
    logs: Path,
) -> str:
    kubeadm_tags = gobuild.kubeadm_images(programs["kubeadm"], versions)
    cluster_images = build_cluster_images(kubeadm_tags, programs, donor, versions, logs)
    return nodeimage.build_node_image(
        nodeimage.NodeInputs(
            kubernetes_version=versions.kubernetes,
            rootfs=node_root,
            kind_base_files=gobuild.module_dir("tools", "sigs.k8s.io/kind") / "images/base/files",
            programs={name: programs[name] for name in ("kubeadm", "kubelet", "kubectl", "crictl")},
            images=[*cluster_images, app_images["probe"], network_image, volumes_image],
            pause_image=next(tag for tag in kubeadm_tags if repository(tag) == "pause"),
            volumes_image=volumes_image,
            network_image=network_image,
        ),
        logs / "node.log",
    )


def node_agent_image(programs: dict[str, Path], name: str) -> images.ImageSpec:
    """A per-node program of airgap/go/nodeagents (podnet, nodevolumes), alone in its image."""
    tag = f"{config.IMAGE_PREFIX}/{name}:v1"
    return images.static_program_image(tag, programs[name], f"/usr/local/bin/{name}")


def repository(tag: str) -> str:
    """The last path element of an image reference, without tag: 'a/b/coredns:v1' -> 'coredns'."""
    return tag.rsplit(":", 1)[0].rsplit("/", 1)[-1]


def build_cluster_images(
    kubeadm_tags: list[str],
    programs: dict[str, Path],
    donor: Path,
    versions: config.Versions,
    logs: Path,
) -> list[str]:
    """Every image kubeadm names, under its exact name."""
    specs = []
    for tag in kubeadm_tags:
        name = repository(tag)
        if name == "pause":
            specs.append(images.pause_image(tag, programs["pause"]))
        elif name == "kube-proxy":
            specs.append(images.kube_proxy_image(tag, programs["kube-proxy"], donor))
        elif name == "coredns":
            specs.append(
                images.static_program_image(
                    tag, programs["coredns"], "/coredns", entrypoint=("/coredns",)
                )
            )
        elif name in programs:
            specs.append(images.static_program_image(tag, programs[name], f"/usr/local/bin/{name}"))
        else:
            raise AirgapError(f"kubeadm asks for image {tag}, which this build cannot make")
    return [images.build(spec, logs / "images.log") for spec in specs]

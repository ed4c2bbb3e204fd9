"""The air-gapped kind build's description file (written by the project's airgap build).

It lists the suite's images and kind once, and one cluster entry per Kubernetes minor built
(`python -m airgap build --kubernetes 1.35` adds one beside the others)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from airgap.config import UnknownMinor, check_minor, manifest_path

# Where `python -m airgap build` writes its result (it honours STSCONF_CACHE).
DEFAULT_AIRGAP_FILE = manifest_path()
CLUSTER_KEYS = ("kubernetes_version", "node_image", "kubectl_bin")


class AirgapError(ValueError):
    """The airgap description is missing or incomplete."""


@dataclass(frozen=True)
class Airgap:
    kind_bin: Path
    kind_version: str
    images: dict[str, str]
    minor: str  # the Kubernetes minor chosen (--kubernetes, else the build's default)
    kubernetes_version: str
    node_image: str
    kubectl_bin: Path
    built_minors: tuple[str, ...]

    @property
    def nginx_image(self) -> str:
        return self.images["nginx"]

    @property
    def probe_image(self) -> str:
        return self.images["probe"]


def load_airgap(path: Path = DEFAULT_AIRGAP_FILE, minor: str | None = None) -> Airgap:
    """The build described in `path`, with the cluster of Kubernetes `minor` (default: the
    build's default minor)."""
    data = read_description(path)
    clusters = data.get("kubernetes") or {}
    missing = [key for key in ("kind_bin", "images", "kubernetes") if not data.get(key)]
    missing += [
        f"images.{name}" for name in ("nginx", "probe") if name not in (data.get("images") or {})
    ]
    if missing:
        raise AirgapError(
            f"--airgap: {path} lacks {', '.join(missing)}; run `python -m airgap build` again"
        )
    chosen = (minor or str(data.get("default_kubernetes", ""))).removeprefix("v")
    cluster = clusters.get(chosen)
    if not isinstance(cluster, dict):
        raise AirgapError(not_built_message(path, chosen, sorted(clusters)))
    lacking = [key for key in CLUSTER_KEYS if not cluster.get(key)]
    if lacking:
        raise AirgapError(f"--airgap: {path} lacks kubernetes.{chosen}.{', '.join(lacking)}")
    airgap = Airgap(
        kind_bin=Path(data["kind_bin"]),
        kind_version=str(data.get("kind_version", "")),
        images=dict(data["images"]),
        minor=chosen,
        kubernetes_version=str(cluster["kubernetes_version"]),
        node_image=str(cluster["node_image"]),
        kubectl_bin=Path(cluster["kubectl_bin"]),
        built_minors=tuple(sorted(clusters)),
    )
    if not airgap.kind_bin.is_file():
        raise AirgapError(f"--airgap: kind binary {airgap.kind_bin} (from {path}) does not exist")
    return airgap


def read_description(path: Path) -> dict[str, Any]:
    if not path.is_file():
        raise AirgapError(
            f"--airgap: {path} does not exist; build the air-gapped kind first "
            "(`python -m airgap build`)"
        )
    try:
        data = json.loads(path.read_text())
    except json.JSONDecodeError as error:
        raise AirgapError(f"--airgap: {path} is not valid JSON: {error}") from error
    if not isinstance(data, dict):
        raise AirgapError(f"--airgap: {path} is not a JSON object")
    return data


def not_built_message(path: Path, minor: str, built: list[str]) -> str:
    try:
        check_minor(minor)
    except UnknownMinor as error:
        return f"--kubernetes: {error}"
    return (
        f"--kubernetes {minor}: the air-gapped build has no node image of Kubernetes {minor} "
        f"(built: {', '.join(built) or 'none'}; {path}); build it with "
        f"`python -m airgap build --kubernetes {minor}`"
    )

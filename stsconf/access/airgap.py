"""The air-gapped kind build's description file (written by the project's airgap build)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from airgap.config import manifest_path

# Where `python -m airgap build` writes its result (it honours STSCONF_CACHE).
DEFAULT_AIRGAP_FILE = manifest_path()


class AirgapError(ValueError):
    """The airgap description is missing or incomplete."""


@dataclass(frozen=True)
class Airgap:
    kind_bin: Path
    kubectl_bin: Path
    node_image: str
    kubernetes_version: str
    kind_version: str
    images: dict[str, str]

    @property
    def nginx_image(self) -> str:
        return self.images["nginx"]

    @property
    def probe_image(self) -> str:
        return self.images["probe"]


def load_airgap(path: Path = DEFAULT_AIRGAP_FILE) -> Airgap:
    if not path.is_file():
        raise AirgapError(f"--airgap: {path} does not exist; build the air-gapped kind first")
    try:
        data = json.loads(path.read_text())
    except json.JSONDecodeError as error:
        raise AirgapError(f"--airgap: {path} is not valid JSON: {error}") from error
    missing = [
        key for key in ("kind_bin", "kubectl_bin", "node_image", "images") if not data.get(key)
    ]
    missing += [
        f"images.{name}" for name in ("nginx", "probe") if name not in (data.get("images") or {})
    ]
    if missing:
        raise AirgapError(f"--airgap: {path} lacks {', '.join(missing)}")
    airgap = Airgap(
        kind_bin=Path(data["kind_bin"]),
        kubectl_bin=Path(data["kubectl_bin"]),
        node_image=str(data["node_image"]),
        kubernetes_version=str(data.get("kubernetes_version", "")),
        kind_version=str(data.get("kind_version", "")),
        images=dict(data["images"]),
    )
    if not airgap.kind_bin.is_file():
        raise AirgapError(f"--airgap: kind binary {airgap.kind_bin} (from {path}) does not exist")
    return airgap

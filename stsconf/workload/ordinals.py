"""`spec.ordinals.start`: setting, changing and removing it, and which pods must then exist."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from stsconf.access.rest import REQUEST_TIMEOUT, Kube
from stsconf.model.manifest import Manifest

Obj = Mapping[str, Any]
MERGE_PATCH = "application/merge-patch+json"


def pod_names_from(manifest: Manifest, start: int, replicas: int) -> list[str]:
    return [manifest.pod_name(start + i) for i in range(replicas)]


def set_start_ordinal(kube: Kube, name: str, namespace: str, start: int | None) -> None:
    """Set spec.ordinals.start, or remove spec.ordinals when `start` is None."""
    ordinals = None if start is None else {"start": start}
    kube.apps.patch_namespaced_stateful_set(
        name,
        namespace,
        {"spec": {"ordinals": ordinals}},
        _content_type=MERGE_PATCH,
        _request_timeout=REQUEST_TIMEOUT,
    )

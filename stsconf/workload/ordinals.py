"""`spec.ordinals.start`: setting, changing and removing it, and the pods of a range."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from stsconf.access.rest import MERGE_PATCH, REQUEST_TIMEOUT
from stsconf.model.manifest import Manifest
from stsconf.workload.statefulset import StatefulSetUnderTest

Obj = Mapping[str, Any]


def pod_names_from(manifest: Manifest, start: int, replicas: int) -> list[str]:
    return [manifest.pod_name(start + i) for i in range(replicas)]


def set_start_ordinal(web: StatefulSetUnderTest, start: int | None) -> None:
    """Set spec.ordinals.start, or remove spec.ordinals when `start` is None."""
    ordinals = None if start is None else {"start": start}
    web.kube.apps.patch_namespaced_stateful_set(
        web.name,
        web.namespace,
        {"spec": {"ordinals": ordinals}},
        _content_type=MERGE_PATCH,
        _request_timeout=REQUEST_TIMEOUT,
    )

"""`spec.ordinals.start`: setting, changing and removing it, and which pods must then exist."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from stsconf.access.rest import REQUEST_TIMEOUT, Kube
from stsconf.model.expectations import mismatch
from stsconf.model.manifest import Manifest
from stsconf.model.timeline import pod_state_from_object

Obj = Mapping[str, Any]
MERGE_PATCH = "application/merge-patch+json"


def declared_start(manifest: Manifest) -> int | None:
    """The manifest's own spec.ordinals.start, or None when it declares no ordinals."""
    ordinals = manifest.statefulset["spec"].get("ordinals")
    return manifest.start_ordinal if ordinals else None


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


def ordinal_range_problems(
    pods: Mapping[str, Obj], expected: Sequence[str], kept_uids: Mapping[str, str]
) -> list[str]:
    """Exactly the `expected` pods exist, Running and Ready; those in `kept_uids` (pods whose
    ordinal stayed in range) are the same pods as before, not replaced."""
    problems = []
    if set(pods) != set(expected):
        problems.append(
            mismatch("pods", f"exactly {', '.join(expected)}", ", ".join(sorted(pods)) or "none")
        )
    for name in expected:
        if name not in pods:
            continue
        state = pod_state_from_object(pods[name])
        if not state.running_and_ready:
            problems.append(mismatch(name, "Running and Ready", state.describe()))
        if name in kept_uids and state.uid != kept_uids[name]:
            problems.append(
                mismatch(
                    name,
                    f"kept (uid={kept_uids[name]}): its ordinal stayed in range",
                    f"replaced (uid={state.uid})",
                )
            )
    return problems

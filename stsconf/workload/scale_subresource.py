"""The StatefulSet's scale subresource (autoscaling/v1 Scale): read, replace and patch it."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from kubernetes import client

from stsconf.access import rest
from stsconf.access.rest import Kube
from stsconf.model.expectations import mismatch

Obj = Mapping[str, Any]
MERGE_PATCH = "application/merge-patch+json"


def read_scale(kube: Kube, name: str, namespace: str) -> dict[str, Any]:
    return rest.raw(kube.apps.read_namespaced_stateful_set_scale, name, namespace)


def replace_scale(kube: Kube, name: str, namespace: str, replicas: int) -> dict[str, Any]:
    """PUT a Scale with `replicas` (unconditionally: no resourceVersion); return the answer."""
    body = {
        "apiVersion": "autoscaling/v1",
        "kind": "Scale",
        "metadata": {"name": name, "namespace": namespace},
        "spec": {"replicas": replicas},
    }
    return rest.raw(
        kube.apps.replace_namespaced_stateful_set_scale,
        name,
        namespace,
        client.V1Scale.model_validate(body),
    )


def patch_scale(kube: Kube, name: str, namespace: str, replicas: int) -> dict[str, Any]:
    """PATCH (merge) the Scale's spec.replicas; return the answer."""
    return rest.raw(
        kube.apps.patch_namespaced_stateful_set_scale,
        name,
        namespace,
        {"spec": {"replicas": replicas}},
        _content_type=MERGE_PATCH,
    )


def selector_terms(selector: str) -> set[str]:
    """The terms of a label selector string, in any order (commas inside `in (...)` kept)."""
    return {term.strip() for term in re.split(r",(?![^()]*\))", selector) if term.strip()}


def scale_problems(
    scale: Obj, statefulset: Obj, replicas: int, selector: str, settled: bool = True
) -> list[str]:
    """The Scale names the StatefulSet, says `replicas` in its spec as the StatefulSet does,
    and (once `settled`, the controller having caught up) in its status with the selector."""
    problems = []
    name = (statefulset.get("metadata") or {}).get("name")
    if (scale.get("kind"), (scale.get("metadata") or {}).get("name")) != ("Scale", name):
        seen = f"{scale.get('kind')} {(scale.get('metadata') or {}).get('name')}"
        problems.append(mismatch("scale subresource", f"a Scale named {name}", seen))
    spec = (scale.get("spec") or {}).get("replicas")
    if spec != replicas:
        problems.append(mismatch("Scale spec.replicas", str(replicas), str(spec)))
    in_set = (statefulset.get("spec") or {}).get("replicas")
    if in_set != replicas:
        problems.append(mismatch(f"StatefulSet {name} spec.replicas", str(replicas), str(in_set)))
    if settled:
        status = scale.get("status") or {}
        if status.get("replicas") != replicas:
            problems.append(
                mismatch("Scale status.replicas", str(replicas), str(status.get("replicas")))
            )
        if selector_terms(str(status.get("selector") or "")) != selector_terms(selector):
            problems.append(
                mismatch("Scale status.selector", repr(selector), repr(status.get("selector")))
            )
    return problems

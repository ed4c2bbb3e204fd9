"""The StatefulSet's scale subresource (autoscaling/v1 Scale): read, replace and patch it."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from kubernetes import client

from stsconf.access import rest
from stsconf.access.rest import Kube

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

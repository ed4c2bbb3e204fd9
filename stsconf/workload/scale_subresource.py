"""The StatefulSet's scale subresource (autoscaling/v1 Scale): read, replace and patch it."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from kubernetes import client

from stsconf.access import rest
from stsconf.workload.statefulset import StatefulSetUnderTest

Obj = Mapping[str, Any]


def read_scale(web: StatefulSetUnderTest) -> dict[str, Any]:
    return rest.raw(web.kube.apps.read_namespaced_stateful_set_scale, web.name, web.namespace)


def replace_scale(web: StatefulSetUnderTest, replicas: int) -> dict[str, Any]:
    """PUT a Scale with `replicas` (unconditionally: no resourceVersion); return the answer."""
    body = {
        "apiVersion": "autoscaling/v1",
        "kind": "Scale",
        "metadata": {"name": web.name, "namespace": web.namespace},
        "spec": {"replicas": replicas},
    }
    return rest.raw(
        web.kube.apps.replace_namespaced_stateful_set_scale,
        web.name,
        web.namespace,
        client.V1Scale.model_validate(body),
    )


def patch_scale(web: StatefulSetUnderTest, replicas: int) -> dict[str, Any]:
    """PATCH (merge) the Scale's spec.replicas; return the answer."""
    return rest.raw(
        web.kube.apps.patch_namespaced_stateful_set_scale,
        web.name,
        web.namespace,
        {"spec": {"replicas": replicas}},
        _content_type=rest.MERGE_PATCH,
    )

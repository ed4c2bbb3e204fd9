"""Copies of the manifest with its StatefulSet changed, for properties that need a form the
manifest may not declare (Parallel pod management, deleting claim retention, a readiness gate).
The manifest itself is never modified."""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping
from typing import Any

from stsconf.model.manifest import Manifest

Obj = dict[str, Any]


def with_statefulset(manifest: Manifest, change: Callable[[Obj], None]) -> Manifest:
    """A copy of the manifest whose StatefulSet (a deep copy) went through `change`."""
    return manifest.with_statefulset(change)


def with_spec(manifest: Manifest, fields: Mapping[str, Any]) -> Manifest:
    """A copy whose StatefulSet spec has `fields` set, replacing what the manifest declares."""

    def change(statefulset: Obj) -> None:
        statefulset["spec"].update(copy.deepcopy(dict(fields)))

    return with_statefulset(manifest, change)


def without_claims(manifest: Manifest) -> Manifest:
    """A copy whose claim templates are replaced by emptyDir volumes of the same names, for
    properties about pod management alone (as upstream's specs of it use no volumes): no
    volume to provision per pod, so its pods start in a second or two."""

    def change(statefulset: Obj) -> None:
        templates = statefulset["spec"].pop("volumeClaimTemplates", None) or []
        statefulset["spec"].pop("persistentVolumeClaimRetentionPolicy", None)
        pod_spec = statefulset["spec"]["template"]["spec"]
        volumes = pod_spec.setdefault("volumes", [])
        for template in templates:
            volumes.append({"name": template["metadata"]["name"], "emptyDir": {}})

    return with_statefulset(manifest, change)

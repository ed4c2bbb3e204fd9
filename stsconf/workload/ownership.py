"""Who owns a StatefulSet's pods: deleting the set while orphaning them, creating it again to
adopt them, and releasing one pod by changing its labels.

Operations are small functions on the API; the checks of what they do are
checks/ownership.py.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from typing import Any

from kubernetes import client

from stsconf.access import rest, wait
from stsconf.access.rest import REQUEST_TIMEOUT
from stsconf.access.watching import Recorder
from stsconf.checks.ownership import controller_of, describe_controller
from stsconf.workload.statefulset import StatefulSetUnderTest

Obj = Mapping[str, Any]
RELEASED = "stsconf-released"  # a label value no selector of a manifest uses


def uids(objects: Mapping[str, Obj | None]) -> dict[str, str]:
    return {name: str(obj["metadata"]["uid"]) for name, obj in objects.items() if obj}


# Operations


def delete_orphaning(web: StatefulSetUnderTest) -> None:
    """Delete the StatefulSet with propagation Orphan and wait until it is gone (by then the
    garbage collector has taken its owner reference off every dependent)."""
    name = web.name
    with Recorder(
        web.kube.apps.list_namespaced_stateful_set,
        namespace=web.namespace,
        field_selector=f"metadata.name={name}",
    ) as recorder:
        web.kube.apps.delete_namespaced_stateful_set(
            name, web.namespace, propagation_policy="Orphan", _request_timeout=REQUEST_TIMEOUT
        )
        wait.wait_on_watch(
            recorder,
            lambda sets: name not in sets,
            expected=f"StatefulSet {name} gone after deleting it with propagation Orphan",
            seen=lambda sets: (
                f"StatefulSet {name} still there, finalizers "
                f"{(sets.get(name) or {}).get('metadata', {}).get('finalizers')}"
            ),
            timeout=web.timeouts.pods,
            diagnose=web.diagnose,
        )


def create_statefulset(web: StatefulSetUnderTest) -> dict[str, Any]:
    """Create the manifest's StatefulSet (only it: its Service is still there); return it."""
    body = copy.deepcopy(web.manifest.statefulset)
    body.get("metadata", {}).pop("namespace", None)
    return rest.raw(
        web.kube.apps.create_namespaced_stateful_set,
        web.namespace,
        client.V1StatefulSet.model_validate(body),
    )


def ensure_statefulset(web: StatefulSetUnderTest) -> None:
    """Create the manifest's StatefulSet again if it is missing (after a failed test)."""
    read = web.kube.apps.read_namespaced_stateful_set
    if rest.read_or_none(read, web.name, web.namespace) is None:
        create_statefulset(web)


def unmatching_labels(selector: Obj) -> dict[str, str | None]:
    """A label change that makes a pod stop matching `selector` (a LabelSelector): a merge
    patch of metadata.labels, None removing a label."""
    match_labels = selector.get("matchLabels") or {}
    if match_labels:
        key = sorted(match_labels)[0]
        return {key: RELEASED}
    expression = (selector.get("matchExpressions") or [{}])[0]
    key, operator = expression.get("key", ""), expression.get("operator")
    if operator == "Exists":
        return {key: None}
    if operator == "NotIn":
        return {key: (expression.get("values") or [RELEASED])[0]}
    return {key: RELEASED}  # In (RELEASED is in no list) and DoesNotExist


def restoring_labels(labels_before: Obj, change: Obj) -> dict[str, str | None]:
    """The merge patch that undoes `change` on a pod whose labels were `labels_before`."""
    return {key: labels_before.get(key) for key in change}


def patch_pod_labels(web: StatefulSetUnderTest, pod: str, labels: Obj) -> None:
    """Change (None: remove) these labels of the pod, leaving the others."""
    web.kube.core.patch_namespaced_pod(
        pod,
        web.namespace,
        {"metadata": {"labels": dict(labels)}},
        _content_type=rest.MERGE_PATCH,
        _request_timeout=REQUEST_TIMEOUT,
    )


def wait_controller(
    web: StatefulSetUnderTest,
    recorder: Recorder,
    pods: Sequence[str],
    *,
    controller_uid: str | None,
) -> None:
    """Wait until each of `pods` is controlled by `controller_uid` (None: by nothing)."""
    wanted = "no controller" if controller_uid is None else f"controller uid {controller_uid}"

    def controlled(objects: wait.Objects) -> bool:
        return all(
            pod in objects and (controller_of(objects[pod]) or {}).get("uid") == controller_uid
            for pod in pods
        )

    wait.wait_on_watch(
        recorder,
        controlled,
        expected=f"pods {', '.join(pods)} with {wanted}",
        seen=lambda objects: "; ".join(
            f"{pod} {describe_controller(objects[pod])}" if pod in objects else f"{pod} gone"
            for pod in pods
        ),
        timeout=web.timeouts.pods,
        diagnose=web.diagnose,
    )

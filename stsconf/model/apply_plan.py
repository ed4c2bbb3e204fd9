"""Which of a manifest's objects the suite applies with the StatefulSet under test, in which
order, and why the others are left out.

Each test module runs in a fresh namespace, so only namespaced objects the pods may depend on
are applied (ServiceAccounts before the pods that use them, ConfigMaps and Secrets before the
pods that mount them, the StatefulSet last); everything else is left out with one line that
says why and what to do.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from stsconf.model.manifest_files import SourcedObject

# Namespaced kinds applied with the StatefulSet, by rank: lower ranks are created first.
APPLY_RANK = {
    "ServiceAccount": 0,
    "LimitRange": 0,
    "ResourceQuota": 0,
    "Secret": 1,
    "ConfigMap": 1,
    "Role": 2,
    "RoleBinding": 3,
    "PersistentVolumeClaim": 4,
    "Service": 5,
    "Endpoints": 5,
    "NetworkPolicy": 5,
    "PodDisruptionBudget": 6,
    "StatefulSet": 7,
}
CLUSTER_SCOPED = frozenset({
    "Namespace", "ClusterRole", "ClusterRoleBinding", "StorageClass", "PersistentVolume",
    "CustomResourceDefinition", "PriorityClass", "RuntimeClass", "IngressClass",
    "ValidatingWebhookConfiguration", "MutatingWebhookConfiguration", "APIService",
    "CSIDriver", "VolumeSnapshotClass",
})  # fmt: skip
WORKLOADS = frozenset({
    "Deployment", "DaemonSet", "ReplicaSet", "ReplicationController", "Job", "CronJob", "Pod",
})  # fmt: skip
SCALERS = frozenset({"HorizontalPodAutoscaler", "VerticalPodAutoscaler"})


@dataclass(frozen=True)
class ApplyPlan:
    applied: tuple[SourcedObject, ...]  # in the order they are created
    left_out: tuple[str, ...]  # one line per object not applied: what, why, what to do


def apply_plan(objects: Sequence[SourcedObject], under_test: SourcedObject) -> ApplyPlan:
    applied, left_out = [], []
    for item in objects:
        reason = None if item is under_test else why_left_out(item, under_test)
        if reason is None:
            applied.append(item)
        else:
            left_out.append(f"{item.describe()} is not applied: {reason}")
    applied.sort(key=lambda item: APPLY_RANK[item.kind])  # stable: file order within a rank
    return ApplyPlan(tuple(applied), tuple(left_out))


def why_left_out(item: SourcedObject, under_test: SourcedObject) -> str | None:
    """Why `item` is not applied with the StatefulSet under test, or None if it is."""
    kind = item.kind
    if kind == "StatefulSet":
        return (
            f"only the StatefulSet under test ({under_test.name}) is deployed; "
            f"pass --statefulset {item.name} to test this one"
        )
    if kind in CLUSTER_SCOPED:
        return (
            "it is cluster-scoped, and the suite applies only namespaced objects into a fresh "
            "namespace per test module; create it in the cluster yourself if the pods need it"
        )
    if kind in WORKLOADS:
        return "the suite deploys only the StatefulSet under test, not other workloads"
    if kind in SCALERS:
        return "it would change the replicas the suite sets while it scales"
    if kind not in APPLY_RANK:
        return (
            f"kind {kind} is not one the suite applies (a custom resource, or not needed by "
            "the pods); create it yourself on a cluster you pass with --existing-kubeconfig "
            "if the pods need it"
        )
    return None

"""Draining a node as `kubectl drain` does: cordon it, then evict its pods through the Eviction
API, which refuses (HTTP 429) an eviction that would exceed a PodDisruptionBudget; a refused
eviction is asked again until it is accepted. Uncordoned at the end, whatever happened."""

from __future__ import annotations

import time
from collections.abc import Collection, Iterator, Sequence
from contextlib import contextmanager

from kubernetes import client
from kubernetes.client.exceptions import ApiException

from stsconf.access import rest, wait
from stsconf.access.rest import Kube
from stsconf.model.availability import Eviction, budget_held_by_node

REFUSED_BY_BUDGET = 429  # the Eviction API's answer when a PodDisruptionBudget forbids it


@contextmanager
def cordoned(kube: Kube, node: str) -> Iterator[None]:
    set_unschedulable(kube, node, True)
    try:
        yield
    finally:
        set_unschedulable(kube, node, False)


def set_unschedulable(kube: Kube, node: str, unschedulable: bool) -> None:
    kube.core.patch_node(
        node, {"spec": {"unschedulable": unschedulable}}, _content_type=rest.MERGE_PATCH
    )


def evict_all(
    kube: Kube,
    namespace: str,
    pods: Sequence[str],
    timeout: float,
    waits_for_node: Collection[str] = (),
) -> list[Eviction]:
    """Evict each pod in turn, asking again while a PodDisruptionBudget refuses; a pod whose
    eviction is still refused after `timeout` seconds is left (`accepted` False).

    Once a pod of `waits_for_node` (its replacement needs this node, cordoned) is evicted, the
    budget cannot allow more until the node is back: the others are asked once each."""
    evictions: list[Eviction] = []
    for pod in pods:
        blocked = budget_held_by_node(evictions, waits_for_node)
        evictions.append(evict(kube, namespace, pod, 0 if blocked else timeout))
    return evictions


def evict(kube: Kube, namespace: str, pod: str, timeout: float) -> Eviction:
    started = time.monotonic()
    refusals: list[bool] = []

    def ask() -> bool:
        accepted = request_eviction(kube, namespace, pod)
        if not accepted:
            refusals.append(True)
        return accepted

    accepted = wait.attempt_until(ask, bool, timeout=timeout)
    return Eviction(pod, len(refusals), time.monotonic() - started, accepted)


def request_eviction(kube: Kube, namespace: str, pod: str) -> bool:
    """True when the API server accepted the eviction (or the pod is gone already)."""
    body = client.V1Eviction.model_validate(
        {"metadata": {"name": pod, "namespace": namespace}}
    )
    try:
        kube.core.create_namespaced_pod_eviction(pod, namespace, body)
    except ApiException as error:
        if error.status == REFUSED_BY_BUDGET:
            return False
        if error.status == 404:
            return True
        raise
    return True

"""Draining helpers: which node is drained, and evictions that a budget blocks for good."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from kubernetes.client.exceptions import ApiException

from stsconf.observe.placement import busiest_node
from stsconf.workload import drain


def test_the_busiest_node_is_drained() -> None:
    assert busiest_node(["a", "b", "b"]) == "b"
    assert busiest_node(["b", "b", "a"]) == "b"


def test_a_tie_goes_to_the_node_of_the_highest_ordinal() -> None:
    assert busiest_node(["a", "b"]) == "b"
    assert busiest_node(["a", "b", "b", "a"]) == "a"


@dataclass
class BudgetOfOne:
    """An Eviction API whose PodDisruptionBudget allows one pod to go, and no more."""

    asked: list[str] = field(default_factory=list)

    def create_namespaced_pod_eviction(self, pod: str, namespace: str, body: Any) -> None:
        self.asked.append(pod)
        if len(set(self.asked)) > 1:
            raise ApiException(status=drain.REFUSED_BY_BUDGET, reason="Too Many Requests")


@dataclass
class FakeKube:
    core: BudgetOfOne


def test_after_a_pod_that_waits_for_the_node_the_others_are_asked_once() -> None:
    kube = FakeKube(BudgetOfOne())
    evictions = drain.evict_all(kube, "ns", ["db-0", "db-1"], 60, waits_for_node=["db-0"])  # type: ignore[arg-type]
    assert [(e.pod, e.accepted, e.refused) for e in evictions] == [
        ("db-0", True, 0), ("db-1", False, 1),
    ]  # fmt: skip
    assert kube.core.asked == ["db-0", "db-1"]


def test_a_refused_eviction_is_asked_again_until_its_timeout() -> None:
    kube = FakeKube(BudgetOfOne())
    evictions = drain.evict_all(kube, "ns", ["db-0", "db-1"], 1.5)  # type: ignore[arg-type]
    assert not evictions[1].accepted
    assert evictions[1].refused > 1

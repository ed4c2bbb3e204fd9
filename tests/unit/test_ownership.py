"""Orphaning, adoption and release checks, fed pods and claims that break them."""

from __future__ import annotations

from typing import Any

from stsconf.checks.ownership import (
    adopted_problems,
    claims_kept_problems,
    controller_of,
    created_pod_problems,
    orphaned_problems,
    released_problems,
)
from stsconf.model.timeline import ADDED, DELETED, EXISTING, PodEvent, PodState, Timeline
from stsconf.workload.ownership import RELEASED, restoring_labels, unmatching_labels


def pod(
    name: str,
    uid: str,
    owner: str | None = None,
    ready: bool = True,
    deleting: bool = False,
) -> dict[str, Any]:
    metadata: dict[str, Any] = {"name": name, "uid": uid}
    if owner:
        metadata["ownerReferences"] = [
            {"kind": "StatefulSet", "name": "web", "uid": owner, "controller": True}
        ]
    if deleting:
        metadata["deletionTimestamp"] = "2026-01-01T00:00:00Z"
    conditions = [{"type": "Ready", "status": "True" if ready else "False"}]
    return {"metadata": metadata, "status": {"phase": "Running", "conditions": conditions}}


BEFORE = {"web-0": "u0", "web-1": "u1"}


def test_orphans_left_as_they_were_pass() -> None:
    after = {"web-0": pod("web-0", "u0"), "web-1": pod("web-1", "u1")}
    assert orphaned_problems(BEFORE, after) == []


def test_orphan_deleted_recreated_or_still_owned_is_reported() -> None:
    after = {"web-1": pod("web-1", "new", owner="old-set")}
    problems = orphaned_problems(BEFORE, after)
    assert problems == [
        "web-0: expected to outlive its StatefulSet (orphaned); saw pod gone",
        "web-1: expected the same pod uid=u1; saw a new pod uid=new",
        "web-1: expected no controller; saw controlled by StatefulSet/web uid=old-set",
    ]


def test_orphan_not_ready_is_reported() -> None:
    after = {"web-0": pod("web-0", "u0", ready=False), "web-1": pod("web-1", "u1")}
    [problem] = orphaned_problems(BEFORE, after)
    assert problem == "web-0: expected Running and Ready; saw Running/NotReady"


def test_adopted_pods_pass() -> None:
    after = {"web-0": pod("web-0", "u0", "new-set"), "web-1": pod("web-1", "u1", "new-set")}
    assert adopted_problems(BEFORE, after, "new-set") == []


def test_recreated_or_unowned_pod_is_not_adopted() -> None:
    after = {"web-0": pod("web-0", "other", "new-set"), "web-1": pod("web-1", "u1")}
    problems = adopted_problems(BEFORE, after, "new-set")
    assert problems == [
        "web-0: expected adopted as it was (uid=u0); saw recreated (uid=other)",
        "web-1: expected controlled by StatefulSet uid=new-set; saw no controller",
    ]


def test_pod_owned_by_the_deleted_set_is_not_adopted() -> None:
    after = {"web-0": pod("web-0", "u0", "old-set"), "web-1": pod("web-1", "u1", "new-set")}
    [problem] = adopted_problems(BEFORE, after, "new-set")
    assert "controlled by StatefulSet/web uid=old-set" in problem


def test_released_pod_passes_and_violations_are_reported() -> None:
    assert released_problems("web-1", "u1", pod("web-1", "u1")) == []
    assert released_problems("web-1", "u1", None) == [
        "web-1: expected released and left running; saw pod gone"
    ]
    problems = released_problems("web-1", "u1", pod("web-1", "u1", owner="set", deleting=True))
    assert problems == [
        "web-1: expected the same pod uid=u1, not deleted; saw uid=u1 Running/Ready/Terminating",
        "web-1: expected released (no controller); saw controlled by StatefulSet/web uid=set",
    ]


def test_claims_deleted_or_replaced_are_reported() -> None:
    kept = {"www-web-0": {"metadata": {"uid": "c0"}, "status": {"phase": "Bound"}}}
    before = {"www-web-0": "c0", "www-web-1": "c1", "www-web-2": "c2"}
    after = {
        **kept,
        "www-web-1": None,
        "www-web-2": {"metadata": {"uid": "other"}, "status": {"phase": "Bound"}},
    }
    assert claims_kept_problems(before, after) == [
        "www-web-1: expected claim kept; saw www-web-1 gone",
        "www-web-2: expected the same claim uid=c2; saw a new claim",
    ]


def state(name: str, uid: str) -> PodState:
    return PodState(name, uid, "Running", True, False)


def test_a_pod_created_while_adopting_is_reported() -> None:
    timeline = Timeline(
        [
            PodEvent(0, 0.0, EXISTING, state("web-0", "u0")),
            PodEvent(1, 1.0, DELETED, state("web-0", "u0")),
            PodEvent(2, 2.0, ADDED, state("web-0", "u9")),
        ]
    )
    assert created_pod_problems(timeline) == [
        "web-0: expected no pod created while adopting; saw created at event #2 (uid=u9)"
    ]
    assert created_pod_problems(Timeline(timeline.events[:1])) == []


def test_label_changes_that_stop_a_selector_matching() -> None:
    assert unmatching_labels({"matchLabels": {"app": "nginx", "tier": "x"}}) == {"app": RELEASED}
    exists = {"matchExpressions": [{"key": "app", "operator": "Exists"}]}
    assert unmatching_labels(exists) == {"app": None}
    within = {"matchExpressions": [{"key": "app", "operator": "In", "values": ["a", "b"]}]}
    assert unmatching_labels(within) == {"app": RELEASED}
    outside = {"matchExpressions": [{"key": "app", "operator": "NotIn", "values": ["x"]}]}
    assert unmatching_labels(outside) == {"app": "x"}


def test_restoring_labels_undoes_the_change() -> None:
    before = {"app": "nginx", "other": "kept"}
    assert restoring_labels(before, {"app": RELEASED}) == {"app": "nginx"}
    assert restoring_labels(before, {"missing": RELEASED}) == {"missing": None}


def test_controller_of_ignores_owners_that_are_not_controllers() -> None:
    obj = {"metadata": {"ownerReferences": [{"uid": "a"}, {"uid": "b", "controller": True}]}}
    assert controller_of(obj) == {"uid": "b", "controller": True}
    assert controller_of({"metadata": {}}) is None

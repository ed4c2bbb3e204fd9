"""The rules of the two pod management policies, fed event streams that break them."""

from __future__ import annotations

from stsconf.checks.pod_management import (
    all_gone_violations,
    all_ready_violations,
    deleted_while_unready_violations,
    launched_without_waiting_violations,
)
from stsconf.model.timeline import (
    ADDED,
    DELETED,
    EXISTING,
    MODIFIED,
    PodEvent,
    PodState,
    Timeline,
)


def state(
    name: str, phase: str = "Running", ready: bool = True, terminating: bool = False
) -> PodState:
    return PodState(name, uid=f"uid-{name}", phase=phase, ready=ready, terminating=terminating)


def unready(name: str) -> PodState:
    return state(name, ready=False)


def timeline(*steps: tuple[str, PodState]) -> Timeline:
    return Timeline([PodEvent(i, float(i), kind, pod) for i, (kind, pod) in enumerate(steps)])


PODS = ["web-0", "web-1", "web-2"]


def test_parallel_start_up_in_any_order_is_fine_once_all_are_ready() -> None:
    events = timeline(
        (ADDED, unready("web-2")),
        (ADDED, unready("web-0")),
        (ADDED, unready("web-1")),
        (MODIFIED, state("web-1")),
        (MODIFIED, state("web-2")),
        (MODIFIED, state("web-0")),
    )
    assert all_ready_violations(events, PODS) == []


def test_parallel_start_up_misses_a_pod_or_leaves_one_unready() -> None:
    events = timeline(
        (ADDED, state("web-0")),
        (ADDED, unready("web-1")),
        (EXISTING, state("web-2")),
        (DELETED, state("web-2")),
    )
    violations = [str(v) for v in all_ready_violations(events, [*PODS, "web-3"])]
    assert violations == [
        "web-1: expected to end Running and Ready; saw Running/NotReady",
        "web-2: expected to end Running and Ready; saw deleted",
        "web-3: expected to be created; saw no event for it",
    ]


def test_parallel_removal_needs_every_pod_gone_for_good() -> None:
    events = timeline(
        (EXISTING, state("web-0")),
        (EXISTING, state("web-1")),
        (DELETED, state("web-1", terminating=True)),
        (DELETED, state("web-0", terminating=True)),
        (ADDED, unready("web-0")),
    )
    violations = [str(v) for v in all_gone_violations(events, ["web-1", "web-0", "web-2"])]
    assert violations == [
        "web-0: expected to stay deleted; saw it came back: Running/NotReady",
        "web-2: expected to be deleted; saw no DELETED event for it",
    ]
    assert all_gone_violations(events, ["web-1"]) == []


def test_pods_launched_while_predecessors_are_held_unready_prove_a_parallel_launch() -> None:
    events = timeline(
        (ADDED, unready("web-0")),
        (ADDED, unready("web-1")),
        (ADDED, state("web-2", phase="Pending", ready=False)),
    )
    assert launched_without_waiting_violations(events, PODS) == []


def test_a_pod_launched_only_after_its_predecessor_was_ready_proves_nothing() -> None:
    events = timeline(
        (ADDED, unready("web-0")),
        (MODIFIED, state("web-0")),  # the gate failed: web-0 Ready
        (ADDED, unready("web-1")),
    )
    [violation] = launched_without_waiting_violations(events, ["web-0", "web-1"])
    assert violation.what == "web-1"
    assert "expected to be created while web-0 was kept not Ready" in str(violation)
    assert "web-1 added at event #2 while web-0 was Running/Ready" in str(violation)


def test_a_controller_that_waits_for_ready_never_launches_the_rest() -> None:
    events = timeline((ADDED, unready("web-0")))
    violations = launched_without_waiting_violations(events, PODS)
    assert [v.what for v in violations] == ["web-1", "web-2"]
    assert "saw no ADDED event for it" in str(violations[0])
    assert [v.what for v in launched_without_waiting_violations(timeline(), PODS[:1])] == ["web-0"]


def test_scale_down_that_waits_for_the_unhealthy_pod_is_fine() -> None:
    events = timeline(
        (EXISTING, unready("web-0")),
        (EXISTING, state("web-1")),
        (MODIFIED, state("web-0")),
        (MODIFIED, state("web-1", terminating=True)),
        (DELETED, state("web-1", terminating=True)),
    )
    assert deleted_while_unready_violations(events, ["web-1"], "web-0") == []


def test_deleting_while_a_lower_pod_is_not_ready_is_a_violation() -> None:
    events = timeline(
        (EXISTING, unready("web-0")),
        (EXISTING, state("web-1")),
        (EXISTING, state("web-2")),
        (MODIFIED, state("web-2", terminating=True)),
        (DELETED, state("web-2", terminating=True)),
        (MODIFIED, state("web-0")),
        (DELETED, state("web-1")),
    )
    [violation] = deleted_while_unready_violations(events, ["web-2", "web-1"], "web-0")
    assert str(violation) == (
        "web-2: expected to start terminating only while web-0 was Running and Ready; "
        "saw web-2 terminating at event #3 while web-0 was Running/NotReady"
    )

"""Ordering analysis on recorded pod timelines."""

from __future__ import annotations

from datetime import UTC, datetime

from stsconf.checks.ordering import ordered_creation_violations, ordered_deletion_violations
from stsconf.model.timeline import (
    ADDED,
    CONTROLLER_LAG,
    DELETED,
    EXISTING,
    MODIFIED,
    PodEvent,
    PodState,
    Timeline,
    pod_state_from_object,
    timeline_rows,
)


def state(
    name: str, phase: str = "Running", ready: bool = True, terminating: bool = False
) -> PodState:
    return PodState(name, uid=f"uid-{name}", phase=phase, ready=ready, terminating=terminating)


def pending(name: str) -> PodState:
    return state(name, phase="Pending", ready=False)


def timeline(*steps: tuple[str, PodState]) -> Timeline:
    return Timeline([PodEvent(i, float(i), kind, pod) for i, (kind, pod) in enumerate(steps)])


def test_sequential_startup_has_no_violation() -> None:
    events = timeline(
        (ADDED, pending("web-0")),
        (MODIFIED, state("web-0", ready=False)),
        (MODIFIED, state("web-0")),
        (ADDED, pending("web-1")),
        (MODIFIED, state("web-1")),
    )
    assert ordered_creation_violations(events, ["web-0", "web-1"]) == []


def test_pod_added_before_predecessor_ready_is_a_violation() -> None:
    events = timeline(
        (ADDED, pending("web-0")),
        (ADDED, pending("web-1")),
        (MODIFIED, state("web-0")),
        (MODIFIED, state("web-1")),
    )
    [violation] = ordered_creation_violations(events, ["web-0", "web-1"])
    assert violation.what == "web-1"
    assert "expected to be created only after web-0 was Running and Ready" in str(violation)
    assert "saw web-1 added at event #1 while web-0 was Pending/NotReady" in str(violation)


def timed(*steps: tuple[float, str, PodState]) -> Timeline:
    return Timeline([PodEvent(i, at, kind, pod) for i, (at, kind, pod) in enumerate(steps)])


def test_predecessor_must_still_be_ready_when_successor_is_added() -> None:
    """Not Ready for longer than a controller takes to act on what it saw: a violation."""
    events = timed(
        (0.0, ADDED, state("web-0")),
        (1.0, MODIFIED, state("web-0", ready=False)),
        (1.0 + CONTROLLER_LAG + 0.1, ADDED, pending("web-1")),
    )
    [violation] = ordered_creation_violations(events, ["web-0", "web-1"])
    assert "while web-0 was Running/NotReady" in str(violation)


def test_a_successor_added_just_after_its_predecessor_flapped_not_ready_is_in_order() -> None:
    """Seen in CI with the real controller: web-3 Ready, NotReady 30 ms later (the kubelet),
    web-4 added 10 ms after that, web-3 Ready again. The controller acted on the Ready."""
    events = timed(
        (12.64, ADDED, pending("web-3")),
        (12.86, MODIFIED, state("web-3")),
        (12.89, MODIFIED, state("web-3", ready=False)),
        (12.90, ADDED, pending("web-4")),
        (13.17, MODIFIED, state("web-3")),
    )
    assert ordered_creation_violations(events, ["web-3", "web-4"]) == []


def test_a_predecessor_ready_only_before_it_was_replaced_does_not_count() -> None:
    """A Ready state of a pod since deleted says nothing of the pod that replaced it."""
    again = PodState(
        "web-0", uid="uid-web-0-again", phase="Running", ready=False, terminating=False
    )
    events = timed(
        (0.0, ADDED, state("web-0")),
        (0.1, DELETED, state("web-0")),
        (0.2, ADDED, again),
        (0.3, ADDED, pending("web-1")),
    )
    assert [v.what for v in ordered_creation_violations(events, ["web-0", "web-1"])] == ["web-1"]


def test_scale_up_counts_pods_that_existed_before_the_watch() -> None:
    events = timeline(
        (EXISTING, state("web-1")),
        (ADDED, pending("web-2")),
        (MODIFIED, state("web-2")),
        (ADDED, pending("web-3")),
    )
    assert ordered_creation_violations(events, ["web-1", "web-2", "web-3"]) == []


def test_missing_pod_is_reported() -> None:
    events = timeline((ADDED, state("web-0")))
    [violation] = ordered_creation_violations(events, ["web-0", "web-1"])
    assert "no ADDED event" in str(violation)


def test_first_pod_never_created_is_reported() -> None:
    assert [v.what for v in ordered_creation_violations(Timeline(), ["web-0"])] == ["web-0"]


def test_sequential_scale_down_has_no_violation() -> None:
    events = timeline(
        (MODIFIED, state("web-4", terminating=True)),
        (DELETED, state("web-4", terminating=True)),
        (MODIFIED, state("web-3", terminating=True)),
        (DELETED, state("web-3", terminating=True)),
        (MODIFIED, state("web-2", terminating=True)),
        (DELETED, state("web-2", terminating=True)),
    )
    assert ordered_deletion_violations(events, ["web-4", "web-3", "web-2"]) == []


def test_parallel_scale_down_is_a_violation() -> None:
    events = timeline(
        (MODIFIED, state("web-4", terminating=True)),
        (MODIFIED, state("web-3", terminating=True)),
        (MODIFIED, state("web-2", terminating=True)),
        (DELETED, state("web-4", terminating=True)),
        (DELETED, state("web-3", terminating=True)),
        (DELETED, state("web-2", terminating=True)),
    )
    violations = ordered_deletion_violations(events, ["web-4", "web-3", "web-2"])
    assert [v.what for v in violations] == ["web-3", "web-2"]
    assert "only after web-4 was gone" in str(violations[0])


def test_pod_that_never_goes_away_is_reported() -> None:
    events = timeline((DELETED, state("web-4")))
    violations = ordered_deletion_violations(events, ["web-4", "web-3"])
    assert [str(v) for v in violations] == [
        "web-3: expected to be deleted; saw no DELETED event for it"
    ]


def test_pod_state_from_api_object() -> None:
    pod = {
        "metadata": {"name": "web-0", "uid": "abc", "deletionTimestamp": "2024-01-01T00:00:00Z"},
        "status": {
            "phase": "Running",
            "podIP": "10.0.0.5",
            "conditions": [{"type": "Ready", "status": "True"}],
        },
    }
    parsed = pod_state_from_object(pod)
    deletion = datetime(2024, 1, 1, tzinfo=UTC).timestamp()  # no grace period given
    assert parsed == PodState(
        "web-0", "abc", "Running", True, True, "10.0.0.5", deletion_requested=deletion
    )
    assert not parsed.running_and_ready
    assert parsed.describe() == "Running/Ready/Terminating"


def test_rows_for_the_report() -> None:
    [row] = timeline_rows(timeline((ADDED, pending("web-0"))))
    assert row == {
        "#": "0",
        "t (s)": "0.00",
        "event": "ADDED",
        "pod": "web-0",
        "state": "Pending/NotReady",
        "uid": "uid-web-",
        "ip": "",
    }

"""The update rules on synthetic pod timelines: each checker passes a stream that keeps its rule
and fails streams that break it, saying what was expected and what was seen."""

from __future__ import annotations

from typing import Any

from stsconf.checks.update_order import (
    AVAILABILITY_SLACK,
    DEFAULT_MIN_READY_SECONDS,
    StatusSample,
    allowance_unused_violations,
    availability_lag_violations,
    final_states,
    max_unavailable_violations,
    min_ready_violations,
    replacement_violations,
    revision_mismatches,
    unavailable_peak,
    untouched_violations,
    update_order_violations,
)
from stsconf.model.policies import DeclaredPolicies
from stsconf.model.timeline import (
    ADDED,
    DELETED,
    EXISTING,
    MODIFIED,
    PodEvent,
    PodState,
    Timeline,
    pod_state_from_object,
)
from stsconf.workload.updates import (
    HEALTHY_CONDITION,
    TEMPLATE_CHANGE,
    Status,
    changed,
    never_ready,
)

OLD, NEW = "web-old", "web-new"
PODS_DESCENDING = ["web-2", "web-1", "web-0"]


def pod(
    name: str,
    revision: str = OLD,
    phase: str = "Running",
    ready: bool = True,
    terminating: bool = False,
) -> PodState:
    uid = f"{name}-{revision}"
    return PodState(name, uid, phase, ready, terminating, revision=revision)


def timeline(*steps: tuple[str, PodState], every: float = 1.0) -> Timeline:
    return Timeline([PodEvent(i, i * every, kind, state) for i, (kind, state) in enumerate(steps)])


def at_rest(revision: str = OLD) -> list[tuple[str, PodState]]:
    return [(EXISTING, pod(name, revision)) for name in reversed(PODS_DESCENDING)]


def replaced(name: str, revision: str = NEW, old: str = OLD) -> list[tuple[str, PodState]]:
    """One pod going and coming back Ready on `revision`, as a watch shows it."""
    return [
        (MODIFIED, pod(name, old, terminating=True)),
        (DELETED, pod(name, old, terminating=True)),
        (ADDED, pod(name, revision, phase="Pending", ready=False)),
        (MODIFIED, pod(name, revision, ready=False)),
        (MODIFIED, pod(name, revision)),
    ]


def rolling(*names: str) -> Timeline:
    return timeline(*at_rest(), *[step for name in names for step in replaced(name)])


def test_rolling_update_in_reverse_order_has_no_violation() -> None:
    assert update_order_violations(rolling(*PODS_DESCENDING), PODS_DESCENDING, NEW) == []


def test_update_from_the_lowest_ordinal_is_a_violation() -> None:
    violations = update_order_violations(rolling("web-0", "web-1", "web-2"), PODS_DESCENDING, NEW)
    assert [v.what for v in violations] == ["web-1", "web-0"]
    assert "to be replaced only after web-2 was Running and Ready on revision web-new" in str(
        violations[0]
    )
    assert "while web-2 was Running/Ready on revision web-old" in str(violations[0])


def test_two_pods_replaced_at_once_is_a_violation() -> None:
    events = timeline(
        *at_rest(),
        (MODIFIED, pod("web-2", terminating=True)),
        (MODIFIED, pod("web-1", terminating=True)),
        *replaced("web-2")[1:],
        *replaced("web-1")[1:],
        *replaced("web-0"),
    )
    [violation] = update_order_violations(events, PODS_DESCENDING, NEW)
    assert violation.what == "web-1"
    assert "while web-2 was Running/Ready/Terminating on revision web-old" in str(violation)


def test_next_pod_going_before_the_replacement_is_ready_is_a_violation() -> None:
    events = timeline(
        *at_rest(),
        *replaced("web-2")[:4],  # web-2 back on the new revision, not Ready yet
        *replaced("web-1"),
        (MODIFIED, pod("web-2", NEW)),
        *replaced("web-0"),
    )
    [violation] = update_order_violations(events, PODS_DESCENDING, NEW)
    assert violation.what == "web-1"
    assert "while web-2 was Running/NotReady on revision web-new" in str(violation)


def test_pod_that_comes_back_on_the_old_revision_is_a_violation() -> None:
    events = timeline(*at_rest(), *replaced("web-2", revision=OLD))
    [violation] = replacement_violations(events, ["web-2"], NEW)
    assert str(violation) == (
        "web-2: expected to come back on revision web-new; "
        "saw it came back on revision web-old at event #5"
    )


def test_pod_never_replaced_or_never_ready_is_reported() -> None:
    events = timeline(*at_rest(), *replaced("web-2")[:4])
    violations = replacement_violations(events, ["web-2", "web-1"], NEW)
    assert [str(v) for v in violations] == [
        "web-2: expected to become Running and Ready on revision web-new; "
        "saw last state Running/NotReady on revision web-new",
        "web-1: expected to be replaced; saw it never terminated",
    ]


def test_untouched_pods_pass_and_touched_ones_are_named() -> None:
    quiet = timeline(*at_rest(), (MODIFIED, pod("web-0")))  # a status update only
    assert untouched_violations(quiet, ["web-0", "web-1"], "partition 2") == []
    touched = timeline(*at_rest(), *replaced("web-0"))
    [violation] = untouched_violations(touched, ["web-0", "web-1"], "below partition 2")
    assert str(violation) == (
        "web-0: expected to stay untouched (below partition 2); "
        "saw it was marked for deletion at event #3"
    )


def test_partition_that_updates_a_lower_ordinal_is_caught() -> None:
    """Partition 2 with web-1 updated: the checks a partitioned step makes fail."""
    events = timeline(*at_rest(), *replaced("web-2"), *replaced("web-1"))
    assert update_order_violations(events, ["web-2"], NEW) == []
    [violation] = untouched_violations(events, ["web-0", "web-1"], "below partition 2")
    assert violation.what == "web-1"


def test_revisions_of_the_pods_at_the_end() -> None:
    events = timeline(*at_rest(), *replaced("web-2"))
    states = final_states(events)
    assert revision_mismatches(states, {"web-2": NEW}) == []
    violations = revision_mismatches(states, dict.fromkeys(["web-2", "web-1", "web-9"], NEW))
    assert [str(v) for v in violations] == [
        "web-1: expected Running and Ready on revision web-new; "
        "saw Running/Ready on revision web-old",
        "web-9: expected Running and Ready on revision web-new; saw no such pod",
    ]


def test_min_ready_seconds_kept_and_broken() -> None:
    slow = rolling(*PODS_DESCENDING)  # one event a second: 1 s from Ready to the next going
    assert min_ready_violations(slow, PODS_DESCENDING, NEW, 1, slack=0.5) == []
    fast = Timeline([PodEvent(e.seq, e.seq * 0.1, e.kind, e.pod) for e in slow.events])
    violations = min_ready_violations(fast, PODS_DESCENDING, NEW, 1, slack=0.5)
    assert [v.what for v in violations] == ["web-1", "web-0"]
    assert "to be replaced at least 1s (minReadySeconds) after web-2 became Ready" in str(
        violations[0]
    )
    assert "web-1 going 0.10s after web-2 became Ready" in str(violations[0])


def test_available_replicas_lag_ready_replicas() -> None:
    ready_at = {"web-1": 10.0, "web-0": 20.0}
    lagging = [
        StatusSample(10.1, ready=2, available=1),
        StatusSample(13.1, ready=2, available=2),
        StatusSample(20.1, ready=2, available=1),
        StatusSample(23.0, ready=2, available=2),
    ]
    assert availability_lag_violations(ready_at, lagging, 2, 3, slack=1.0) == []
    at_once = [StatusSample(10.1, 2, 2), StatusSample(20.1, 2, 2)]
    violations = availability_lag_violations(ready_at, at_once, 2, 3, slack=1.0)
    assert [str(v) for v in violations] == [
        "status.availableReplicas: expected to count web-1 only 3s (minReadySeconds) after it "
        "became Ready; saw 2 available 0.10s after web-1 became Ready",
        "status.availableReplicas: expected to count web-0 only 3s (minReadySeconds) after it "
        "became Ready; saw 2 available 0.10s after web-0 became Ready",
        "status.availableReplicas: expected to lag status.readyReplicas while a replaced pod "
        "was Ready for less than 3s; saw availableReplicas never below readyReplicas in 2 "
        "status updates",
    ]


def test_unavailable_pods_at_once() -> None:
    one_at_a_time = rolling(*PODS_DESCENDING)
    assert unavailable_peak(one_at_a_time, PODS_DESCENDING)[0] == 1
    assert max_unavailable_violations(one_at_a_time, PODS_DESCENDING, 1) == []
    all_at_once = timeline(
        *at_rest(),
        *[(MODIFIED, pod(name, terminating=True)) for name in PODS_DESCENDING],
    )
    [violation] = max_unavailable_violations(all_at_once, PODS_DESCENDING, 2)
    assert str(violation) == (
        "the update: expected at most 2 pods unavailable at once (maxUnavailable); "
        "saw 3 unavailable after event #5 (MODIFIED web-0)"
    )


def test_an_update_that_never_uses_the_max_unavailable_allowance_is_caught() -> None:
    one_at_a_time = rolling(*PODS_DESCENDING)  # keeps maxUnavailable 2, and ignores it
    [violation] = allowance_unused_violations(one_at_a_time, PODS_DESCENDING, 2)
    assert str(violation) == (
        "the update: expected 2 pods unavailable at once at some moment (maxUnavailable 2: up "
        "to 2 replaced at a time); saw at most 1 unavailable at once"
    )
    two_at_once = timeline(
        *at_rest(),
        (MODIFIED, pod("web-2", terminating=True)),
        (MODIFIED, pod("web-1", terminating=True)),
    )
    assert allowance_unused_violations(two_at_once, PODS_DESCENDING, 2) == []
    assert allowance_unused_violations(two_at_once, ["web-2", "web-1"], 5) == []  # all it can


def test_a_controller_waiting_less_than_min_ready_seconds_is_caught_by_the_default() -> None:
    """With the suite's minReadySeconds when the manifest has none, a controller that waits 2 s
    before replacing the next pod fails (with 3 s and 1.5 s of slack it passed), and one that
    waits the full time, less a second of whole-second timestamps, passes."""

    def waiting(seconds: float) -> Timeline:
        return timeline(*at_rest(), *[s for n in PODS_DESCENDING for s in replaced(n)],
                        every=seconds)  # fmt: skip

    def violations(seconds: float) -> list[str]:
        found = min_ready_violations(
            waiting(seconds), PODS_DESCENDING, NEW, DEFAULT_MIN_READY_SECONDS, AVAILABILITY_SLACK
        )
        return [v.what for v in found]

    assert violations(2.0) == ["web-1", "web-0"]
    assert violations(DEFAULT_MIN_READY_SECONDS - 1.0) == []


def test_pods_listed_at_the_start_do_not_count_as_unavailable() -> None:
    assert unavailable_peak(timeline(*at_rest()), PODS_DESCENDING) == (0, None)


def test_revision_read_from_the_pod_label() -> None:
    labelled = {"metadata": {"name": "web-0", "labels": {"controller-revision-hash": NEW}}}
    assert pod_state_from_object(labelled).revision == NEW
    assert pod_state_from_object({"metadata": {"name": "web-0"}}).revision == ""


def test_the_strategy_a_manifest_declares_in_words() -> None:
    assert DeclaredPolicies.of({"spec": {}}).describe_update_strategy() == (
        "updateStrategy RollingUpdate (the default), minReadySeconds 0"
    )
    on_delete = {"spec": {"updateStrategy": {"type": "OnDelete"}, "revisionHistoryLimit": 2}}
    assert DeclaredPolicies.of(on_delete).describe_update_strategy() == (
        "updateStrategy OnDelete, minReadySeconds 0, revisionHistoryLimit 2"
    )
    partitioned = {
        "spec": {
            "updateStrategy": {"type": "RollingUpdate", "rollingUpdate": {"partition": 1}},
            "minReadySeconds": 5,
        }
    }
    assert DeclaredPolicies.of(partitioned).describe_update_strategy() == (
        "updateStrategy RollingUpdate, partition 1, minReadySeconds 5"
    )


def test_status_of_a_statefulset_and_when_it_is_rolled_out() -> None:
    statefulset = {
        "metadata": {"generation": 4},
        "status": {
            "observedGeneration": 4,
            "currentRevision": OLD,
            "updateRevision": NEW,
            "replicas": 2,
            "readyReplicas": 2,
            "availableReplicas": 1,
            "updatedReplicas": 1,
        },
    }
    status = Status.of(statefulset)
    assert (status.ready, status.available, status.updated) == (2, 1, 1)
    assert not status.rolled_out
    assert Status.of(
        {"metadata": {}, "status": {"currentRevision": NEW, "updateRevision": NEW}}
    ).rolled_out
    assert not Status.of({"metadata": {}}).rolled_out


def test_a_changed_template_differs_only_in_its_annotation_and_never_ready_adds_a_gate() -> None:
    template: dict[str, Any] = {
        "metadata": {"labels": {"app": "nginx"}},
        "spec": {"containers": [{"name": "c"}]},
    }
    first, second = changed(template), changed(template)
    token = first["metadata"]["annotations"][TEMPLATE_CHANGE]
    assert token != second["metadata"]["annotations"][TEMPLATE_CHANGE]
    assert first["spec"] == template["spec"]
    assert "annotations" not in template["metadata"]
    broken = never_ready(template)
    assert broken["spec"]["readinessGates"] == [{"conditionType": HEALTHY_CONDITION}]
    assert "readinessGates" not in template["spec"]

"""The update rules on synthetic pod timelines: each checker passes a stream that keeps its rule
and fails streams that break it, saying what was expected and what was seen."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from stsconf.checks.update_order import (
    DEFAULT_MIN_READY_SECONDS,
    StatusSample,
    allowance_unused_violations,
    availability_lag_violations,
    final_states,
    max_unavailable_violations,
    min_ready_violations,
    replacement_violations,
    replacing_peak,
    revision_mismatches,
    status_written,
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


def stamped(steps: Timeline, ready_since: float, asked: float) -> Timeline:
    """The timeline with the API server's times on web-2's Ready state (`ready_since`) and
    on web-1's deletion (`asked`), whatever moment the watch delivered them."""

    def stamp(state: PodState) -> PodState:
        if state.name == "web-2" and state.ready and state.revision == NEW:
            return replace(state, ready_since=ready_since)
        if state.name == "web-1" and state.terminating and state.revision == OLD:
            return replace(state, deletion_requested=asked)
        return state

    return Timeline([replace(e, pod=stamp(e.pod)) for e in steps.events])


def test_min_ready_seconds_is_measured_on_the_api_servers_times_not_the_watchs() -> None:
    on_time = rolling("web-2", "web-1")
    # the watch delivered web-1's deletion 1 s after web-2's Ready (a loaded machine):
    # the API server's times say 3 s, and 3 s is what minReadySeconds asks
    assert min_ready_violations(stamped(on_time, 100, 103), ["web-2", "web-1"], NEW, 3) == []
    [early] = min_ready_violations(stamped(on_time, 100, 102), ["web-2", "web-1"], NEW, 3)
    assert str(early) == (
        "web-1: expected to be replaced at least 3s (minReadySeconds) after web-2 became "
        "Ready; saw web-1's deletion asked for 2s after web-2 became Ready, by the API "
        "server's times (events #7 and #8)"
    )


def test_min_ready_seconds_without_the_api_servers_times_is_a_violation() -> None:
    [missing] = min_ready_violations(rolling("web-2", "web-1"), ["web-2", "web-1"], NEW, 3)
    assert str(missing) == "web-1: expected the API's Ready and deletion times; saw none recorded"


def test_a_pods_api_times_are_read_from_its_ready_condition_and_deletion() -> None:
    state = pod_state_from_object({
        "metadata": {"name": "web-1", "deletionTimestamp": "2026-12-02T03:41:35Z",
                     "deletionGracePeriodSeconds": 30},
        "status": {"phase": "Running", "conditions": [
            {"type": "Ready", "status": "True", "lastTransitionTime": "2026-12-02T03:41:02Z"}]},
    })  # fmt: skip
    assert state.ready_since == datetime(2026, 12, 2, 3, 41, 2, tzinfo=UTC).timestamp()
    assert state.deletion_requested == datetime(2026, 12, 2, 3, 41, 5, tzinfo=UTC).timestamp()


def test_available_replicas_lag_ready_replicas() -> None:
    ready_at = {"web-1": 10.0, "web-0": 20.0}
    lagging = [
        StatusSample(10, ready=2, available=1),
        StatusSample(13, ready=2, available=2),
        StatusSample(20, ready=2, available=1),
        StatusSample(23, ready=2, available=2),
    ]
    assert availability_lag_violations(ready_at, lagging, 2, 3) == []
    early = [StatusSample(10, 2, 1), StatusSample(12, 2, 2), StatusSample(20, 2, 2)]
    violations = availability_lag_violations(ready_at, early, 2, 3)
    assert [str(v) for v in violations] == [
        "status.availableReplicas: expected to count web-1 only 3s (minReadySeconds) after it "
        "became Ready; saw 2 available in a status written 2s after web-1 became Ready, by the "
        "API server's times",
        "status.availableReplicas: expected to count web-0 only 3s (minReadySeconds) after it "
        "became Ready; saw 2 available in a status written 0s after web-0 became Ready, by the "
        "API server's times",
    ]
    at_once = [StatusSample(13, 2, 2), StatusSample(23, 2, 2)]
    [never_lagged] = availability_lag_violations(ready_at, at_once, 2, 3)
    assert "availableReplicas never below readyReplicas in 2 status updates" in str(never_lagged)


def test_a_status_was_written_when_its_status_writers_managed_fields_say() -> None:
    statefulset = {"metadata": {"managedFields": [
        {"manager": "kubectl", "operation": "Update", "time": "2026-12-02T03:50:00Z"},
        {"manager": "kube-controller-manager", "operation": "Update", "subresource": "status",
         "time": "2026-12-02T03:41:07Z"},
    ]}}  # fmt: skip
    assert status_written(statefulset) == datetime(2026, 12, 2, 3, 41, 7, tzinfo=UTC).timestamp()
    assert status_written({"metadata": {}}) is None


def test_pods_down_for_replacement_at_once() -> None:
    one_at_a_time = rolling(*PODS_DESCENDING)
    assert replacing_peak(one_at_a_time, PODS_DESCENDING, NEW)[0] == 1
    assert max_unavailable_violations(one_at_a_time, PODS_DESCENDING, NEW, 1) == []
    all_at_once = timeline(
        *at_rest(),
        *[(MODIFIED, pod(name, terminating=True)) for name in PODS_DESCENDING],
    )
    [violation] = max_unavailable_violations(all_at_once, PODS_DESCENDING, NEW, 2)
    assert str(violation) == (
        "the update: expected at most 2 pods down for replacement at once (maxUnavailable); "
        "saw 3 down after event #5 (MODIFIED web-0)"
    )


def test_an_update_that_never_uses_the_max_unavailable_allowance_is_caught() -> None:
    one_at_a_time = rolling(*PODS_DESCENDING)  # keeps maxUnavailable 2, and ignores it
    [violation] = allowance_unused_violations(one_at_a_time, PODS_DESCENDING, NEW, 2)
    assert str(violation) == (
        "the update: expected 2 pods down for replacement at once at some moment "
        "(maxUnavailable 2: up to 2 replaced at a time); saw at most 1 down for replacement at "
        "once"
    )
    two_at_once = timeline(
        *at_rest(),
        (MODIFIED, pod("web-2", terminating=True)),
        (MODIFIED, pod("web-1", terminating=True)),
    )
    assert allowance_unused_violations(two_at_once, PODS_DESCENDING, NEW, 2) == []
    assert allowance_unused_violations(two_at_once, ["web-2", "web-1"], NEW, 5) == []  # all


def test_a_probe_flapping_after_its_replacement_does_not_count_as_the_allowance_used() -> None:
    """Seen on Kubernetes 1.37 under the max-unavailable-ignored mutant: web-2 came back Ready,
    flapped NotReady for a second, and web-1 went meanwhile: two pods unavailable at once, but
    the controller replaced them one at a time."""
    flapping = timeline(
        *at_rest(),
        *replaced("web-2"),
        (MODIFIED, pod("web-2", NEW, ready=False)),
        (MODIFIED, pod("web-1", terminating=True)),
        (MODIFIED, pod("web-2", NEW)),
        *replaced("web-1")[1:],
        *replaced("web-0"),
    )
    assert unavailable_peak(flapping, PODS_DESCENDING)[0] == 2
    assert replacing_peak(flapping, PODS_DESCENDING, NEW)[0] == 1
    assert allowance_unused_violations(flapping, PODS_DESCENDING, NEW, 2) != []
    assert max_unavailable_violations(flapping, PODS_DESCENDING, NEW, 1) == []


def on_the_api_servers_clock(steps: Timeline) -> Timeline:
    """The timeline with each pod's API times taken from the events: Ready since the event that
    first showed it Ready, its deletion asked for at the event that first showed it going
    (as if the watch had delivered each at once)."""
    since: dict[tuple[str, str], float] = {}

    def stamp(event: PodEvent) -> PodState:
        state = event.pod
        key = (state.uid, "going" if state.terminating else "ready")
        if state.terminating or state.ready:
            since.setdefault(key, event.seconds)
        if state.terminating:
            return replace(state, deletion_requested=since[key])
        return replace(state, ready_since=since[key]) if state.ready else state

    return Timeline([replace(e, pod=stamp(e)) for e in steps.events])


def test_a_controller_waiting_less_than_min_ready_seconds_is_caught_by_the_default() -> None:
    """With the suite's minReadySeconds when the manifest has none, a controller that waits 2 s
    before replacing the next pod fails (with 3 s and 1.5 s of slack it once passed), and one
    that waits the full time passes."""

    def waiting(seconds: float) -> Timeline:
        return on_the_api_servers_clock(
            timeline(*at_rest(), *[s for n in PODS_DESCENDING for s in replaced(n)],
                     every=seconds)
        )  # fmt: skip

    def violations(seconds: float) -> list[str]:
        found = min_ready_violations(
            waiting(seconds), PODS_DESCENDING, NEW, DEFAULT_MIN_READY_SECONDS
        )
        return [v.what for v in found]

    assert violations(2.0) == ["web-1", "web-0"]
    assert violations(DEFAULT_MIN_READY_SECONDS - 1.0) == ["web-1", "web-0"]
    assert violations(float(DEFAULT_MIN_READY_SECONDS)) == []


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

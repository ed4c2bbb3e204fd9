"""The rules a StatefulSet's updates follow, checked on recorded pod timelines.

Pure functions over plain data, like the ordering rules in checks/ordering.py: a Timeline of
pod watch events (each pod state carries its `controller-revision-hash`), StatefulSet status
samples, and the revisions the test expects. Each returns the violations it finds, each saying
what was expected and what was seen; tests/unit/test_update_order.py feeds them violating
streams.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from stsconf.model.expectations import Problem
from stsconf.model.timeline import (
    ADDED,
    DELETED,
    EXISTING,
    PodEvent,
    PodState,
    Timeline,
    api_time,
)

# minReadySeconds the update tests set when the manifest declares none: long enough that a
# controller that waits less is plainly caught (with 3 s and 1.5 s of slack on the watch's
# clock, one waiting 2 s passed; the checks now read the API server's times, with no slack).
DEFAULT_MIN_READY_SECONDS = 10


@dataclass(frozen=True)
class Replacement:
    """One pod replaced during a timeline: the old one going, the new one coming and Ready."""

    pod: str
    going: PodEvent | None  # the first event with the old pod terminating or gone
    added: PodEvent | None  # the replacement's ADDED event
    ready: PodEvent | None  # the replacement's first Running-and-Ready event on `revision`


@dataclass(frozen=True)
class StatusSample:
    """The StatefulSet's status as one watch event showed it."""

    seconds: float  # when the status was written (the API server's time: status_written)
    ready: int
    available: int


def replacement(timeline: Timeline, pod: str, revision: str) -> Replacement:
    events = timeline.of(pod)
    going = next((e for e in events if e.kind == DELETED or e.pod.terminating), None)
    after_going = [e for e in events if going is not None and e.seq > going.seq]
    added = next((e for e in after_going if e.kind == ADDED), None)
    ready = next(
        (
            e
            for e in after_going
            if added is not None
            and e.seq >= added.seq
            and e.pod.running_and_ready
            and e.pod.revision == revision
        ),
        None,
    )
    return Replacement(pod, going, added, ready)


def replacement_violations(timeline: Timeline, pods: Sequence[str], revision: str) -> list[Problem]:
    """Each of `pods` goes, comes back on `revision`, and becomes Running and Ready on it."""
    violations = []
    for pod in pods:
        found = replacement(timeline, pod, revision)
        if found.going is None:
            violations.append(Problem(pod, "to be replaced", "it never terminated"))
        elif found.added is None:
            violations.append(Problem(pod, "to be created again", "no ADDED event after it went"))
        elif found.added.pod.revision != revision:
            violations.append(
                Problem(
                    pod,
                    f"to come back on revision {revision}",
                    f"it came back on revision {found.added.pod.revision or '(none)'} "
                    f"at event #{found.added.seq}",
                )
            )
        elif found.ready is None:
            last = timeline.of(pod)[-1].pod
            violations.append(
                Problem(
                    pod,
                    f"to become Running and Ready on revision {revision}",
                    f"last state {describe(last)}",
                )
            )
    return violations


def update_order_violations(
    timeline: Timeline, pods_descending: Sequence[str], revision: str
) -> list[Problem]:
    """A rolling update onto `revision`: `pods_descending` (highest ordinal first) are each
    replaced onto it, one at a time, each only after the one above it is Running and Ready on
    the new revision."""
    violations = replacement_violations(timeline, pods_descending, revision)
    for higher, lower in itertools.pairwise(pods_descending):
        going = replacement(timeline, lower, revision).going
        if going is None:
            continue  # reported above
        before = timeline.state_acted_on(higher, going.seq)
        if before is None or not before.running_and_ready or before.revision != revision:
            violations.append(
                Problem(
                    lower,
                    f"to be replaced only after {higher} was Running and Ready on revision "
                    f"{revision}",
                    f"{lower} going at event #{going.seq} while {higher} was "
                    f"{describe(before) if before else 'absent'}",
                )
            )
    return violations


def untouched_violations(timeline: Timeline, pods: Sequence[str], why: str) -> list[Problem]:
    """None of `pods` is deleted, marked for deletion or created during the timeline."""
    violations = []
    for pod in pods:
        touched = next(
            (e for e in timeline.of(pod) if e.kind in (ADDED, DELETED) or e.pod.terminating), None
        )
        if touched is not None:
            what = {ADDED: "created", DELETED: "deleted"}.get(touched.kind, "marked for deletion")
            violations.append(
                Problem(pod, f"to stay untouched ({why})", f"it was {what} at event #{touched.seq}")
            )
    return violations


def revision_mismatches(
    states: Mapping[str, PodState], expected: Mapping[str, str]
) -> list[Problem]:
    """Each pod exists, Running and Ready, on the revision `expected` names for it."""
    violations = []
    for pod, revision in expected.items():
        state = states.get(pod)
        if state is None:
            violations.append(
                Problem(pod, f"Running and Ready on revision {revision}", "no such pod")
            )
        elif state.revision != revision or not state.running_and_ready:
            violations.append(
                Problem(pod, f"Running and Ready on revision {revision}", describe(state))
            )
    return violations


def final_states(timeline: Timeline) -> dict[str, PodState]:
    """The pods as the timeline last saw them (gone pods left out)."""
    states: dict[str, PodState] = {}
    for event in timeline.events:
        if event.kind == DELETED:
            states.pop(event.pod.name, None)
        else:
            states[event.pod.name] = event.pod
    return states


def min_ready_violations(
    timeline: Timeline,
    pods_descending: Sequence[str],
    revision: str,
    min_ready_seconds: int,
) -> list[Problem]:
    """In a rolling update, each pod goes only `min_ready_seconds` after the pod above it
    became Ready on the new revision. Measured on the API server's times, not the watch's (a
    loaded machine delivers watch events late, by seconds): the Ready condition's
    lastTransitionTime and the deletion request (deletionTimestamp less its grace period).
    Both have whole seconds, but the controller counts from the same whole-second
    lastTransitionTime, so a deletion it asked for in time is never stamped earlier than
    lastTransitionTime + minReadySeconds: no slack is needed."""
    violations = []
    for higher, lower in itertools.pairwise(pods_descending):
        ready = replacement(timeline, higher, revision).ready
        going = replacement(timeline, lower, revision).going
        if ready is None or going is None:
            continue  # the update itself went wrong: update_order_violations says how
        since, asked = ready.pod.ready_since, going.pod.deletion_requested
        if since is None or asked is None:
            violations.append(Problem(lower, "the API's Ready and deletion times", "none recorded"))
        elif asked - since < min_ready_seconds:
            violations.append(
                Problem(
                    lower,
                    f"to be replaced at least {min_ready_seconds:g}s (minReadySeconds) after "
                    f"{higher} became Ready",
                    f"{lower}'s deletion asked for {asked - since:.0f}s after {higher} became "
                    f"Ready, by the API server's times (events #{ready.seq} and #{going.seq})",
                )
            )
    return violations


def availability_lag_violations(
    ready_at: Mapping[str, float],
    samples: Sequence[StatusSample],
    replicas: int,
    min_ready_seconds: int,
) -> list[Problem]:
    """`status.availableReplicas` counts a pod only `min_ready_seconds` after it became Ready,
    so it lags `readyReplicas`: the status shows fewer available than ready at some point, and
    never all `replicas` available while a pod has been Ready for less than that. `ready_at`
    (each pod's Ready lastTransitionTime) and the samples' times are the API server's, whole
    seconds: as in min_ready_violations, a status written in time is never stamped earlier
    than Ready + minReadySeconds."""
    violations = []
    for pod, since in sorted(ready_at.items(), key=lambda item: item[1]):
        early = next(
            (
                s
                for s in samples
                if since <= s.seconds < since + min_ready_seconds and s.available >= replicas
            ),
            None,
        )
        if early is not None:
            violations.append(
                Problem(
                    "status.availableReplicas",
                    f"to count {pod} only {min_ready_seconds:g}s (minReadySeconds) after it "
                    f"became Ready",
                    f"{early.available} available in a status written {early.seconds - since:.0f}s "
                    f"after {pod} became Ready, by the API server's times",
                )
            )
    if ready_at and not any(s.available < s.ready for s in samples):
        violations.append(
            Problem(
                "status.availableReplicas",
                "to lag status.readyReplicas while a replaced pod was Ready for less than "
                f"{min_ready_seconds:g}s",
                f"availableReplicas never below readyReplicas in {len(samples)} status updates",
            )
        )
    return violations


def unavailable_peak(timeline: Timeline, pods: Sequence[str]) -> tuple[int, PodEvent | None]:
    """The most of `pods` not Running and Ready (or absent) at once after the initial list,
    and the event that brought it about."""
    states: dict[str, PodState | None] = dict.fromkeys(pods)
    peak, at = 0, None
    for event in timeline.events:
        if event.pod.name not in states:
            continue
        states[event.pod.name] = None if event.kind == DELETED else event.pod
        if event.kind == EXISTING:
            continue
        down = sum(1 for state in states.values() if state is None or not state.running_and_ready)
        if down > peak:
            peak, at = down, event
    return peak, at


def replacing_peak(
    timeline: Timeline, pods: Sequence[str], revision: str
) -> tuple[int, PodEvent | None]:
    """The most of `pods` down for replacement at once, and the event that brought it about:
    each from its old pod going until its replacement is first Running and Ready on `revision`
    (or to the end). This is what the controller decides; a pod that turns unready after its
    replacement was Ready (its probe flapping) is not the update's doing, and counted apart
    (unavailable_peak)."""
    spans = []
    for pod in pods:
        found = replacement(timeline, pod, revision)
        if found.going is not None:
            until = found.ready.seq if found.ready is not None else len(timeline.events)
            spans.append((found.going, until))
    peak, at = 0, None
    for going, _ in sorted(spans, key=lambda span: span[0].seq):
        down = sum(1 for other, until in spans if other.seq <= going.seq < until)
        if down > peak:
            peak, at = down, going
    return peak, at


def max_unavailable_violations(
    timeline: Timeline, pods: Sequence[str], revision: str, max_unavailable: int
) -> list[Problem]:
    """Never more than `max_unavailable` of `pods` down for replacement at once."""
    peak, at = replacing_peak(timeline, pods, revision)
    if peak <= max_unavailable or at is None:
        return []
    return [
        Problem(
            "the update",
            f"at most {max_unavailable} pods down for replacement at once (maxUnavailable)",
            f"{peak} down after event #{at.seq} ({at.kind} {at.pod.name})",
        )
    ]


def allowance_unused_violations(
    timeline: Timeline, pods: Sequence[str], revision: str, max_unavailable: int
) -> list[Problem]:
    """maxUnavailable N lets an update replace up to N pods at a time, and the controller does:
    at some moment min(N, len(pods)) of `pods` were down for replacement at once. (A controller
    that takes them one by one keeps the limit, and ignores it.)"""
    wanted = min(max_unavailable, len(pods))
    peak, _ = replacing_peak(timeline, pods, revision)
    if peak >= wanted:
        return []
    return [
        Problem(
            "the update",
            f"{wanted} pods down for replacement at once at some moment (maxUnavailable "
            f"{max_unavailable}: up to {wanted} replaced at a time)",
            f"at most {peak} down for replacement at once",
        )
    ]


def describe(state: PodState) -> str:
    return f"{state.describe()} on revision {state.revision or '(none)'}"


def status_written(statefulset: Mapping[str, Any]) -> float | None:
    """When the StatefulSet's status was last written, by the API server's clock (whole
    seconds): the time of the managedFields entry of the status subresource's writer."""
    entries = (statefulset.get("metadata") or {}).get("managedFields") or []
    times = [e.get("time") for e in entries if e.get("subresource") == "status" and e.get("time")]
    return api_time(max(times)) if times else None

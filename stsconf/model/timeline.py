"""Pod timelines recorded from a watch, and the ordering rules a StatefulSet promises.

Everything here is plain data and pure functions so that it can be unit tested and
rendered later (an event table and an SVG picture, see report/svg_timeline.py).
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

# Event kinds: the watch's own ADDED/MODIFIED/DELETED, plus EXISTING for pods that
# were already there when the watch began (they come from the initial list).
EXISTING = "EXISTING"
ADDED = "ADDED"
MODIFIED = "MODIFIED"
DELETED = "DELETED"

# The label a StatefulSet's controller puts on each pod: the ControllerRevision it was made from.
REVISION_LABEL = "controller-revision-hash"


@dataclass(frozen=True)
class WatchEvent:
    """One event of a watch (or one object of the list before it, as EXISTING)."""

    seq: int
    seconds: float
    kind: str
    object: dict[str, Any]

    @property
    def name(self) -> str:
        return str(self.object["metadata"]["name"])


@dataclass(frozen=True)
class PodState:
    name: str
    uid: str
    phase: str
    ready: bool
    terminating: bool
    ip: str | None = None
    scheduled: bool = False  # bound to a node
    revision: str = ""  # its controller-revision-hash label: the ControllerRevision it runs

    @property
    def running_and_ready(self) -> bool:
        return self.phase == "Running" and self.ready and not self.terminating

    def describe(self) -> str:
        flags = [self.phase or "Unknown", "Ready" if self.ready else "NotReady"]
        if self.terminating:
            flags.append("Terminating")
        return "/".join(flags)


@dataclass(frozen=True)
class PodEvent:
    seq: int
    seconds: float  # since the recorder started
    kind: str
    pod: PodState


@dataclass
class Timeline:
    events: list[PodEvent] = field(default_factory=list)

    def of(self, name: str) -> list[PodEvent]:
        return [event for event in self.events if event.pod.name == name]

    def state_before(self, name: str, seq: int) -> PodState | None:
        """The latest known state of pod `name` strictly before event `seq`, or None if absent."""
        state: PodState | None = None
        for event in self.events:
            if event.seq >= seq:
                break
            if event.pod.name == name:
                state = None if event.kind == DELETED else event.pod
        return state

    def first(self, name: str, kinds: Iterable[str]) -> PodEvent | None:
        wanted = set(kinds)
        return next((e for e in self.of(name) if e.kind in wanted), None)

    def first_terminating(self, name: str) -> PodEvent | None:
        """The first event in which the pod is marked for deletion or is gone."""
        return next(
            (e for e in self.of(name) if e.kind == DELETED or e.pod.terminating),
            None,
        )


@dataclass(frozen=True)
class OrderViolation:
    pod: str
    expected: str
    seen: str

    def __str__(self) -> str:
        return f"{self.pod}: expected {self.expected}; saw {self.seen}"


def condition_true(obj: Mapping[str, Any], kind: str) -> bool:
    """The object's (pod's, node's) status condition of this type is "True"."""
    conditions = (obj.get("status") or {}).get("conditions") or []
    return any(c.get("type") == kind and c.get("status") == "True" for c in conditions)


def pod_state_from_object(obj: Mapping[str, Any]) -> PodState:
    """Build a PodState from a pod as the API serialises it (camelCase dict)."""
    metadata = obj.get("metadata") or {}
    status = obj.get("status") or {}
    ready = condition_true(obj, "Ready")
    return PodState(
        name=metadata.get("name", ""),
        uid=metadata.get("uid", ""),
        phase=status.get("phase") or "",
        ready=ready,
        terminating=bool(metadata.get("deletionTimestamp")),
        ip=status.get("podIP"),
        scheduled=bool((obj.get("spec") or {}).get("nodeName")),
        revision=str((metadata.get("labels") or {}).get(REVISION_LABEL, "")),
    )


def ordered_creation_violations(
    timeline: Timeline, pod_names: Sequence[str]
) -> list[OrderViolation]:
    """Each pod after the first must be added only while its predecessor is Running and Ready.

    `pod_names` lists the pods in ordinal order, starting with the predecessor of the first pod
    that must be created (which may already exist when the watch starts).
    """
    violations = []
    if pod_names and timeline.first(pod_names[0], [ADDED, EXISTING]) is None:
        violations.append(OrderViolation(pod_names[0], "to exist", "no event for it"))
    for predecessor, pod in itertools.pairwise(pod_names):
        added = timeline.first(pod, [ADDED])
        if added is None:
            violations.append(OrderViolation(pod, "to be created", "no ADDED event for it"))
            continue
        before = timeline.state_before(predecessor, added.seq)
        if before is None or not before.running_and_ready:
            seen_state = before.describe() if before else "absent"
            violations.append(
                OrderViolation(
                    pod,
                    f"to be created only after {predecessor} was Running and Ready",
                    f"{pod} added at event #{added.seq} while {predecessor} was {seen_state}",
                )
            )
    return violations


def ordered_deletion_violations(
    timeline: Timeline, pod_names_descending: Sequence[str]
) -> list[OrderViolation]:
    """Each pod after the first must start terminating only once the previous one is gone.

    `pod_names_descending` lists the condemned pods from the highest ordinal down.
    """
    violations = []
    for pod in pod_names_descending:
        if timeline.first(pod, [DELETED]) is None:
            violations.append(OrderViolation(pod, "to be deleted", "no DELETED event for it"))
    for higher, lower in itertools.pairwise(pod_names_descending):
        lower_terminating = timeline.first_terminating(lower)
        higher_gone = timeline.first(higher, [DELETED])
        if lower_terminating is None or higher_gone is None:
            continue  # already reported above
        if lower_terminating.seq < higher_gone.seq:
            violations.append(
                OrderViolation(
                    lower,
                    f"to start terminating only after {higher} was gone",
                    f"{lower} terminating at event #{lower_terminating.seq}, "
                    f"{higher} deleted only at event #{higher_gone.seq}",
                )
            )
    return violations


def identity_overlaps(timeline: Timeline) -> list[OrderViolation]:
    """At most one pod per identity: a pod of a name may appear only once the previous pod of
    that name is gone (its DELETED event seen), never beside it."""
    live: dict[str, str] = {}  # name -> uid of the pod of that name not yet gone
    violations = []
    for event in timeline.events:
        name, uid = event.pod.name, event.pod.uid
        if event.kind == DELETED:
            if live.get(name) == uid:
                del live[name]
            continue
        if name in live and live[name] != uid:
            violations.append(
                OrderViolation(
                    name,
                    f"a new {name} only after the previous one (uid {live[name][:8]}) was gone",
                    f"uid {uid[:8]} at event #{event.seq} while uid {live[name][:8]} was not gone",
                )
            )
        live[name] = uid
    return violations


def timeline_rows(timeline: Timeline) -> list[dict[str, str]]:
    """One row per event, for tables in the report."""
    return [
        {
            "#": str(event.seq),
            "t (s)": f"{event.seconds:.2f}",
            "event": event.kind,
            "pod": event.pod.name,
            "state": event.pod.describe(),
            "uid": event.pod.uid[:8],
            "ip": event.pod.ip or "",
        }
        for event in timeline.events
    ]

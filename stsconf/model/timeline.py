"""Pod timelines recorded from a watch, as plain data: the checkers (checks/ordering.py and
others) judge them, the report draws them (an event table and an SVG picture, see
report/svg_timeline.py).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
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
    # The API server's own times (epoch seconds, whole: the API drops fractions), which load on
    # the machine that watches cannot shift: since when the pod is Ready (its Ready condition's
    # lastTransitionTime), and when its deletion was asked for (deletionTimestamp less the
    # grace period it adds).
    ready_since: float | None = None
    deletion_requested: float | None = None

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


# How long after a pod stopped being Running and Ready a controller may still act on having
# seen it Ready. In CI (load 60) a pod went NotReady 30 ms after Ready, the real controller
# added the next pod 10 ms later, and the pod was Ready again 280 ms after that.
CONTROLLER_LAG = 2.0


@dataclass
class Timeline:
    events: list[PodEvent] = field(default_factory=list)
    time_zero: float = 0.0  # its t = 0 by the wall clock (epoch seconds), to align other clocks

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

    def state_acted_on(self, name: str, seq: int) -> PodState | None:
        """The state of pod `name` a controller may have acted on at event `seq`: its latest
        state before it or, when that is not Running and Ready, the Running and Ready state
        the same pod left at most CONTROLLER_LAG seconds before `seq`. A controller acts on
        its cache, and a kubelet may report a pod NotReady for a moment just after Ready."""
        latest = self.state_before(name, seq)
        if latest is None or latest.running_and_ready or latest.terminating:
            return latest  # a pod being deleted is the controller's doing, not a readiness blip
        ready, ended, was_ready = None, 0.0, False
        for event in self.of(name):
            if event.seq >= seq:
                break
            now_ready = event.kind != DELETED and event.pod.running_and_ready
            if now_ready:
                ready = event.pod
            elif was_ready:
                ended = event.seconds
            if event.kind == DELETED:
                ready = None
            was_ready = now_ready
        at = next(event.seconds for event in self.events if event.seq == seq)
        if ready is not None and ready.uid == latest.uid and at - ended <= CONTROLLER_LAG:
            return ready
        return latest

    def first(self, name: str, kinds: Iterable[str]) -> PodEvent | None:
        wanted = set(kinds)
        return next((e for e in self.of(name) if e.kind in wanted), None)

    def first_terminating(self, name: str) -> PodEvent | None:
        """The first event in which the pod is marked for deletion or is gone."""
        return next(
            (e for e in self.of(name) if e.kind == DELETED or e.pod.terminating),
            None,
        )


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
        ready_since=ready_since(obj) if ready else None,
        deletion_requested=deletion_requested(metadata),
    )


def api_datetime(text: str | None) -> datetime | None:
    """An API timestamp ('2026-12-02T03:41:05Z', '...05.123456Z') as an aware datetime."""
    return datetime.fromisoformat(text.replace("Z", "+00:00")) if text else None


def api_time(text: str | None) -> float | None:
    """An API timestamp as epoch seconds."""
    moment = api_datetime(text)
    return moment.timestamp() if moment else None


def ready_since(obj: Mapping[str, Any]) -> float | None:
    conditions = (obj.get("status") or {}).get("conditions") or []
    ready: Mapping[str, Any] = next((c for c in conditions if c.get("type") == "Ready"), {})
    return api_time(ready.get("lastTransitionTime"))


def deletion_requested(metadata: Mapping[str, Any]) -> float | None:
    deadline = api_time(metadata.get("deletionTimestamp"))
    grace = metadata.get("deletionGracePeriodSeconds") or 0
    return None if deadline is None else deadline - float(grace)


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

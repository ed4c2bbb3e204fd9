"""A failed pod of a StatefulSet must be deleted and created again until one runs: pure checks
over the watch timeline of the pods of that name (see workload/failed_pod.py for how the suite
makes a pod fail)."""

from __future__ import annotations

from stsconf.model.expectations import mismatch
from stsconf.model.timeline import ADDED, DELETED, PodState, Timeline


def failed_uids(timeline: Timeline, pod: str) -> list[str]:
    """The uids of `pod` seen in phase Failed, in order."""
    found: list[str] = []
    for event in timeline.of(pod):
        if event.pod.phase == "Failed" and event.pod.uid not in found:
            found.append(event.pod.uid)
    return found


def _deleted_then_recreated(timeline: Timeline, pod: str, uid: str) -> tuple[bool, bool]:
    """Whether the pod with `uid` was deleted, and whether a pod of another uid was added
    after that."""
    events = timeline.of(pod)
    deleted = next((e.seq for e in events if e.kind == DELETED and e.pod.uid == uid), None)
    if deleted is None:
        return False, False
    recreated = any(e.seq > deleted and e.kind == ADDED and e.pod.uid != uid for e in events)
    return True, recreated


def recreated_after_failure(timeline: Timeline, pod: str) -> bool:
    """A failed `pod` was deleted and a new one added: what the wait before freeing the
    port waits for."""
    return any(all(_deleted_then_recreated(timeline, pod, u)) for u in failed_uids(timeline, pod))


def uids_in_order(timeline: Timeline) -> list[str]:
    seen: list[str] = []
    for event in timeline.events:
        if event.pod.uid not in seen:
            seen.append(event.pod.uid)
    return seen


def current_state(timeline: Timeline, pod: str) -> PodState | None:
    state = None
    for event in timeline.of(pod):
        state = None if event.kind == DELETED else event.pod
    return state


def running_replacement(timeline: Timeline, pod: str) -> bool:
    state = current_state(timeline, pod)
    failed = failed_uids(timeline, pod)
    return state is not None and state.running_and_ready and state.uid not in failed


def recreation_problems(timeline: Timeline, pod: str) -> list[str]:
    """Each failed pod was deleted and followed by a new pod (new uid); in the end a pod that
    never failed is Running and Ready."""
    failed = failed_uids(timeline, pod)
    if not failed:
        phases = sorted({e.pod.phase or "?" for e in timeline.of(pod)}) or ["no pod"]
        return [
            mismatch(
                pod,
                "to fail (phase Failed) while its host port was held",
                f"phases {', '.join(phases)}",
            )
        ]
    problems = []
    for uid in failed:
        deleted, recreated = _deleted_then_recreated(timeline, pod, uid)
        subject = f"{pod} uid={uid[:8]} (Failed)"
        if not deleted:
            problems.append(mismatch(subject, "deleted by the StatefulSet controller", "kept"))
        elif not recreated:
            problems.append(mismatch(subject, "a new pod after its deletion", "none added"))
    state = current_state(timeline, pod)
    if not running_replacement(timeline, pod):
        seen = f"{state.describe()} uid={state.uid[:8]}" if state else "no pod"
        problems.append(mismatch(pod, "in the end a new pod Running and Ready", seen))
    return problems

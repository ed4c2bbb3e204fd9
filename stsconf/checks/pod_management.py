"""What each pod management policy promises while scaling, as pure checks on pod timelines.

`OrderedReady` (the default): one pod at a time, each after its predecessor is Running and
Ready, and no step at all while a pod is not Ready (see also checks/ordering.py).
`Parallel`: pods are launched and terminated without waiting for each other; all that is
promised is that scaling completes, even while pods are not Ready.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence

from stsconf.model.timeline import ADDED, DELETED, EXISTING, OrderViolation, Timeline


def all_ready_violations(timeline: Timeline, pod_names: Sequence[str]) -> list[OrderViolation]:
    """Each pod exists and its last state in the timeline is Running and Ready (in any order:
    the Parallel form of ordered start-up and scale-up)."""
    violations = []
    for pod in pod_names:
        events = timeline.of(pod)
        if not any(e.kind in (ADDED, EXISTING) for e in events):
            violations.append(OrderViolation(pod, "to be created", "no event for it"))
        elif events[-1].kind == DELETED or not events[-1].pod.running_and_ready:
            last = "deleted" if events[-1].kind == DELETED else events[-1].pod.describe()
            violations.append(OrderViolation(pod, "to end Running and Ready", last))
    return violations


def all_gone_violations(timeline: Timeline, pod_names: Sequence[str]) -> list[OrderViolation]:
    """Each pod is deleted and not created again (in any order: the Parallel form of ordered
    scale-down)."""
    violations = []
    for pod in pod_names:
        events = timeline.of(pod)
        if not any(e.kind == DELETED for e in events):
            violations.append(OrderViolation(pod, "to be deleted", "no DELETED event for it"))
        elif events[-1].kind != DELETED:
            violations.append(
                OrderViolation(pod, "to stay deleted", f"it came back: {events[-1].pod.describe()}")
            )
    return violations


def launched_without_waiting_violations(
    timeline: Timeline, pod_names: Sequence[str]
) -> list[OrderViolation]:
    """Each pod after the first is created while its predecessor is not Ready (the test holds
    every pod unready): proof that the controller did not wait for it.

    `pod_names` lists the pods in ordinal order, the first of them existing already or created
    by the scaling.
    """
    violations = []
    if pod_names and timeline.first(pod_names[0], [ADDED, EXISTING]) is None:
        violations.append(OrderViolation(pod_names[0], "to exist", "no event for it"))
    for predecessor, pod in itertools.pairwise(pod_names):
        added = timeline.first(pod, [ADDED])
        if added is None:
            violations.append(
                OrderViolation(
                    pod,
                    f"to be created although {predecessor} was not Ready",
                    "no ADDED event for it",
                )
            )
            continue
        before = timeline.state_before(predecessor, added.seq)
        if before is not None and before.ready:
            violations.append(
                OrderViolation(
                    pod,
                    f"to be created while {predecessor} was held not Ready",
                    f"{pod} added at event #{added.seq} while {predecessor} was "
                    f"{before.describe()} (the hold did not hold: no proof of a parallel launch)",
                )
            )
    return violations


def deleted_while_unready_violations(
    timeline: Timeline, condemned: Sequence[str], unhealthy: str
) -> list[OrderViolation]:
    """No condemned pod starts terminating while the pod `unhealthy` (one below them) is not
    Running and Ready: OrderedReady halts a scale-down until every pod is healthy again."""
    violations = []
    for pod in condemned:
        terminating = timeline.first_terminating(pod)
        if terminating is None:
            continue  # whether it was deleted at all is ordered_deletion_violations' business
        state = timeline.state_before(unhealthy, terminating.seq)
        if state is None or not state.running_and_ready:
            seen = state.describe() if state else "absent"
            violations.append(
                OrderViolation(
                    pod,
                    f"to start terminating only while {unhealthy} was Running and Ready",
                    f"{pod} terminating at event #{terminating.seq} while {unhealthy} was {seen}",
                )
            )
    return violations

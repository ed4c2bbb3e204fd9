"""The ordering rules a StatefulSet promises, checked on pod timelines recorded from a watch:
ordered creation and deletion (OrderedReady), and at most one pod per identity (always)."""

from __future__ import annotations

import itertools
from collections.abc import Sequence

from stsconf.model.expectations import Problem
from stsconf.model.timeline import ADDED, DELETED, EXISTING, Timeline


def ordered_creation_violations(timeline: Timeline, pod_names: Sequence[str]) -> list[Problem]:
    """Each pod after the first must be added only while its predecessor is Running and Ready
    (as the controller may have seen it: Timeline.state_acted_on).

    `pod_names` lists the pods in ordinal order, starting with the predecessor of the first pod
    that must be created (which may already exist when the watch starts).
    """
    violations = []
    if pod_names and timeline.first(pod_names[0], [ADDED, EXISTING]) is None:
        violations.append(Problem(pod_names[0], "to exist", "no event for it"))
    for predecessor, pod in itertools.pairwise(pod_names):
        added = timeline.first(pod, [ADDED])
        if added is None:
            violations.append(Problem(pod, "to be created", "no ADDED event for it"))
            continue
        before = timeline.state_acted_on(predecessor, added.seq)
        if before is None or not before.running_and_ready:
            seen_state = before.describe() if before else "absent"
            violations.append(
                Problem(
                    pod,
                    f"to be created only after {predecessor} was Running and Ready",
                    f"{pod} added at event #{added.seq} while {predecessor} was {seen_state}",
                )
            )
    return violations


def ordered_deletion_violations(
    timeline: Timeline, pod_names_descending: Sequence[str]
) -> list[Problem]:
    """Each pod after the first must start terminating only once the previous one is gone.

    `pod_names_descending` lists the condemned pods from the highest ordinal down.
    """
    violations = []
    for pod in pod_names_descending:
        if timeline.first(pod, [DELETED]) is None:
            violations.append(Problem(pod, "to be deleted", "no DELETED event for it"))
    for higher, lower in itertools.pairwise(pod_names_descending):
        lower_terminating = timeline.first_terminating(lower)
        higher_gone = timeline.first(higher, [DELETED])
        if lower_terminating is None or higher_gone is None:
            continue  # already reported above
        if lower_terminating.seq < higher_gone.seq:
            violations.append(
                Problem(
                    lower,
                    f"to start terminating only after {higher} was gone",
                    f"{lower} terminating at event #{lower_terminating.seq}, "
                    f"{higher} deleted only at event #{higher_gone.seq}",
                )
            )
    return violations


def identity_overlaps(timeline: Timeline) -> list[Problem]:
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
                Problem(
                    name,
                    f"a new {name} only after the previous one (uid {live[name][:8]}) was gone",
                    f"uid {uid[:8]} at event #{event.seq} while uid {live[name][:8]} was not gone",
                )
            )
        live[name] = uid
    return violations

"""The ordering rules one lifecycle step's watch must keep, given the model before and after
the step (pure functions).

Whatever the pod management policy: at most one pod per identity at any moment, and a rolling
update replaces pods from the highest ordinal down, each after the one above is Running and
Ready on the new revision (`Parallel` changes scaling, not rolling updates). Under
`OrderedReady` also: new pods are created in ordinal order, each after its predecessor is
Ready, and removed pods go from the highest ordinal down.
"""

from __future__ import annotations

from collections.abc import Callable

from stsconf.checks.lifecycle_model import Model
from stsconf.checks.update_order import update_order_violations
from stsconf.model.timeline import (
    OrderViolation,
    Timeline,
    identity_overlaps,
    ordered_creation_violations,
    ordered_deletion_violations,
)


def transition_violations(
    before: Model,
    after: Model,
    timeline: Timeline,
    pod_name: Callable[[int], str],
    update_revision: str,
) -> list[OrderViolation]:
    """What the step's watch shows against the rules above (pod_name: ordinal -> pod)."""
    problems = identity_overlaps(timeline)
    if after.policies.ordered:
        problems += scaling_violations(before, after, timeline, pod_name)
    rolled = rolled_ordinals(before, after)
    if rolled:
        pods = [pod_name(ordinal) for ordinal in rolled]
        problems += update_order_violations(timeline, pods, update_revision)
    return problems


def scaling_violations(
    before: Model, after: Model, timeline: Timeline, pod_name: Callable[[int], str]
) -> list[OrderViolation]:
    grown = sorted(set(after.pods) - set(before.pods))
    shrunk = sorted(set(before.pods) - set(after.pods), reverse=True)
    problems = []
    if grown:
        first = max(grown[0] - 1, 0)  # the first new pod waits for the one below it
        names = [pod_name(ordinal) for ordinal in range(first, grown[-1] + 1)]
        problems += ordered_creation_violations(timeline, names)
    if shrunk:
        problems += ordered_deletion_violations(timeline, [pod_name(o) for o in shrunk])
    return problems


def rolled_ordinals(before: Model, after: Model) -> list[int]:
    """Pods that existed before the step and were moved onto the update template by it,
    highest first."""
    return sorted(
        (
            ordinal
            for ordinal, template in after.pods.items()
            if ordinal in before.pods
            and template != before.pods[ordinal]
            and template == after.update_template
        ),
        reverse=True,
    )

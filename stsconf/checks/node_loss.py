"""Checkers over a watch Timeline recorded while a node was disrupted (pure functions).

At most one pod per identity is timeline.identity_overlaps: a pod of a name may appear only
once the previous pod of that name is gone from the API (its DELETED event), never beside it,
however long the old one stays marked for deletion on a node that stopped answering.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence

from stsconf.model.expectations import mismatch
from stsconf.model.timeline import (
    ADDED,
    OrderViolation,
    Timeline,
    identity_overlaps,
    ordered_creation_violations,
)


def return_violations(
    timeline: Timeline, names: Sequence[str], ordered: bool
) -> list[OrderViolation]:
    """Pods returning after a node restart: at most one pod per name throughout, and under
    OrderedReady (`ordered`) each pod created again (say, evicted meanwhile) only while its
    predecessor was Running and Ready."""
    problems = identity_overlaps(timeline)
    if ordered:
        for predecessor, name in itertools.pairwise(names):
            if timeline.first(name, [ADDED]) is not None:
                problems += ordered_creation_violations(timeline, [predecessor, name])
    return problems


def volume_placement_not_applicable(volume_nodes: Mapping[str, set[str]]) -> str | None:
    """Why 'a replacement follows its volume' says nothing here: no volume of any pod is
    bound to a node (network storage can be used anywhere). None when it applies."""
    if any(volume_nodes.values()):
        return None
    return (
        "not applicable: no volume of " + ", ".join(sorted(volume_nodes)) + " has a node "
        "affinity (network storage): any node can use them, so where a replacement runs "
        "shows nothing"
    )


def replacement_placement_problems(
    volume_nodes: Mapping[str, set[str]], replaced_on: Mapping[str, str]
) -> list[str]:
    """Each replacement runs on the node its local volumes are bound to."""
    return [
        mismatch(
            f"node of the replacement of {pod}",
            f"the node of its volume ({', '.join(sorted(nodes))})",
            replaced_on.get(pod, "not scheduled"),
        )
        for pod, nodes in volume_nodes.items()
        if nodes and nodes != {replaced_on.get(pod)}
    ]

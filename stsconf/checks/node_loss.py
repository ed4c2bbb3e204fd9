"""Checkers over a watch Timeline recorded while a node was disrupted (pure functions).

At most one pod per identity is timeline.identity_overlaps: a pod of a name may appear only
once the previous pod of that name is gone from the API (its DELETED event), never beside it,
however long the old one stays marked for deletion on a node that stopped answering.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence

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

"""Checkers over what was recorded while a node was disrupted (pure functions): the watch
timeline, and each pod as it came back or was replaced.

At most one pod per identity is ordering.identity_overlaps: a pod of a name may appear only
once the previous pod of that name is gone from the API (its DELETED event), never beside it,
however long the old one stays marked for deletion on a node that stopped answering.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from stsconf.checks.ordering import identity_overlaps, ordered_creation_violations
from stsconf.model.expectations import Problem
from stsconf.model.timeline import ADDED, Timeline


def return_violations(timeline: Timeline, names: Sequence[str], ordered: bool) -> list[Problem]:
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


@dataclass(frozen=True)
class ReturnedPod:
    """A pod back after its node restarted, as the suite found it."""

    name: str
    hostname: str
    ip: str
    dns_name: str  # <pod>.<service>
    resolves_to: str  # what that name resolved to
    claims: Mapping[str, str]  # claim name -> uid ("absent" for none)


def returned_pod_problems(
    pods: Sequence[ReturnedPod], claims_before: Mapping[str, Mapping[str, str]], why: str
) -> list[Problem]:
    """Each returned pod has its name as hostname, its DNS name resolves to its IP, and its
    claims are the ones it had before (`why`: what it returned from)."""
    problems = []
    for pod in pods:
        if pod.hostname != pod.name or pod.resolves_to != pod.ip:
            problems.append(
                Problem(
                    f"pod {pod.name} after {why}",
                    f"hostname {pod.name}, {pod.dns_name} resolving to its IP",
                    f"hostname {pod.hostname}, resolving to {pod.resolves_to} (IP {pod.ip})",
                )
            )
        before = claims_before[pod.name]
        if pod.claims != before:
            problems.append(
                Problem(
                    f"claims of {pod.name}",
                    f"the same claims as before the restart ({before})",
                    str(pod.claims),
                )
            )
    return problems


def placement_problems(
    volume_nodes: Mapping[str, set[str]], replacement_nodes: Mapping[str, str]
) -> list[Problem]:
    """Each replacement pod runs on the node its volumes are bound to (pod -> those nodes;
    none for volumes any node can use)."""
    return [
        Problem(
            f"node of the replacement of {pod}",
            f"the node of its volume ({', '.join(sorted(nodes))})",
            replacement_nodes[pod],
        )
        for pod, nodes in volume_nodes.items()
        if nodes and nodes != {replacement_nodes[pod]}
    ]

"""One step of a random lifecycle, judged against the model (checks/lifecycle_model.py): what
the step's watch shows against the declared ordering rules, and what the suite observed of
each pod once the set settled (its hostname, its DNS record, its data)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from stsconf.checks.lifecycle_model import Model
from stsconf.checks.ordering import (
    identity_overlaps,
    ordered_creation_violations,
    ordered_deletion_violations,
)
from stsconf.checks.update_order import update_order_violations
from stsconf.model.dataprobe import ProbeRun
from stsconf.model.expectations import Problem
from stsconf.model.timeline import Timeline


@dataclass(frozen=True)
class DnsLookup:
    """A pod's DNS name as the probe pod last resolved it (once it agreed, or time ran out)."""

    name: str
    ip: str  # the pod's IP: what the name must resolve to
    addresses: tuple[str, ...]


@dataclass(frozen=True)
class SettledPod:
    """What the suite observed of one pod once the set settled after a step."""

    name: str
    hostname: str
    dns: DnsLookup | None  # None: no probe pod to resolve its name
    data: ProbeRun | None  # the data probe's read; None when nothing was written to it


def transition_problems(
    before: Model,
    after: Model,
    timeline: Timeline,
    *,
    pod_name: Callable[[int], str],
    update_revision: str,
) -> list[Problem]:
    """The step's watch against the declared ordering rules: at most one pod per identity at
    any moment and a rolling update from the highest ordinal down, whatever the policy
    (`Parallel` changes scaling, not rolling updates); under OrderedReady also creation and
    deletion in order. `pod_name` names the pod at an offset from the start ordinal."""
    problems = identity_overlaps(timeline)
    if after.policies.ordered:
        problems += _scaling_violations(before, after, timeline, pod_name)
    rolled = rolled_offsets(before, after)
    if rolled:
        names = [pod_name(o) for o in rolled]
        problems += update_order_violations(timeline, names, update_revision)
    return problems


def _scaling_violations(
    before: Model, after: Model, timeline: Timeline, pod_name: Callable[[int], str]
) -> list[Problem]:
    grown = sorted(set(after.pods) - set(before.pods))
    shrunk = sorted(set(before.pods) - set(after.pods), reverse=True)
    problems = []
    if grown:
        first = max(grown[0] - 1, 0)  # the first new pod waits for the one below it
        names = [pod_name(o) for o in range(first, grown[-1] + 1)]
        problems += ordered_creation_violations(timeline, names)
    if shrunk:
        problems += ordered_deletion_violations(timeline, [pod_name(o) for o in shrunk])
    return problems


def rolled_offsets(before: Model, after: Model) -> list[int]:
    """Pods that existed before the step and were moved onto the update template by it,
    highest first (also on steps that add pods)."""
    return sorted(
        (o for o, t in after.pods.items()
         if o in before.pods and t != before.pods[o] and t == after.update_template),
        reverse=True,
    )  # fmt: skip


def settled_pod_problems(model: Model, pods: Mapping[int, SettledPod]) -> list[Problem]:
    """For each settled pod (by offset from the start ordinal): its hostname is its name, its
    DNS name resolves to its IP alone, and its data holds what the model says was last
    written (nothing, when its claim was deleted)."""
    problems = []
    for offset, pod in sorted(pods.items()):
        if pod.hostname != pod.name:
            problems.append(Problem(pod.name, f"hostname {pod.name}", repr(pod.hostname)))
        if pod.dns is not None and pod.dns.addresses != (pod.dns.ip,):
            seen = ", ".join(pod.dns.addresses) or "no address"
            problems.append(Problem(pod.name, f"{pod.dns.name} to resolve to {pod.dns.ip}", seen))
        if pod.data is not None and offset in model.data:
            problems += _data_problems(pod.name, model.data[offset], pod.data)
    return problems


def _data_problems(name: str, value: str | None, read: ProbeRun) -> list[Problem]:
    seen = read.output if read.result.ok else f"nothing (the read exited {read.result.returncode})"
    if value is None and read.result.ok and read.output:
        return [Problem(name, "no value (its claim was deleted by policy)", repr(seen))]
    if value is not None and seen != value:
        return [Problem(name, f"the value last written, {value!r}", repr(seen))]
    return []

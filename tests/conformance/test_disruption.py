"""The guarantees that matter when something breaks: a node restarts, a node stops answering,
a pod is replaced on a cluster of several nodes.

These need a cluster of two or more kind nodes that are Docker containers of this machine
(`--nodes 3`; see stsconf/workload/disruption.py), and skip saying so otherwise. The pods of the
tests where a node stops answering tolerate `node.kubernetes.io/unreachable` and `not-ready`
for EVICTION_AFTER seconds only (the default is five minutes), so that eviction starts within
seconds; the node restart keeps the default, as its pods are meant to stay. Every disruption
is undone at the end of its test, passed or failed.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from stsconf.access import rest, wait
from stsconf.checks.availability import (
    PROPAGATION,
    budget_violations,
    stale_read_violations,
    target_rows,
    unaccepted_evictions,
    unasked,
)
from stsconf.checks.data import own_data_problems, stored_problems
from stsconf.checks.node_loss import (
    ReturnedPod,
    placement_problems,
    return_violations,
    returned_pod_problems,
    volume_placement_not_applicable,
)
from stsconf.checks.ordering import identity_overlaps
from stsconf.checks.storage import same_claims_problems
from stsconf.cluster_fixture import Cluster
from stsconf.model.availability import (
    NO_CLIENT_READ,
    SERVICE,
    Answer,
    Budget,
    Eviction,
    Written,
    client_read,
    disruption_budget,
)
from stsconf.model.expectations import Problem, expect, expect_none
from stsconf.model.manifest import Manifest
from stsconf.model.timeline import Timeline, pod_state_from_object
from stsconf.observe import placement
from stsconf.observe.client import Client
from stsconf.observe.probe import Probe
from stsconf.report.observations import Observations
from stsconf.settings import Settings
from stsconf.workload import disruption, drain
from stsconf.workload.statefulset import StatefulSetUnderTest, pod_timeline
from stsconf.workload.variants import with_statefulset

pytestmark = [pytest.mark.conformance, pytest.mark.alone]  # it restarts nodes

EVICTION_AFTER = 2  # seconds the pods tolerate an unreachable or not-ready node
NO_SECOND_POD_WINDOW = (
    10.0  # seconds no second pod of a name may appear while the first is not gone
)

Obj = dict[str, Any]


@dataclass(frozen=True)
class Nodes:
    """The cluster's nodes, by name."""

    all: list[str]
    workers: list[str]  # nodes ordinary pods go to (not the control plane's)


DISRUPTION_TAINTS = ("node.kubernetes.io/unreachable", "node.kubernetes.io/not-ready")


def nodes_recovered(cluster: Cluster, settings: Settings) -> list[Obj]:
    """The nodes, once none carries the taints a disruption (an earlier test's) leaves for a
    while after the node is back."""

    def tainted(node: Obj) -> list[str]:
        taints = (node.get("spec") or {}).get("taints") or []
        return [t["key"] for t in taints if t.get("key") in DISRUPTION_TAINTS]

    return wait.retry_until(
        lambda: list(rest.raw(cluster.kube.core.list_node).get("items") or []),
        lambda found: not any(tainted(node) for node in found),
        expected=f"no node tainted {' or '.join(DISRUPTION_TAINTS)}",
        seen=lambda found: "; ".join(
            f"{n['metadata']['name']}: {', '.join(tainted(n))}" for n in found if tainted(n)
        ),
        timeout=settings.timeouts.pods,
    )


@pytest.fixture
def nodes(cluster: Cluster, settings: Settings) -> Nodes:
    """The nodes, when the disruption tests can work on them; otherwise the test skips."""
    found = nodes_recovered(cluster, settings)
    names = sorted(node["metadata"]["name"] for node in found)
    if len(names) < 2:
        pytest.skip(
            f"needs a cluster of 2 or more nodes (e.g. --nodes 3); this one has {len(names)}: "
            "a disrupted node must not be the control plane's"
        )
    absent = disruption.nodes_not_kind_containers(names)
    if absent:
        pytest.skip(
            f"nodes {', '.join(absent)} are not kind node containers of this machine's Docker: "
            "the disruption tests restart them and stop their kubelets with `docker`"
        )
    workers = placement.ordinary_workers(found)
    if not workers:
        pytest.skip("no worker node (every node is a control plane or tainted)")
    return Nodes(names, workers)


def disruptable(manifest: Manifest) -> Manifest:
    """A copy whose pods leave an unreachable node within seconds."""

    def change(statefulset: Obj) -> None:
        pod_spec = statefulset["spec"]["template"]["spec"]
        pod_spec["tolerations"] = [
            *(pod_spec.get("tolerations") or []),
            *disruption.short_tolerations(EVICTION_AFTER),
        ]

    return with_statefulset(manifest, change)


def pinned(manifest: Manifest, node: str) -> Manifest:
    """A copy whose pods all run on `node`, with the tolerations they would have had: the
    node restart is over in seconds, and the short ones made the node's late not-ready
    taint evict the pods after they had come back (CI, 2026-12-03)."""

    def change(statefulset: Obj) -> None:
        pod_spec = statefulset["spec"]["template"]["spec"]
        pod_spec.setdefault("nodeSelector", {})["kubernetes.io/hostname"] = node

    return with_statefulset(manifest, change)


def deployed(
    cluster: Cluster, namespace: str, manifest: Manifest, settings: Settings
) -> StatefulSetUnderTest:
    statefulset = StatefulSetUnderTest(
        kube=cluster.kube, namespace=namespace, manifest=manifest, timeouts=settings.timeouts
    )
    statefulset.deploy()
    return statefulset


def started_at(pod: Obj) -> str:
    """When the pod's containers last started (changes when they are started again)."""
    statuses = (pod.get("status") or {}).get("containerStatuses") or []
    return ",".join(
        str(((status.get("state") or {}).get("running") or {}).get("startedAt"))
        for status in statuses
    )


def started_again(names: list[str], before: dict[str, str]) -> Callable[[wait.Objects], bool]:
    ready = wait.pods_running_and_ready(names)
    return lambda pods: (
        ready(pods) and all(started_at(pods[name]) != before[name] for name in names)
    )


def test_node_restart_keeps_pods(
    cluster: Cluster, nodes: Nodes, own_namespace: str, cluster_to_itself: None,
    settings: Settings, observe: Observations, record_form: Callable[[str], None],
) -> None:  # fmt: skip
    """After the node that runs the pods restarts, every pod comes back with its name,
    hostname, DNS record, claim and data, and the ordering rules hold while they return; a
    client on another node finds each answering again with its value, none Ready while it
    refuses.

    The pods are pinned to one worker node, whose container is restarted (`docker restart`):
    every process on it stops, then systemd, containerd and the kubelet start again."""
    node = nodes.workers[0]
    web = deployed(cluster, own_namespace, pinned(settings.manifest, node), settings)
    names = web.manifest.pod_names(web.manifest.replicas)
    stored = stored_values(web, names)
    claims_before = {name: claim_uids(web, name) for name in names}
    read = client_read(web.manifest.probe)
    record_form(f"a client on another node: {read.describe()}" if read else NO_CLIENT_READ)
    client = Client(cluster.kube, own_namespace, settings.probe_image, web.manifest)
    timeout = settings.timeouts.pods
    reading = client.running(names, read, timeout, node) if read else contextlib.nullcontext()
    with web.record_pods() as recorder, reading, disruption.node_running_again(node):
        before = {name: started_at(pod) for name, pod in recorder.snapshot()[0].items()}
        restarted = time.time() - recorder.time_zero
        disruption.restart_node(node)
        wait.wait_on_watch(
            recorder,
            started_again(names, before),
            expected=f"pods {', '.join(names)} started again on {node}, Running and Ready",
            seen=wait.describe_pods,
            timeout=timeout,
            diagnose=web.diagnose,
        )
        since = time.time() - recorder.time_zero
        answers = (
            client.answers_once_served(names, since, recorder.time_zero, 2 * PROPAGATION)
            if read
            else []
        )
        timeline = pod_timeline(recorder)
    observe.timeline(f"pods while node {node} restarted", timeline, answers)
    if answers:
        observe.table("answers per target", target_rows(answers, [*names, SERVICE], timeline))
    ordered = web.manifest.policies.ordered
    expect_none(return_violations(timeline, names, ordered), "pods returning after the restart")
    probe = Probe(cluster.kube, own_namespace, settings.probe_image)
    probe.start(settings.timeouts.pods)
    returned = [returned_pod(web, probe, name, settings) for name in names]
    reads = {name: web.read_data(name) for name in names}
    observe.table(
        "each pod after the restart",
        [{"pod": p.name, "hostname": p.hostname, "pod IP": p.ip, "resolves to": p.resolves_to}
         for p in returned],
    )  # fmt: skip
    expect_none(
        returned_pod_problems(returned, claims_before, f"node {node} restarted")
        + own_data_problems(web.data_probe, stored, reads, f"after node {node} restarted")
        + (
            client_problems(answers, after(timeline, restarted), since, stored, node)
            if read
            else []
        ),
        "pods back after the restart",
    )


def after(timeline: Timeline, moment: float) -> Timeline:
    """The pod events after `moment`: while a node restarts, the API still says its pods are
    Ready until its kubelet is back to say otherwise; from then on their readiness is news."""
    return Timeline([e for e in timeline.events if e.seconds > moment], timeline.time_zero)


def client_problems(
    answers: list[Answer], timeline: Timeline, since: float, stored: dict[str, str], node: str
) -> list[Problem]:
    """Each pod asked after it was back and answering with the value stored before (at 0 s on
    the client's axis: before it started); none Ready, by the events of `timeline` (those after
    the restart), while it refused. Every pod ran on the restarted node, so all of them may be
    down at once."""
    names = list(stored)
    written = [Written(name, value, 0.0) for name, value in stored.items()]
    everyone = Budget(len(names), f"every pod ran on {node}")
    return (
        unasked(answers, names, since)
        + budget_violations(answers, timeline, names, everyone)
        + stale_read_violations(answers, written)
    )


def stored_values(web: StatefulSetUnderTest, names: list[str]) -> dict[str, str]:
    """A fresh value stored in each pod's data (and read straight back), by pod."""
    stored = {name: web.write_data(name) for name in names}
    expect_none(stored_problems(stored.values()), "storing a value in each pod")
    return {name: s.value for name, s in stored.items()}


def claim_uids(web: StatefulSetUnderTest, pod: str) -> dict[str, str]:
    found = {name: web.claim(name) for name in web.claim_names([pod])}
    return {
        name: (claim or {}).get("metadata", {}).get("uid", "absent")
        for name, claim in found.items()
    }


def returned_pod(
    web: StatefulSetUnderTest, probe: Probe, name: str, settings: Settings
) -> ReturnedPod:
    ip = str(web.pod(name)["status"].get("podIP"))
    fqdn = f"{name}.{web.service}.{web.namespace}.svc.cluster.local"
    answer = wait.retry_until(
        lambda: probe.resolve(fqdn),
        lambda a: a.addresses == (ip,),
        expected=f"{fqdn} -> {ip}",
        seen=lambda a: a.output,
        timeout=settings.timeouts.dns,
    )
    return ReturnedPod(
        name=name,
        hostname=web.exec(name, ["hostname"]).stdout.strip(),
        ip=ip,
        dns_name=f"{name}.{web.service}",
        resolves_to=answer.describe(),
        claims=claim_uids(web, name),
    )


def test_at_most_one_per_identity(
    cluster: Cluster, nodes: Nodes, own_namespace: str, cluster_to_itself: None,
    settings: Settings, observe: Observations,
) -> None:  # fmt: skip
    """While the node of a pod stops answering, no second pod of its name exists anywhere
    until the old one is confirmed gone; after a force delete the controller creates it.

    The kubelet of the node running the last pod is stopped (its containers keep running,
    nothing reports on them). Once the node is unreachable, the pod (tolerating that only
    EVICTION_AFTER seconds) is marked for deletion, which its kubelet cannot confirm: for
    NO_SECOND_POD_WINDOW seconds after that no pod of that name with another uid may exist. The
    documented force delete (grace period 0) then removes it, and the controller creates the
    replacement; with node-local volumes it waits for its node, as the report shows."""
    web = deployed(cluster, own_namespace, disruptable(settings.manifest), settings)
    names = web.manifest.pod_names(web.manifest.replicas)
    victim = names[-1]
    old = web.pod(victim)
    node = placement.pod_node(old)
    old_uid = old["metadata"]["uid"]
    with web.record_pods() as recorder:
        with disruption.kubelet_stopped(node):
            wait.wait_on_watch(
                recorder,
                marked_for_deletion_or_removed(victim, old_uid),
                expected=f"{victim} marked for deletion once node {node} stopped answering",
                seen=wait.describe_pods,
                timeout=settings.timeouts.pods,
                diagnose=web.diagnose,
            )
            second = another_pod_named(victim, old_uid)
            appeared = recorder.wait_until(second, NO_SECOND_POD_WINDOW)
            web.delete_pod(victim, grace_seconds=0)
            wait.wait_on_watch(
                recorder,
                second,
                expected=f"a new {victim} after the force delete",
                seen=wait.describe_pods,
                timeout=settings.timeouts.pods,
                diagnose=web.diagnose,
            )
            replacement = recorder.snapshot()[0][victim]
        timeline = pod_timeline(recorder)
        web.wait_for_pods(recorder, names, replacing=frozenset({old_uid}))
    observe.timeline(f"pods while the kubelet of {node} was stopped", timeline)
    observe.text(
        "the replacement",
        f"{victim} (uid {replacement['metadata']['uid'][:8]}) created after the force delete: "
        f"{placement.pod_node(replacement) or 'not yet scheduled'}, phase "
        f"{(replacement.get('status') or {}).get('phase')} while node {node} was down "
        "(a claim with a node-local volume makes it wait for that node)",
    )
    expect(
        not appeared,
        f"pods named {victim} while the old one (uid {old_uid[:8]}) was not confirmed gone",
        f"no second {victim} for {NO_SECOND_POD_WINDOW:.0f}s",
        wait.describe_pods(recorder.snapshot()[0]),
    )
    expect_none(identity_overlaps(timeline), "at most one pod per identity")


def marked_for_deletion_or_removed(name: str, uid: str) -> Callable[[wait.Objects], bool]:
    """The pod of this uid is marked for deletion, or already gone from the API (something
    force-deleted it: then a second pod of the name is what the window catches)."""
    return lambda pods: (
        name not in pods
        or pods[name]["metadata"]["uid"] != uid
        or bool(pods[name]["metadata"].get("deletionTimestamp"))
    )


def another_pod_named(name: str, uid: str) -> Callable[[wait.Objects], bool]:
    return lambda pods: name in pods and pods[name]["metadata"]["uid"] != uid


def test_replacement_follows_its_volume(
    cluster: Cluster, nodes: Nodes, own_namespace: str, cluster_to_itself: None,
    settings: Settings, observe: Observations,
) -> None:  # fmt: skip
    """On several nodes, a deleted pod's replacement is scheduled where its volume can be
    used (the node affinity of a local volume), and keeps its data."""
    if len(nodes.workers) < 2:
        pytest.skip(f"needs 2 or more worker nodes to choose from; there are {nodes.workers}")
    web = deployed(cluster, own_namespace, disruptable(settings.manifest), settings)
    names = web.manifest.pod_names(web.manifest.replicas)
    stored = stored_values(web, names)
    volumes = {name: volume_nodes(web, name) for name in names}
    not_applicable = volume_placement_not_applicable(volumes)
    if not_applicable:
        pytest.skip(not_applicable)
    web.replace_pods(names)
    replaced_on = {name: placement.pod_node(web.pod(name)) for name in names}
    reads = {name: web.read_data(name) for name in names}
    observe.table(
        "replacements and their volumes",
        [{"pod": name, "volume on": ", ".join(sorted(volumes[name])) or "any node",
          "replacement on": replaced_on[name]} for name in names],
    )  # fmt: skip
    expect_none(
        placement_problems(volumes, replaced_on)
        + own_data_problems(web.data_probe, stored, reads, "after its replacement"),
        "replacements where their volumes are, with their data",
    )


def volume_nodes(web: StatefulSetUnderTest, pod: str) -> set[str]:
    """The nodes the volumes of the pod's claims are bound to (none for network volumes)."""
    found = set()
    for claim_name in web.claim_names([pod]):
        volume_name = ((web.claim(claim_name) or {}).get("spec") or {}).get("volumeName")
        if volume_name:
            volume = rest.raw(web.kube.core.read_persistent_volume, volume_name)
            found.add(placement.volume_node(volume))
    return found - {""}


def test_available_during_drain(
    cluster: Cluster, nodes: Nodes, own_namespace: str, cluster_to_itself: None,
    settings: Settings, observe: Observations, record_form: Callable[[str], None],
) -> None:  # fmt: skip
    """Draining the node running the most replicas through the Eviction API, as `kubectl drain`
    does, keeps the manifest's PodDisruptionBudget: a client never finds more replicas
    unanswering than it allows; an evicted pod's replacement waits for its volume's node or
    moves with it, and after uncordon every pod is Running and Ready with its claims and data."""
    read = client_read(settings.manifest.probe)
    if read is None:
        pytest.skip(NO_CLIENT_READ)
    web = deployed(cluster, own_namespace, settings.manifest, settings)
    names = web.manifest.pod_names(web.manifest.replicas)
    pods = {name: web.pod(name) for name in names}
    node = placement.busiest_node([placement.pod_node(pod) for pod in pods.values()])
    on_node = [name for name in names if placement.pod_node(pods[name]) == node]
    budget = drain_budget(web.manifest, len(names))
    record_form(budget.source)
    stored = stored_values(web, names)
    claims_before = {name: claim_uids(web, name) for name in names}
    volumes = {name: volume_nodes(web, name) for name in on_node}
    waits_for_node = [pod for pod in on_node if volumes[pod] == {node}]
    uids = {name: pods[name]["metadata"]["uid"] for name in on_node}
    client = Client(cluster.kube, own_namespace, settings.probe_image, web.manifest)
    timeout = settings.timeouts.pods
    with web.record_pods() as recorder, client.running(names, read, timeout, node):
        with drain.cordoned(cluster.kube, node):
            evictions = drain.evict_all(
                cluster.kube, own_namespace, on_node, timeout, waits_for_node
            )
            evicted = [e.pod for e in evictions if e.accepted]
            old_uids = frozenset(uids[name] for name in evicted)
            wait.wait_on_watch(
                recorder,
                replaced_or_waiting(evicted, old_uids),
                expected=f"{', '.join(evicted)} evicted from {node} and created again: Running "
                "and Ready elsewhere, or Pending for the node of its volume",
                seen=wait.describe_pods,
                timeout=timeout,
                diagnose=web.diagnose,
            )
            cordoned_on = {name: placement.pod_node(web.pod(name)) for name in on_node}
        web.wait_for_pods(recorder, names, replacing=old_uids)
        since = time.time() - recorder.time_zero
        answers = client.answers_once_served(names, since, recorder.time_zero, 2 * PROPAGATION)
        timeline = pod_timeline(recorder)
    observe.timeline(f"pods and the client's answers while {node} was drained", timeline, answers)
    observe.table("answers per target", target_rows(answers, [*names, SERVICE], timeline))
    observe.table("evictions", eviction_rows(evictions, volumes, cordoned_on))
    replaced_on = {name: placement.pod_node(web.pod(name)) for name in on_node}
    reads = {name: web.read_data(name) for name in names}
    claims_after = {name: claim_uids(web, name) for name in names}
    expect_none(
        unaccepted_evictions(evictions, waits_for_node)
        + unasked(answers, names, since)
        + budget_violations(answers, timeline, names, budget)
        + placement_problems(volumes, replaced_on)
        + same_claims_problems(claims_before, claims_after)
        + own_data_problems(web.data_probe, stored, reads, f"after {node} was drained"),
        f"draining {node}",
    )


def eviction_rows(
    evictions: list[Eviction], volumes: dict[str, set[str]], cordoned_on: dict[str, str]
) -> list[dict[str, str]]:
    return [
        {
            "pod": e.pod,
            "refused (429) first": str(e.refused),
            "accepted": str(e.accepted),
            "seconds": f"{e.seconds:.1f}",
            "volume on": ", ".join(sorted(volumes[e.pod])) or "any node",
            "replacement while cordoned": cordoned_on[e.pod] or "Pending, not scheduled",
        }
        for e in evictions
    ]


def drain_budget(manifest: Manifest, replicas: int) -> Budget:
    """The manifest's PodDisruptionBudget, or without one every replica (nothing limits a
    drain then)."""
    labels = manifest.statefulset["spec"]["template"]["metadata"].get("labels") or {}
    found = disruption_budget(manifest.documents, labels, replicas)
    return found or Budget(replicas, "no PodDisruptionBudget: a drain may take every replica")


def replaced_or_waiting(
    names: list[str], old_uids: frozenset[str]
) -> Callable[[wait.Objects], bool]:
    """Each of `names` exists again with a new uid, Running and Ready or Pending unscheduled."""

    def settled(pod: Obj) -> bool:
        state = pod_state_from_object(pod)
        return state.running_and_ready or (state.phase == "Pending" and not state.scheduled)

    return lambda pods: all(
        name in pods and pods[name]["metadata"]["uid"] not in old_uids and settled(pods[name])
        for name in names
    )

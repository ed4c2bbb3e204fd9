"""Identity and ownership: the labels and ordinals a StatefulSet gives its pods, its scale
subresource, failed pods replaced, and pods orphaned, adopted and released.

As in test_statefulset_guarantees.py the tests share the module's StatefulSet and run in file
order; each first brings the set back to what the manifest declares (cheap when the previous
test left it so), so any one of them can run, and fail, on its own.
"""

from __future__ import annotations

from typing import Any

import pytest

from stsconf.access import rest, wait
from stsconf.access.watching import Recorder
from stsconf.checks.failed_pod import failed_uids, recreation_problems, uids_in_order
from stsconf.checks.identity import (
    POD_INDEX_LABEL,
    POD_NAME_LABEL,
    describe_endpoints,
    identity_label_problems,
    single_endpoint_problems,
)
from stsconf.checks.ordering import ordered_deletion_violations
from stsconf.checks.ordinals import ordinal_range_problems
from stsconf.checks.ownership import (
    adopted_problems,
    claims_kept_problems,
    created_pod_problems,
    describe_controller,
    orphaned_problems,
    released_problems,
)
from stsconf.checks.scale_subresource import scale_problems
from stsconf.model.expectations import expect_none
from stsconf.model.policies import DeclaredPolicies
from stsconf.model.timeline import Timeline
from stsconf.observe.probe import Probe
from stsconf.report.observations import Observations
from stsconf.settings import Settings
from stsconf.workload import failed_pod, identity, ordinals, ownership
from stsconf.workload.scale_subresource import patch_scale, read_scale, replace_scale
from stsconf.workload.statefulset import StatefulSetUnderTest, pod_timeline

pytestmark = pytest.mark.conformance

EXTRA_REPLICAS = 2  # pods above the manifest's replicas, for scaling and adoption


def as_declared(web: StatefulSetUnderTest) -> None:
    """The manifest's StatefulSet exists with its declared start ordinal and replicas, all
    pods Running and Ready (after a test that failed half-way, too)."""
    kube, manifest = web.kube, web.manifest
    ownership.ensure_statefulset(kube, manifest, web.namespace)
    live = rest.raw(kube.apps.read_namespaced_stateful_set, web.name, web.namespace)
    declared = manifest.policies.start_ordinal
    if DeclaredPolicies.of(live).start_ordinal != declared:
        ordinals.set_start_ordinal(kube, web.name, web.namespace, declared)
    web.ensure_replicas(manifest.replicas)


def test_pod_labels(web: StatefulSetUnderTest, probe: Probe, observe: Observations) -> None:
    """Each pod carries its name and ordinal as labels; a Service can select one pod by name.

    The labels are statefulset.kubernetes.io/pod-name and apps.kubernetes.io/pod-index; a
    headless Service selecting the last pod by its pod-name label has exactly that pod as its
    endpoint, and its DNS name resolves to that pod's IP only."""
    as_declared(web)
    names = web.manifest.pod_names(web.manifest.replicas)
    pods = web.pods()
    labels = {name: pods[name]["metadata"].get("labels") or {} for name in names}
    observe.table(
        "identity labels on each pod",
        [
            {
                "pod": name,
                POD_NAME_LABEL: labels[name].get(POD_NAME_LABEL, "-"),
                POD_INDEX_LABEL: labels[name].get(POD_INDEX_LABEL, "-"),
            }
            for name in names
        ],
    )
    indexes = {name: web.manifest.start_ordinal + i for i, name in enumerate(names)}
    expect_none(identity_label_problems(pods, indexes), "pod identity labels")

    target = pods[names[-1]]
    body = identity.one_pod_service(web.manifest, names[-1])
    service = body["metadata"]["name"]
    dns_name = f"{service}.{web.namespace}.svc.cluster.local"
    ip = str(target["status"]["podIP"])
    identity.create_service(web.kube, web.namespace, body)
    try:
        slices = identity.wait_endpoint_slices(
            web.kube, web.namespace, service, web.timeouts.pods, web.diagnose
        )
        observe.table(
            f"Service {service}: selector {POD_NAME_LABEL}={names[-1]}",
            [{"EndpointSlices": describe_endpoints(slices)}],
        )
        expect_none(
            single_endpoint_problems(slices, target),
            f"Service {service} selecting one pod by its name label",
        )
        answer = wait.retry_until(
            lambda: probe.resolve(dns_name),
            lambda answer: answer.addresses == (ip,),
            expected=f"{dns_name} to resolve to {names[-1]}'s IP {ip} only",
            seen=lambda answer: f"{answer.describe()}\n{answer.output}",
            timeout=web.timeouts.dns,
        )
        observe.table(
            "DNS answer seen from the probe pod",
            [{"name": dns_name, "expected": ip, "answer": answer.describe()}],
        )
    finally:
        identity.delete_service(web.kube, web.namespace, service)


def test_scale_subresource(web: StatefulSetUnderTest, observe: Observations) -> None:
    """The scale subresource reads and sets replicas (get, update, patch); the pods follow."""
    as_declared(web)
    replicas, selector = web.manifest.replicas, web.manifest.selector
    up = replicas + EXTRA_REPLICAS
    rows: list[dict[str, object]] = []
    problems: list[str] = []

    def statefulset() -> dict[str, Any]:
        return rest.raw(web.kube.apps.read_namespaced_stateful_set, web.name, web.namespace)

    def note(step: str, scale: dict[str, Any], expected: int, settled: bool) -> None:
        live = statefulset()
        problems.extend(
            f"{step}: {p}" for p in scale_problems(scale, live, expected, selector, settled)
        )
        rows.append(
            {
                "step": step,
                "Scale": _describe_scale(scale),
                "StatefulSet spec.replicas": live["spec"]["replicas"],
                "pods": ", ".join(sorted(web.pods())),
            }
        )

    note("get", _settled_scale(web, replicas), replicas, settled=True)
    with web.record_pods() as recorder:
        note(
            f"update (PUT) to {up}",
            replace_scale(web.kube, web.name, web.namespace, up),
            up,
            settled=False,
        )
        web.wait_for_pods(recorder, web.manifest.pod_names(up))
        scaled_up = pod_timeline(recorder)
    with web.record_pods() as recorder:
        note(
            f"patch to {replicas}",
            patch_scale(web.kube, web.name, web.namespace, replicas),
            replicas,
            settled=False,
        )
        web.wait_for_pods(recorder, web.manifest.pod_names(replicas))
        scaled_down = pod_timeline(recorder)
    note("get after the pods followed", _settled_scale(web, replicas), replicas, settled=True)
    observe.table("the scale subresource and the StatefulSet, step by step", rows)
    observe.timeline(f"pod events after the update to {up}", scaled_up)
    observe.timeline(f"pod events after the patch to {replicas}", scaled_down)
    expect_none(problems, "scale subresource")


def _settled_scale(web: StatefulSetUnderTest, replicas: int) -> dict[str, Any]:
    """The Scale once the controller has counted `replicas` pods in the StatefulSet's status."""
    return wait.retry_until(
        lambda: read_scale(web.kube, web.name, web.namespace),
        lambda scale: (scale.get("status") or {}).get("replicas") == replicas,
        expected=f"Scale status.replicas {replicas}",
        seen=_describe_scale,
        timeout=web.timeouts.pods,
        diagnose=web.diagnose,
    )


def _describe_scale(scale: dict[str, Any]) -> str:
    spec, status = scale.get("spec") or {}, scale.get("status") or {}
    return (
        f"spec.replicas={spec.get('replicas')} status.replicas={status.get('replicas')} "
        f"selector={status.get('selector')!r}"
    )


def test_start_ordinal(web: StatefulSetUnderTest, observe: Observations) -> None:
    """Pods are numbered from spec.ordinals.start; changing it replaces pods out of range.

    At creation the pods start at the declared start (0 without one); then it is set one
    higher, raised by one, lowered by one and removed, and after each change exactly the pods
    of the new range run, those already in it kept (same uid)."""
    as_declared(web)
    manifest, replicas = web.manifest, web.manifest.replicas
    base = manifest.start_ordinal
    rows: list[dict[str, str]] = []
    problems: list[str] = []
    created = ordinals.pod_names_from(manifest, base, replicas)
    problems += ordinal_range_problems(web.pods(), created, {})
    rows.append(
        {
            "step": f"at creation (start {base})",
            "expected pods": ", ".join(created),
            "pods": ", ".join(sorted(web.pods())),
            "kept": "-",
        }
    )
    # each change moves the range by one: the pod at one end is replaced, the others kept
    steps = [("set", base + 1), ("raise", base + 2), ("lower", base + 1), ("remove", None)]
    for step, start in steps:
        expected = ordinals.pod_names_from(manifest, start or 0, replicas)
        before = ownership.uids(web.pods())
        kept = {name: uid for name, uid in before.items() if name in expected}
        with web.record_pods() as recorder:
            ordinals.set_start_ordinal(web.kube, web.name, web.namespace, start)
            web.wait_for_pods(recorder, expected)
            timeline = pod_timeline(recorder)
        now = web.pods()
        problems += [f"{step} to {start}: {p}" for p in ordinal_range_problems(now, expected, kept)]
        shown = "removed" if start is None else str(start)
        rows.append(
            {
                "step": f"{step} (start {shown})",
                "expected pods": ", ".join(expected),
                "pods": ", ".join(sorted(now)),
                "kept": ", ".join(kept) or "-",
            }
        )
        observe.timeline(f"pod events after spec.ordinals.start was {step} ({shown})", timeline)
    observe.table("pods after each change of spec.ordinals.start", rows)
    expect_none(problems, "start ordinal")
    as_declared(web)


def test_recreates_failed_pod(
    web: StatefulSetUnderTest, settings: Settings, observe: Observations
) -> None:
    """A pod that fails is deleted and created again, with a new uid, until one runs.

    As upstream's "Should recreate evicted statefulset": a pod pinned to the node holds a
    host port that a one-replica copy of the StatefulSet (see stsconf/workload/failed_pod.py) asks
    for, so its node rejects the copy's pod (Failed) until the port is freed."""
    as_declared(web)
    node = str(next(iter(web.pods().values()))["spec"]["nodeName"])
    run = failed_pod.fail_then_free(
        web.kube,
        web.namespace,
        web.manifest,
        node,
        settings.probe_image,
        web.timeouts.pods,
        web.diagnose,
    )
    observe.text(
        "the failing copy of the StatefulSet",
        f"StatefulSet {run.statefulset}: 1 replica pinned to node {node}, asking for host "
        f"port {run.port}, which pod {failed_pod.HOLDER} held until event #{run.freed_after}",
    )
    observe.timeline(f"events of {run.pod} (each uid a pod of its own)", run.timeline)
    failed = failed_uids(run.timeline, run.pod)
    observe.table(
        f"the pods named {run.pod}, in order",
        [
            {"uid": uid, "failed": "yes" if uid in failed else "no"}
            for uid in uids_in_order(run.timeline)
        ],
    )
    expect_none(recreation_problems(run.timeline, run.pod), "failed pod recreated")


def test_orphan_and_adopt(web: StatefulSetUnderTest, observe: Observations) -> None:
    """Pods orphaned by deleting their StatefulSet are adopted by a new one, and released.

    Deleting the StatefulSet with propagation Orphan leaves its pods running and its claims;
    the manifest's StatefulSet created again adopts the pods (same uids, owner reference to
    it), removes those above its replicas (in order, unless Parallel), and releases a pod
    whose labels stop matching its selector."""
    as_declared(web)
    kube, manifest, namespace = web.kube, web.manifest, web.namespace
    replicas = manifest.replicas
    everyone = manifest.pod_names(replicas + EXTRA_REPLICAS)
    members, condemned = everyone[:replicas], everyone[replicas:]
    web.ensure_replicas(len(everyone))
    pods_before = ownership.uids(web.pods())
    claims = web.claim_names(everyone)
    claims_before = ownership.uids({c: web.claim(c) for c in claims})

    ownership.delete_orphaning(kube, web.name, namespace, web.timeouts.pods, web.diagnose)
    orphans = web.pods()
    claims_after = {c: web.claim(c) for c in claims}
    observe.table(
        "pods after deleting the StatefulSet with propagation Orphan",
        [
            {
                "pod": n,
                "uid before": pods_before.get(n, "-"),
                "uid after": _uid(orphans.get(n)),
                "controller": describe_controller(orphans[n]) if n in orphans else "-",
            }
            for n in everyone
        ],
    )
    observe.table(
        "claims after deleting the StatefulSet with propagation Orphan",
        [
            {
                "claim": c,
                "uid before": claims_before.get(c, "-"),
                "uid after": _uid(claims_after[c]),
            }
            for c in claims
        ],
    )
    expect_none(
        orphaned_problems(pods_before, orphans) + claims_kept_problems(claims_before, claims_after),
        "pods and claims outlive a StatefulSet deleted with propagation Orphan",
    )

    with web.record_pods() as recorder:
        adopter = ownership.create_statefulset(kube, manifest, namespace)
        adopter_uid = str(adopter["metadata"]["uid"])
        web.wait_for_pods(recorder, members)
        ownership.wait_controller(recorder, members, adopter_uid, web.timeouts.pods, web.diagnose)
        timeline = pod_timeline(recorder)
    adopted = web.pods()
    observe.timeline("pod events while a new StatefulSet adopted the orphans", timeline)
    problems = adopted_problems(
        {n: pods_before[n] for n in members}, adopted, adopter_uid
    ) + created_pod_problems(timeline)
    if manifest.policies.ordered:
        problems += [str(v) for v in ordered_deletion_violations(timeline, condemned[::-1])]
    expect_none(problems, "adoption by a new StatefulSet with the same selector")

    released, release_timeline = _release_and_readopt(web, members[-1], adopter_uid)
    observe.timeline(f"events of {members[-1]} while released and adopted again", release_timeline)
    web.delete_claims(web.claim_names(condemned))
    expect_none(released, f"{members[-1]} released when its labels stop matching")


def _uid(obj: dict[str, Any] | None) -> str:
    return str(obj["metadata"]["uid"]) if obj else "gone"


def _release_and_readopt(
    web: StatefulSetUnderTest, pod: str, owner_uid: str
) -> tuple[list[str], Timeline]:
    """Change `pod`'s labels so the selector no longer matches, check it is released, and put
    them back (also when that fails), waiting until it is adopted again."""
    kube, namespace = web.kube, web.namespace
    before = web.pod(pod)
    change = ownership.unmatching_labels(web.manifest.statefulset["spec"]["selector"])
    with Recorder(
        kube.core.list_namespaced_pod, namespace=namespace, field_selector=f"metadata.name={pod}"
    ) as recorder:
        ownership.patch_pod_labels(kube, pod, namespace, change)
        try:
            ownership.wait_controller(recorder, [pod], None, web.timeouts.pods, web.diagnose)
            objects, _ = recorder.snapshot()
            problems = released_problems(pod, before["metadata"]["uid"], objects.get(pod))
        finally:
            restore = ownership.restoring_labels(before["metadata"].get("labels") or {}, change)
            ownership.patch_pod_labels(kube, pod, namespace, restore)
        ownership.wait_controller(recorder, [pod], owner_uid, web.timeouts.pods, web.diagnose)
        return problems, pod_timeline(recorder)

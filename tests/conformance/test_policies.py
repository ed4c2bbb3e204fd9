"""What the two policies a StatefulSet declares promise: pod management (Parallel, and
OrderedReady halting on a pod that is not Ready) and claim retention (Delete).

Each test deploys its own copy of the manifest's StatefulSet in a namespace of its own, in the
form its guarantee is about, and makes pods unready with a readiness gate that the suite sets
through the pod status API (stsconf/workload/readiness_gate.py), so this works with any image.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import pytest

from stsconf.access import rest, wait
from stsconf.access.watching import Recorder
from stsconf.checks import retention
from stsconf.checks.data import still_there_problems, stored_problems
from stsconf.checks.declared import Form
from stsconf.checks.ordering import ordered_creation_violations, ordered_deletion_violations
from stsconf.checks.pod_management import (
    all_gone_violations,
    deleted_while_unready_violations,
    launched_without_waiting_violations,
)
from stsconf.checks.retention import Owner
from stsconf.checks.storage import describe_claim
from stsconf.cluster_fixture import Cluster
from stsconf.model.expectations import expect, expect_none
from stsconf.model.manifest import Manifest
from stsconf.model.policies import DELETE, PARALLEL
from stsconf.model.timeline import Timeline, pod_state_from_object
from stsconf.report.observations import Observations
from stsconf.settings import Settings
from stsconf.workload import updates
from stsconf.workload.readiness_gate import gated, make_unready, release_until_ready, set_healthy
from stsconf.workload.statefulset import StatefulSetUnderTest, pod_timeline
from stsconf.workload.variants import with_spec, without_claims

pytestmark = pytest.mark.conformance

# How long a halted StatefulSet must stay halted. Upstream watches 10 s from the scale request;
# this window starts only once the controller has reconciled the new replica count
# (status.observedGeneration caught up), so it already saw the change and chose to wait; the
# window covers its requeues after that, which follow within milliseconds of any pod event.
HALT_WINDOW = 5.0


def under_test(
    cluster: Cluster, namespace: str, manifest: Manifest, settings: Settings
) -> StatefulSetUnderTest:
    return StatefulSetUnderTest(
        kube=cluster.kube, namespace=namespace, manifest=manifest, timeouts=settings.timeouts
    )


def test_parallel_launch(
    cluster: Cluster,
    own_namespace: str,
    settings: Settings,
    record_form: Callable[[str], None],
    observe: Observations,
) -> None:
    """Under Parallel, pods are created without waiting for their predecessors, and scaling
    1 -> N -> 0 completes while no pod is Ready."""
    # The guarantee is the cluster's honouring of Parallel, so the test declares it itself
    # (on an OrderedReady manifest too); every pod is kept unready by the readiness gate.
    # Claims play no part in it (upstream's spec has none): emptyDir volumes stand in.
    record_form("Parallel (deployed by this test)")
    wide = settings.manifest.replicas + 1
    declared = {"podManagementPolicy": PARALLEL, "replicas": 1}
    manifest = gated(without_claims(with_spec(settings.manifest, declared)))
    web = under_test(cluster, own_namespace, manifest, settings)
    pods = manifest.pod_names(wide)
    with web.record_pods() as recorder:
        web.apply()
        _wait_running(web, recorder, pods[:1])
        web.scale(wide)
        _wait_running(web, recorder, pods)
        web.scale(0)
        _wait_pods(web, recorder, [], "no pods left after scaling to 0")
        timeline = pod_timeline(recorder)
    observe.timeline(f"pod events while scaling 1 -> {wide} -> 0, every pod kept unready", timeline)
    expect_none(
        launched_without_waiting_violations(timeline, pods) + all_gone_violations(timeline, pods),
        "parallel launch and removal of unready pods",
    )


def _wait_running(web: StatefulSetUnderTest, recorder: Recorder, names: Sequence[str]) -> None:
    """Wait until exactly `names` run (Ready or not: the checkers judge readiness)."""

    def running(pods: wait.Objects) -> bool:
        states = [pod_state_from_object(pods[n]) for n in names if n in pods]
        return set(pods) == set(names) and all(s.phase == "Running" for s in states)

    wait.wait_on_watch(
        recorder,
        running,
        expected=f"exactly pods {', '.join(names)} Running (kept unready by the gate)",
        seen=wait.describe_pods,
        timeout=web.timeouts.pods,
        diagnose=web.diagnose,
    )


def _wait_pods(
    web: StatefulSetUnderTest, recorder: Recorder, names: Sequence[str], expected: str
) -> None:
    wait.wait_on_watch(
        recorder,
        wait.only_pods(names),
        expected=expected,
        seen=wait.describe_pods,
        timeout=web.timeouts.pods,
        diagnose=web.diagnose,
    )


def test_halts_on_unhealthy(
    cluster: Cluster,
    own_namespace: str,
    settings: Settings,
    declared_form: Callable[[], Form],
    observe: Observations,
) -> None:
    """Under OrderedReady, while a pod is not Ready scaling up creates no further pod and
    scaling down deletes none; once it is Ready again, scaling goes on in order."""
    form = declared_form()
    if form.opt_out:
        pytest.skip(
            f"not applicable: {form.opt_out.message()} "
            "(--require halts_on_unhealthy makes this a failure)"
        )
    replicas = settings.manifest.replicas
    manifest = gated(without_claims(settings.manifest))
    web = under_test(cluster, own_namespace, manifest, settings)
    with web.record_pods() as recorder:
        web.apply()
        release_until_ready(web, recorder, manifest.pod_names(replicas))

    names = manifest.pod_names(replicas + 1)  # the manifest's pods and the one scaling adds
    highest, added = names[replicas - 1], names[replicas]
    up = _scale_up_past_unready_pod(web, replicas)
    observe.timeline(f"scaling {replicas} -> {replicas + 1} while {highest} was not Ready", up)
    expect_none(ordered_creation_violations(up, [highest, added]), "scale up resumed in order")

    lowest, condemned = names[0], list(reversed(names[1:]))  # the others, highest first
    down = _scale_down_past_unready_pod(web, replicas + 1)
    observe.timeline(f"scaling {replicas + 1} -> 1 while {lowest} was not Ready", down)
    expect_none(
        deleted_while_unready_violations(down, condemned, lowest)
        + ordered_deletion_violations(down, condemned),
        "scale down resumed in order",
    )


def _scale_up_past_unready_pod(web: StatefulSetUnderTest, replicas: int) -> Timeline:
    """Of `replicas` Ready pods, make the highest unready, scale up by one, watch the pod it
    adds not come for the window, then release the unready pod and the added one as it comes."""
    names = web.manifest.pod_names(replicas + 1)
    unready, added = names[replicas - 1], names[replicas]
    with web.record_pods() as recorder:
        make_unready(web, recorder, unready)
        _wait_controller_sees_ready(web, replicas - 1)
        web.scale(replicas + 1)
        _wait_reconciled(web)
        created = recorder.wait_until(lambda p: added in p, HALT_WINDOW)
        objects, _ = recorder.snapshot()
        expect(
            not created,
            f"scaling up to {replicas + 1} while {unready} was not Ready",
            f"no {added} for {HALT_WINDOW:.0f}s",
            f"{added} created: {wait.describe_pods(objects)}",
        )
        set_healthy(web, unready, healthy=True)
        release_until_ready(web, recorder, names)
        return pod_timeline(recorder)


def _scale_down_past_unready_pod(web: StatefulSetUnderTest, replicas: int) -> Timeline:
    """Of `replicas` Ready pods, make the lowest unready, scale down to one, watch no pod go
    for the window, then release it and wait for the scale-down to finish."""
    names = web.manifest.pod_names(replicas)
    unhealthy, condemned = names[0], names[1:]
    with web.record_pods() as recorder:
        make_unready(web, recorder, unhealthy)
        _wait_controller_sees_ready(web, replicas - 1)
        web.scale(1)
        _wait_reconciled(web)
        deleted = recorder.wait_until(
            lambda p: any(c not in p or pod_state_from_object(p[c]).terminating for c in condemned),
            HALT_WINDOW,
        )
        objects, _ = recorder.snapshot()
        expect(
            not deleted,
            f"scaling down to 1 while {unhealthy} was not Ready",
            f"{', '.join(condemned)} left alone for {HALT_WINDOW:.0f}s",
            wait.describe_pods(objects),
        )
        set_healthy(web, unhealthy, healthy=True)
        web.wait_for_pods(recorder, names[:1])
        return pod_timeline(recorder)


def _wait_controller_sees_ready(web: StatefulSetUnderTest, ready: int) -> None:
    """Wait until the StatefulSet's status counts `ready` Ready pods: the controller's own
    view then holds the pod made unready, so the scaling that follows is decided on it (its
    informer may lag the watch that saw the pod go unready; upstream waits the same way)."""
    updates.wait_for_status(
        web, lambda status: status.ready == ready, f"status.readyReplicas {ready}"
    )


def _wait_reconciled(web: StatefulSetUnderTest) -> None:
    """Wait until the controller has reconciled the StatefulSet's latest spec."""

    def observed(statefulset: rest.Obj) -> bool:
        generation = statefulset["metadata"].get("generation", 0)
        return bool(statefulset.get("status", {}).get("observedGeneration", 0) >= generation)

    wait.retry_until(
        web.read,
        observed,
        expected=f"StatefulSet {web.name}'s status.observedGeneration to reach its generation",
        seen=lambda s: (
            f"generation {s['metadata'].get('generation')}, observedGeneration "
            f"{s.get('status', {}).get('observedGeneration')}"
        ),
        timeout=web.timeouts.pods,
        diagnose=web.diagnose,
    )


RETENTION = {"whenScaled": DELETE, "whenDeleted": DELETE}


def test_pvc_retention_policy(
    cluster: Cluster,
    own_namespace: str,
    settings: Settings,
    record_form: Callable[[str], None],
    observe: Observations,
) -> None:
    """whenScaled: Delete deletes the claims of pods a scale-down removes, owned by those pods;
    whenDeleted: Delete deletes every claim with the StatefulSet that owns them."""
    if settings.manifest.storage_not_applicable:
        pytest.skip(settings.manifest.storage_not_applicable)
    subject = f"StatefulSet {settings.manifest.statefulset_name}"
    templates = settings.manifest.claim_templates
    expect(bool(templates), subject, "volumeClaimTemplates", "none declared")
    # The Retain forms are what pvcs_kept_after_scale_down and cleanup_keeps_pvcs assert on a
    # manifest that declares them; this test declares the deleting forms itself (and Parallel,
    # only to start its pods sooner).
    record_form("whenScaled: Delete, whenDeleted: Delete (deployed by this test)")
    # scaled down to the manifest's replicas from one more: the app in its declared shape
    # (a quorum of 3 cannot serve as 1), and a condemned claim to show both policies
    replicas = settings.manifest.replicas
    manifest = with_spec(
        settings.manifest,
        {
            "replicas": replicas + 1,
            "podManagementPolicy": PARALLEL,
            "persistentVolumeClaimRetentionPolicy": RETENTION,
        },
    )
    web = under_test(cluster, own_namespace, manifest, settings)
    pods = manifest.pod_names(replicas + 1)
    kept, condemned = pods[:replicas], pods[replicas:]
    with Recorder(
        cluster.kube.core.list_namespaced_persistent_volume_claim, namespace=own_namespace
    ) as claims:
        web.deploy()
        owner = _statefulset_owner(web)
        every_claim = {claim: owner for claim in web.claim_names(pods)}
        _wait_claims(
            web,
            claims,
            lambda c: not retention.missing_owner_problems(c, every_claim),
            f"every claim owned by {owner} (whenDeleted: Delete)",
        )
        observe.table("claims after creation", _claim_rows(claims))

        stored = {pod: web.write_data(pod) for pod in condemned}
        expect_none(stored_problems(stored.values()), "data probe")
        by_pod = _pod_owners(web, condemned)
        before, _ = claims.snapshot()
        old_uids = {claim: str(before[claim]["metadata"]["uid"]) for claim in by_pod}
        web.scale_to(replicas)
        _wait_claims(
            web,
            claims,
            lambda c: not set(by_pod) & set(c),
            f"claims {', '.join(by_pod)} deleted (whenScaled: Delete)",
        )
        objects, events = claims.snapshot()
        observe.table(f"claims after scaling down to {replicas}", _claim_rows(claims))
        in_range = {claim: owner for claim in web.claim_names(kept)}
        expect_none(
            retention.owned_before_deletion_problems(events, by_pod)
            + retention.missing_owner_problems(objects, in_range),
            "claims of removed pods owned by them, then deleted; the others kept",
        )

        web.scale_to(replicas + 1)
        uids_now = {claim: _uid(web.claim(claim)) for claim in web.claim_names(condemned)}
        reads = {pod: web.read_data(pod) for pod in condemned}
        written = {pod: value.value for pod, value in stored.items()}
        expect_none(
            retention.recreated_problems(old_uids, uids_now)
            + still_there_problems(web.data_probe, written, reads),
            "scaled up again: new claims",
        )

        web.delete_statefulset_and_service()
        _wait_claims(
            web,
            claims,
            lambda c: not set(every_claim) & set(c),
            "every claim deleted with the StatefulSet (whenDeleted: Delete)",
        )
        observe.table("claims after deleting the StatefulSet", _claim_rows(claims))


def _statefulset_owner(web: StatefulSetUnderTest) -> Owner:
    return Owner("StatefulSet", web.name, str(web.read()["metadata"]["uid"]))


def _pod_owners(web: StatefulSetUnderTest, pods: Sequence[str]) -> dict[str, Owner]:
    """Each claim of `pods`, with the pod the documentation says will own it."""
    owners = {}
    for pod in pods:
        uid = str(web.pod(pod)["metadata"]["uid"])
        for claim in web.claim_names([pod]):
            owners[claim] = Owner("Pod", pod, uid)
    return owners


def _wait_claims(
    web: StatefulSetUnderTest,
    claims: Recorder,
    condition: Callable[[wait.Objects], bool],
    expected: str,
) -> None:
    wait.wait_on_watch(
        claims,
        condition,
        expected=expected,
        seen=lambda objects: (
            "; ".join(
                f"{describe_claim(n, c)} ({retention.describe_owners(c)})"
                for n, c in sorted(objects.items())
            )
            or "no claims"
        ),
        timeout=web.timeouts.pods,
        diagnose=web.diagnose,
    )


def _claim_rows(claims: Recorder) -> list[dict[str, str]]:
    objects, _ = claims.snapshot()
    return [
        {
            "claim": name,
            "uid": str(claim["metadata"]["uid"])[:8],
            "phase": str((claim.get("status") or {}).get("phase")),
            "owners": retention.describe_owners(claim),
        }
        for name, claim in sorted(objects.items())
    ]


def _uid(obj: dict[str, Any] | None) -> str | None:
    return (obj or {}).get("metadata", {}).get("uid")

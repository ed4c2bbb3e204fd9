"""How a StatefulSet is updated: rolling updates, partitions, OnDelete, rollbacks, availability.

The tests share the module's StatefulSet (its own namespace). Each first gives it the update
strategy it exercises, whatever the manifest declares (the report says what that is), and waits
until the set is at rest on one revision; then it changes the pod template itself (an
annotation: a new revision, for any image) and watches what the controller does. Any one of
them can run, and fail, on its own.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import pytest

from stsconf.access import wait
from stsconf.access.watching import Recorder
from stsconf.checks import storage
from stsconf.checks.data import own_data_problems
from stsconf.checks.update_order import (
    DEFAULT_MIN_READY_SECONDS,
    StatusSample,
    allowance_unused_violations,
    availability_lag_violations,
    final_states,
    max_unavailable_violations,
    min_ready_violations,
    replacement,
    replacement_violations,
    replacing_peak,
    revision_mismatches,
    status_written,
    unavailable_peak,
    untouched_violations,
    update_order_violations,
)
from stsconf.cluster_fixture import Cluster
from stsconf.model.expectations import Problem, expect, expect_none
from stsconf.model.policies import PARALLEL, DeclaredPolicies
from stsconf.model.timeline import Timeline, pod_state_from_object
from stsconf.report.observations import Observations
from stsconf.settings import Settings
from stsconf.workload import updates
from stsconf.workload.readiness_gate import HEALTHY_CONDITION
from stsconf.workload.statefulset import StatefulSetUnderTest, pod_timeline
from stsconf.workload.updates import Status
from stsconf.workload.variants import with_spec, without_claims

# each test changes the set from whatever revision it finds: workers may split the module,
# each deploying the set for the tests it runs
pytestmark = [pytest.mark.conformance, pytest.mark.spread]

QUIET_SECONDS = 4.0  # how long nothing may happen where nothing should (the controller acts in ms)
MAX_UNAVAILABLE = 2  # on a copy of the set with more replicas than that (3)
GATE = "MaxUnavailableStatefulSet"
DEFAULT_REVISION_HISTORY_LIMIT = 10  # what the API server sets when a StatefulSet gives none


@pytest.fixture(autouse=True)
def declared_strategy(web: StatefulSetUnderTest, record_form: Callable[[str], None]) -> None:
    """The property matrix shows, under each update property, what the manifest declares."""
    declared = web.manifest.policies.describe_update_strategy()
    record_form(f"the manifest declares {declared}")


def test_rolling_update_order(web: StatefulSetUnderTest, observe: Observations) -> None:
    """A template change replaces pods from the highest ordinal down, one at a time, each after
    the one above is Running and Ready on the new revision; each pod keeps its claims and data."""
    _strategy(web, observe, "RollingUpdate, partition 0")
    updates.settle(web, updates.rolling_update())
    pods = _pod_names(web)
    keeps_data = web.manifest.policies.keeps_data
    written = _store_values(web, pods) if keeps_data else {}
    claims_before = _claims(web, pods)

    status, timeline = updates.roll(web, updates.changed(_template(web)))
    revision = status.update_revision
    observe.timeline(f"pod events while rolling onto revision {revision}", timeline)
    _show_revisions(web, observe, "ControllerRevisions after the update")
    problems: list[Problem] = [
        *update_order_violations(timeline, pods[::-1], revision),
        *revision_mismatches(final_states(timeline), dict.fromkeys(pods, revision)),
    ]
    claims_after = _claims(web, pods)
    observe.table("claims before and after the update", _claim_rows(claims_before, claims_after))
    problems += storage.same_claims_problems(claims_before, claims_after)
    if keeps_data:
        reads = {pod: web.read_data(pod) for pod in pods}
        observe.table(
            "data stored before the update and read after it",
            [
                {"pod": p, "value stored": v, "read after": reads[p].printed()}
                for p, v in written.items()
            ],
        )
        problems += own_data_problems(web.data_probe, written, reads, "after the update")
    else:
        observe.text("data", web.manifest.storage_not_applicable or "")
    expect_none(problems, "rolling update")


def test_partitioned_update(web: StatefulSetUnderTest, observe: Observations) -> None:
    """With `rollingUpdate.partition` P only ordinals >= P move to the new revision, a pod below
    P comes back on the old one; lowering P step by step updates the rest in reverse order."""
    replicas = web.spec_replicas()
    pods = web.manifest.pod_names(replicas)
    _strategy(web, observe, f"RollingUpdate, partition {replicas}, then lower step by step")
    old = updates.settle(web, updates.rolling_update(partition=replicas)).update_revision

    with web.record_pods() as recorder:
        new = updates.set_template(web, updates.changed(_template(web))).update_revision
        updates.watch_untouched(recorder, pods, QUIET_SECONDS)
        _, quiet = recorder.snapshot()
        status = Status.of(web.read())
        canary = _lower_partition(web, recorder, pods, partition=replicas - 1, old=old, new=new)
    observe.timeline(
        f"pod events: template changed to {new} under partition {replicas}, watched for "
        f"{QUIET_SECONDS:g}s, then partition {replicas - 1} (canary)",
        canary,
    )
    expect_none(
        untouched_violations(Timeline(canary.events[: len(quiet)]), pods, f"partition {replicas}"),
        "partition P >= replicas",
    )
    expect(
        (status.current_revision, status.update_revision, status.updated) == (old, new, 0),
        f"status with partition {replicas}",
        f"currentRevision {old}, updateRevision {new}, 0 updated",
        status.describe(),
    )
    _expect_partitioned(canary, pods, replicas - 1, new)
    if replicas > 1:
        _deleted_below_partition_comes_back_old(
            web, observe, pods, partition=replicas - 1, old=old, new=new
        )
    for partition in range(replicas - 2, -1, -1):  # the phased roll-out
        with web.record_pods() as recorder:
            timeline = _lower_partition(web, recorder, pods, partition=partition, old=old, new=new)
        observe.timeline(f"partition {partition}: pod events", timeline)
        _expect_partitioned(timeline, pods, partition, new)
    updates.wait_rolled_out(web, new)
    _show_revisions(web, observe, "ControllerRevisions after the phased roll-out")


def _on_partition(pods: list[str], partition: int, old: str, new: str) -> dict[str, str]:
    """The revision of each pod once the update reached `partition`."""
    return {pod: new if index >= partition else old for index, pod in enumerate(pods)}


def _lower_partition(
    web: StatefulSetUnderTest,
    recorder: Recorder,
    pods: list[str],
    *,
    partition: int,
    old: str,
    new: str,
) -> Timeline:
    strategy = updates.rolling_update(partition=partition)
    updates.patch_and_observe(web, {"spec": {"updateStrategy": strategy}})
    updates.wait_for_revisions(web, recorder, _on_partition(pods, partition, old, new))
    return pod_timeline(recorder)


def _expect_partitioned(timeline: Timeline, pods: list[str], partition: int, new: str) -> None:
    expect_none(
        [
            *update_order_violations(timeline, [pods[partition]], new),
            *untouched_violations(timeline, pods[:partition], f"below partition {partition}"),
            *untouched_violations(timeline, pods[partition + 1 :], f"already on {new}"),
        ],
        f"partition {partition}",
    )


def _deleted_below_partition_comes_back_old(
    web: StatefulSetUnderTest,
    observe: Observations,
    pods: list[str],
    *,
    partition: int,
    old: str,
    new: str,
) -> None:
    pod = pods[partition - 1]
    revisions = _on_partition(pods, partition, old, new)
    with web.record_pods() as recorder:
        uid = web.pod(pod)["metadata"]["uid"]
        updates.delete_pod_by_uid(web, pod, uid)
        updates.wait_for_revisions(web, recorder, revisions, replacing=frozenset({uid}))
        timeline = pod_timeline(recorder)
    observe.timeline(f"{pod}, below the partition, deleted", timeline)
    expect_none(replacement_violations(timeline, [pod], old), "a pod below the partition")


def test_on_delete_update(web: StatefulSetUnderTest, observe: Observations) -> None:
    """With `updateStrategy: OnDelete` a template change replaces no running pod; each pod
    deleted afterwards comes back on the new revision."""
    _strategy(web, observe, "OnDelete")
    old = updates.settle(web, updates.ON_DELETE).update_revision
    pods = _pod_names(web)
    with web.record_pods() as recorder:
        new = updates.set_template(web, updates.changed(_template(web))).update_revision
        updates.watch_untouched(recorder, pods, QUIET_SECONDS)
        objects, quiet = recorder.snapshot()
        status = Status.of(web.read())
        web.delete_all_pods()
        old_uids = frozenset(pod["metadata"]["uid"] for pod in objects.values())
        updates.wait_for_revisions(web, recorder, dict.fromkeys(pods, new), replacing=old_uids)
        timeline = pod_timeline(recorder)
    observe.timeline(
        f"pod events: template changed to {new}, watched, then all pods deleted", timeline
    )
    _show_revisions(web, observe, "ControllerRevisions after the pods were replaced")
    before_deletion = Timeline(timeline.events[: len(quiet)])
    expect_none(untouched_violations(before_deletion, pods, "OnDelete"), "OnDelete before deletion")
    expect(
        (status.current_revision, status.update_revision, status.updated) == (old, new, 0),
        "status before deletion",
        f"currentRevision {old}, updateRevision {new}, 0 updated",
        status.describe(),
    )
    expect_none(replacement_violations(timeline, pods, new), "OnDelete after deletion")


def test_rollback(web: StatefulSetUnderTest, observe: Observations) -> None:
    """Restoring the previous template returns to the previous ControllerRevision, creating
    none, and rolls the pods back in the same order; `revisionHistoryLimit` bounds the rest."""
    _strategy(web, observe, "RollingUpdate, partition 0; then revisionHistoryLimit 0")
    previous = updates.settle(web, updates.rolling_update()).update_revision
    pods = _pod_names(web)
    restored = _template(web)

    forward_status, forward = updates.roll(web, updates.changed(restored))
    observe.timeline(
        f"pod events of the update {previous} -> {forward_status.update_revision}", forward
    )
    after_update = _revision_names(web)
    back_status, back = updates.roll(web, restored)
    observe.timeline(f"pod events of the rollback to {back_status.update_revision}", back)
    after_rollback = _revision_names(web)
    _show_revisions(web, observe, "ControllerRevisions after the rollback")
    expect(
        back_status.update_revision == previous,
        "rollback",
        f"updateRevision {previous} (the previous revision)",
        f"updateRevision {back_status.update_revision}",
    )
    expect(
        after_rollback == after_update,
        "ControllerRevisions after the rollback",
        f"the same as after the update, {sorted(after_update)} (no new revision)",
        f"{sorted(after_rollback)}",
    )
    expect_none(
        [
            *update_order_violations(forward, pods[::-1], forward_status.update_revision),
            *update_order_violations(back, pods[::-1], previous),
        ],
        "update and rollback order",
    )
    _history_bounded(web, observe, previous)


def _history_bounded(web: StatefulSetUnderTest, observe: Observations, live: str) -> None:
    """revisionHistoryLimit 0 keeps only the live revision; the manifest's limit comes back."""
    limit = web.manifest.policies.revision_history_limit
    with updates.record_revisions(web) as recorder:
        updates.patch_and_observe(web, {"spec": {"revisionHistoryLimit": 0}})
        wait.wait_on_watch(
            recorder,
            lambda revisions: set(revisions) == {live},
            expected=f"only the live revision {live} kept with revisionHistoryLimit 0",
            seen=lambda revisions: "kept: " + ", ".join(sorted(revisions)),
            timeout=web.timeouts.pods,
            diagnose=web.diagnose,
        )
    _show_revisions(web, observe, "ControllerRevisions with revisionHistoryLimit 0")
    updates.patch_and_observe(web, {"spec": {"revisionHistoryLimit": limit}})
    kept = web.read()["spec"].get("revisionHistoryLimit")
    wanted = DEFAULT_REVISION_HISTORY_LIMIT if limit is None else limit
    expect(
        kept == wanted,
        "revisionHistoryLimit restored",
        f"{wanted} (the manifest's{'' if limit is not None else ': unset, so the default'})",
        f"{kept}",
    )


def test_forced_rollback(web: StatefulSetUnderTest, observe: Observations) -> None:
    """An update whose pods never become Ready stops at the first broken pod, touching no lower
    ordinal; reverting the template and deleting the broken pod brings all back Ready."""
    _strategy(web, observe, "RollingUpdate, partition 0")
    good = updates.settle(web, updates.rolling_update()).update_revision
    pods = _pod_names(web)
    top, lower = pods[-1], pods[:-1]
    good_template = _template(web)
    with web.record_pods() as recorder:
        broken = updates.set_template(web, updates.never_ready(good_template)).update_revision
        _wait_running_on(web, recorder, top, broken)
        updates.watch_untouched(recorder, lower, QUIET_SECONDS)
        halted = pod_timeline(recorder)
        back = updates.set_template(web, good_template).update_revision
        uid = recorder.snapshot()[0][top]["metadata"]["uid"]
        updates.delete_pod_by_uid(web, top, uid)
        updates.wait_for_revisions(
            web, recorder, dict.fromkeys(pods, good), replacing=frozenset({uid})
        )
        timeline = pod_timeline(recorder)
    updates.wait_rolled_out(web, good)
    observe.timeline(
        f"pod events: update to never-ready revision {broken}, halt, revert, delete {top}", timeline
    )
    _show_revisions(web, observe, "ControllerRevisions after the recovery")
    ready_broken = [e for e in halted.of(top) if e.pod.revision == broken and e.pod.ready]
    expect(
        not ready_broken,
        f"{top} on revision {broken}",
        f"never Ready (readiness gate {HEALTHY_CONDITION})",
        f"Ready at event #{ready_broken[0].seq}" if ready_broken else "",
    )
    expect_none(
        untouched_violations(halted, lower, f"below the broken pod {top}"),
        "the update halts at the broken pod",
    )
    expect(back == good, "reverted template", f"updateRevision {good}", f"updateRevision {back}")
    expect_none(
        revision_mismatches(final_states(timeline), dict.fromkeys(pods, good)),
        "recovered on the old revision",
    )


def _wait_running_on(
    web: StatefulSetUnderTest, recorder: Recorder, pod: str, revision: str
) -> None:
    def running(pods: wait.Objects) -> bool:
        state = pod_state_from_object(pods[pod]) if pod in pods else None
        return (
            state is not None
            and state.phase == "Running"
            and not state.terminating
            and (state.revision == revision)
        )

    wait.wait_on_watch(
        recorder,
        running,
        expected=f"{pod} Running on revision {revision}",
        seen=updates.describe_revisions,
        timeout=web.timeouts.pods,
        diagnose=web.diagnose,
    )


def test_min_ready_seconds(web: StatefulSetUnderTest, observe: Observations) -> None:
    """With `minReadySeconds` M the next pod is replaced only M seconds after the one above
    became Ready, and `status.availableReplicas` lags `readyReplicas` by that much."""
    declared = web.manifest.policies.min_ready_seconds
    minimum = declared or DEFAULT_MIN_READY_SECONDS
    _strategy(web, observe, f"RollingUpdate, partition 0, minReadySeconds {minimum}")
    updates.settle(web, updates.rolling_update(), min_ready_seconds=minimum)
    replicas = web.spec_replicas()
    pods = web.manifest.pod_names(replicas)
    with web.record_pods() as pod_recorder:
        with updates.record_statefulset(web) as recorder:
            new = updates.set_template(web, updates.changed(_template(web))).update_revision
            updates.wait_for_revisions(web, pod_recorder, dict.fromkeys(pods, new))
            wait.wait_on_watch(
                recorder,
                lambda objects: _available_on(Status.of(objects[web.name]), new, replicas),
                expected=f"rolled out onto {new} with availableReplicas {replicas}",
                seen=lambda objects: Status.of(objects[web.name]).describe(),
                timeout=web.timeouts.pods,
                diagnose=web.diagnose,
            )
            _, events = recorder.snapshot()
        timeline = pod_timeline(pod_recorder)
    samples = [
        StatusSample(
            seconds=written,
            ready=Status.of(e.object).ready,
            available=Status.of(e.object).available,
        )
        for e in events
        if (written := status_written(e.object)) is not None
    ]
    ready_at = {
        pod: since
        for pod in pods
        if (found := replacement(timeline, pod, new)).ready is not None
        and (since := found.ready.pod.ready_since) is not None
    }
    observe.timeline(
        f"pod events while rolling onto {new} with minReadySeconds {minimum}", timeline
    )
    first = min([*ready_at.values(), *(s.seconds for s in samples)], default=0.0)
    observe.table(
        "StatefulSet status while rolling (when the API server wrote it, seconds after the "
        "first time shown; the pods' Ready times on the same clock below)",
        [
            {
                "written (s)": f"{s.seconds - first:.0f}",
                "readyReplicas": s.ready,
                "availableReplicas": s.available,
            }
            for s in samples
        ],
    )
    observe.table(
        "pods Ready on the new revision (their Ready condition's lastTransitionTime)",
        [{"pod": pod, "Ready at (s)": f"{since - first:.0f}"} for pod, since in ready_at.items()],
    )
    expect_none(
        [
            *update_order_violations(timeline, pods[::-1], new),
            *min_ready_violations(timeline, pods[::-1], new, min_ready_seconds=minimum),
            *availability_lag_violations(
                ready_at, samples, replicas=replicas, min_ready_seconds=minimum
            ),
        ],
        f"minReadySeconds {minimum}",
    )


def _available_on(status: Status, revision: str, replicas: int) -> bool:
    return (
        status.rolled_out and status.update_revision == revision and (status.available == replicas)
    )


def test_max_unavailable(
    cluster: Cluster,
    own_namespace: str,
    settings: Settings,
    record_form: Callable[[str], None],
    observe: Observations,
) -> None:
    """Where the cluster keeps `rollingUpdate.maxUnavailable`, an update replaces up to that many
    pods at a time and never has more unavailable.

    On a copy of the StatefulSet with more replicas than the limit (at least 3 for a limit of
    2), so that the limit can be both used and exceeded; under Parallel pod management, since
    the API says the limit "might not be effective" under OrderedReady, which brings pods up
    one at a time; with emptyDir volumes in place of its claims (storage plays no part)."""
    replicas = max(settings.manifest.replicas, MAX_UNAVAILABLE + 1)
    record_form(f"Parallel, {replicas} replicas, maxUnavailable {MAX_UNAVAILABLE} (deployed by "
                "this test)")  # fmt: skip
    fields = {"replicas": replicas, "podManagementPolicy": PARALLEL}
    manifest = without_claims(with_spec(settings.manifest, fields))
    web = StatefulSetUnderTest(cluster.kube, own_namespace, manifest, settings.timeouts)
    web.deploy()
    _strategy(web, observe, f"RollingUpdate, partition 0, maxUnavailable {MAX_UNAVAILABLE}")
    updates.settle(web, updates.rolling_update(max_unavailable=MAX_UNAVAILABLE))
    kept = DeclaredPolicies.of(web.read()).max_unavailable
    if kept != MAX_UNAVAILABLE:
        pytest.skip(
            f"not applicable: the cluster (Kubernetes {web.kube.server_version()}) did not keep "
            f"spec.updateStrategy.rollingUpdate.maxUnavailable {MAX_UNAVAILABLE} (read back: "
            f"{kept!r}): the {GATE} feature gate is off (beta and off by default in 1.35 and "
            f"1.36, on by default from 1.37; --feature-gates {GATE}=true turns it on)"
        )
    pods = _pod_names(web)
    status, timeline = updates.roll(web, updates.changed(_template(web)))
    revision = status.update_revision
    observe.timeline(f"pod events while rolling onto {revision}", timeline)
    observe.table(
        "pods at once",
        [{"replicas": replicas, "maxUnavailable": MAX_UNAVAILABLE,
          "most down for replacement": replacing_peak(timeline, pods, revision)[0],
          "most unavailable (flapping probes included)": unavailable_peak(timeline, pods)[0]}],
    )  # fmt: skip
    expect_none(
        [
            *max_unavailable_violations(timeline, pods, revision, MAX_UNAVAILABLE),
            *allowance_unused_violations(timeline, pods, revision, MAX_UNAVAILABLE),
            *replacement_violations(timeline, pods, status.update_revision),
        ],
        f"maxUnavailable {MAX_UNAVAILABLE}",
    )


# Helpers


def _pod_names(web: StatefulSetUnderTest) -> list[str]:
    return web.manifest.pod_names(web.spec_replicas())


def _template(web: StatefulSetUnderTest) -> updates.Obj:
    return updates.template(web.read())


def _strategy(web: StatefulSetUnderTest, observe: Observations, exercised: str) -> None:
    observe.text(
        "update strategy",
        f"the manifest declares: {web.manifest.policies.describe_update_strategy()}\n"
        f"this test sets: {exercised}",
    )


def _revision_names(web: StatefulSetUnderTest) -> set[str]:
    return {item["metadata"]["name"] for item in updates.controller_revisions(web)}


def _show_revisions(web: StatefulSetUnderTest, observe: Observations, title: str) -> None:
    status = Status.of(web.read())
    pods = web.pods()
    observe.table(title, updates.revision_rows(updates.controller_revisions(web), status, pods))
    observe.table("pods and their revisions", updates.pod_rows(pods))


def _store_values(web: StatefulSetUnderTest, pods: list[str]) -> dict[str, str]:
    written = {}
    for pod in pods:
        stored = web.write_data(pod)
        expect(
            stored.problem is None,
            f"data probe in {pod}",
            f"to store {stored.value!r} and read it back",
            stored.problem or "",
        )
        written[pod] = stored.value
    return written


def _claims(web: StatefulSetUnderTest, pods: list[str]) -> dict[str, dict[str, str]]:
    """For each pod and claim template: the claim its volume uses, with the claim's uid."""
    result: dict[str, dict[str, str]] = {}
    for pod in pods:
        obj = web.pod(pod)
        result[pod] = {}
        for claim_template in web.manifest.claim_templates:
            name = storage.mounted_claim(obj, claim_template.name)
            claim = web.claim(name) if name else None
            uid = (claim or {}).get("metadata", {}).get("uid", "")
            result[pod][claim_template.name] = f"{name} uid {uid[:8]}" if name else "(none)"
    return result


def _claim_rows(
    before: Mapping[str, Mapping[str, str]], after: Mapping[str, Mapping[str, str]]
) -> list[dict[str, str]]:
    return [
        {"pod": pod, "volume": volume, "before": claim, "after": after[pod][volume]}
        for pod, by_volume in before.items()
        for volume, claim in by_volume.items()
    ]

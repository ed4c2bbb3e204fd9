"""Updating the StatefulSet under test: its update strategy, its pod template (a new revision),
and what the controller shows of its revisions.

Small functions the update tests compose. The template change is generic: an annotation on the
pod template (any image, any app); a "broken" template adds a readiness gate that nothing
sets, so its pods run but never become Ready.
"""

from __future__ import annotations

import copy
import secrets
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from kubernetes import client
from kubernetes.client.exceptions import ApiException

from stsconf.access import rest, wait
from stsconf.access.watching import Recorder
from stsconf.model.timeline import REVISION_LABEL, Timeline, pod_state_from_object
from stsconf.workload.readiness_gate import HEALTHY_CONDITION
from stsconf.workload.statefulset import StatefulSetUnderTest, pod_timeline

Obj = dict[str, Any]

TEMPLATE_CHANGE = "stsconf/template-change"  # pod template annotation: a new revision
MERGE_PATCH = "application/strategic-merge-patch+json"
JSON_PATCH = "application/json-patch+json"
ON_DELETE: Obj = {"type": "OnDelete", "rollingUpdate": None}


def rolling_update(partition: int = 0, max_unavailable: int | str | None = None) -> Obj:
    """A RollingUpdate strategy; no maxUnavailable removes one set before."""
    return {
        "type": "RollingUpdate",
        "rollingUpdate": {"partition": partition, "maxUnavailable": max_unavailable},
    }


@dataclass(frozen=True)
class Status:
    """What the controller last reported about the set's revisions and pods."""

    generation: int
    observed_generation: int
    current_revision: str
    update_revision: str
    replicas: int
    ready: int
    available: int
    updated: int

    @staticmethod
    def of(statefulset: Mapping[str, Any]) -> Status:
        status = statefulset.get("status") or {}
        return Status(
            generation=int(statefulset["metadata"].get("generation", 0)),
            observed_generation=int(status.get("observedGeneration", 0)),
            current_revision=str(status.get("currentRevision", "")),
            update_revision=str(status.get("updateRevision", "")),
            replicas=int(status.get("replicas", 0)),
            ready=int(status.get("readyReplicas", 0)),
            available=int(status.get("availableReplicas", 0)),
            updated=int(status.get("updatedReplicas", 0)),
        )

    @property
    def rolled_out(self) -> bool:
        return self.current_revision == self.update_revision != ""

    def describe(self) -> str:
        return (
            f"generation {self.generation} (observed {self.observed_generation}), "
            f"currentRevision {self.current_revision or '-'}, "
            f"updateRevision {self.update_revision or '-'}, replicas {self.replicas}, "
            f"ready {self.ready}, available {self.available}, updated {self.updated}"
        )


# The StatefulSet object


def record_statefulset(web: StatefulSetUnderTest) -> Recorder:
    return Recorder(
        web.kube.apps.list_namespaced_stateful_set,
        namespace=web.namespace,
        field_selector=f"metadata.name={web.name}",
    )


def patch(web: StatefulSetUnderTest, body: Obj | list[Obj]) -> Obj:
    """A strategic merge patch (a dict; None removes a field) or a JSON patch (a list)."""
    return rest.raw(
        web.kube.apps.patch_namespaced_stateful_set,
        web.name,
        web.namespace,
        body,
        _content_type=JSON_PATCH if isinstance(body, list) else MERGE_PATCH,
    )


def patch_and_observe(web: StatefulSetUnderTest, body: Obj | list[Obj]) -> Status:
    """Patch the set and wait until its controller has acted on the change (its status then
    names the update revision the change made)."""
    generation = int(patch(web, body)["metadata"]["generation"])
    return wait_for_status(
        web,
        lambda status: status.observed_generation >= generation,
        f"the controller to observe generation {generation}",
    )


def wait_for_status(
    web: StatefulSetUnderTest, accept: Callable[[Status], bool], expected: str
) -> Status:
    with record_statefulset(web) as recorder:
        wait.wait_on_watch(
            recorder,
            lambda objects: web.name in objects and accept(Status.of(objects[web.name])),
            expected=f"StatefulSet {web.name}: {expected}",
            seen=lambda objects: (
                Status.of(objects[web.name]).describe() if web.name in objects else "no StatefulSet"
            ),
            timeout=web.timeouts.pods,
            diagnose=web.diagnose,
        )
        objects, _ = recorder.snapshot()
    return Status.of(objects[web.name])


def wait_rolled_out(web: StatefulSetUnderTest, revision: str) -> Status:
    """currentRevision == updateRevision == `revision`, every replica updated and Ready."""
    replicas = web.spec_replicas()
    return wait_for_status(
        web,
        lambda s: (
            s.current_revision == s.update_revision == revision and s.updated == s.ready == replicas
        ),
        f"currentRevision == updateRevision == {revision} with {replicas} replicas updated "
        "and Ready",
    )


# The pod template


def template(statefulset: Mapping[str, Any]) -> Obj:
    return copy.deepcopy(statefulset["spec"]["template"])


def changed(pod_template: Obj) -> Obj:
    """The template with a fresh value in its change annotation: a new revision."""
    result = copy.deepcopy(pod_template)
    metadata = result.setdefault("metadata", {})
    metadata.setdefault("annotations", {})[TEMPLATE_CHANGE] = secrets.token_hex(4)
    return result


def never_ready(pod_template: Obj) -> Obj:
    """A changed template whose pods run but never become Ready: a bad update, generically.
    They carry the suite's readiness gate (readiness_gate.py), which nothing sets here."""
    result = changed(pod_template)
    gates = result["spec"].setdefault("readinessGates", [])
    gates.append({"conditionType": HEALTHY_CONDITION})  # which stays unset: never Ready
    return result


def set_template(web: StatefulSetUnderTest, pod_template: Obj) -> Status:
    """Replace the pod template as a whole (restoring an earlier one exactly) and wait until
    the controller has made or found its revision."""
    return patch_and_observe(
        web, [{"op": "replace", "path": "/spec/template", "value": pod_template}]
    )


def roll(web: StatefulSetUnderTest, pod_template: Obj) -> tuple[Status, Timeline]:
    """Set the template, wait until every pod runs on its revision and the set says it is
    rolled out; the pod timeline of all that."""
    pods = web.manifest.pod_names(web.spec_replicas())
    with web.record_pods() as recorder:
        revision = set_template(web, pod_template).update_revision
        wait_for_revisions(web, recorder, dict.fromkeys(pods, revision))
        timeline = pod_timeline(recorder)
    return wait_rolled_out(web, revision), timeline


def previous_revision(web: StatefulSetUnderTest) -> Obj | None:
    """The ControllerRevision `kubectl rollout undo` returns to: the newest but the update
    revision; None when the set has kept no other."""
    update = Status.of(web.read()).update_revision
    earlier = [r for r in controller_revisions(web) if r["metadata"]["name"] != update]
    return earlier[-1] if earlier else None


def undo(web: StatefulSetUnderTest, recorder: Recorder, previous: Obj) -> Status:
    """Return to `previous` as `kubectl rollout undo` does (its data, a patch of the template,
    applied to the set) and wait until every pod runs on it, Ready, seen by `recorder`."""
    revision = patch_and_observe(web, previous["data"]).update_revision
    pods = web.manifest.pod_names(web.spec_replicas())
    wait_for_revisions(web, recorder, dict.fromkeys(pods, revision))
    return wait_rolled_out(web, revision)


# Strategy and settling


def settle(
    web: StatefulSetUnderTest, strategy: Obj, min_ready_seconds: int | None = None
) -> Status:
    """Give the set `strategy` (and minReadySeconds, default the manifest's own) and wait until
    it is at rest: one revision, every pod Running, Ready and available on it."""
    declared = web.manifest.policies.min_ready_seconds
    minimum = declared if min_ready_seconds is None else min_ready_seconds
    patch_and_observe(web, {"spec": {"updateStrategy": strategy, "minReadySeconds": minimum}})
    replicas = web.spec_replicas()
    status = wait_for_status(
        web,
        lambda s: s.rolled_out and s.updated == s.ready == s.available == replicas,
        f"at rest: currentRevision == updateRevision, {replicas} replicas updated, Ready "
        "and available",
    )
    names = web.manifest.pod_names(replicas)
    with web.record_pods() as recorder:
        wait_for_revisions(web, recorder, dict.fromkeys(names, status.update_revision))
    return status


# Pods and revisions


def revision_of(pod: Mapping[str, Any]) -> str:
    return str((pod["metadata"].get("labels") or {}).get(REVISION_LABEL, ""))


def wait_for_revisions(
    web: StatefulSetUnderTest,
    recorder: Recorder,
    expected: Mapping[str, str],
    replacing: frozenset[str] = frozenset(),
) -> None:
    """Exactly the pods named in `expected`, each Running and Ready on its revision, and none
    with a uid from `replacing`."""

    def arrived(pods: wait.Objects) -> bool:
        return set(pods) == set(expected) and all(
            pod_state_from_object(pods[name]).running_and_ready
            and revision_of(pods[name]) == revision
            and pods[name]["metadata"]["uid"] not in replacing
            for name, revision in expected.items()
        )

    wait.wait_on_watch(
        recorder,
        arrived,
        expected="pods Running and Ready on revisions "
        + ", ".join(f"{name} {revision}" for name, revision in expected.items()),
        seen=describe_revisions,
        timeout=web.timeouts.pods,
        diagnose=web.diagnose,
    )


def describe_revisions(pods: wait.Objects) -> str:
    if not pods:
        return "no pods"
    return ", ".join(
        f"{name} {pod_state_from_object(pod).describe()} on {revision_of(pod) or '(none)'}"
        for name, pod in sorted(pods.items())
    )


def watch_untouched(recorder: Recorder, pods: Sequence[str], seconds: float) -> None:
    """Watch for `seconds`, returning early once any of `pods` is marked for deletion, gone,
    or replaced: a window in which nothing should happen to them."""
    objects, _ = recorder.snapshot()
    uids = {name: objects[name]["metadata"]["uid"] for name in pods if name in objects}

    def touched(current: wait.Objects) -> bool:
        return any(
            name not in current
            or current[name]["metadata"]["uid"] != uid
            or bool(current[name]["metadata"].get("deletionTimestamp"))
            for name, uid in uids.items()
        )

    recorder.wait_until(touched, seconds)


def delete_pod_by_uid(web: StatefulSetUnderTest, name: str, uid: str) -> None:
    """Delete this very pod (not a successor of the same name); gone already is fine."""
    try:
        web.kube.core.delete_namespaced_pod(
            name,
            web.namespace,
            body=client.V1DeleteOptions.model_validate({"preconditions": {"uid": uid}}),
            _request_timeout=rest.REQUEST_TIMEOUT,
        )
    except ApiException as error:
        if error.status not in (404, 409):  # gone, or already replaced
            raise


def record_revisions(web: StatefulSetUnderTest) -> Recorder:
    return Recorder(
        web.kube.apps.list_namespaced_controller_revision,
        namespace=web.namespace,
        label_selector=web.manifest.selector,
    )


def controller_revisions(web: StatefulSetUnderTest) -> list[Obj]:
    """The set's ControllerRevisions (those it owns), oldest revision first."""
    uid = web.read()["metadata"]["uid"]
    items = rest.list_items(
        web.kube.apps.list_namespaced_controller_revision,
        web.namespace,
        label_selector=web.manifest.selector,
    )
    owned = [
        item
        for item in items
        if any(ref.get("uid") == uid for ref in item["metadata"].get("ownerReferences") or [])
    ]
    return sorted(owned, key=lambda item: int(item.get("revision", 0)))


def revision_rows(
    revisions: Sequence[Obj], status: Status, pods: Mapping[str, Obj]
) -> list[dict[str, str]]:
    """A table of the ControllerRevisions: which the status names, which pods run on each."""
    rows = []
    for item in revisions:
        name = item["metadata"]["name"]
        roles = [
            role
            for role, revision in (
                ("current", status.current_revision),
                ("update", status.update_revision),
            )
            if revision == name
        ]
        on_it = sorted(pod for pod, obj in pods.items() if revision_of(obj) == name)
        rows.append(
            {
                "ControllerRevision": name,
                "revision": str(item.get("revision", "")),
                "status names it": " and ".join(roles) or "-",
                "pods on it": ", ".join(on_it) or "-",
            }
        )
    return rows


def pod_rows(pods: Mapping[str, Obj]) -> list[dict[str, str]]:
    return [
        {
            "pod": name,
            "uid": pod["metadata"]["uid"][:8],
            "revision": revision_of(pod),
            "state": pod_state_from_object(pod).describe(),
        }
        for name, pod in sorted(pods.items())
    ]

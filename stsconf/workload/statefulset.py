"""The StatefulSet under test: deploy it, scale it, replace its pods, and record what happened."""

from __future__ import annotations

import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from stsconf.access import rest, wait
from stsconf.access.rest import Kube
from stsconf.access.watching import Recorder
from stsconf.checks import storage
from stsconf.checks.data import read_back_failure, write_failure
from stsconf.model.dataprobe import DataProbe, ProbeRun, Stored, data_probe
from stsconf.model.exec_result import ExecResult
from stsconf.model.manifest import Manifest
from stsconf.model.timeline import PodEvent, Timeline, pod_state_from_object
from stsconf.observe.dataprobe import Exec, pod_report, read_value, write_value
from stsconf.observe.diagnostics import namespace_report

Obj = dict[str, Any]


@dataclass(frozen=True)
class Timeouts:
    pods: float = 180.0  # for pods to start, stop or be replaced
    dns: float = 30.0  # for DNS to show what the API shows
    cleanup: float = 120.0  # for namespaces, claims and volumes to go away


def store_value(probe: DataProbe, run: Exec, pod: str, value: str) -> Stored:
    """Write `value` into the pod's data through the probe and read it straight back."""
    if probe.problem:
        return Stored(pod=pod, value=value, write=None, read=None, problem=probe.problem)
    write = write_value(probe, run, pod, value)
    failure = write_failure(write)
    if failure:
        return Stored(pod=pod, value=value, write=write, read=None, problem=failure)
    read = read_value(probe, run, pod)
    failure = read_back_failure(probe, value, read)
    return Stored(pod=pod, value=value, write=write, read=read, problem=failure)


def unique_value(pod: str) -> str:
    """A value for the pod's data that no write stored before: its name and a random token."""
    return f"{pod}:{secrets.token_hex(4)}"


def pod_timeline(recorder: Recorder) -> Timeline:
    _, events = recorder.snapshot()
    return Timeline(
        [PodEvent(e.seq, e.seconds, e.kind, pod_state_from_object(e.object)) for e in events],
        recorder.time_zero,
    )


@dataclass
class StatefulSetUnderTest:
    kube: Kube
    namespace: str
    manifest: Manifest
    timeouts: Timeouts
    startup: Timeline = field(default_factory=Timeline)  # recorded by deploy()
    data_probe: DataProbe = field(init=False)

    def __post_init__(self) -> None:
        self.data_probe = data_probe(self.manifest)

    @property
    def name(self) -> str:
        return self.manifest.statefulset_name

    @property
    def service(self) -> str:
        return self.manifest.service_name

    def record_pods(self) -> Recorder:
        return Recorder(
            self.kube.core.list_namespaced_pod,
            namespace=self.namespace,
            label_selector=self.manifest.selector,
        )

    def diagnose(self) -> str:
        return namespace_report(self.kube, self.namespace)

    # Lifecycle

    def apply(self) -> None:
        """Create the manifest's objects (waiting for nothing)."""
        rest.apply_manifest(self.kube, self.manifest, self.namespace)

    def deploy(self) -> None:
        """Create the manifest's objects and wait for every replica, recording the startup."""
        with self.record_pods() as recorder:
            self.apply()
            self.wait_for_pods(recorder, self.manifest.pod_names(self.manifest.replicas))
            self.startup = pod_timeline(recorder)

    def scale(self, replicas: int) -> None:
        """Set spec.replicas (waiting for nothing)."""
        rest.scale(self.kube, self.name, self.namespace, replicas)

    def scale_to(self, replicas: int) -> Timeline:
        """Scale and wait until exactly the first `replicas` pods run, returning the timeline."""
        with self.record_pods() as recorder:
            self.scale(replicas)
            self.wait_for_pods(recorder, self.manifest.pod_names(replicas))
            return pod_timeline(recorder)

    def delete_pod(self, name: str, grace_seconds: int | None = None) -> None:
        """Delete one pod (waiting for nothing); gone already is fine."""
        rest.delete_pod(self.kube, name, self.namespace, grace_seconds=grace_seconds)

    def delete_all_pods(self) -> None:
        """Delete every pod of the set at once (waiting for nothing)."""
        rest.delete_pods(self.kube, self.namespace, self.manifest.selector)

    def ensure_replicas(self, replicas: int) -> None:
        """Bring the set to `replicas` ready pods unless it is there already."""
        objects = self.pods()
        wanted = self.manifest.pod_names(replicas)
        settled = wait.only_pods(wanted)(objects) and wait.pods_running_and_ready(wanted)(objects)
        if not (settled and self.spec_replicas() == replicas):
            self.scale_to(replicas)

    def wait_for_pods(
        self, recorder: Recorder, names: Sequence[str], replacing: frozenset[str] = frozenset()
    ) -> None:
        ready = wait.pods_running_and_ready(names, replacing)
        exactly = wait.only_pods(names)
        expected = f"exactly pods {', '.join(names)} Running and Ready"
        if replacing:
            expected += " with new uids"
        wait.wait_on_watch(
            recorder,
            lambda pods: exactly(pods) and ready(pods),
            expected=expected,
            seen=wait.describe_pods,
            timeout=self.timeouts.pods,
            diagnose=self.diagnose,
        )

    def replace_pods(self, names: Sequence[str]) -> Timeline:
        """Delete the named pods (all of them: by selector) and wait for their replacements."""
        current = self.manifest.pod_names(self.spec_replicas())
        with self.record_pods() as recorder:
            objects, _ = recorder.snapshot()
            old_uids = frozenset(objects[n]["metadata"]["uid"] for n in names if n in objects)
            if sorted(names) == sorted(current):
                self.delete_all_pods()
            else:
                for name in names:
                    self.delete_pod(name)
            self.wait_for_pods(recorder, current, replacing=old_uids)
            return pod_timeline(recorder)

    # Reads

    def read(self) -> Obj:
        """The StatefulSet as the API has it now."""
        return rest.raw(self.kube.apps.read_namespaced_stateful_set, self.name, self.namespace)

    def spec_replicas(self) -> int:
        return int(self.read()["spec"].get("replicas", 1))

    def pods(self) -> dict[str, Obj]:
        items = rest.list_items(
            self.kube.core.list_namespaced_pod,
            self.namespace,
            label_selector=self.manifest.selector,
        )
        return {pod["metadata"]["name"]: pod for pod in items}

    def pod(self, name: str) -> Obj:
        return rest.raw(self.kube.core.read_namespaced_pod, name, self.namespace)

    def claim(self, name: str) -> Obj | None:
        return rest.read_or_none(
            self.kube.core.read_namespaced_persistent_volume_claim, name, self.namespace
        )

    def claims_of_the_set(self) -> dict[str, Obj]:
        """Every claim in the namespace made from one of the set's claim templates, those of
        pods scaled away earlier too."""
        listed = rest.raw(self.kube.core.list_namespaced_persistent_volume_claim, self.namespace)
        made = re.compile(
            "|".join(
                re.escape(f"{template.name}-{self.name}-") + r"\d+"
                for template in self.manifest.claim_templates
            )
        )
        return {
            claim["metadata"]["name"]: claim
            for claim in listed.get("items") or []
            if self.manifest.claim_templates and made.fullmatch(claim["metadata"]["name"])
        }

    def claims_deleted_within(self, names: Sequence[str], seconds: float) -> list[str]:
        """The claims of `names` deleted or marked for deletion within `seconds` from now."""
        watched = set(names)
        with Recorder(
            self.kube.core.list_namespaced_persistent_volume_claim, namespace=self.namespace
        ) as recorder:

            def gone(claims: wait.Objects) -> set[str]:
                return {n for n in watched if not storage.claim_kept(claims.get(n))}

            recorder.wait_until(lambda claims: bool(gone(claims)), seconds)
            claims, _ = recorder.snapshot()
            return sorted(gone(claims))

    def claim_names(self, pod_names: Sequence[str]) -> list[str]:
        return [
            self.manifest.claim_name(template, pod)
            for pod in pod_names
            for template in self.manifest.claim_templates
        ]

    def exec(self, pod: str, command: Sequence[str], container: str | None = None) -> ExecResult:
        """Run `command` in `pod`, in the container under test unless `container` says."""
        chosen = container or self.manifest.container
        return rest.exec_in_pod(self.kube, pod, self.namespace, command, container=chosen)

    # Data in the pods' persistent storage, through the data probe

    def write_data(self, pod: str, value: str | None = None) -> Stored:
        """Store `value` (by default a fresh one, see unique_value) in the pod's data and read
        it straight back; when that fails, the problem also holds the pod's events and logs."""
        stored = store_value(self.data_probe, self.exec, pod, value or unique_value(pod))
        if stored.problem:
            return replace(stored, problem=f"{stored.problem}\n{self.pod_report(pod)}")
        return stored

    def read_data(self, pod: str) -> ProbeRun:
        return read_value(self.data_probe, self.exec, pod)

    def pod_report(self, pod: str) -> str:
        return pod_report(self.kube, self.namespace, pod)

    # Claims and volumes

    def settled_claims(self, names: Sequence[str]) -> dict[str, Obj | None]:
        """Read the claims once garbage collection has had its say on them: each is gone,
        being deleted, or not owned by an object that no longer exists."""

        def read_all() -> dict[str, Obj | None]:
            return {name: self.claim(name) for name in names}

        def settled(claims: dict[str, Obj | None]) -> bool:
            live = self._live_owner_uids()
            return all(
                not storage.claim_kept(claim)
                or not storage.awaiting_garbage_collection(claim, live)
                for claim in claims.values()
                if claim is not None
            )

        return wait.retry_until(
            read_all,
            settled,
            expected="claims deleted or no longer owned by a deleted object",
            seen=lambda claims: "; ".join(storage.describe_claim(n, c) for n, c in claims.items()),
            timeout=self.timeouts.pods,
            diagnose=self.diagnose,
        )

    def _live_owner_uids(self) -> set[str]:
        uids = {pod["metadata"]["uid"] for pod in self.pods().values()}
        statefulset = rest.read_or_none(
            self.kube.apps.read_namespaced_stateful_set, self.name, self.namespace
        )
        if statefulset is not None and not statefulset["metadata"].get("deletionTimestamp"):
            uids.add(statefulset["metadata"]["uid"])
        return uids

    def delete_statefulset_and_service(self) -> None:
        """Delete both (pods go with the StatefulSet) and wait until no pod is left."""
        with self.record_pods() as recorder:
            rest.ignore_missing(
                self.kube.apps.delete_namespaced_stateful_set, self.name, self.namespace
            )
            rest.ignore_missing(
                self.kube.core.delete_namespaced_service, self.service, self.namespace
            )
            wait.wait_on_watch(
                recorder,
                wait.only_pods([]),
                expected=f"all pods of {self.name} gone after deleting it",
                seen=wait.describe_pods,
                timeout=self.timeouts.pods,
                diagnose=self.diagnose,
            )

    def delete_claims(self, names: Sequence[str]) -> None:
        doomed = set(names)
        with Recorder(
            self.kube.core.list_namespaced_persistent_volume_claim, namespace=self.namespace
        ) as recorder:
            for name in names:
                rest.ignore_missing(
                    self.kube.core.delete_namespaced_persistent_volume_claim, name, self.namespace
                )
            wait.wait_on_watch(
                recorder,
                lambda claims: not doomed & set(claims),
                expected=f"claims {', '.join(sorted(doomed))} deleted",
                seen=lambda claims: "still present: " + ", ".join(sorted(doomed & set(claims))),
                timeout=self.timeouts.pods,
                diagnose=self.diagnose,
            )

    def wait_volumes_released(self, volumes: Sequence[str]) -> dict[str, Obj | None]:
        """Wait until each volume is deleted or no longer Bound; return what was last seen."""
        wanted = set(volumes)
        with Recorder(self.kube.core.list_persistent_volume) as recorder:

            def released(objects: wait.Objects) -> bool:
                return all(storage.volume_released(objects.get(v)) for v in wanted)

            def describe(objects: wait.Objects) -> str:
                return "; ".join(
                    f"{v} {(objects[v].get('status') or {}).get('phase')}"
                    if v in objects
                    else f"{v} gone"
                    for v in sorted(wanted)
                )

            wait.wait_on_watch(
                recorder,
                released,
                expected=f"volumes {', '.join(sorted(wanted))} released or deleted",
                seen=describe,
                timeout=self.timeouts.pods,
                diagnose=self.diagnose,
            )
            objects, _ = recorder.snapshot()
            return {v: objects.get(v) for v in sorted(wanted)}

"""One random lifecycle on the cluster: apply a step, wait until the StatefulSet is where the
model says it must be, then check every invariant; each step is kept with its watch timeline
and the kubectl command a person would type for it.

The operations are the suite's own (access/rest.py, updates.py, the data probe); this module only
composes them, step by step, against the model of checks/lifecycle_model.py.
"""

from __future__ import annotations

import json
import shlex
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from stsconf.access import rest, wait
from stsconf.checks.lifecycle import (
    DnsLookup,
    SettledPod,
    settled_pod_problems,
    transition_problems,
)
from stsconf.checks.lifecycle_model import Model
from stsconf.model.dataprobe import VALUE_VARIABLE
from stsconf.model.policies import ROLLING_UPDATE
from stsconf.model.timeline import Timeline
from stsconf.observe.probe import Probe
from stsconf.workload import updates
from stsconf.workload.identity import ready_endpoints, wait_endpoint_slices
from stsconf.workload.statefulset import StatefulSetUnderTest, pod_timeline

Obj = dict[str, Any]


@dataclass
class Step:
    number: int
    action: str  # what the step did, in words
    kubectl: str  # the same by hand
    seconds: float = 0.0
    timeline: Timeline = field(default_factory=Timeline)
    outcome: str = "not finished"


class LifecycleViolation(AssertionError):
    """The cluster is not where the model says it must be after a step."""


@dataclass
class Lifecycle:
    web: StatefulSetUnderTest  # deployed in a namespace of its own
    model: Model
    probe: Probe | None = None  # resolves per-pod DNS names, from its own namespace
    revisions: dict[int, str] = field(default_factory=dict)  # model template -> revision name
    steps: list[Step] = field(default_factory=list)

    @property
    def keeps_data(self) -> bool:
        """The data probe applies: claim templates, or a declared probe."""
        return self.web.manifest.policies.keeps_data

    @property
    def kubectl(self) -> str:
        return f"kubectl -n {self.web.namespace}"

    def pod(self, ordinal: int) -> str:
        return self.web.manifest.pod_name(self.web.manifest.start_ordinal + ordinal)

    # Steps

    def scale(self, replicas: int) -> None:
        self.step(
            f"scale to {replicas}",
            f"{self.kubectl} scale statefulset {self.web.name} --replicas={replicas}",
            lambda: rest.scale(self.web.kube, self.web.name, self.web.namespace, replicas),
            self.model.scale(replicas),
        )

    def delete_pod(self, ordinal: int) -> None:
        name = self.pod(ordinal)
        self.step(
            f"delete pod {name}",
            f"{self.kubectl} delete pod {name} --wait=false",
            lambda: rest.delete_pod(self.web.kube, name, self.web.namespace),
            self.model.delete_pods(frozenset({ordinal})),
            replaces=frozenset({ordinal}),
        )

    def delete_all_pods(self) -> None:
        selector = self.web.manifest.selector
        self.step(
            "delete all pods",
            f"{self.kubectl} delete pods -l {shlex.quote(selector)} --wait=false",
            lambda: rest.delete_pods(self.web.kube, self.web.namespace, selector),
            self.model.delete_pods(frozenset(self.model.pods)),
            replaces=frozenset(self.model.pods),
        )

    def change_template(self) -> None:
        value = f"v{self.model.update_template + 1}"
        body = {
            "spec": {"template": {"metadata": {"annotations": {updates.TEMPLATE_CHANGE: value}}}}
        }
        self.step(
            "change the pod template (a new revision)",
            f"{self.kubectl} patch statefulset {self.web.name} -p {shlex.quote(json.dumps(body))}",
            lambda: self._patch_and_learn_revision(body),
            self.model.change_template(),
        )

    def set_partition(self, partition: int) -> None:
        body = {"spec": {"updateStrategy": updates.rolling_update(partition)}}
        self.step(
            f"set the partition to {partition}",
            f"{self.kubectl} patch statefulset {self.web.name} -p {shlex.quote(json.dumps(body))}",
            lambda: updates.patch_and_observe(self.web, body),
            self.model.set_partition(partition),
        )

    def write(self, ordinal: int) -> None:
        name = self.pod(ordinal)
        value = f"{name}:{self.web.run_token}:{self.web.writes + 1}"
        probe = self.web.data_probe
        command = (
            f"env {VALUE_VARIABLE}={shlex.quote(value)} sh -c {shlex.quote(probe.write_script)}"
        )

        def store() -> None:
            stored = self.web.write_data(name)
            if stored.problem:
                raise LifecycleViolation(f"data probe in {name}: {stored.problem}")

        self.step(
            f"write {value!r} into {name}'s data",
            f"{self.kubectl} exec {name} -c {probe.container} -- {command}",
            store,
            self.model.write(ordinal, value),
        )

    def delete_claim_behind_the_controller(self, ordinal: int) -> None:
        """A fault only the self-tests inject: a claim deleted while its pod runs."""
        claims = self.web.claim_names([self.pod(ordinal)])
        self.step(
            f"delete the claims of {self.pod(ordinal)} behind the controller's back",
            "; ".join(f"{self.kubectl} delete pvc {claim} --wait=false" for claim in claims),
            lambda: self._delete_claims(claims),
            self.model,  # the model knows nothing of it: the invariants must notice
        )

    # Applying one step

    def step(
        self,
        action: str,
        kubectl: str,
        apply: Callable[[], object],
        after: Model,
        replaces: frozenset[int] = frozenset(),
    ) -> None:
        """Apply one step, wait until the set is where `after` says (the pods of `replaces`
        by new ones), then check every invariant."""
        step = Step(len(self.steps), action, kubectl)  # step 0 is the deployment
        self.steps.append(step)
        started = time.monotonic()
        before = self.model
        with self.web.record_pods() as recorder:
            pods, _ = recorder.snapshot()
            old = frozenset(
                pods[n]["metadata"]["uid"] for n in map(self.pod, replaces) if n in pods
            )
            try:
                apply()
                self.model = after
                self.settle(recorder, claims_go=before.claims - after.claims, replacing=old)
                update_revision = self.revisions.get(after.update_template, "")
                problems = transition_problems(
                    before, after, pod_timeline(recorder), self.pod, update_revision
                )
                problems += settled_pod_problems(after, self.settled_pods())
            except AssertionError as error:  # a wait that timed out, or a claim check
                problems = [str(error)]
            finally:
                step.timeline = pod_timeline(recorder)
                step.seconds = time.monotonic() - started
        if problems:
            step.outcome = "violated"
            raise LifecycleViolation(
                f"after step {step.number} ({action}):\n  " + "\n  ".join(problems)
            )
        step.outcome = "as the model says"

    def deploy(self) -> None:
        step = Step(0, f"create {self.web.name} with {self.model.replicas} replicas",
                    f"kubectl create namespace {self.web.namespace}; "
                    f"{self.kubectl} apply -f MANIFEST")  # fmt: skip
        self.steps.append(step)
        started = time.monotonic()
        self.web.deploy()
        self.revisions[0] = updates.Status.of(updates.read(self.web)).update_revision
        with self.web.record_pods() as recorder:
            self.settle(recorder, claims_go=frozenset())
        step.timeline, step.seconds, step.outcome = (
            self.web.startup,
            time.monotonic() - started,
            "settled",
        )

    def _patch_and_learn_revision(self, body: Obj) -> None:
        status = updates.patch_and_observe(self.web, body)
        self.revisions[self.model.update_template + 1] = status.update_revision

    def _delete_claims(self, names: list[str]) -> None:
        for name in names:
            rest.ignore_missing(
                self.web.kube.core.delete_namespaced_persistent_volume_claim,
                name,
                self.web.namespace,
            )

    # Where the model says the set must be

    def expected_revisions(self) -> dict[str, str]:
        return {
            self.pod(o): self.revisions.get(t, f"template {t}") for o, t in self.model.pods.items()
        }

    def settle(
        self,
        recorder: Any,
        claims_go: frozenset[int] = frozenset(),
        replacing: frozenset[str] = frozenset(),
    ) -> None:
        """Wait until pods (none with a uid of `replacing`), status, claims and endpoints are
        where the model says; claims the policy deletes go by garbage collection, so only
        their going is waited for."""
        updates.wait_for_revisions(self.web, recorder, self.expected_revisions(), replacing)
        expected = self.expected_status()
        with updates.record_statefulset(self.web) as statefulsets:
            wait.wait_on_watch(
                statefulsets,
                lambda objects: (
                    self.web.name in objects and status_matches(objects[self.web.name], expected)
                ),
                expected="status " + ", ".join(f"{k} {v}" for k, v in expected.items()),
                seen=lambda objects: str((objects.get(self.web.name) or {}).get("status")),
                timeout=self.web.timeouts.pods,
                diagnose=self.web.diagnose,
            )
        self.check_claims(wait_for_them=bool(claims_go))
        self.wait_endpoints()

    def wait_endpoints(self) -> None:
        """The headless Service lists each pod, Ready, at its current IP, before DNS is asked
        (the endpoint controller may lag the pods on a busy node)."""
        if self.probe is None:
            return
        pods = self.web.pods()
        wanted = {(name, str(pod["status"].get("podIP"))) for name, pod in pods.items()}

        def listed(slices: Mapping[str, Mapping[str, Any]]) -> bool:
            ready = {
                ((e.get("targetRef") or {}).get("name"), address)
                for e in ready_endpoints(slices)
                for address in e.get("addresses") or []
            }
            return wanted <= ready

        wait_endpoint_slices(
            self.web.kube,
            self.web.namespace,
            self.web.service,
            self.web.timeouts.pods,
            self.web.diagnose,
            until=listed,
            expected="ready endpoints " + ", ".join(f"{n} {ip}" for n, ip in sorted(wanted)),
        )

    def expected_status(self) -> dict[str, object]:
        model = self.model
        expected: dict[str, object] = {
            "replicas": model.replicas,
            "readyReplicas": model.replicas,
            "updatedReplicas": model.updated_replicas,
            "updateRevision": self.revisions.get(model.update_template),
        }
        if model.policies.strategy == ROLLING_UPDATE:
            expected["currentReplicas"] = model.current_replicas
            expected["currentRevision"] = self.revisions.get(model.current_template)
        return expected

    def expected_claims(self) -> set[str]:
        return set(self.web.claim_names([self.pod(o) for o in self.model.claims]))

    def check_claims(self, wait_for_them: bool) -> None:
        if not self.web.manifest.claim_templates:
            return
        wanted = self.expected_claims()
        expected = f"exactly the claims {', '.join(sorted(wanted)) or '(none)'}, none going away"
        if wait_for_them:
            wait.retry_until(
                self.live_claims,
                lambda claims: claims == wanted,
                expected=expected,
                seen=lambda claims: ", ".join(sorted(claims)) or "(none)",
                timeout=self.web.timeouts.pods,
                diagnose=self.web.diagnose,
            )
        elif (live := self.live_claims()) != wanted:
            seen = ", ".join(sorted(live)) or "(none)"
            raise LifecycleViolation(f"claims: expected {expected}; saw {seen}")

    def live_claims(self) -> set[str]:
        items = rest.list_items(
            self.web.kube.core.list_namespaced_persistent_volume_claim, self.web.namespace
        )
        return {c["metadata"]["name"] for c in items if not c["metadata"].get("deletionTimestamp")}

    # What the suite observes once the set settled

    def settled_pods(self) -> dict[int, SettledPod]:
        """Each pod's hostname, DNS name (once DNS agrees, or time runs out) and, where the
        model has a value for it, its data."""
        return {ordinal: self._settled_pod(ordinal) for ordinal in sorted(self.model.pods)}

    def _settled_pod(self, ordinal: int) -> SettledPod:
        name = self.pod(ordinal)
        return SettledPod(
            name=name,
            hostname=self.web.exec(name, ["hostname"]).stdout.strip(),
            dns=self._dns_lookup(name),
            data=self.web.read_data(name) if ordinal in self.model.data else None,
        )

    def _dns_lookup(self, name: str) -> DnsLookup | None:
        probe = self.probe
        if probe is None:
            return None
        fqdn = f"{name}.{self.web.service}.{self.web.namespace}.svc.cluster.local"
        ip = str(self.web.pod(name)["status"]["podIP"])
        answer = wait.attempt_until(
            lambda: probe.resolve(fqdn),
            lambda answer: answer.addresses == (ip,),
            timeout=self.web.timeouts.dns,
        )
        return DnsLookup(fqdn, ip, answer.addresses)


def status_matches(statefulset: Mapping[str, Any], expected: Mapping[str, object]) -> bool:
    status = statefulset.get("status") or {}
    generation = statefulset["metadata"].get("generation")
    if status.get("observedGeneration") != generation:
        return False
    return all(int(status.get(k) or 0) == v if isinstance(v, int) else status.get(k) == v
               for k, v in expected.items())  # fmt: skip


def step_rows(steps: list[Step]) -> list[dict[str, str]]:
    return [
        {"#": str(s.number), "step": s.action, "by hand": s.kubectl,
         "seconds": f"{s.seconds:.1f}", "outcome": s.outcome}
        for s in steps
    ]  # fmt: skip

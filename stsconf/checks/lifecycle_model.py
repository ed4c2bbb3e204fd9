"""What a StatefulSet must look like after each step of a lifecycle, as plain data.

The model follows the documented contract of the policies the manifest declares: which
ordinals exist after scaling, which revision each pod runs given the update strategy and the
partition (the controller creates a pod below the partition on the current revision, any other
on the update revision), which claims exist given the retention policy, and the value last
written into each ordinal's data. Revisions are template numbers here; the cluster's revision
names are learned as the templates are applied.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace

from stsconf.model.policies import ROLLING_UPDATE, DeclaredPolicies


@dataclass(frozen=True)
class Model:
    policies: DeclaredPolicies
    replicas: int
    partition: int = 0
    update_template: int = 0  # the template the StatefulSet holds now
    current_template: int = 0  # status.currentRevision's template
    pods: Mapping[int, int] = field(default_factory=dict)  # ordinal -> template it runs
    claims: frozenset[int] = frozenset()  # ordinals whose claims exist
    data: Mapping[int, str | None] = field(default_factory=dict)  # last value; None: lost

    @staticmethod
    def start(policies: DeclaredPolicies, replicas: int) -> Model:
        """The set as deployed: `replicas` pods on the first template, the partition it
        declares."""
        pods = dict.fromkeys(range(replicas), 0)
        claims = frozenset(pods) if policies.has_claim_templates else frozenset()
        return Model(
            policies=policies,
            replicas=replicas,
            partition=policies.partition or 0,
            pods=pods,
            claims=claims,
        )

    # Operations: each returns the model once the StatefulSet has settled after it.

    def scale(self, replicas: int) -> Model:
        kept = {o: t for o, t in self.pods.items() if o < replicas}
        created = {o: self.template_for_new_pod(o) for o in range(replicas) if o not in kept}
        claims, data = set(self.claims), dict(self.data)
        if self.policies.deletes_claims_when_scaled:
            for ordinal in set(self.pods) - set(kept):
                claims.discard(ordinal)
                if data.get(ordinal) is not None:
                    data[ordinal] = None
        if self.policies.has_claim_templates:
            claims |= set(created)
        moved = replace(self, replicas=replicas, pods={**kept, **created},
                        claims=frozenset(claims), data=data)  # fmt: skip
        return moved.rolled()

    def delete_pods(self, ordinals: frozenset[int]) -> Model:
        pods = {
            o: self.template_for_new_pod(o) if o in ordinals else t for o, t in self.pods.items()
        }
        return replace(self, pods=pods).rolled()

    def change_template(self) -> Model:
        return replace(self, update_template=self.update_template + 1).rolled()

    def set_partition(self, partition: int) -> Model:
        return replace(self, partition=partition).rolled()

    def write(self, ordinal: int, value: str) -> Model:
        return replace(self, data={**self.data, ordinal: value})

    # The contract

    def template_for_new_pod(self, ordinal: int) -> int:
        """A pod the controller creates runs the current revision below the partition of a
        RollingUpdate, the update revision otherwise."""
        if self.policies.strategy == ROLLING_UPDATE and ordinal < self.partition:
            return self.current_template
        return self.update_template

    def rolled(self) -> Model:
        """After a RollingUpdate has done its work: every pod at or above the partition runs
        the update revision; once all do, the update revision becomes the current one."""
        if self.policies.strategy != ROLLING_UPDATE:
            return self
        pods = {o: self.update_template if o >= self.partition else t for o, t in self.pods.items()}
        done = all(t == self.update_template for t in pods.values())
        current = self.update_template if done else self.current_template
        return replace(self, pods=pods, current_template=current)

    @property
    def updated_replicas(self) -> int:
        return sum(1 for t in self.pods.values() if t == self.update_template)

    @property
    def current_replicas(self) -> int | None:
        """status.currentReplicas as the contract fixes it (None under OnDelete: not fixed)."""
        if self.policies.strategy != ROLLING_UPDATE:
            return None
        return sum(1 for t in self.pods.values() if t == self.current_template)

"""Mutant StatefulSet controllers: each the real controller (Kubernetes v1.37.2's
pkg/controller/statefulset) with one small, named change, and the properties it must fail and a
few it must still pass.

Plain data. The edits are applied to the Go source at build time (airgap/mutants.py): each
`old` text must occur exactly once in its file, or the build stops. Each must-fail set was
worked out from the controller's code and the tests: every property the change breaks when that
property's test runs on its own, and no property that fails only by chance (the lifecycle test
draws random steps: it is listed only where every sequence it draws must fail). The must-pass
properties are a few the change does not touch, run beside, so that a kill is not a broken
cluster.
"""

from __future__ import annotations

from dataclasses import dataclass

from airgap.mutants import Mutation, SourceEdit

SOURCE_VERSION = "v1.37.2"  # the Kubernetes source the `old` texts are taken from

CONTROL = "stateful_set_control.go"
UTILS = "stateful_set_utils.go"
CONTROLLER = "stateful_set.go"
WHEN_SCALED_DELETE = "when_scaled_delete.yaml"  # the self-tests' manifests (tests/selftest)
WHEN_DELETED_DELETE = "when_deleted_delete.yaml"


@dataclass(frozen=True, order=True)
class Check:
    """A property (its test is test_<property_id>), on the run's own manifest, or on one of
    the self-tests' manifests that declares the form of the property it is about."""

    property_id: str
    manifest: str = ""  # a file in tests/selftest/manifests; "" = the manifest of the run

    def __str__(self) -> str:
        return f"{self.property_id} ({self.manifest})" if self.manifest else self.property_id


@dataclass(frozen=True)
class Mutant:
    name: str  # says what the real controller does that the mutant does not
    change: str  # the change, in one line
    edits: tuple[SourceEdit, ...]
    must_fail: tuple[Check, ...]
    must_pass: tuple[Check, ...]

    @property
    def mutation(self) -> Mutation:
        return Mutation(self.name, self.edits)

    @property
    def checks(self) -> tuple[Check, ...]:
        return (*self.must_fail, *self.must_pass)


def checks(*ids: str, manifest: str = "") -> tuple[Check, ...]:
    return tuple(Check(property_id, manifest) for property_id in ids)


def edit(file: str, old: str, new: str) -> SourceEdit:
    return SourceEdit(file, old, new)


MUTANTS = (
    Mutant(
        "ordered-ready-ignored",
        "OrderedReady handled like Parallel: pods created and deleted without waiting",
        (
            edit(
                UTILS,
                "return set.Spec.PodManagementPolicy == apps.ParallelPodManagement",
                "return true // mutant: OrderedReady handled like Parallel",
            ),
        ),
        # The update path reads podManagementPolicy itself: rolling updates stay in order.
        checks(
            "ordered_startup",
            "scale_up_order",
            "scale_down_order",
            "halts_on_unhealthy",
            "orphan_and_adopt",  # the two pods above the replicas go together
        ),
        checks("parallel_launch", "stable_hostnames", "rolling_update_order"),
    ),
    Mutant(
        "condemned-lowest-first",
        "scale-down removes the lowest ordinal first",
        (
            edit(
                CONTROL,
                "sort.Sort(descendingOrdinal(condemned))",
                "sort.Sort(ascendingOrdinal(condemned)) // mutant: lowest ordinal first",
            ),
        ),
        # Every scale-down by two or more under OrderedReady; pvc_retention_policy (Parallel,
        # by one) and start_ordinal (one pod out of range at a time) do not see it.
        checks("scale_down_order", "orphan_and_adopt", "halts_on_unhealthy"),
        checks("ordered_startup", "scale_up_order"),
    ),
    Mutant(
        "start-ordinal-ignored",
        "spec.ordinals.start read as 0",
        (edit(UTILS, "return int(set.Spec.Ordinals.Start)", "return 0 // mutant: read as 0"),),
        checks("start_ordinal"),
        checks("pod_labels", "scale_subresource"),
    ),
    Mutant(
        "no-adoption",
        "orphans matching the selector are never adopted (nor seen)",
        (
            edit(
                CONTROLLER,
                'FilterPodsByOwner(ssc.podIndexer, &set.ObjectMeta, "StatefulSet", true)',
                'FilterPodsByOwner(ssc.podIndexer, &set.ObjectMeta, "StatefulSet", false)',
            ),
        ),
        checks("orphan_and_adopt"),
        checks("pod_labels", "scale_subresource"),
    ),
    Mutant(
        "failed-pods-kept",
        "a Failed pod is neither deleted nor created again",
        (
            edit(
                CONTROL,
                "if isTerminalPhase(replicas[i]) {",
                "if isTerminalPhase(replicas[i]) && false { // mutant: failed pods kept",
            ),
        ),
        checks("recreates_failed_pod"),
        checks("pod_labels", "scale_subresource"),
    ),
    Mutant(
        "partition-ignored",
        "rollingUpdate.partition read as 0",
        (
            edit(  # the update, with the MaxUnavailableStatefulSet gate on (1.37's default)
                CONTROL,
                "\tmaxUnavailable := 1\n\tif set.Spec.UpdateStrategy.RollingUpdate != nil {\n"
                "\t\tupdateMin = int(*set.Spec.UpdateStrategy.RollingUpdate.Partition)\n",
                "\tmaxUnavailable := 1\n\tif set.Spec.UpdateStrategy.RollingUpdate != nil {\n"
                "\t\tupdateMin = 0 // mutant: partition read as 0\n",
            ),
            edit(  # the update with the gate off
                CONTROL,
                "\tupdateMin := 0\n\tif set.Spec.UpdateStrategy.RollingUpdate != nil {\n"
                "\t\tupdateMin = int(*set.Spec.UpdateStrategy.RollingUpdate.Partition)\n",
                "\tupdateMin := 0\n\tif set.Spec.UpdateStrategy.RollingUpdate != nil {\n"
                "\t\tupdateMin = 0 // mutant: partition read as 0\n",
            ),
            edit(  # the revision of a pod created again below the partition
                UTILS,
                "int(*currentSet.Spec.UpdateStrategy.RollingUpdate.Partition)",
                "0 /* mutant: partition read as 0 */",
            ),
        ),
        # the client sees the pod below the partition go: it is replaced after all
        checks("partitioned_update", "available_during_partitioned_update"),
        checks("rolling_update_order", "on_delete_update"),
    ),
    Mutant(
        "update-lowest-first",
        "a rolling update (OrderedReady) replaces the lowest ordinal first",
        (
            edit(
                CONTROL,
                "for target := len(replicas) - 1; target >= updateMin && deletedPods < "
                "podsToDelete; target-- {",
                "for target := updateMin; target < len(replicas) && deletedPods < podsToDelete; "
                "target++ { // mutant: lowest ordinal first",
            ),
        ),
        # partitioned_update replaces one pod per partition step: it cannot tell the order.
        # forced_rollback: the broken revision lands on the lowest pod, not the highest.
        checks("rolling_update_order", "rollback", "forced_rollback", "min_ready_seconds"),
        checks("partitioned_update", "on_delete_update"),
    ),
    Mutant(
        "min-ready-ignored",
        "a pod counts as available as soon as it is Ready (minReadySeconds read as 0)",
        (
            edit(
                UTILS,
                "return podutil.IsPodAvailable(pod, minReadySeconds, metav1.Time{Time: now})",
                "return podutil.IsPodAvailable(pod, 0, metav1.Time{Time: now}) // mutant",
            ),
            edit(
                UTILS,
                "return !podutil.IsPodAvailable(pod, minReadySeconds, metav1.Time{Time: now})",
                "return !podutil.IsPodAvailable(pod, 0, metav1.Time{Time: now})",
            ),
        ),
        checks("min_ready_seconds"),
        checks("rolling_update_order", "partitioned_update"),
    ),
    Mutant(
        "max-unavailable-ignored",
        "rollingUpdate.maxUnavailable read as 1",
        (
            edit(
                UTILS,
                "intstr.ValueOrDefault(maxUnavailable, intstr.FromInt32(1))",
                "intstr.ValueOrDefault(nil, intstr.FromInt32(1)) /* mutant: read as 1 */",
            ),
        ),
        checks("max_unavailable"),
        checks("rolling_update_order", "on_delete_update"),
    ),
    Mutant(
        "retention-ignored",
        "persistentVolumeClaimRetentionPolicy handled as Retain",
        (
            edit(
                UTILS,
                "\t\tpolicy = *set.Spec.PersistentVolumeClaimRetentionPolicy\n",
                "\t\t_ = set.Spec.PersistentVolumeClaimRetentionPolicy // mutant: as Retain\n",
            ),
        ),
        (
            Check("pvc_retention_policy"),
            Check("pvcs_kept_after_scale_down", WHEN_SCALED_DELETE),
            Check("cleanup_keeps_pvcs", WHEN_DELETED_DELETE),
        ),
        checks("pvcs_kept_after_scale_down", "cleanup_keeps_pvcs"),  # web.yaml: Retain
    ),
    Mutant(
        "revision-not-advanced",
        "status.currentRevision stays at the old revision after an update",
        (
            edit(
                UTILS,
                "\t\tstatus.CurrentRevision = status.UpdateRevision\n",
                "\t\t// mutant: status.currentRevision not advanced\n",
            ),
        ),
        # Each of these waits for currentRevision == updateRevision after an update.
        # on_delete_update and forced_rollback on their own do not: the first never waits for
        # it, the second returns to the revision that is still current.
        checks(
            "rolling_update_order",
            "partitioned_update",
            "rollback",
            "min_ready_seconds",
            "max_unavailable",
            "lifecycle",
        ),
        checks("ordered_startup", "stable_hostnames", "pod_labels"),
    ),
    Mutant(
        "pod-index-label-missing",
        "pods lack the label apps.kubernetes.io/pod-index",
        (
            edit(
                UTILS,
                "\tpod.Labels[apps.PodIndexLabel] = strconv.Itoa(ordinal)\n",
                "\t// mutant: no pod-index label\n",
            ),
        ),
        checks("pod_labels"),
        checks("scale_subresource", "stable_hostnames"),
    ),
    Mutant(
        "identity-not-set",
        "pods get no hostname and subdomain from the set",
        (
            edit(
                UTILS,
                "\tpod.Spec.Hostname = pod.Name\n\tpod.Spec.Subdomain = set.Spec.ServiceName\n",
                "\t// mutant: no hostname, no subdomain\n",
            ),
        ),
        # lifecycle checks each pod's DNS record after every step.
        checks("stable_hostnames", "dns_records", "lifecycle"),
        checks("pod_labels", "ordered_startup"),
    ),
    Mutant(
        "revision-includes-replicas",
        "spec.replicas is part of a revision: scaling rolls every pod onto a new one",
        (
            edit(
                UTILS,
                '\tspecCopy["template"] = template\n',
                '\tspecCopy["template"] = template\n'
                '\tspecCopy["replicas"] = spec["replicas"] // mutant: replicas in the revision\n',
            ),
        ),
        # the pods that stay through a scaling are replaced: the client finds them gone
        checks("available_during_scaling"),
        checks("ordered_startup", "stable_hostnames"),
    ),
)

BY_NAME = {mutant.name: mutant for mutant in MUTANTS}


class UnknownMutant(ValueError):
    """A mutant name that is not in MUTANTS."""


def select(names: list[str]) -> list[Mutant]:
    """The mutants named (all when none is), in the catalog's order."""
    unknown = [name for name in names if name not in BY_NAME]
    if unknown:
        raise UnknownMutant(f"unknown mutant {', '.join(unknown)}; known: {', '.join(BY_NAME)}")
    wanted = set(names) or set(BY_NAME)
    return [mutant for mutant in MUTANTS if mutant.name in wanted]


def union_of_checks(mutants: list[Mutant]) -> list[Check]:
    """Every check the mutants are run against, once each: what the real controller passes."""
    return sorted({check for mutant in mutants for check in mutant.checks})

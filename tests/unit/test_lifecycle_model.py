"""The lifecycle model: where the documented contract puts a StatefulSet after each step."""

from __future__ import annotations

from stsconf.checks.lifecycle import (
    DnsLookup,
    SettledPod,
    settled_pod_problems,
    transition_problems,
)
from stsconf.checks.lifecycle_model import Model
from stsconf.checks.ordering import identity_overlaps
from stsconf.model.dataprobe import ProbeRun
from stsconf.model.exec_result import ExecResult
from stsconf.model.policies import ON_DELETE, DeclaredPolicies
from stsconf.model.timeline import (
    ADDED,
    CONTROLLER_LAG,
    DELETED,
    EXISTING,
    MODIFIED,
    PodEvent,
    PodState,
    Timeline,
)
from tests.unit.problems import texts

RETAIN = DeclaredPolicies(has_claim_templates=True)
DELETE_WHEN_SCALED = DeclaredPolicies(when_scaled="Delete", has_claim_templates=True)


def test_scaling_adds_and_removes_the_highest_ordinals() -> None:
    model = Model.start(RETAIN, 2).scale(3)
    assert set(model.pods) == {0, 1, 2}
    assert set(model.scale(1).pods) == {0}


def test_retained_claims_keep_their_data_across_a_scale_down() -> None:
    model = Model.start(RETAIN, 2).write(1, "v").scale(1).scale(2)
    assert model.claims == {0, 1}
    assert model.data[1] == "v"


def test_claims_deleted_when_scaled_lose_their_data() -> None:
    model = Model.start(DELETE_WHEN_SCALED, 2).write(1, "v").scale(1)
    assert model.claims == {0}
    assert model.data[1] is None
    assert model.scale(2).claims == {0, 1}  # a fresh, empty claim


def test_a_rolling_update_moves_every_pod_and_then_the_current_revision() -> None:
    model = Model.start(RETAIN, 3).change_template()
    assert dict(model.pods) == {0: 1, 1: 1, 2: 1}
    assert (model.current_template, model.updated_replicas, model.current_replicas) == (1, 3, 3)


def test_a_partition_holds_the_ordinals_below_it_on_the_current_revision() -> None:
    model = Model.start(RETAIN, 3).set_partition(2).change_template()
    assert dict(model.pods) == {0: 0, 1: 0, 2: 1}
    assert (model.current_template, model.updated_replicas, model.current_replicas) == (0, 1, 2)
    # a pod below the partition that is deleted comes back on the current revision
    assert model.delete_pods(frozenset({0})).pods[0] == 0
    # lowering the partition to 0 finishes the roll-out
    done = model.set_partition(0)
    assert set(done.pods.values()) == {1}
    assert done.current_template == 1


def test_on_delete_replaces_only_deleted_pods() -> None:
    model = Model.start(
        DeclaredPolicies(update_strategy=ON_DELETE, has_claim_templates=True), 2
    ).change_template()
    assert dict(model.pods) == {0: 0, 1: 0}
    assert model.current_replicas is None  # not fixed by the contract under OnDelete
    after = model.delete_pods(frozenset({1})).scale(3)
    assert dict(after.pods) == {0: 0, 1: 1, 2: 1}


def test_policies_are_read_from_the_statefulset() -> None:
    spec = {
        "podManagementPolicy": "Parallel",
        "updateStrategy": {"type": "OnDelete"},
        "persistentVolumeClaimRetentionPolicy": {"whenScaled": "Delete"},
        "volumeClaimTemplates": [{"metadata": {"name": "www"}}],
    }
    policies = DeclaredPolicies.of({"spec": spec})
    assert (policies.ordered, policies.strategy) == (False, ON_DELETE)
    assert (policies.deletes_claims_when_scaled, policies.has_claim_templates) == (True, True)
    assert policies.keeps_data
    default = DeclaredPolicies.of({"spec": {}})
    assert (default.ordered, default.strategy, default.keeps_data) == (True, "RollingUpdate", False)


def event(seq: int, kind: str, uid: str) -> PodEvent:
    return PodEvent(seq, float(seq), kind, PodState("web-0", uid, "Running", True, False))


def test_a_second_pod_of_one_identity_before_the_first_is_gone_is_caught() -> None:
    overlapping = Timeline(
        [event(0, EXISTING, "a"), event(1, MODIFIED, "b"), event(2, DELETED, "a")]
    )
    [violation] = identity_overlaps(overlapping)
    assert violation.what == "web-0"
    assert "uid b at event #1 while uid a was not gone" in violation.seen


def test_a_replacement_after_the_previous_pod_is_gone_is_fine() -> None:
    replaced = Timeline([event(0, EXISTING, "a"), event(1, DELETED, "a"), event(2, MODIFIED, "b")])
    assert identity_overlaps(replaced) == []


def test_a_declared_probe_keeps_data_but_makes_no_claims() -> None:
    probe_only = DeclaredPolicies.of({"spec": {}}, declares_data_probe=True)
    assert probe_only.keeps_data
    assert Model.start(probe_only, 2).scale(3).claims == frozenset()


def test_the_declared_partition_is_where_the_model_starts() -> None:
    spec = {"updateStrategy": {"type": "RollingUpdate", "rollingUpdate": {"partition": 1}}}
    assert Model.start(DeclaredPolicies.of({"spec": spec}), 2).partition == 1


def names(offset: int) -> str:
    return f"web-{offset}"


def test_a_scale_up_out_of_order_is_a_transition_problem() -> None:
    before = Model.start(RETAIN, 1)
    out_of_order = Timeline(
        [
            PodEvent(0, 0.0, EXISTING, PodState("web-0", "a", "Running", True, False)),
            PodEvent(1, 1.0, MODIFIED, PodState("web-0", "a", "Running", False, False)),
            PodEvent(
                2,
                1.0 + CONTROLLER_LAG + 1.0,
                ADDED,
                PodState("web-1", "b", "Pending", False, False),
            ),
        ]
    )
    [problem] = transition_problems(
        before, before.scale(2), out_of_order, pod_name=names, update_revision="rev"
    )
    assert str(problem).startswith("web-1: expected to be created only after web-0 was Running")
    parallel = Model.start(DeclaredPolicies(pod_management="Parallel"), 1)
    assert (
        transition_problems(
            parallel, parallel.scale(2), out_of_order, pod_name=names, update_revision="rev"
        )
        == []
    )


def settled(name: str, hostname: str, addresses: tuple[str, ...], output: str) -> SettledPod:
    read = ProbeRun(name, "c", "cat", ExecResult(("cat",), 0, output, ""))
    return SettledPod(name, hostname, DnsLookup(f"{name}.nginx", "10.0.0.1", addresses), read)


def test_settled_pods_are_checked_against_the_model() -> None:
    model = Model.start(RETAIN, 2).write(0, "v")
    good = {
        0: settled("web-0", "web-0", ("10.0.0.1",), "v"),
        1: settled("web-1", "web-1", ("10.0.0.1",), ""),
    }
    assert settled_pod_problems(model, good) == []
    bad = {0: settled("web-0", "web-0.x", (), "w")}
    assert texts(settled_pod_problems(model, bad)) == [
        "web-0: expected hostname web-0; saw 'web-0.x'",
        "web-0: expected web-0.nginx to resolve to 10.0.0.1; saw no address",
        "web-0: expected the value last written, 'v'; saw 'w'",
    ]


def test_a_value_left_in_a_claim_the_policy_deleted_is_reported() -> None:
    model = Model.start(DELETE_WHEN_SCALED, 2).write(1, "v").scale(1).scale(2)
    [problem] = settled_pod_problems(model, {1: settled("web-1", "web-1", ("10.0.0.1",), "v")})
    assert str(problem) == "web-1: expected no value (its claim was deleted by policy); saw 'v'"

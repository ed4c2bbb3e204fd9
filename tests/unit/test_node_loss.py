"""At most one pod per identity while a node is lost, and pods returning after a restart:
the checkers over recorded watch timelines, fed streams that break them."""

from __future__ import annotations

from dataclasses import replace

from stsconf.checks.node_loss import (
    ReturnedPod,
    placement_problems,
    return_violations,
    returned_pod_problems,
    volume_placement_not_applicable,
)
from stsconf.checks.ordering import identity_overlaps
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
from stsconf.observe.placement import takes_ordinary_pods, volume_node
from stsconf.workload.disruption import EVICTION_TAINTS, short_tolerations


def pod(name: str, uid: str, ready: bool = True, terminating: bool = False) -> PodState:
    phase = "Running" if ready else "Pending"
    return PodState(name, uid=uid, phase=phase, ready=ready, terminating=terminating)


def timeline(*steps: tuple[str, PodState]) -> Timeline:
    return Timeline([PodEvent(i, float(i), kind, state) for i, (kind, state) in enumerate(steps)])


OLD = pod("web-1", "old")
OLD_MARKED = replace(OLD, terminating=True)  # evicted from the lost node, not confirmed gone
NEW = pod("web-1", "new", ready=False)


def test_replacement_only_after_the_force_delete_is_no_violation() -> None:
    events = timeline(
        (EXISTING, OLD),
        (MODIFIED, OLD_MARKED),
        (DELETED, OLD_MARKED),  # the force delete
        (ADDED, NEW),
    )
    assert identity_overlaps(events) == []


def test_second_pod_while_the_old_one_is_marked_for_deletion_is_a_violation() -> None:
    events = timeline(
        (EXISTING, OLD),
        (MODIFIED, OLD_MARKED),
        (ADDED, NEW),  # the controller did not wait for the old pod to be gone
        (DELETED, OLD_MARKED),
    )
    [violation] = identity_overlaps(events)
    assert violation.what == "web-1"
    assert "while uid old was not gone" in str(violation)


def test_second_pod_beside_a_running_one_is_a_violation() -> None:
    events = timeline((EXISTING, OLD), (ADDED, NEW))
    assert [v.what for v in identity_overlaps(events)] == ["web-1"]


def test_other_names_do_not_count_as_a_second_pod() -> None:
    events = timeline((EXISTING, OLD_MARKED), (ADDED, pod("web-2", "x")))
    assert identity_overlaps(events) == []


def test_pods_restarted_in_place_return_without_violation() -> None:
    web0, web1 = pod("web-0", "a"), pod("web-1", "b")
    events = timeline(
        (EXISTING, web0),
        (EXISTING, web1),
        (MODIFIED, replace(web0, ready=False)),
        (MODIFIED, replace(web1, ready=False)),
        (MODIFIED, web1),  # readiness may return in any order: no pod was created
        (MODIFIED, web0),
    )
    assert return_violations(events, ["web-0", "web-1"], ordered=True) == []


def test_evicted_pod_created_again_before_its_predecessor_is_ready_is_a_violation() -> None:
    web0, web1 = pod("web-0", "a"), pod("web-1", "b")
    steps = [
        (0.0, EXISTING, web0),
        (0.0, EXISTING, web1),
        (1.0, MODIFIED, replace(web0, ready=False)),
        (2.0, DELETED, web1),
        (1.0 + CONTROLLER_LAG + 1.0, ADDED, pod("web-1", "c", ready=False)),  # web-0 not Ready
        (9.0, MODIFIED, web0),
    ]
    events = Timeline([PodEvent(i, *step) for i, step in enumerate(steps)])
    [violation] = return_violations(events, ["web-0", "web-1"], ordered=True)
    assert violation.what == "web-1"
    assert return_violations(events, ["web-0", "web-1"], ordered=False) == []


def test_short_tolerations_cover_unreachable_and_not_ready_for_the_given_seconds() -> None:
    tolerations = short_tolerations(2)
    assert {t["key"] for t in tolerations} == set(EVICTION_TAINTS)
    assert all(t["effect"] == "NoExecute" and t["tolerationSeconds"] == 2 for t in tolerations)


def test_volume_node_reads_a_local_volumes_node_affinity() -> None:
    term = {"matchExpressions": [{"key": "kubernetes.io/hostname", "values": ["w1"]}]}
    volume = {"spec": {"nodeAffinity": {"required": {"nodeSelectorTerms": [term]}}}}
    assert volume_node(volume) == "w1"
    assert volume_node({"spec": {}}) == ""


def test_a_control_plane_taint_keeps_ordinary_pods_away() -> None:
    taint = {"key": "node-role.kubernetes.io/control-plane", "effect": "NoSchedule"}
    assert not takes_ordinary_pods({"spec": {"taints": [taint]}})
    assert takes_ordinary_pods({"spec": {}})


def test_following_the_volume_does_not_apply_when_no_volume_has_a_node() -> None:
    reason = volume_placement_not_applicable({"web-0": set(), "web-1": set()})
    assert reason is not None
    assert reason.startswith("not applicable: no volume of web-0, web-1 has a node affinity")
    assert volume_placement_not_applicable({"web-0": {"w1"}, "web-1": set()}) is None


def returned(name: str, hostname: str = "", resolves_to: str = "10.0.0.1") -> ReturnedPod:
    return ReturnedPod(
        name=name,
        hostname=hostname or name,
        ip="10.0.0.1",
        dns_name=f"{name}.nginx",
        resolves_to=resolves_to,
        claims={f"www-{name}": "u1"},
    )


def test_a_returned_pod_with_its_identity_and_claims_passes() -> None:
    before = {"web-0": {"www-web-0": "u1"}}
    assert returned_pod_problems([returned("web-0")], before, "node w restarted") == []


def test_a_returned_pod_with_another_hostname_address_or_claim_is_reported() -> None:
    before = {"web-0": {"www-web-0": "u0"}}
    problems = returned_pod_problems(
        [returned("web-0", resolves_to="10.0.0.9")], before, "node w restarted"
    )
    assert [str(p) for p in problems] == [
        "pod web-0 after node w restarted: expected hostname web-0, web-0.nginx resolving to its "
        "IP; saw hostname web-0, resolving to 10.0.0.9 (IP 10.0.0.1)",
        "claims of web-0: expected the same claims as before the restart ({'www-web-0': 'u0'}); "
        "saw {'www-web-0': 'u1'}",
    ]


def test_a_replacement_away_from_its_local_volume_is_reported() -> None:
    volumes = {"web-0": {"w1"}, "web-1": {"w2"}, "web-2": set()}
    assert placement_problems(volumes, {"web-0": "w1", "web-1": "w2", "web-2": "w1"}) == []
    problems = placement_problems(volumes, {"web-0": "w1", "web-1": "w1", "web-2": "w2"})
    assert [str(p) for p in problems] == [
        "node of the replacement of web-1: expected the node of its volume (w2); saw w1"
    ]

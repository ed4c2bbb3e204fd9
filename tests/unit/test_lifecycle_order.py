"""The ordering rules of one lifecycle step: rolling updates keep their order under Parallel
too, and on steps that also add pods."""

from __future__ import annotations

from stsconf.checks.lifecycle import rolled_offsets, transition_problems
from stsconf.checks.lifecycle_model import Model
from stsconf.model.policies import DeclaredPolicies
from tests.unit.test_update_order import NEW, PODS_DESCENDING, rolling

PARALLEL = DeclaredPolicies(pod_management="Parallel")


def name(offset: int) -> str:
    return f"web-{offset}"


def test_a_rolling_update_from_the_lowest_ordinal_is_a_violation_under_parallel() -> None:
    before = Model.start(PARALLEL, 3)
    after = before.change_template()
    timeline = rolling("web-0", "web-1", "web-2")
    problems = transition_problems(before, after, timeline, pod_name=name, update_revision=NEW)
    assert [p.what for p in problems] == ["web-1", "web-0"]


def test_a_rolling_update_in_order_under_parallel_has_no_violation() -> None:
    before = Model.start(PARALLEL, 3)
    after = before.change_template()
    timeline = rolling(*PODS_DESCENDING)
    assert transition_problems(before, after, timeline, pod_name=name, update_revision=NEW) == []


def test_pods_rolled_on_a_step_that_also_adds_pods_are_still_checked() -> None:
    before = Model.start(DeclaredPolicies(), 2).set_partition(2).change_template()
    after = before.set_partition(0).scale(3)
    assert set(after.pods) - set(before.pods) == {2}
    assert rolled_offsets(before, after) == [1, 0]

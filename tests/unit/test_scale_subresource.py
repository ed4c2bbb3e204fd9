"""The scale subresource's checks, fed Scales and StatefulSets that disagree."""

from __future__ import annotations

from typing import Any

from stsconf.checks.scale_subresource import scale_problems, selector_terms

SET = {"metadata": {"name": "web"}, "spec": {"replicas": 2}}


def scale(spec: int, status: int | None = 2, selector: str = "app=nginx") -> dict[str, Any]:
    return {
        "kind": "Scale",
        "metadata": {"name": "web"},
        "spec": {"replicas": spec},
        "status": {"replicas": status, "selector": selector},
    }


def test_a_scale_that_agrees_passes() -> None:
    assert scale_problems(scale(2), SET, 2, "app=nginx") == []


def test_scale_spec_or_statefulset_replicas_that_differ_are_reported() -> None:
    problems = scale_problems(scale(3), SET, 3, "app=nginx", settled=False)
    assert problems == ["StatefulSet web spec.replicas: expected 3; saw 2"]
    problems = scale_problems(scale(2), SET, 3, "app=nginx", settled=False)
    assert problems == [
        "Scale spec.replicas: expected 3; saw 2",
        "StatefulSet web spec.replicas: expected 3; saw 2",
    ]


def test_status_and_selector_are_checked_once_settled() -> None:
    stale = scale(2, status=1, selector="app=other")
    assert scale_problems(stale, SET, 2, "app=nginx", settled=False) == []
    assert scale_problems(stale, SET, 2, "app=nginx") == [
        "Scale status.replicas: expected 2; saw 1",
        "Scale status.selector: expected 'app=nginx'; saw 'app=other'",
    ]


def test_a_scale_of_another_object_is_reported() -> None:
    other = {**scale(2), "metadata": {"name": "db"}}
    [problem] = scale_problems(other, SET, 2, "app=nginx")
    assert problem == "scale subresource: expected a Scale named web; saw Scale db"


def test_selector_terms_ignore_order_and_keep_sets() -> None:
    assert selector_terms("b=2,a=1") == selector_terms("a=1,b=2")
    assert selector_terms("tier in (a,b),app=x") == {"tier in (a,b)", "app=x"}

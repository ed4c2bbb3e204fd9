"""Claim checks and failure messages."""

from __future__ import annotations

import pytest

from stsconf.access.wait import WaitTimeout, retry_until
from stsconf.checks import storage
from stsconf.model.expectations import (
    Problem,
    Unmet,
    expect,
    expect_none,
    failure_text,
    found_at,
)
from stsconf.model.manifest import ClaimTemplate
from tests.unit.problems import texts

TEMPLATE = ClaimTemplate("www", "1Gi", ("ReadWriteOnce",), "/data")
POD = {
    "metadata": {"name": "web-0"},
    "spec": {"volumes": [{"name": "www", "persistentVolumeClaim": {"claimName": "www-web-0"}}]},
}


def claim(phase: str = "Bound", capacity: str = "1Gi", **metadata: object) -> dict[str, object]:
    return {
        "metadata": {"name": "www-web-0", **metadata},
        "spec": {"accessModes": ["ReadWriteOnce"]},
        "status": {"phase": phase, "capacity": {"storage": capacity}},
    }


def test_matching_claim_has_no_problem() -> None:
    assert storage.claim_problems(claim(capacity="1073741824"), TEMPLATE, "www-web-0", POD) == []


def test_every_difference_is_reported() -> None:
    pod = {"metadata": {"name": "web-0"}, "spec": {"volumes": [{"name": "www", "emptyDir": {}}]}}
    problems = storage.claim_problems(claim("Pending", "2Gi"), TEMPLATE, "www-web-0", pod)
    assert texts(problems) == [
        "www-web-0: expected phase Bound; saw phase Pending",
        "www-web-0: expected capacity 1Gi; saw capacity 2Gi",
        "pod web-0: expected volume www to use claim www-web-0; saw no claim behind that volume",
    ]


def test_missing_claim() -> None:
    assert texts(storage.claim_problems(None, TEMPLATE, "www-web-0", POD)) == [
        "www-web-0: expected a claim for pod web-0; saw no such claim"
    ]


def test_claim_owned_by_a_deleted_object_awaits_garbage_collection() -> None:
    owned = claim(ownerReferences=[{"kind": "StatefulSet", "name": "web", "uid": "u1"}])
    assert storage.awaiting_garbage_collection(owned, live_uids={"u2"})
    assert not storage.awaiting_garbage_collection(owned, live_uids={"u1"})
    assert not storage.awaiting_garbage_collection(claim(), live_uids=set())
    assert storage.describe_claim("www-web-0", owned) == "www-web-0 Bound owned by StatefulSet/web"


def test_kept_and_released() -> None:
    assert storage.claim_kept(claim())
    assert not storage.claim_kept(claim(deletionTimestamp="now"))
    assert not storage.claim_kept(None)
    assert storage.volume_released(None)
    assert storage.volume_released({"status": {"phase": "Released"}})
    assert not storage.volume_released({"status": {"phase": "Bound"}})


def test_messages_say_expected_and_saw() -> None:
    problem = Problem("web-0", "hostname web-0", "'x'")
    assert str(problem) == "web-0: expected hostname web-0; saw 'x'"
    with pytest.raises(pytest.fail.Exception) as failed:  # reported as pytest.fail does
        expect(False, "web-0", "a", "b")
    assert isinstance(failed.value, Unmet)
    assert (failed.value.msg, failed.value.problems) == (
        "web-0: expected a; saw b",
        (Problem("web-0", "a", "b"),),
    )
    expect(True, "web-0", "a", "b")
    one, two = Problem("web-1", "a", "b"), Problem("web-2", "c", "d")
    with pytest.raises(Unmet) as unmet:
        expect_none([one, two], "order")
    assert unmet.value.msg == "order:\n  web-1: expected a; saw b\n  web-2: expected c; saw d"
    expect_none([], "order")


def test_a_failure_says_its_problems_then_its_detail() -> None:
    problem = Problem("web-1", "a", "b")
    assert failure_text("step 1", [problem], "by hand: kubectl ...") == (
        "step 1:\n  web-1: expected a; saw b\nby hand: kubectl ..."
    )
    assert failure_text("", [], "only words") == "only words"
    assert found_at("get", [problem]) == [Problem("get: web-1", "a", "b")]


def test_retry_until_explains_a_timeout() -> None:
    attempts = iter(range(1000))
    with pytest.raises(WaitTimeout, match=r"expected a big number; saw \d+\nstate dump"):
        retry_until(
            lambda: next(attempts),
            lambda n: n > 10**6,
            expected="a big number",
            seen=str,
            timeout=0.3,
            diagnose=lambda: "state dump",
        )
    assert retry_until(lambda: 5, lambda n: n == 5, expected="5", seen=str, timeout=1) == 5


def test_a_claim_without_a_bound_volume_is_a_problem_before_its_release_is_checked() -> None:
    bound = {"spec": {"volumeName": "pv-1"}, "status": {"phase": "Bound"}}
    pending = {"spec": {}, "status": {"phase": "Pending"}}
    assert storage.unbound_problems({"www-web-0": bound}) == []
    (problem,) = storage.unbound_problems({"www-web-0": bound, "www-web-1": pending})
    assert str(problem) == "www-web-1: expected Bound to a volume; saw www-web-1 Pending, no volume"


def test_a_claim_of_the_set_not_found_is_missing() -> None:
    claims: dict[str, dict[str, object]] = {"www-web-0": {}}
    assert storage.missing_claim_problems(["www-web-0"], claims) == []
    [problem] = storage.missing_claim_problems(["www-web-0", "www-web-1"], claims)
    assert str(problem) == "www-web-1: expected a claim of the set; saw missing"


def test_claims_not_kept_or_not_bound_are_reported() -> None:
    claims = {"www-web-2": claim(), "www-web-3": claim("Lost"), "www-web-4": None}
    assert [str(p) for p in storage.kept_and_bound_problems(claims)] == [
        "www-web-3: expected claim kept and Bound; saw www-web-3 Lost",
        "www-web-4: expected claim kept and Bound; saw www-web-4 gone",
    ]


def test_a_pod_mounting_a_claim_other_than_the_kept_one_is_reported() -> None:
    kept = storage.Reattachment("web-2", "www-web-2", "u1", uid_now="u1", mounted="www-web-2")
    new = storage.Reattachment("web-3", "www-web-3", "u2", uid_now="u9", mounted="www-web-3")
    assert storage.reattachment_problems([kept]) == []
    assert [str(p) for p in storage.reattachment_problems([kept, new])] == [
        "web-3: expected to mount the kept claim www-web-3 (u2); saw claim www-web-3 (u9)"
    ]


def test_a_volume_using_another_claim_after_an_update_is_reported() -> None:
    before = {"web-0": {"www": "www-web-0 uid 1"}, "web-1": {"www": "www-web-1 uid 2"}}
    after = {"web-0": {"www": "www-web-0 uid 1"}, "web-1": {"www": "www-web-1 uid 3"}}
    assert storage.same_claims_problems(before, before) == []
    assert [str(p) for p in storage.same_claims_problems(before, after)] == [
        "web-1 volume www: expected claim www-web-1 uid 2; saw claim www-web-1 uid 3"
    ]

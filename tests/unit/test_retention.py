"""The claim retention checks, fed claims and watch events that break them."""

from __future__ import annotations

from typing import Any

from stsconf.checks.retention import (
    Owner,
    deleted_problems,
    kept_problems,
    missing_owner_problems,
    owned_before_deletion_problems,
    recreated_problems,
    unexpected_owner_problems,
)
from stsconf.model.timeline import ADDED, DELETED, EXISTING, MODIFIED, WatchEvent

SET = Owner("StatefulSet", "web", "set-uid-0001")
POD = Owner("Pod", "web-2", "pod-uid-0002")


def claim(name: str, *owners: Owner, deleting: bool = False) -> dict[str, Any]:
    metadata: dict[str, Any] = {
        "name": name,
        "uid": f"uid-{name}",
        "ownerReferences": [
            {"kind": o.kind, "name": o.name, "uid": o.uid, "controller": True} for o in owners
        ],
    }
    if deleting:
        metadata["deletionTimestamp"] = "2026-12-01T00:00:00Z"
    return {"metadata": metadata, "status": {"phase": "Bound"}}


def events(*steps: tuple[str, dict[str, Any]]) -> list[WatchEvent]:
    return [WatchEvent(i, float(i), kind, obj) for i, (kind, obj) in enumerate(steps)]


def test_claims_owned_by_the_statefulset_pass() -> None:
    claims = {"www-web-0": claim("www-web-0", SET), "www-web-1": claim("www-web-1", SET)}
    assert missing_owner_problems(claims, dict.fromkeys(claims, SET)) == []


def test_a_claim_without_the_owner_reference_or_gone_is_reported() -> None:
    other = Owner("StatefulSet", "web", "another-uid")
    claims = {"www-web-0": claim("www-web-0", other), "www-web-1": claim("www-web-1")}
    problems = missing_owner_problems(
        claims, {"www-web-0": SET, "www-web-1": SET, "www-web-2": SET}
    )
    assert problems == [
        "www-web-0: expected an owner reference to StatefulSet/web (uid set-uid-); "
        "saw StatefulSet/web (uid another-)",
        "www-web-1: expected an owner reference to StatefulSet/web (uid set-uid-); "
        "saw no owner references",
        "www-web-2: expected a claim owned by StatefulSet/web (uid set-uid-); saw no such claim",
    ]


def test_an_owner_that_should_not_be_there_is_reported() -> None:
    claims = {"www-web-0": claim("www-web-0", SET), "www-web-1": claim("www-web-1")}
    [problem] = unexpected_owner_problems(claims, SET, ["www-web-0", "www-web-1"])
    assert problem.startswith("www-web-0: expected no owner reference to StatefulSet/web")


def test_condemned_claim_owned_by_its_pod_then_deleted_passes() -> None:
    stream = events(
        (EXISTING, claim("www-web-2")),
        (MODIFIED, claim("www-web-2", POD)),
        (MODIFIED, claim("www-web-2", POD, deleting=True)),
        (DELETED, claim("www-web-2", POD, deleting=True)),
    )
    assert owned_before_deletion_problems(stream, {"www-web-2": POD}) == []


def test_condemned_claim_deleted_without_its_pod_as_owner_is_reported() -> None:
    stream = events(
        (EXISTING, claim("www-web-2", SET)),
        (DELETED, claim("www-web-2", SET, deleting=True)),
    )
    [problem] = owned_before_deletion_problems(stream, {"www-web-2": POD})
    assert problem == (
        "www-web-2: expected an owner reference to Pod/web-2 (uid pod-uid-) before it was "
        "deleted; saw StatefulSet/web (uid set-uid-)"
    )


def test_condemned_claim_that_stays_is_reported() -> None:
    stream = events((ADDED, claim("www-web-2", POD)))
    problems = owned_before_deletion_problems(stream, {"www-web-2": POD, "www-web-3": POD})
    assert problems == [
        "www-web-2: expected to be deleted; saw www-web-2 Bound owned by Pod/web-2",
        "www-web-3: expected to be deleted; saw www-web-3 gone",
    ]


def test_deleted_and_kept_are_opposites() -> None:
    claims = {
        "www-web-0": claim("www-web-0"),
        "www-web-1": claim("www-web-1", deleting=True),
        "www-web-2": None,
    }
    assert deleted_problems(claims, "whenScaled: Delete") == [
        "www-web-0: expected claim deleted (whenScaled: Delete); saw www-web-0 Bound"
    ]
    assert kept_problems(claims, "whenDeleted: Retain") == [
        "www-web-1: expected claim kept (whenDeleted: Retain); saw www-web-1 being deleted",
        "www-web-2: expected claim kept (whenDeleted: Retain); saw www-web-2 gone",
    ]


def test_a_claim_that_kept_its_uid_or_is_missing_was_not_recreated() -> None:
    before = {"www-web-1": "u1", "www-web-2": "u2"}
    assert recreated_problems(before, {"www-web-1": "u3", "www-web-2": "u4"}) == []
    assert [str(p) for p in recreated_problems(before, {"www-web-1": "u1", "www-web-2": None})] == [
        "www-web-1: expected a new claim (not uid u1); saw uid u1",
        "www-web-2: expected a new claim (not uid u2); saw uid None",
    ]

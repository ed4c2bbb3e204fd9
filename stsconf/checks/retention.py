"""What a claim retention policy promises, as pure checks on claims and their watch events.

From the StatefulSet concept page (PersistentVolumeClaim retention): with `whenDeleted:
Delete`, "an owner reference to the StatefulSet instance is placed on all PVCs associated with
that StatefulSet"; with `whenScaled: Delete`, "the condemned Pods are first set as owners to
the associated StatefulSet template PVCs, before the Pod is deleted", so the garbage collector
deletes those claims once their pods are gone. `Retain` leaves claims alone.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from stsconf.checks.storage import claim_kept, describe_claim
from stsconf.model.expectations import mismatch
from stsconf.model.timeline import DELETED, WatchEvent

Obj = Mapping[str, Any]


@dataclass(frozen=True)
class Owner:
    kind: str
    name: str
    uid: str

    def __str__(self) -> str:
        return f"{self.kind}/{self.name} (uid {self.uid[:8]})"


def owners_of(claim: Obj | None) -> list[Owner]:
    references = ((claim or {}).get("metadata") or {}).get("ownerReferences") or []
    return [Owner(str(r.get("kind")), str(r.get("name")), str(r.get("uid"))) for r in references]


def describe_owners(claim: Obj | None) -> str:
    owners = owners_of(claim)
    return ", ".join(map(str, owners)) if owners else "no owner references"


def missing_owner_problems(
    claims: Mapping[str, Obj | None], owners: Mapping[str, Owner]
) -> list[str]:
    """Each claim exists and carries an owner reference to its owner in `owners`."""
    problems = []
    for name, owner in owners.items():
        claim = claims.get(name)
        if claim is None:
            problems.append(mismatch(name, f"a claim owned by {owner}", "no such claim"))
        elif owner not in owners_of(claim):
            problems.append(
                mismatch(name, f"an owner reference to {owner}", describe_owners(claim))
            )
    return problems


def unexpected_owner_problems(
    claims: Mapping[str, Obj | None], forbidden: Owner, names: Sequence[str]
) -> list[str]:
    """None of the named claims carries an owner reference to `forbidden`."""
    return [
        mismatch(name, f"no owner reference to {forbidden}", describe_owners(claims.get(name)))
        for name in names
        if forbidden in owners_of(claims.get(name))
    ]


def owned_before_deletion_problems(
    events: Sequence[WatchEvent], owners: Mapping[str, Owner]
) -> list[str]:
    """From a watch on the claims: each claim in `owners` was deleted, and before that carried
    an owner reference to its owner (the condemned pod, for whenScaled: Delete)."""
    problems = []
    for name, owner in owners.items():
        of_claim = [e for e in events if e.name == name]
        deleted = next((i for i, e in enumerate(of_claim) if e.kind == DELETED), None)
        if deleted is None:
            last = of_claim[-1].object if of_claim else None
            problems.append(mismatch(name, "to be deleted", describe_claim(name, last)))
            continue
        if not any(owner in owners_of(e.object) for e in of_claim[: deleted + 1]):
            seen = "; ".join(sorted({describe_owners(e.object) for e in of_claim}))
            problems.append(
                mismatch(name, f"an owner reference to {owner} before it was deleted", seen)
            )
    return problems


def deleted_problems(claims: Mapping[str, Obj | None], why: str) -> list[str]:
    """Each claim is gone or being deleted."""
    return [
        mismatch(name, f"claim deleted ({why})", describe_claim(name, claim))
        for name, claim in claims.items()
        if claim_kept(claim)
    ]


def kept_problems(claims: Mapping[str, Obj | None], why: str) -> list[str]:
    """Each claim is still there and not being deleted."""
    return [
        mismatch(name, f"claim kept ({why})", describe_claim(name, claim))
        for name, claim in claims.items()
        if not claim_kept(claim)
    ]


def recreated_problems(
    uids_before: Mapping[str, str], uids_now: Mapping[str, str | None]
) -> list[str]:
    """Each claim exists anew: a uid other than the one it had before (None: no claim)."""
    return [
        mismatch(claim, f"a new claim (not uid {uids_before.get(claim)})", f"uid {uid}")
        for claim, uid in uids_now.items()
        if uid is None or uid == uids_before.get(claim)
    ]

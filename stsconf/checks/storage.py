"""What a claim made from a claim template must look like, as pure checks on API objects."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from kubernetes.utils import parse_quantity

from stsconf.model.expectations import Problem
from stsconf.model.manifest import ClaimTemplate

Obj = Mapping[str, Any]


def claim_problems(
    claim: Obj | None, template: ClaimTemplate, claim_name: str, pod: Obj
) -> list[Problem]:
    """Everything that differs from: the claim exists, is Bound with the template's size and
    access modes, and is the claim the pod mounts under the template's volume name."""
    if claim is None:
        return [Problem(claim_name, f"a claim for pod {pod['metadata']['name']}", "no such claim")]
    status = claim.get("status") or {}
    problems = []
    if status.get("phase") != "Bound":
        problems.append(Problem(claim_name, "phase Bound", f"phase {status.get('phase')}"))
    capacity = (status.get("capacity") or {}).get("storage")
    if not capacity or parse_quantity(capacity) != parse_quantity(template.storage):
        problems.append(Problem(claim_name, f"capacity {template.storage}", f"capacity {capacity}"))
    modes = tuple((claim.get("spec") or {}).get("accessModes") or ())
    if sorted(modes) != sorted(template.access_modes):
        problems.append(
            Problem(claim_name, f"access modes {list(template.access_modes)}", f"{list(modes)}")
        )
    mounted = mounted_claim(pod, template.name)
    if mounted != claim_name:
        problems.append(
            Problem(
                f"pod {pod['metadata']['name']}",
                f"volume {template.name} to use claim {claim_name}",
                f"claim {mounted}" if mounted else "no claim behind that volume",
            )
        )
    return problems


def mounted_claim(pod: Obj, volume_name: str) -> str | None:
    for volume in (pod.get("spec") or {}).get("volumes") or []:
        if volume.get("name") == volume_name:
            claim = volume.get("persistentVolumeClaim") or {}
            return str(claim["claimName"]) if claim.get("claimName") else None
    return None


def awaiting_garbage_collection(claim: Obj, live_uids: Collection[str]) -> bool:
    """True if the claim is owned by an object that no longer exists (so GC will delete it)."""
    owners = (claim.get("metadata") or {}).get("ownerReferences") or []
    return any(owner.get("uid") not in live_uids for owner in owners)


def claim_kept(claim: Obj | None) -> bool:
    return claim is not None and not (claim.get("metadata") or {}).get("deletionTimestamp")


def describe_claim(name: str, claim: Obj | None) -> str:
    if claim is None:
        return f"{name} gone"
    if (claim.get("metadata") or {}).get("deletionTimestamp"):
        return f"{name} being deleted"
    owners = [
        f"{o.get('kind')}/{o.get('name')}"
        for o in (claim.get("metadata") or {}).get("ownerReferences") or []
    ]
    phase = (claim.get("status") or {}).get("phase")
    return f"{name} {phase}" + (f" owned by {', '.join(owners)}" if owners else "")


def missing_claim_problems(names: Collection[str], claims: Mapping[str, Obj]) -> list[Problem]:
    """Each of the named claims is among `claims`."""
    return [Problem(name, "a claim of the set", "missing") for name in names if name not in claims]


def unbound_problems(claims: Mapping[str, Obj]) -> list[Problem]:
    """Each claim is Bound to a volume (so the volume's release after its deletion can be
    checked at all)."""
    return [
        Problem(name, "Bound to a volume", describe_claim(name, claim) + ", no volume")
        for name, claim in claims.items()
        if (claim.get("status") or {}).get("phase") != "Bound"
        or not (claim.get("spec") or {}).get("volumeName")
    ]


def volume_released(volume: Obj | None) -> bool:
    """A volume is released once it is deleted or no longer Bound to its claim."""
    return volume is None or (volume.get("status") or {}).get("phase") in ("Released", "Available")


def kept_and_bound_problems(claims: Mapping[str, Obj | None]) -> list[Problem]:
    """Each claim is still there, not being deleted, and Bound."""
    return [
        Problem(name, "claim kept and Bound", describe_claim(name, claim))
        for name, claim in claims.items()
        if not claim_kept(claim) or (claim or {}).get("status", {}).get("phase") != "Bound"
    ]


@dataclass(frozen=True)
class Reattachment:
    """A pod back after a scale-down and up, and the claim it kept meanwhile."""

    pod: str
    claim: str  # the claim kept from before the scale-down
    kept_uid: str  # its uid then
    uid_now: str | None  # the uid of the claim of that name now (None: gone)
    mounted: str | None  # the claim the pod's volume uses now


def reattachment_problems(reattachments: Sequence[Reattachment]) -> list[Problem]:
    """Each pod mounts the very claim kept for it (same name, same uid)."""
    return [
        Problem(
            r.pod,
            f"to mount the kept claim {r.claim} ({r.kept_uid})",
            f"claim {r.mounted} ({r.uid_now})",
        )
        for r in reattachments
        if (r.mounted, r.uid_now) != (r.claim, r.kept_uid)
    ]


def same_claims_problems(
    before: Mapping[str, Mapping[str, str]], after: Mapping[str, Mapping[str, str]]
) -> list[Problem]:
    """Each pod's volume uses the same claim after as before (pod -> volume -> the claim it
    uses, with its uid)."""
    return [
        Problem(f"{pod} volume {volume}", f"claim {claim}", f"claim {after[pod][volume]}")
        for pod, by_volume in before.items()
        for volume, claim in by_volume.items()
        if after[pod][volume] != claim
    ]

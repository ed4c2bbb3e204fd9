"""Who owns a StatefulSet's pods, as pure checks over the objects as the API serialises them:
pods and claims outliving a StatefulSet deleted with propagation Orphan, adopted by a new one
without being recreated, and released when their labels stop matching."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from stsconf.checks import storage
from stsconf.model.expectations import mismatch
from stsconf.model.timeline import ADDED, Timeline, pod_state_from_object

Obj = Mapping[str, Any]


def controller_of(obj: Obj) -> Obj | None:
    """The owner reference marked as controller, or None."""
    owners = (obj.get("metadata") or {}).get("ownerReferences") or []
    return next((owner for owner in owners if owner.get("controller")), None)


def describe_controller(obj: Obj) -> str:
    owner = controller_of(obj)
    if owner is None:
        return "no controller"
    return f"controlled by {owner.get('kind')}/{owner.get('name')} uid={str(owner.get('uid'))[:8]}"


def orphaned_problems(uids_before: Mapping[str, str], pods_after: Mapping[str, Obj]) -> list[str]:
    """Each pod the deleted StatefulSet had is still there: the same pod (uid), not being
    deleted, Running and Ready, and controlled by nothing."""
    problems = []
    for name, uid in uids_before.items():
        pod = pods_after.get(name)
        if pod is None:
            problems.append(mismatch(name, "to outlive its StatefulSet (orphaned)", "pod gone"))
            continue
        state = pod_state_from_object(pod)
        if state.uid != uid:
            problems.append(mismatch(name, f"the same pod uid={uid}", f"a new pod uid={state.uid}"))
        if not state.running_and_ready:
            problems.append(mismatch(name, "Running and Ready", state.describe()))
        if controller_of(pod) is not None:
            problems.append(mismatch(name, "no controller", describe_controller(pod)))
    return problems


def adopted_problems(
    uids_before: Mapping[str, str], pods_after: Mapping[str, Obj], statefulset_uid: str
) -> list[str]:
    """Each pod is the same pod as before (not recreated), now controlled by the StatefulSet
    with uid `statefulset_uid`."""
    problems = []
    for name, uid in uids_before.items():
        pod = pods_after.get(name)
        if pod is None:
            problems.append(mismatch(name, f"adopted (uid={uid})", "pod gone"))
            continue
        if pod["metadata"]["uid"] != uid:
            problems.append(
                mismatch(
                    name,
                    f"adopted as it was (uid={uid})",
                    f"recreated (uid={pod['metadata']['uid']})",
                )
            )
        owner = controller_of(pod) or {}
        if owner.get("uid") != statefulset_uid or owner.get("kind") != "StatefulSet":
            problems.append(
                mismatch(
                    name,
                    f"controlled by StatefulSet uid={statefulset_uid}",
                    describe_controller(pod),
                )
            )
    return problems


def released_problems(name: str, uid: str, pod_after: Obj | None) -> list[str]:
    """A pod whose labels no longer match is released: the same pod, not deleted, and no
    longer controlled."""
    if pod_after is None:
        return [mismatch(name, "released and left running", "pod gone")]
    problems = []
    state = pod_state_from_object(pod_after)
    if state.uid != uid or state.terminating:
        problems.append(
            mismatch(
                name, f"the same pod uid={uid}, not deleted", f"uid={state.uid} {state.describe()}"
            )
        )
    if controller_of(pod_after) is not None:
        problems.append(mismatch(name, "released (no controller)", describe_controller(pod_after)))
    return problems


def claims_kept_problems(
    uids_before: Mapping[str, str], claims_after: Mapping[str, Obj | None]
) -> list[str]:
    """Each claim is the same claim as before and not being deleted."""
    problems = []
    for name, uid in uids_before.items():
        claim = claims_after.get(name)
        if not storage.claim_kept(claim):
            problems.append(mismatch(name, "claim kept", storage.describe_claim(name, claim)))
        elif (claim or {})["metadata"]["uid"] != uid:
            problems.append(mismatch(name, f"the same claim uid={uid}", "a new claim"))
    return problems


def created_pod_problems(timeline: Timeline) -> list[str]:
    """No pod was created: adopting takes the pods as they are."""
    return [
        mismatch(
            event.pod.name,
            "no pod created while adopting",
            f"created at event #{event.seq} (uid={event.pod.uid})",
        )
        for event in timeline.events
        if event.kind == ADDED
    ]

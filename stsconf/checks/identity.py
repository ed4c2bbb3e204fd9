"""A StatefulSet pod's identity, as pure checks: its identity labels, and a Service that
selects one pod by its name label having exactly that pod behind it (its EndpointSlices)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from stsconf.model.expectations import mismatch

Obj = Mapping[str, Any]


POD_NAME_LABEL = "statefulset.kubernetes.io/pod-name"


POD_INDEX_LABEL = "apps.kubernetes.io/pod-index"


def identity_label_problems(pods: Mapping[str, Obj], ordinals: Mapping[str, int]) -> list[str]:
    """Each pod carries its own name and ordinal in the StatefulSet's identity labels."""
    problems = []
    for name, ordinal in ordinals.items():
        pod = pods.get(name)
        if pod is None:
            problems.append(mismatch(name, "a pod", "no such pod"))
            continue
        labels = (pod.get("metadata") or {}).get("labels") or {}
        for key, value in ((POD_NAME_LABEL, name), (POD_INDEX_LABEL, str(ordinal))):
            if labels.get(key) != value:
                seen = f"{key}={labels[key]}" if key in labels else f"no label {key}"
                problems.append(mismatch(name, f"label {key}={value}", seen))
    return problems


def endpoints(slices: Mapping[str, Obj]) -> list[Obj]:
    return [e for s in slices.values() for e in s.get("endpoints") or []]


def ready_endpoints(slices: Mapping[str, Obj]) -> list[Obj]:
    return [e for e in endpoints(slices) if (e.get("conditions") or {}).get("ready")]


def describe_endpoints(slices: Mapping[str, Obj]) -> str:
    found = [
        f"{(e.get('targetRef') or {}).get('name', '?')} {','.join(e.get('addresses') or [])}"
        f"{'' if (e.get('conditions') or {}).get('ready') else ' (not ready)'}"
        for e in endpoints(slices)
    ]
    return ", ".join(found) or "no endpoints"


def single_endpoint_problems(slices: Mapping[str, Obj], pod: Obj) -> list[str]:
    """The Service's endpoints are exactly `pod`: one ready endpoint, its IP and reference."""
    name, uid = pod["metadata"]["name"], pod["metadata"]["uid"]
    ip = (pod.get("status") or {}).get("podIP")
    found = endpoints(slices)
    expected = f"exactly one ready endpoint: pod {name} at {ip}"
    if len(found) != 1:
        return [mismatch("endpoints", expected, describe_endpoints(slices))]
    [endpoint] = found
    ref = endpoint.get("targetRef") or {}
    addresses: Sequence[str] = endpoint.get("addresses") or []
    ready = (endpoint.get("conditions") or {}).get("ready")
    if (ref.get("name"), ref.get("uid"), list(addresses), ready) != (name, uid, [ip], True):
        return [mismatch("endpoints", expected, describe_endpoints(slices))]
    return []


def hostname_problems(hostnames: Mapping[str, str]) -> list[str]:
    """Each pod's hostname (pod name -> what `hostname` printed in it) is its own name."""
    return [
        mismatch(pod, f"hostname {pod}", f"hostname {hostname!r}")
        for pod, hostname in hostnames.items()
        if hostname != pod
    ]

"""A StatefulSet pod's identity, as pure checks: its identity labels, and a Service that
selects one pod by its name label having exactly that pod behind it (its EndpointSlices)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from stsconf.model.expectations import Problem

Obj = Mapping[str, Any]


POD_NAME_LABEL = "statefulset.kubernetes.io/pod-name"


POD_INDEX_LABEL = "apps.kubernetes.io/pod-index"


def identity_label_problems(pods: Mapping[str, Obj], ordinals: Mapping[str, int]) -> list[Problem]:
    """Each pod carries its own name and ordinal in the StatefulSet's identity labels."""
    problems = []
    for name, ordinal in ordinals.items():
        pod = pods.get(name)
        if pod is None:
            problems.append(Problem(name, "a pod", "no such pod"))
            continue
        labels = (pod.get("metadata") or {}).get("labels") or {}
        for key, value in ((POD_NAME_LABEL, name), (POD_INDEX_LABEL, str(ordinal))):
            if labels.get(key) != value:
                seen = f"{key}={labels[key]}" if key in labels else f"no label {key}"
                problems.append(Problem(name, f"label {key}={value}", seen))
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


def single_endpoint_problems(slices: Mapping[str, Obj], pod: Obj) -> list[Problem]:
    """The Service's endpoints are exactly `pod`: one ready endpoint, its IP and reference."""
    name, uid = pod["metadata"]["name"], pod["metadata"]["uid"]
    ip = (pod.get("status") or {}).get("podIP")
    found = endpoints(slices)
    expected = f"exactly one ready endpoint: pod {name} at {ip}"
    if len(found) != 1:
        return [Problem("endpoints", expected, describe_endpoints(slices))]
    [endpoint] = found
    ref = endpoint.get("targetRef") or {}
    addresses: Sequence[str] = endpoint.get("addresses") or []
    ready = (endpoint.get("conditions") or {}).get("ready")
    if (ref.get("name"), ref.get("uid"), list(addresses), ready) != (name, uid, [ip], True):
        return [Problem("endpoints", expected, describe_endpoints(slices))]
    return []


def hostname_problems(names: Mapping[str, tuple[str, str]], domain: str) -> list[Problem]:
    """Each pod's hostname (pod name -> what `hostname` and `hostname -f` printed in it) is its
    own name, and its fully qualified name that name under the governing Service's `domain`
    (svc.ns.svc.cluster.local), as the kubelet sets it from the hostname and subdomain the
    StatefulSet gives the pod; without them it is the bare name."""
    problems = []
    for pod, (hostname, fqdn) in names.items():
        if hostname != pod:
            problems.append(Problem(pod, f"hostname {pod}", f"hostname {hostname!r}"))
        if fqdn != f"{pod}.{domain}":
            problems.append(Problem(pod, f"hostname -f {pod}.{domain}", f"hostname -f {fqdn!r}"))
    return problems

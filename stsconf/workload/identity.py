"""A StatefulSet pod's identity labels, and a Service that selects one pod by its name label."""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from kubernetes import client

from stsconf.access import rest, wait
from stsconf.access.rest import Kube
from stsconf.access.watching import Recorder
from stsconf.model.expectations import mismatch
from stsconf.model.manifest import Manifest

Obj = Mapping[str, Any]
POD_NAME_LABEL = "statefulset.kubernetes.io/pod-name"
POD_INDEX_LABEL = "apps.kubernetes.io/pod-index"
SERVICE_NAME_LABEL = "kubernetes.io/service-name"  # on a Service's EndpointSlices


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


def one_pod_service_name(pod: str) -> str:
    return f"stsconf-only-{pod}"[:63].rstrip("-")


def one_pod_service(manifest: Manifest, pod: str) -> dict[str, Any]:
    """A headless Service selecting only `pod`, by its pod-name label, on the ports of the
    manifest's Service."""
    ports = copy.deepcopy((manifest.service.get("spec") or {}).get("ports") or [])
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": one_pod_service_name(pod)},
        "spec": {
            "clusterIP": "None",
            "selector": {POD_NAME_LABEL: pod},
            "ports": ports,
        },
    }


def create_service(kube: Kube, namespace: str, body: Obj) -> None:
    kube.core.create_namespaced_service(
        namespace, client.V1Service.model_validate(body), _request_timeout=rest.REQUEST_TIMEOUT
    )


def delete_service(kube: Kube, namespace: str, name: str) -> None:
    rest.ignore_missing(kube.core.delete_namespaced_service, name, namespace)


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


def wait_endpoint_slices(
    kube: Kube,
    namespace: str,
    service: str,
    timeout: float,
    diagnose: Callable[[], str] = str,
    until: Callable[[Mapping[str, Obj]], bool] | None = None,
    expected: str = "",
) -> dict[str, Obj]:
    """Wait until the Service's EndpointSlices list a ready endpoint (or `until` holds of
    them); return them all."""
    with Recorder(
        client.DiscoveryV1Api(kube.api_client).list_namespaced_endpoint_slice,
        namespace=namespace,
        label_selector=f"{SERVICE_NAME_LABEL}={service}",
    ) as recorder:
        wait.wait_on_watch(
            recorder,
            until or (lambda slices: bool(ready_endpoints(slices))),
            expected=expected or f"a ready endpoint in the EndpointSlices of Service {service}",
            seen=describe_endpoints,
            timeout=timeout,
            diagnose=diagnose,
        )
        slices, _ = recorder.snapshot()
        return dict(slices)


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

"""A Service that selects one pod of the StatefulSet by its name label, and its EndpointSlices
(the checks of both are checks/identity.py)."""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping
from typing import Any

from kubernetes import client

from stsconf.access import rest, wait
from stsconf.access.rest import Kube
from stsconf.access.watching import Recorder
from stsconf.checks.identity import POD_NAME_LABEL, describe_endpoints, ready_endpoints
from stsconf.model.manifest import Manifest

Obj = Mapping[str, Any]
SERVICE_NAME_LABEL = "kubernetes.io/service-name"  # on a Service's EndpointSlices


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

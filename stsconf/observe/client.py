"""A client beside an operation: a pod that keeps reading each replica's value, and through the
manifest's Service, and prints every answer (model/availability.py); read back at the end as
timed Answers. It reads the data probe's HTTP path (from the probe image: busybox's wget), or
runs the app's own read command (stsconf.io/probe-client-read, from the image of the probe's
container, where the app's client tool is).

Each replica is reached through a Service of its own (selecting its pod-name label), not its
per-pod DNS name: CoreDNS caches those names (30 s in kubeadm's Corefile), so a client would
measure the cache, not the pod. The Service's address stays; its endpoints follow readiness.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from kubernetes import client

from stsconf.access import rest, wait
from stsconf.access.rest import Kube
from stsconf.model.availability import (
    SERVICE,
    Answer,
    ClientPlan,
    ClientRead,
    command_request,
    http_request,
    parse_client_output,
)
from stsconf.model.manifest import Manifest
from stsconf.observe.probe import start_pod

CLIENT_NAME = "stsconf-client"
POD_NAME_LABEL = "statefulset.kubernetes.io/pod-name"
SERVICE_PORT = 80
EVER = float("-inf")  # since the client started
LOG_BYTES = 50 * 1024 * 1024  # more than a client writes in an hour (about 3 KB/s)


def replica_service_name(pod: str) -> str:
    return f"stsconf-{pod}"


def replica_service(pod: str, ports: Sequence[tuple[int, int]]) -> dict[str, Any]:
    """A Service leading to one pod: (port, target port) pairs."""
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": replica_service_name(pod)},
        "spec": {
            "selector": {POD_NAME_LABEL: pod},
            "ports": [
                {"name": f"p{port}", "port": port, "targetPort": target} for port, target in ports
            ],
        },
    }


def replica_ports(manifest: Manifest, read: ClientRead) -> list[tuple[int, int]]:
    """What a replica's Service exposes: the HTTP port as port 80, or for the app's own
    command every port the containers declare, as they are (the command names its port)."""
    if read.http_path:
        return [(SERVICE_PORT, manifest.http_port)]
    return [(port, port) for port in manifest.container_ports]


def service_url(manifest: Manifest, path: str) -> str | None:
    """The URL of the HTTP path through the manifest's Service, None when no port of it leads
    to the HTTP port. A headless Service has no ports of its own: its names lead to the pods."""
    spec = manifest.service.get("spec") or {}
    port = manifest.http_port
    if spec.get("clusterIP") == "None":
        return f"http://{manifest.service_name}:{port}{path}"
    for declared in spec.get("ports") or []:
        if port in (declared.get("targetPort"), declared.get("port")):
            return f"http://{manifest.service_name}:{declared['port']}{path}"
    return None


def client_plan(manifest: Manifest, pods: Sequence[str], read: ClientRead) -> ClientPlan:
    if read.command:
        hosts = {pod: replica_service_name(pod) for pod in pods}
        hosts[SERVICE] = manifest.service_name
        return ClientPlan({t: command_request(read.command, h) for t, h in hosts.items()})
    path = read.http_path or "/"
    urls = {pod: f"http://{replica_service_name(pod)}:{SERVICE_PORT}{path}" for pod in pods}
    through_service = service_url(manifest, path)
    if through_service:
        urls[SERVICE] = through_service
    return ClientPlan({target: http_request(url) for target, url in urls.items()})


class Client:
    """The client pod and its Services in `namespace`; `running` starts them, waits until every
    replica has answered once, and removes them at the end."""

    def __init__(self, kube: Kube, namespace: str, probe_image: str, manifest: Manifest) -> None:
        self.kube = kube
        self.namespace = namespace
        self.probe_image = probe_image
        self.manifest = manifest

    @contextmanager
    def running(
        self, pods: Sequence[str], read: ClientRead, timeout: float, avoid_node: str | None = None
    ) -> Iterator[ClientPlan]:
        """Started, on any node but `avoid_node` (one about to be drained), until the end."""
        plan = client_plan(self.manifest, pods, read)
        try:
            for pod in pods:
                body = replica_service(pod, replica_ports(self.manifest, read))
                self.kube.core.create_namespaced_service(
                    self.namespace, client.V1Service.model_validate(body)
                )
            self._start(plan, self._image(read), timeout, avoid_node)
            self._wait_answering(pods, timeout)
            yield plan
        finally:
            self._remove(pods)

    def answers(self, time_zero: float) -> list[Answer]:
        """Every answer so far, timed in seconds since `time_zero` (epoch)."""
        return parse_client_output(self.log(), time_zero)

    def log(self) -> str:
        text = self.kube.core.read_namespaced_pod_log(
            CLIENT_NAME, self.namespace, limit_bytes=LOG_BYTES
        )
        return str(text or "")

    def _image(self, read: ClientRead) -> str:
        if read.http_path:
            return self.probe_image
        return self.manifest.image_of(self.manifest.probe.container)

    def _start(self, plan: ClientPlan, image: str, timeout: float, avoid_node: str | None) -> None:
        body: dict[str, Any] = {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"name": CLIENT_NAME, "labels": {"app.kubernetes.io/name": CLIENT_NAME}},
            "spec": {
                "terminationGracePeriodSeconds": 0,
                "containers": [{
                    "name": "client",
                    "image": image,
                    "imagePullPolicy": "IfNotPresent",
                    "command": ["sh", "-c", plan.script()],
                    "volumeMounts": [{"name": "tmp", "mountPath": "/tmp"}],  # each answer
                }],
                "volumes": [{"name": "tmp", "emptyDir": {}}],
            },
        }  # fmt: skip
        if avoid_node:
            body["spec"]["affinity"] = not_on(avoid_node)
        start_pod(self.kube, self.namespace, body, timeout)

    def answers_once_served(
        self, pods: Sequence[str], since: float, time_zero: float, timeout: float
    ) -> list[Answer]:
        """Every answer, as soon as each of `pods` has answered a request started after `since`
        (seconds since `time_zero`), or once `timeout` has passed: a replica that has not
        answered by then leaves its gap open, for the checks to judge."""
        return wait.attempt_until(
            lambda: self.answers(time_zero),
            lambda answers: not _silent_since(answers, pods, since),
            timeout=timeout,
        )

    def _wait_answering(self, pods: Sequence[str], timeout: float) -> None:
        wait.retry_until(
            lambda: self.answers(0.0),
            lambda answers: not _silent_since(answers, pods, EVER),
            expected=f"an answer from each of {', '.join(pods)} before the operation",
            seen=lambda answers: (
                f"no answer from {', '.join(_silent_since(answers, pods, EVER))}"
                f"; the client printed:\n{self.log()[-2000:]}"
            ),
            timeout=timeout,
        )

    def _remove(self, pods: Sequence[str]) -> None:
        rest.delete_pod(self.kube, CLIENT_NAME, self.namespace, grace_seconds=0)
        for pod in pods:
            rest.ignore_missing(
                self.kube.core.delete_namespaced_service, replica_service_name(pod), self.namespace
            )


def _silent_since(answers: Sequence[Answer], pods: Sequence[str], since: float) -> list[str]:
    """The pods that served no request started after `since`."""
    served = {a.target for a in answers if a.served and a.started >= since}
    return [pod for pod in pods if pod not in served]


def not_on(node: str) -> dict[str, Any]:
    """A pod affinity that keeps the pod off `node`."""
    away = {"key": "kubernetes.io/hostname", "operator": "NotIn", "values": [node]}
    return {
        "nodeAffinity": {
            "requiredDuringSchedulingIgnoredDuringExecution": {
                "nodeSelectorTerms": [{"matchExpressions": [away]}]
            }
        }
    }

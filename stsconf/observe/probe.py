"""A separate pod to look at the StatefulSet from the outside: DNS answers and HTTP."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from kubernetes import client

from stsconf.access import rest, wait
from stsconf.access.rest import Kube
from stsconf.access.watching import Recorder
from stsconf.model.exec_result import ExecResult
from stsconf.observe.dns import nslookup_ipv4_answers

PROBE_NAME = "stsconf-probe"
HTTP_TIMEOUT = 10  # seconds


@dataclass(frozen=True)
class DnsAnswer:
    name: str
    addresses: tuple[str, ...]
    output: str

    def describe(self) -> str:
        return ", ".join(self.addresses) if self.addresses else "no address"


@dataclass(frozen=True)
class HttpAnswer:
    url: str
    ok: bool
    body: str
    error: str


class Probe:
    def __init__(self, kube: Kube, namespace: str, image: str) -> None:
        self.kube = kube
        self.namespace = namespace
        self.image = image

    def start(self, timeout: float) -> None:
        """Create the probe pod and wait until it runs."""
        body = {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"name": PROBE_NAME, "labels": {"app.kubernetes.io/name": PROBE_NAME}},
            "spec": {
                "terminationGracePeriodSeconds": 0,
                "containers": [
                    {
                        "name": "probe",
                        "image": self.image,
                        "imagePullPolicy": "IfNotPresent",
                        "command": ["sleep", "86400"],
                    }
                ],
            },
        }
        start_pod(self.kube, self.namespace, body, timeout)

    def stop(self) -> None:
        rest.delete_pod(self.kube, PROBE_NAME, self.namespace, grace_seconds=0)

    def exec(self, *command: str) -> ExecResult:
        return rest.exec_in_pod(self.kube, PROBE_NAME, self.namespace, command)

    def resolve(self, name: str) -> DnsAnswer:
        result = self.exec("nslookup", name)
        output = (result.stdout + result.stderr).strip()
        return DnsAnswer(name, tuple(nslookup_ipv4_answers(result.stdout)), output)

    def http_get(self, ip: str, port: int, path: str = "/") -> HttpAnswer:
        url = f"http://{ip}:{port}{path}"
        # `timeout` rather than wget's own -T, which crashes some busybox builds
        result = self.exec("timeout", str(HTTP_TIMEOUT), "wget", "-q", "-O", "-", url)
        error = f"exit {result.returncode} {result.stderr.strip()}".strip()
        return HttpAnswer(url, result.ok, result.stdout, "" if result.ok else error)


def start_pod(kube: Kube, namespace: str, body: dict[str, Any], timeout: float) -> None:
    """Create the pod (one container) and wait until it runs."""
    name = body["metadata"]["name"]
    image = body["spec"]["containers"][0]["image"]
    with Recorder(
        kube.core.list_namespaced_pod, namespace=namespace, field_selector=f"metadata.name={name}"
    ) as recorder:
        kube.core.create_namespaced_pod(namespace, client.V1Pod.model_validate(body))
        wait.wait_on_watch(
            recorder,
            wait.pods_running_and_ready([name]),
            expected=f"pod {name} ({image}) Running",
            seen=wait.describe_pods,
            timeout=timeout,
        )

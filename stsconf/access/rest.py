"""Thin calls on the official Kubernetes client: read, create, scale, delete, exec.

Objects are handled as plain dicts in the API's own camelCase form, so the same helpers
work on what a watch delivers and on what a read returns.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from kubernetes import client, config, utils
from kubernetes.client.exceptions import ApiException
from kubernetes.stream import stream
from kubernetes.stream.ws_client import ERROR_CHANNEL

from stsconf.model.exec_result import ExecResult
from stsconf.model.manifest import Manifest

Obj = dict[str, Any]

REQUEST_TIMEOUT = 30  # seconds, for every single non-watch request
MERGE_PATCH = "application/merge-patch+json"  # a JSON merge patch (RFC 7386)


class Kube:
    """The official client's API groups, built from one kubeconfig file."""

    def __init__(self, kubeconfig: Path) -> None:
        self.kubeconfig = kubeconfig
        self.api_client = config.new_client_from_config(config_file=str(kubeconfig))
        self.core = client.CoreV1Api(self.api_client)
        self.apps = client.AppsV1Api(self.api_client)

    def server_version(self) -> str:
        info = raw(client.VersionApi(self.api_client).get_code)
        return str(info.get("gitVersion", "unknown"))

    def server_address(self) -> str:
        return str(self.api_client.configuration.host)


def raw(call: Callable[..., Any], *args: Any, **kwargs: Any) -> Obj:
    """Call an API method and return its JSON body as a dict."""
    response = call(*args, _preload_content=False, _request_timeout=REQUEST_TIMEOUT, **kwargs)
    data: Obj = json.loads(response.data or b"{}")
    return data


def read_or_none(call: Callable[..., Any], *args: Any) -> Obj | None:
    try:
        return raw(call, *args)
    except ApiException as error:
        if error.status == 404:
            return None
        raise


def ignore_missing(call: Callable[..., Any], *args: Any, **kwargs: Any) -> None:
    try:
        call(*args, _request_timeout=REQUEST_TIMEOUT, **kwargs)
    except ApiException as error:
        if error.status != 404:
            raise


def apply_manifest(kube: Kube, manifest: Manifest, namespace: str) -> None:
    """Create every object of the manifest in `namespace` (objects are created fresh)."""
    for document in manifest.documents:
        body = json.loads(json.dumps(document))
        body.get("metadata", {}).pop("namespace", None)
        for subject in body.get("subjects") or []:  # a RoleBinding's service accounts
            if subject.get("kind") == "ServiceAccount":
                subject["namespace"] = namespace
        try:
            utils.create_from_dict(kube.api_client, body, namespace=namespace)
        except utils.FailToCreateError as error:
            reasons = "; ".join(api_message(e) for e in error.api_exceptions)
            raise ApplyFailed(
                f"could not create {body.get('kind')} {body['metadata'].get('name')} "
                f"in {namespace}: {reasons}"
            ) from None


class ApplyFailed(RuntimeError):
    """The API refused an object of the manifest; the message says which and why."""


def api_message(error: ApiException) -> str:
    """The API's own words for a refusal (its Status message), else status and reason."""
    try:
        message = json.loads(error.body or "{}").get("message")
    except (json.JSONDecodeError, AttributeError):
        message = None
    return (
        f"{error.status} {error.reason}: {message}" if message else f"{error.status} {error.reason}"
    )


def list_items(call: Callable[..., Any], namespace: str, **kwargs: Any) -> list[Obj]:
    return list(raw(call, namespace, **kwargs).get("items") or [])


def scale(kube: Kube, name: str, namespace: str, replicas: int) -> None:
    kube.apps.patch_namespaced_stateful_set_scale(
        name, namespace, {"spec": {"replicas": replicas}}, _request_timeout=REQUEST_TIMEOUT
    )


def delete_pods(kube: Kube, namespace: str, selector: str) -> None:
    kube.core.delete_collection_namespaced_pod(
        namespace, label_selector=selector, _request_timeout=REQUEST_TIMEOUT
    )


def delete_pod(kube: Kube, name: str, namespace: str, grace_seconds: int | None = None) -> None:
    ignore_missing(
        kube.core.delete_namespaced_pod, name, namespace, grace_period_seconds=grace_seconds
    )


def exec_in_pod(
    kube: Kube,
    pod: str,
    namespace: str,
    command: Sequence[str],
    timeout: float = 30,
    container: str | None = None,
) -> ExecResult:
    """Run `command` in the pod (its first container unless `container` names another) and
    collect its output and exit code; why it did not run or finish goes into stderr."""
    try:
        session = _exec_session(kube, pod, namespace, command, container)
    except ApiException as error:  # refused before it ran: no such pod or container
        return ExecResult(tuple(command), -1, "", f"exec refused: {error.reason}")
    try:
        session.run_forever(timeout=timeout)
        stdout, stderr = session.read_stdout(timeout=0), session.read_stderr(timeout=0)
        finished = not session.is_open()
        status = session.read_channel(ERROR_CHANNEL) if finished else ""
    finally:
        session.close()
    if not finished:
        return ExecResult(
            tuple(command), -1, stdout, stderr + f"(did not finish in {timeout:.0f}s)"
        )
    code, problem = exit_status(status)
    return ExecResult(tuple(command), code, stdout, stderr + problem)


def _exec_session(
    kube: Kube, pod: str, namespace: str, command: Sequence[str], container: str | None
) -> Any:
    return stream(
        kube.core.connect_get_namespaced_pod_exec,
        pod,
        namespace,
        command=list(command),
        stderr=True,
        stdin=False,
        stdout=True,
        tty=False,
        _preload_content=False,
        **({"container": container} if container else {}),
    )


def exit_status(status: str) -> tuple[int, str]:
    """The exit code from the exec error channel's Status, and why, when the command did not
    run at all (exit code -1 then)."""
    try:
        parsed = json.loads(status) if status.strip() else {}
    except json.JSONDecodeError:
        return -1, status
    if parsed.get("status") == "Success":
        return 0, ""
    for cause in (parsed.get("details") or {}).get("causes") or []:
        if cause.get("reason") == "ExitCode":
            return int(cause.get("message", -1)), ""
    return -1, str(parsed.get("message") or status or "(no exit status)")

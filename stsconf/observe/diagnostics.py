"""What a namespace looks like when something went wrong: events, pods, container logs."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from kubernetes.client.exceptions import ApiException

from stsconf.access.rest import REQUEST_TIMEOUT, Kube, list_items
from stsconf.model.timeline import pod_state_from_object

LOG_LINES = 30


def describe_pod(pod: Mapping[str, Any]) -> str:
    state = pod_state_from_object(pod)
    statuses = (pod.get("status") or {}).get("containerStatuses") or []
    containers = ", ".join(_container_summary(status) for status in statuses) or "no containers"
    node = (pod.get("spec") or {}).get("nodeName") or "unscheduled"
    return f"{state.name} {state.describe()} ip={state.ip or '-'} node={node} [{containers}]"


def _container_summary(status: Mapping[str, Any]) -> str:
    state = status.get("state") or {}
    (what, detail), *_ = state.items() if state else [("unknown", {})]
    reason = (detail or {}).get("reason")
    restarts = status.get("restartCount", 0)
    return f"{status.get('name')}: {what}{f' ({reason})' if reason else ''} restarts={restarts}"


def describe_event(event: Mapping[str, Any]) -> str:
    involved = event.get("involvedObject") or {}
    when = event.get("lastTimestamp") or event.get("eventTime") or ""
    return (
        f"{when} {event.get('type', '')} {involved.get('kind', '')}/{involved.get('name', '')} "
        f"{event.get('reason', '')}: {event.get('message', '').strip()}"
    )


def namespace_report(kube: Kube, namespace: str) -> str:
    """Events, pods, claims and the tail of every container's log, as plain text."""
    return "\n".join(
        f"== {title} ==\n{text}" for title, text in namespace_sections(kube, namespace)
    )


def namespace_sections(kube: Kube, namespace: str) -> list[tuple[str, str]]:
    """The same as (title, text) pairs: events first, then pods, claims and container logs."""
    try:
        pods = list_items(kube.core.list_namespaced_pod, namespace)
        events = list_items(kube.core.list_namespaced_event, namespace)
        claims = list_items(kube.core.list_namespaced_persistent_volume_claim, namespace)
    except Exception as error:  # noqa: BLE001 - diagnostics must never hide the real failure
        return [(f"namespace {namespace}", f"(could not read namespace {namespace}: {error})")]
    events.sort(key=lambda e: str(e.get("lastTimestamp") or e.get("eventTime") or ""))
    sections = [
        (f"events in {namespace}", _lines(describe_event(e) for e in events)),
        (f"pods in {namespace}", _lines(describe_pod(p) for p in pods)),
        (f"persistent volume claims in {namespace}", _lines(_describe_claim(c) for c in claims)),
    ]
    for pod in pods:
        name = pod["metadata"]["name"]
        for container in (pod.get("spec") or {}).get("containers") or []:
            log = log_tail(kube, namespace, name, container["name"])
            sections.append((f"log of {name}/{container['name']}", log))
    return sections


def _lines(lines: Iterable[str]) -> str:
    return "\n".join(lines) or "(none)"


def _describe_claim(claim: Mapping[str, Any]) -> str:
    status = claim.get("status") or {}
    volume = (claim.get("spec") or {}).get("volumeName") or "-"
    return f"{claim['metadata']['name']} {status.get('phase', '?')} volume={volume}"


def log_tail(kube: Kube, namespace: str, pod: str, container: str, lines: int = LOG_LINES) -> str:
    """The last `lines` lines a container logged, or why there are none."""
    try:
        text = kube.core.read_namespaced_pod_log(
            pod,
            namespace,
            container=container,
            tail_lines=lines,
            _request_timeout=REQUEST_TIMEOUT,
        )
    except ApiException as error:
        return f"(no log: {error.reason})"
    return str(text or "").rstrip() or "(empty)"

"""What the kubelet says about pulling images: pods waiting in ErrImagePull/ImagePullBackOff
and the Failed/Pulled events, to tell a pull the registry refused from one it served."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from stsconf.access import rest, wait
from stsconf.access.rest import Kube
from stsconf.access.watching import Recorder
from stsconf.model.manifest import Manifest
from stsconf.model.timeline import WatchEvent, pod_state_from_object
from stsconf.observe.diagnostics import namespace_report

Obj = dict[str, Any]

PULL_FAILURES = frozenset({"ErrImagePull", "ImagePullBackOff"})
# how containerd and the kubelet word a refused login: "401 Unauthorized",
# "authorization failed: no basic auth credentials", "failed to authorize"
AUTH_FAILURE = re.compile(r"\b401\b|unauthori[sz]ed|authori[sz]", re.IGNORECASE)
PULL_EVENT_REASONS = ("Pulling", "Pulled", "Failed", "BackOff")


def waiting_reasons(pod: Mapping[str, Any] | None) -> list[str]:
    """Why the pod's containers wait, e.g. ["ImagePullBackOff"]."""
    status = (pod or {}).get("status") or {}
    statuses = [
        *(status.get("initContainerStatuses") or []),
        *(status.get("containerStatuses") or []),
    ]
    reasons = [((s.get("state") or {}).get("waiting") or {}).get("reason") for s in statuses]
    return [str(reason) for reason in reasons if reason]


def pull_failing(pod: Mapping[str, Any] | None) -> bool:
    return any(reason in PULL_FAILURES for reason in waiting_reasons(pod))


def image_ids(pod: Mapping[str, Any]) -> list[str]:
    """The resolved image (repository@digest) of each container, as the kubelet reports it."""
    statuses = (pod.get("status") or {}).get("containerStatuses") or []
    return [str(status.get("imageID", "")) for status in statuses]


def events_of(events: Iterable[Mapping[str, Any]], pod: str) -> list[Mapping[str, Any]]:
    return [
        event
        for event in events
        if (event.get("involvedObject") or {}).get("kind") == "Pod"
        and (event.get("involvedObject") or {}).get("name") == pod
    ]


def occurrences(event: Mapping[str, Any]) -> int:
    """How often the event happened (the kubelet counts repeats instead of adding events)."""
    series = (event.get("series") or {}).get("count") or 0
    return max(int(event.get("count") or 1), int(series))


def refused_pulls(events: Iterable[Mapping[str, Any]], pod: str) -> int:
    """How many of `pod`'s pulls failed for want of authorization."""
    return sum(
        occurrences(event)
        for event in events_of(events, pod)
        if event.get("reason") == "Failed" and AUTH_FAILURE.search(str(event.get("message", "")))
    )


def successful_pulls(events: Iterable[Mapping[str, Any]], pod: str) -> list[str]:
    """The messages of `pod`'s Pulled events that report a real pull (not a cached image)."""
    return [
        str(event.get("message", ""))
        for event in events_of(events, pod)
        if event.get("reason") == "Pulled" and "Successfully pulled" in str(event.get("message"))
    ]


def pull_event_rows(events: Iterable[Mapping[str, Any]]) -> list[dict[str, str]]:
    """The pull events, for the report and for failure messages."""
    return [
        {
            "pod": str((event.get("involvedObject") or {}).get("name", "")),
            "reason": str(event.get("reason", "")),
            "times": str(occurrences(event)),
            "message": str(event.get("message", "")).strip(),
        }
        for event in sorted(events, key=lambda e: str(e.get("firstTimestamp") or ""))
        if event.get("reason") in PULL_EVENT_REASONS
    ]


def describe_pull_events(events: wait.Objects) -> str:
    rows = pull_event_rows(events.values())
    return "; ".join(f"{r['pod']} {r['reason']} x{r['times']}: {r['message']}" for r in rows) or (
        "no pull events"
    )


def describe_pull_states(pods: wait.Objects) -> str:
    return ", ".join(
        f"{name} {pod_state_from_object(pod).describe()} waiting={waiting_reasons(pod) or '-'}"
        for name, pod in sorted(pods.items())
    ) or ("no pods")


def ever_ready(pod_events: Iterable[WatchEvent]) -> list[str]:
    """The pods that were Running and Ready at any moment of the watch."""
    return sorted({e.name for e in pod_events if pod_state_from_object(e.object).running_and_ready})


@dataclass(frozen=True)
class PullRefusal:
    pods: dict[str, Obj]  # as last seen
    events: list[Obj]  # the namespace's events
    ever_ready: list[str]  # pods that were Running and Ready at some moment
    first_pod: str


def deploy_expecting_refusal(
    kube: Kube, namespace: str, manifest: Manifest, timeout: float, attempts: int = 2
) -> PullRefusal:
    """Create the manifest's objects and wait until the first pod's image pull has been
    refused for want of authorization `attempts` times (the kubelet retried and was refused
    again) and the pod waits in ErrImagePull or ImagePullBackOff."""
    first = manifest.pod_name(manifest.start_ordinal)
    with (
        Recorder(kube.core.list_namespaced_pod, namespace=namespace) as pods,
        Recorder(kube.core.list_namespaced_event, namespace=namespace) as events,
    ):
        rest.apply_manifest(kube, manifest, namespace)
        wait.wait_on_watch(
            events,
            lambda objects: refused_pulls(objects.values(), first) >= attempts,
            expected=f"{attempts} pulls of {first}'s image refused for want of authorization "
            "(an event saying 401/unauthorized/authorization failed)",
            seen=describe_pull_events,
            timeout=timeout,
            diagnose=lambda: namespace_report(kube, namespace),
        )
        wait.wait_on_watch(
            pods,
            lambda objects: pull_failing(objects.get(first)),
            expected=f"{first} waiting in {' or '.join(sorted(PULL_FAILURES))}",
            seen=describe_pull_states,
            timeout=timeout,
            diagnose=lambda: namespace_report(kube, namespace),
        )
        pod_objects, pod_events = pods.snapshot()
        event_objects, _ = events.snapshot()
    return PullRefusal(pod_objects, list(event_objects.values()), ever_ready(pod_events), first)


def wait_for_pulled_events(
    events: Recorder, pods: list[str], timeout: float, diagnose: Any = str
) -> list[Obj]:
    """Wait until every pod has an event saying its image was successfully pulled."""
    wait.wait_on_watch(
        events,
        lambda objects: all(successful_pulls(objects.values(), pod) for pod in pods),
        expected=f"a 'Successfully pulled image' event for each of {', '.join(pods)}",
        seen=describe_pull_events,
        timeout=timeout,
        diagnose=diagnose,
    )
    objects, _ = events.snapshot()
    return list(objects.values())

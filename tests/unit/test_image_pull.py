"""Reading image pulls from pods and events."""

from __future__ import annotations

from typing import Any

from stsconf.model.timeline import WatchEvent
from stsconf.observe.image_pull import (
    describe_pull_states,
    ever_ready,
    pull_event_rows,
    pull_failing,
    refused_pulls,
    successful_pulls,
    waiting_reasons,
)


def pod(name: str, waiting: str | None = None, ready: bool = False) -> dict[str, Any]:
    state = {"waiting": {"reason": waiting}} if waiting else {"running": {}}
    return {
        "metadata": {"name": name, "uid": f"uid-{name}"},
        "status": {
            "phase": "Running" if ready else "Pending",
            "conditions": [{"type": "Ready", "status": str(ready)}],
            "containerStatuses": [{"name": "c", "state": state}],
        },
    }


def event(pod_name: str, reason: str, message: str, count: int = 1) -> dict[str, Any]:
    return {
        "involvedObject": {"kind": "Pod", "name": pod_name},
        "reason": reason,
        "message": message,
        "count": count,
    }


REFUSED = 'Failed to pull image "r:5000/x:t": ... failed with status code: 401 Unauthorized'
NO_CREDENTIALS = "... pull access denied ... authorization failed: no basic auth credentials"


def test_pods_waiting_for_an_image_are_pull_failing() -> None:
    assert waiting_reasons(pod("web-0", "ImagePullBackOff")) == ["ImagePullBackOff"]
    assert pull_failing(pod("web-0", "ErrImagePull"))
    assert not pull_failing(pod("web-0", "ContainerCreating"))
    assert not pull_failing(pod("web-0"))
    assert not pull_failing(None)


def test_refused_pulls_count_repeats_of_authorization_failures_of_that_pod() -> None:
    events = [
        event("web-0", "Failed", REFUSED, count=2),
        event("web-0", "Failed", NO_CREDENTIALS),
        event("web-0", "Failed", "Error: ErrImagePull", count=3),
        event("web-1", "Failed", REFUSED, count=5),
        event("web-0", "BackOff", 'Back-off pulling image "r:5000/x:t"'),
    ]
    assert refused_pulls(events, "web-0") == 3


def test_successful_pulls_ignore_images_already_present() -> None:
    events = [
        event("web-0", "Pulled", 'Successfully pulled image "r:5000/x:t" in 1s'),
        event("web-1", "Pulled", 'Container image "r:5000/x:t" already present on machine'),
    ]
    assert successful_pulls(events, "web-0")
    assert not successful_pulls(events, "web-1")


def test_pull_event_rows_keep_only_pull_events() -> None:
    events = [event("web-0", "Scheduled", "assigned"), event("web-0", "Failed", REFUSED, 2)]
    assert pull_event_rows(events) == [
        {"pod": "web-0", "reason": "Failed", "times": "2", "message": REFUSED}
    ]


def test_ever_ready_names_pods_ready_at_any_moment() -> None:
    events = [
        WatchEvent(0, 0.0, "ADDED", pod("web-0", "ErrImagePull")),
        WatchEvent(1, 1.0, "MODIFIED", pod("web-1", ready=True)),
        WatchEvent(2, 2.0, "MODIFIED", pod("web-1", "ImagePullBackOff")),
    ]
    assert ever_ready(events) == ["web-1"]


def test_describe_pull_states_names_the_waiting_reason() -> None:
    described = describe_pull_states({"web-0": pod("web-0", "ImagePullBackOff")})
    assert "web-0" in described
    assert "ImagePullBackOff" in described

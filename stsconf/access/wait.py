"""Bounded waits on watches (and, where no watch fits, tenacity) that explain themselves."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, TypeVar

from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_result,
    stop_after_delay,
    wait_exponential,
)

from stsconf.access.watching import Recorder
from stsconf.model.timeline import pod_state_from_object

Obj = dict[str, Any]
Objects = Mapping[str, Obj]
T = TypeVar("T")


class WaitTimeout(AssertionError):
    """A wait gave up: says what was expected, what was seen, and what the namespace held."""

    def __init__(self, expected: str, seen: str, timeout: float, diagnostics: str = "") -> None:
        self.expected = expected
        self.seen = seen
        message = f"timed out after {timeout:.0f}s: expected {expected}; saw {seen}"
        if diagnostics:
            message += "\n" + diagnostics
        super().__init__(message)


def wait_on_watch(
    recorder: Recorder,
    condition: Callable[[Objects], bool],
    *,
    expected: str,
    seen: Callable[[Objects], str],
    timeout: float,
    diagnose: Callable[[], str] = str,
) -> None:
    if not recorder.wait_until(condition, timeout):
        objects, _ = recorder.snapshot()
        raise WaitTimeout(expected, seen(objects), timeout, diagnose())


def attempt_until(attempt: Callable[[], T], accept: Callable[[T], bool], *, timeout: float) -> T:
    """Repeat `attempt` (with short backoff) until its result is accepted or time runs out;
    return the accepted result, or else the last one."""
    retrying = Retrying(
        stop=stop_after_delay(timeout),
        wait=wait_exponential(multiplier=0.2, max=2),
        retry=retry_if_result(lambda result: not accept(result)),
        retry_error_callback=_last_result,
    )
    result: T = retrying(attempt)
    return result


def _last_result(state: RetryCallState) -> Any:
    assert state.outcome is not None  # tenacity calls this after an attempt
    return state.outcome.result()


def retry_until(
    attempt: Callable[[], T],
    accept: Callable[[T], bool],
    *,
    expected: str,
    seen: Callable[[T], str],
    timeout: float,
    diagnose: Callable[[], str] = str,
) -> T:
    """Repeat `attempt` (with short backoff) until its result is accepted; when time runs out
    first, fail saying what was expected and what the last attempt gave."""
    result = attempt_until(attempt, accept, timeout=timeout)
    if not accept(result):
        raise WaitTimeout(expected, seen(result), timeout, diagnose())
    return result


# Conditions and descriptions on sets of pods, as a pod recorder holds them.


def pods_running_and_ready(
    names: Sequence[str], not_uids: frozenset[str] = frozenset()
) -> Callable[[Objects], bool]:
    """All `names` exist, are Running and Ready, and none has a uid from `not_uids`."""

    def condition(pods: Objects) -> bool:
        return all(
            name in pods
            and pod_state_from_object(pods[name]).running_and_ready
            and pods[name]["metadata"]["uid"] not in not_uids
            for name in names
        )

    return condition


def only_pods(names: Sequence[str]) -> Callable[[Objects], bool]:
    """Exactly `names` exist (others are gone)."""
    wanted = set(names)
    return lambda pods: set(pods) == wanted


def describe_pods(pods: Objects) -> str:
    if not pods:
        return "no pods"
    return ", ".join(
        f"{name} {pod_state_from_object(pod).describe()} uid={pod['metadata']['uid'][:8]}"
        for name, pod in sorted(pods.items())
    )

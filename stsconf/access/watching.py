"""A list-then-watch recorder that keeps the current objects and every event, and lets
callers block until a condition on the objects holds (no polling)."""

from __future__ import annotations

import contextlib
import json
import threading
import time
from collections.abc import Callable
from typing import Any

from kubernetes.client.exceptions import ApiException

from stsconf.model.timeline import DELETED, EXISTING, WatchEvent

Obj = dict[str, Any]
ListFunction = Callable[..., Any]

WATCH_SECONDS = 300  # server-side limit of one watch request; the recorder re-watches


class WatchFailed(RuntimeError):
    """The watch stopped with an error before the awaited condition held."""


class Recorder:
    """Lists then watches objects in the background.

    `objects` is the current state by name; `events` is everything seen, in order, including
    the initial list (as EXISTING events).
    """

    def __init__(self, list_function: ListFunction, **list_kwargs: Any) -> None:
        self._list = list_function
        self._kwargs = list_kwargs
        self._condition = threading.Condition()
        self._started = time.monotonic()
        # the same moment by the wall clock: event times plus this are epoch seconds
        self.time_zero = time.time()
        self._stopped = False
        self._response: Any = None
        self._error: BaseException | None = None
        self.objects: dict[str, Obj] = {}
        self.events: list[WatchEvent] = []
        resource_version = self._initial_list()
        self._thread = threading.Thread(
            target=self._watch_forever, args=(resource_version,), daemon=True
        )
        self._thread.start()

    def __enter__(self) -> Recorder:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def stop(self) -> None:
        with self._condition:
            self._stopped = True
            _end_stream(self._response)
        self._thread.join(timeout=5)

    def wait_until(self, condition: Callable[[dict[str, Obj]], bool], timeout: float) -> bool:
        """Block until `condition(objects)` holds; False when `timeout` seconds pass first."""
        deadline = time.monotonic() + timeout
        with self._condition:
            while not condition(self.objects):
                if self._error is not None:
                    raise WatchFailed(f"watch failed: {self._error}") from self._error
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._condition.wait(remaining)
            return True

    def snapshot(self) -> tuple[dict[str, Obj], list[WatchEvent]]:
        with self._condition:
            return dict(self.objects), list(self.events)

    def _initial_list(self) -> str:
        response = self._list(_preload_content=False, **self._kwargs)
        body = json.loads(response.data)
        for item in body.get("items") or []:
            self._record(EXISTING, item)
        return str(body["metadata"]["resourceVersion"])

    def _watch_forever(self, resource_version: str) -> None:
        try:
            while not self._stopped:
                resource_version = self._watch_once(resource_version)
        except BaseException as error:  # noqa: BLE001 - handed to the waiting thread
            with self._condition:
                if not self._stopped:
                    self._error = error
                self._condition.notify_all()

    def _watch_once(self, resource_version: str) -> str:
        response = self._list(
            watch=True,
            resource_version=resource_version,
            timeout_seconds=WATCH_SECONDS,
            allow_watch_bookmarks=True,
            _preload_content=False,
            **self._kwargs,
        )
        with self._condition:
            self._response = response
            if self._stopped:
                _end_stream(response)
        try:
            buffer = b""
            for chunk in response.stream(4096):
                buffer += chunk
                *lines, buffer = buffer.split(b"\n")
                for line in lines:
                    if line.strip():
                        resource_version = self._handle(json.loads(line), resource_version)
        except Exception:
            if not self._stopped:
                raise
        finally:
            with self._condition:
                self._response = None
            response.release_conn()
        return resource_version

    def _handle(self, event: Obj, resource_version: str) -> str:
        kind, obj = event["type"], event["object"]
        if kind == "ERROR":
            raise ApiException(status=obj.get("code"), reason=obj.get("message"))
        version = str(obj["metadata"].get("resourceVersion", resource_version))
        if kind != "BOOKMARK":
            self._record(kind, obj)
        return version

    def _record(self, kind: str, obj: Obj) -> None:
        name = obj["metadata"]["name"]
        with self._condition:
            if kind == DELETED:
                self.objects.pop(name, None)
            else:
                self.objects[name] = obj
            seconds = time.monotonic() - self._started
            self.events.append(WatchEvent(len(self.events), seconds, kind, obj))
            self._condition.notify_all()


def _end_stream(response: Any) -> None:
    """Shut a watch stream's socket so its reader returns. The server or urllib3 may have
    closed it a moment before (a watch that ended on its own): then there is nothing to do."""
    if response is None:
        return
    with contextlib.suppress(OSError, RuntimeError, ValueError):
        response.shutdown()

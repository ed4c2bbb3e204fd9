"""The list-then-watch recorder, against a fake API that streams events on demand."""

from __future__ import annotations

import errno
import json
import queue
from collections.abc import Iterator
from typing import Any

from stsconf.access.watching import Recorder

STOP = b""


def pod(name: str, version: str) -> dict[str, Any]:
    return {"metadata": {"name": name, "resourceVersion": version}}


class FakeResponse:
    def __init__(self, data: bytes = b"", events: queue.Queue[bytes] | None = None) -> None:
        self.data = data
        self.events = events

    def stream(self, amount: int) -> Iterator[bytes]:
        assert self.events is not None
        while (chunk := self.events.get()) != STOP:
            yield chunk

    def shutdown(self) -> None:
        assert self.events is not None
        self.events.put(STOP)

    def release_conn(self) -> None:
        pass


class FakeApi:
    def __init__(self, existing: list[dict[str, Any]]) -> None:
        self.existing = existing
        self.events: queue.Queue[bytes] = queue.Queue()
        self.watch_calls: list[dict[str, Any]] = []

    def list(self, **kwargs: Any) -> FakeResponse:
        if kwargs.get("watch"):
            self.watch_calls.append(kwargs)
            return FakeResponse(events=self.events)
        body = {"metadata": {"resourceVersion": "10"}, "items": self.existing}
        return FakeResponse(json.dumps(body).encode())

    def send(self, kind: str, obj: dict[str, Any]) -> None:
        line = json.dumps({"type": kind, "object": obj}).encode() + b"\n"
        # split each event across two chunks, as a network may
        self.events.put(line[:7])
        self.events.put(line[7:])


def test_recorder_lists_then_follows_the_watch() -> None:
    api = FakeApi([pod("web-0", "9")])
    with Recorder(api.list, namespace="ns") as recorder:
        api.send("ADDED", pod("web-1", "11"))
        api.send("BOOKMARK", pod("", "12"))
        api.send("DELETED", pod("web-0", "13"))
        assert recorder.wait_until(lambda objects: set(objects) == {"web-1"}, timeout=5)
        _, events = recorder.snapshot()
    assert [(e.kind, e.name) for e in events] == [
        ("EXISTING", "web-0"), ("ADDED", "web-1"), ("DELETED", "web-0"),
    ]  # fmt: skip
    assert api.watch_calls[0]["resource_version"] == "10"
    assert api.watch_calls[0]["namespace"] == "ns"


def test_wait_gives_up_after_its_timeout() -> None:
    api = FakeApi([])
    with Recorder(api.list) as recorder:
        assert not recorder.wait_until(lambda objects: "web-0" in objects, timeout=0.2)


class EndedResponse(FakeResponse):
    """A watch whose socket was closed under it, as urllib3 does when the server ends it."""

    def shutdown(self) -> None:
        super().shutdown()
        raise OSError(errno.EBADF, "Bad file descriptor")


class EndedStreamApi(FakeApi):
    def list(self, **kwargs: Any) -> FakeResponse:
        if kwargs.get("watch"):
            self.watch_calls.append(kwargs)
            return EndedResponse(events=self.events)
        return super().list(**kwargs)


def test_stopping_after_the_server_closed_the_watch_is_quiet() -> None:
    api = EndedStreamApi([pod("web-0", "9")])
    with Recorder(api.list) as recorder:
        assert recorder.wait_until(lambda objects: "web-0" in objects, timeout=5)
    assert len(api.watch_calls) >= 1

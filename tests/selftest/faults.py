"""Faults injected into the cluster from outside the suite, for its self-tests."""

from __future__ import annotations

import threading
from typing import Any

from stsconf.access import rest
from stsconf.access.namespaces import SUITE
from stsconf.access.rest import Kube
from stsconf.access.watching import Recorder
from stsconf.model.timeline import condition_true

Obj = dict[str, Any]

RECHECK = 1.0  # seconds between looks at the stop flag while no pod event comes


class ForceDeletingAutomation:
    """Automation that force-deletes (grace period 0) the suite's pods left terminating on
    a node that is not Ready: the shortcut the "Force Delete StatefulSet Pods" page warns
    breaks at most one pod per identity, since the pod may still run on that node.

    Watches pods in every namespace while in its `with` block; the suite's namespaces are
    those named `stsconf-...`. Keys pods by name, so run one suite at a time beside it."""

    def __init__(self, kube: Kube) -> None:
        self.kube = kube
        self.deleted: list[str] = []  # namespace/name (uid) of each pod it force-deleted
        self._handled: set[str] = set()  # uids looked at (deleted, or on a Ready node)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> ForceDeletingAutomation:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=2 * RECHECK + rest.REQUEST_TIMEOUT)

    def _run(self) -> None:
        with Recorder(self.kube.core.list_pod_for_all_namespaces) as pods:
            while not self._stop.is_set():
                if pods.wait_until(lambda found: bool(self._terminating(found)), RECHECK):
                    for pod in self._terminating(pods.snapshot()[0]):
                        self._force_delete_if_node_down(pod)

    def _terminating(self, pods: dict[str, Obj]) -> list[Obj]:
        return [
            pod
            for pod in pods.values()
            if pod["metadata"]["namespace"].startswith(f"{SUITE}-")
            and pod["metadata"].get("deletionTimestamp")
            and pod["metadata"]["uid"] not in self._handled
        ]

    def _force_delete_if_node_down(self, pod: Obj) -> None:
        meta = pod["metadata"]
        self._handled.add(meta["uid"])
        node = (pod.get("spec") or {}).get("nodeName")
        if not node or condition_true(rest.raw(self.kube.core.read_node, node), "Ready"):
            return
        rest.delete_pod(self.kube, meta["name"], meta["namespace"], grace_seconds=0)
        self.deleted.append(f"{meta['namespace']}/{meta['name']} ({meta['uid'][:8]})")

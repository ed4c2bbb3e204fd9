"""One cluster per run, shared by the run's workers, and two runs that never collide.

A run (the pytest process; with -n, the controller of its workers) has a run directory. The
first worker that needs the cluster takes `cluster.lock` in it, gets the cluster (creates it,
or reuses one the user allowed), writes what it got to `cluster.json` as plain data and lets
go; the other workers wait for the lock and read the file. At the end the run deletes the
cluster only when `cluster.json` says the run created it.

The cluster's name is held by the run for its whole length with a lock in the system's temp
directory, so that a second run of the same name says who holds it instead of sharing the
cluster or deleting it under the first.
"""

from __future__ import annotations

import fcntl
import json
import os
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import IO

from stsconf.access.cluster import ClusterInfo, ClusterUnavailable
from stsconf.access.wait import attempt_until

STATE_FILE = "cluster.json"
CLUSTER_LOCK = "cluster.lock"
SHARE_LOCK = "share.lock"
NAME_LOCKS = Path(tempfile.gettempdir()) / "stsconf-cluster-names"


@dataclass(frozen=True)
class SetupStep:
    """A step of the run's set-up (creating the cluster, loading an image), not of a test."""

    what: str
    seconds: float


@dataclass(frozen=True)
class RunCluster:
    """What the run's first worker got: the cluster, or why there is none."""

    info: ClusterInfo | None
    created: bool = False  # by this run: deleted at its end unless --keep-cluster
    steps: tuple[SetupStep, ...] = ()
    unavailable: str = ""  # why there is no cluster, for the user

    def to_json(self) -> str:
        data = asdict(self)
        if self.info is not None:
            data["info"]["kubeconfig"] = str(self.info.kubeconfig)
        return json.dumps(data, indent=1)

    @classmethod
    def from_json(cls, text: str) -> RunCluster:
        data = json.loads(text)
        info = data["info"]
        return cls(
            info=ClusterInfo(**{**info, "kubeconfig": Path(info["kubeconfig"])}) if info else None,
            created=data["created"],
            steps=tuple(SetupStep(**step) for step in data["steps"]),
            unavailable=data["unavailable"],
        )


def read_run_cluster(run_dir: Path) -> RunCluster | None:
    path = run_dir / STATE_FILE
    return RunCluster.from_json(path.read_text()) if path.exists() else None


def shared_cluster(run_dir: Path, get: Callable[[], RunCluster], timeout: float) -> RunCluster:
    """The run's cluster: got by whichever worker comes first (`get`), read by the others."""
    with flock_within(run_dir / CLUSTER_LOCK, fcntl.LOCK_EX, timeout, "the run's cluster"):
        known = read_run_cluster(run_dir)
        if known is None:
            known = get()
            (run_dir / STATE_FILE).write_text(known.to_json())
        return known


@contextmanager
def flock_within(path: Path, mode: int, timeout: float, what: str) -> Iterator[IO[str]]:
    """Hold an flock on `path` (`mode`: LOCK_SH or LOCK_EX) for the block, waiting at most
    `timeout` seconds for it."""
    with path.open("a+") as handle:
        if not attempt_until(lambda: _try_flock(handle, mode), bool, timeout=timeout):
            raise ClusterUnavailable(
                f"waited {timeout:.0f}s for {what} (lock {path}) and another process still "
                "holds it; is an earlier run of the suite hanging? (`ps -ef | grep pytest`)"
            )
        try:
            yield handle
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _try_flock(handle: IO[str], mode: int) -> bool:
    try:
        fcntl.flock(handle, mode | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


@dataclass
class NameHold:
    """The run's hold on a cluster name: `busy` says who else holds it, when someone does."""

    name: str
    busy: str = ""
    _handle: IO[str] | None = field(default=None, repr=False)

    def release(self) -> None:
        if self._handle is not None:
            self._handle.close()  # closing lets the flock go
            self._handle = None


def hold_name(name: str, locks: Path = NAME_LOCKS) -> NameHold:
    """Hold `name` for this run if no other run does; else say which run holds it."""
    locks.mkdir(parents=True, exist_ok=True)
    path = locks / f"{name}.lock"
    handle = path.open("a+")
    if not _try_flock(handle, fcntl.LOCK_EX):
        handle.seek(0)
        holder = handle.read().strip() or "another process"
        handle.close()
        return NameHold(name, busy=holder)
    handle.seek(0)
    handle.truncate()
    handle.write(f"run of pid {os.getpid()} in {Path.cwd()}, since {time.strftime('%H:%M:%S')}")
    handle.flush()
    return NameHold(name, _handle=handle)


def refusal(name: str, kind_bin: Path, *, busy: str, found: bool, reuse: bool) -> str:
    """Why this run may not use the kind cluster `name` ("" when it may): another run holds
    the name (`busy`), or it exists (`found`) and the user did not allow reusing it."""
    if busy:
        return name_busy_message(name, busy)
    if found and not reuse:
        return found_cluster_message(name, kind_bin)
    return ""


def name_busy_message(name: str, holder: str) -> str:
    return (
        f"kind cluster {name!r} is in use by another run of the suite ({holder}); wait for it "
        f"to end, or give this run a cluster of its own: --cluster-name NAME"
    )


def found_cluster_message(name: str, kind_bin: Path) -> str:
    return (
        f"a kind cluster named {name!r} already exists and this run did not create it, so it "
        f"will neither test on it nor delete it unasked: pass --reuse-cluster to test on it "
        f"(it is kept afterwards), --cluster-name NAME for a new cluster, or delete it: "
        f"`{kind_bin} delete cluster --name {name}`"
    )


class ClusterShare:
    """Tests that need the cluster to themselves (they restart nodes) hold it alone; every
    other test's namespace holds it shared. One lock file per run and one handle per process,
    which holds the strongest mode any of its holders needs."""

    def __init__(self, run_dir: Path, timeout: float) -> None:
        self.path = run_dir / SHARE_LOCK
        self.timeout = timeout
        self.holders = {fcntl.LOCK_SH: 0, fcntl.LOCK_EX: 0}
        self._handle: IO[str] | None = None
        self._mode = fcntl.LOCK_UN

    def shared(self) -> AbstractContextManager[None]:
        return self._held(fcntl.LOCK_SH)

    def alone(self) -> AbstractContextManager[None]:
        return self._held(fcntl.LOCK_EX)

    @contextmanager
    def _held(self, mode: int) -> Iterator[None]:
        self.holders[mode] += 1
        try:
            self._apply()
            yield
        finally:
            self.holders[mode] -= 1
            self._apply()

    def _wanted(self) -> int:
        if self.holders[fcntl.LOCK_EX]:
            return fcntl.LOCK_EX
        return fcntl.LOCK_SH if self.holders[fcntl.LOCK_SH] else fcntl.LOCK_UN

    def _apply(self) -> None:
        wanted = self._wanted()
        if wanted == self._mode:
            return
        if self._handle is None:
            self._handle = self.path.open("a+")
        handle = self._handle
        if wanted == fcntl.LOCK_UN:
            fcntl.flock(handle, fcntl.LOCK_UN)
        elif not attempt_until(lambda: _try_flock(handle, wanted), bool, timeout=self.timeout):
            what = "to itself" if wanted == fcntl.LOCK_EX else "shared with other tests"
            raise ClusterUnavailable(
                f"waited {self.timeout:.0f}s for the cluster {what} ({self.path})"
            )
        self._mode = wanted

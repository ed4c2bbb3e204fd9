"""The rules by which a run gets, shares and gives back its cluster (stsconf.access.run_cluster):
one getter per run, a name held against other runs, found clusters reused only when asked,
and tests that need the cluster alone."""

from __future__ import annotations

import fcntl
from pathlib import Path

import pytest

from stsconf.access.cluster import ClusterInfo, ClusterUnavailable
from stsconf.access.run_cluster import (
    ClusterShare,
    RunCluster,
    SetupStep,
    hold_name,
    read_run_cluster,
    refusal,
    shared_cluster,
)

KIND = Path("/opt/kind")
INFO = ClusterInfo(Path("/k/config"), "https://127.0.0.1:1", "v1.37.2", "0.33.0", "img", "kind")


def test_the_cluster_is_got_once_for_all_workers(tmp_path: Path) -> None:
    calls = []

    def get() -> RunCluster:
        calls.append(1)
        return RunCluster(INFO, created=True, steps=(SetupStep("creating", 12.5),))

    first = shared_cluster(tmp_path, get, timeout=5)
    second = shared_cluster(tmp_path, get, timeout=5)
    assert calls == [1]
    assert first == second == read_run_cluster(tmp_path)


def test_a_run_cluster_survives_its_file() -> None:
    got = RunCluster(INFO, created=True, steps=(SetupStep("loading busybox", 2.0),))
    assert RunCluster.from_json(got.to_json()) == got
    none = RunCluster(None, unavailable="stsconf: Docker is not running")
    assert RunCluster.from_json(none.to_json()) == none


def test_no_run_cluster_before_a_worker_got_one(tmp_path: Path) -> None:
    assert read_run_cluster(tmp_path) is None


def test_a_second_run_of_the_same_name_is_told_who_holds_it(tmp_path: Path) -> None:
    first = hold_name("pytest-kind", tmp_path)
    second = hold_name("pytest-kind", tmp_path)
    other = hold_name("another", tmp_path)
    assert first.busy == ""
    assert other.busy == ""
    assert "run of pid" in second.busy
    first.release()
    assert hold_name("pytest-kind", tmp_path).busy == ""


def test_a_found_cluster_is_used_only_when_the_user_asked() -> None:
    refused = refusal("pytest-kind", KIND, busy="", found=True, reuse=False)
    assert "did not create it" in refused
    assert "--reuse-cluster" in refused
    assert "/opt/kind delete cluster --name pytest-kind" in refused
    assert refusal("pytest-kind", KIND, busy="", found=True, reuse=True) == ""
    assert refusal("pytest-kind", KIND, busy="", found=False, reuse=False) == ""


def test_a_held_name_is_refused_even_with_reuse() -> None:
    refused = refusal("pytest-kind", KIND, busy="run of pid 7", found=True, reuse=True)
    assert "in use by another run" in refused
    assert "run of pid 7" in refused
    assert "--cluster-name" in refused


def _other_process_holds(path: Path, mode: int) -> object:
    handle = path.open("a+")  # another open file: flock treats it as another holder
    fcntl.flock(handle, mode | fcntl.LOCK_NB)
    return handle


def test_a_test_alone_waits_for_the_tests_sharing_the_cluster(tmp_path: Path) -> None:
    held = _other_process_holds(tmp_path / "share.lock", fcntl.LOCK_SH)
    share = ClusterShare(tmp_path, timeout=0.5)
    with share.shared():
        pass  # sharing with a sharer: no wait
    with pytest.raises(ClusterUnavailable, match="to itself"), share.alone():
        pass
    del held


def test_sharing_waits_while_a_test_has_the_cluster_alone(tmp_path: Path) -> None:
    held = _other_process_holds(tmp_path / "share.lock", fcntl.LOCK_EX)
    share = ClusterShare(tmp_path, timeout=0.5)
    with pytest.raises(ClusterUnavailable, match="shared"), share.shared():
        pass
    del held


def test_a_process_alone_stays_alone_while_its_namespaces_share(tmp_path: Path) -> None:
    share = ClusterShare(tmp_path, timeout=0.5)
    with share.alone(), share.shared(), pytest.raises(BlockingIOError):
        _other_process_holds(tmp_path / "share.lock", fcntl.LOCK_SH)
    _other_process_holds(tmp_path / "share.lock", fcntl.LOCK_EX)  # all let go

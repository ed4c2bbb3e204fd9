"""Undoing a disruption must not hide the failure that happened during it."""

from __future__ import annotations

import pytest

from stsconf.workload import disruption


class KubeletWontStart(Exception):
    pass


def test_a_failure_inside_stays_the_failure_when_the_kubelet_wont_start_again(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    started: list[str] = []

    def start(node: str) -> None:
        started.append(node)
        raise KubeletWontStart("exit 1")

    monkeypatch.setattr(disruption, "stop_kubelet", lambda node: None)
    monkeypatch.setattr(disruption, "start_kubelet", start)
    with (
        pytest.raises(AssertionError, match="the test's own failure") as raised,
        disruption.kubelet_stopped("worker"),
    ):
        raise AssertionError("the test's own failure")
    assert started == ["worker"]
    assert "starting the kubelet on worker again failed: exit 1" in raised.value.__notes__[0]


def test_without_a_failure_inside_a_kubelet_that_wont_start_is_the_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(disruption, "stop_kubelet", lambda node: None)
    monkeypatch.setattr(
        disruption, "start_kubelet", lambda node: (_ for _ in ()).throw(KubeletWontStart("x"))
    )
    with pytest.raises(KubeletWontStart), disruption.kubelet_stopped("worker"):
        pass

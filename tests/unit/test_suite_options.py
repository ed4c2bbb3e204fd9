"""The options as the commands that run the suite several times read them, and the one kind
cluster such runs share (stsconf.suite_options)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from stsconf import suite_options
from stsconf.suite_options import one_cluster_for_runs, option_value, without_option


def test_option_values_in_every_spelling_the_last_winning() -> None:
    options = ["--airgap", "--cluster-name", "a", "-kfoo", "--cluster-name=b"]
    assert option_value(options, "--cluster-name") == "b"
    assert option_value(options, "-k") == "foo"
    assert option_value(["-k", "not slow"], "-k") == "not slow"
    assert option_value(["--keep-cluster"], "-k") is None
    assert option_value(["--cluster-name"], "--cluster-name") is None  # no value follows


def test_without_an_option_drops_it_with_its_value() -> None:
    options = ["-k", "a", "--airgap", "-kb", "-k=c", "--keep-cluster", "-n", "2"]
    assert without_option(options, "-k") == ["--airgap", "--keep-cluster", "-n", "2"]


def test_runs_share_a_cluster_created_for_them_and_it_goes_even_when_interrupted(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(suite_options, "kind_clusters", lambda kind: ["other"])
    calls: list[list[str]] = []
    monkeypatch.setattr(subprocess, "run", lambda command, **_: calls.append(command))
    options = ["--kind-bin=/k/kind", "--cluster-name=soak"]
    given: list[list[str]] = []

    def interrupted() -> None:
        with one_cluster_for_runs(options) as shared:
            given.append(shared)
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        interrupted()
    assert given == [["--reuse-cluster", "--keep-cluster"]]
    assert calls == [["/k/kind", "delete", "cluster", "--name", "soak"]]


def test_a_cluster_found_or_to_be_kept_is_left_as_it_is(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[list[str]] = []
    monkeypatch.setattr(subprocess, "run", lambda command, **_: calls.append(command))
    monkeypatch.setattr(suite_options, "kind_clusters", lambda kind: ["pytest-kind"])
    with one_cluster_for_runs(["--kind-bin=/k/kind"]) as shared:
        assert shared == ["--reuse-cluster", "--keep-cluster"]
    monkeypatch.setattr(suite_options, "kind_clusters", lambda kind: [])
    with one_cluster_for_runs(["--kind-bin=/k/kind", "--keep-cluster"]):
        pass
    with one_cluster_for_runs(["--existing-kubeconfig=/k/config"]) as shared:
        assert shared == []
    assert calls == []
    assert Path("/k/kind").name == "kind"

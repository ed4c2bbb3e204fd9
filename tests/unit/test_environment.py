"""What the report says about the environment, beyond the cluster's API."""

from __future__ import annotations

import subprocess
from typing import Any

import pytest

from stsconf.observe import environment


def test_a_container_that_docker_knows_gives_its_image(monkeypatch: pytest.MonkeyPatch) -> None:
    def docker(command: list[str], **_: Any) -> subprocess.CompletedProcess[str]:
        known = command[-1] == "kind-control-plane"
        return subprocess.CompletedProcess(command, 0 if known else 1, "kindest/node:v1\n", "")

    monkeypatch.setattr(subprocess, "run", docker)
    assert environment.container_image("kind-control-plane") == "kindest/node:v1"
    assert environment.container_image("elsewhere") == ""


def test_no_docker_means_no_image(monkeypatch: pytest.MonkeyPatch) -> None:
    def missing(command: list[str], **_: Any) -> subprocess.CompletedProcess[str]:
        raise FileNotFoundError(command[0])

    monkeypatch.setattr(subprocess, "run", missing)
    assert environment.container_image("kind-control-plane") == ""

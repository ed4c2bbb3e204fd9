"""One source of truth for Kubernetes and kind versions: the air-gapped build's Go modules.
The GitHub workflow's matrix and the action's defaults must name the same ones."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from airgap import __main__ as airgap_cli
from airgap import config

ROOT = Path(__file__).resolve().parents[2]
WORKFLOW = ROOT / ".github" / "workflows" / "conformance.yml"
ACTION = ROOT / "action.yml"
NODE_IMAGE = re.compile(r"kindest/node:v(\d+\.\d+)\.\d+@sha256:[0-9a-f]{64}")


def workflow() -> dict:
    return yaml.safe_load(WORKFLOW.read_text())


def test_the_workflow_matrix_tests_the_minors_the_build_knows() -> None:
    matrix = workflow()["jobs"]["kind"]["strategy"]["matrix"]["include"]
    minors = {entry["kubernetes"] for entry in matrix}
    assert sorted(minors, key=config.minor_key) == list(config.known_minors())
    for entry in matrix:
        found = NODE_IMAGE.fullmatch(entry["node-image"])
        assert found, entry["node-image"]
        assert found.group(1) == entry["kubernetes"]


def test_every_node_image_the_workflow_names_is_of_a_known_minor() -> None:
    named = NODE_IMAGE.findall(WORKFLOW.read_text())
    assert named
    assert set(named) <= set(config.known_minors())


def test_kind_is_the_same_release_everywhere() -> None:
    built = config.versions(config.default_minor()).kind
    assert workflow()["env"]["KIND_VERSION"] == built
    action = yaml.safe_load(ACTION.read_text())
    assert action["inputs"]["kind-version"]["default"] == built


def test_the_default_minor_is_the_newest_known() -> None:
    assert config.default_minor() == max(config.known_minors(), key=config.minor_key)
    assert config.versions(config.default_minor()).kubernetes.startswith(
        f"v{config.default_minor()}."
    )


def test_each_minor_pins_its_own_kubernetes_etcd_and_coredns() -> None:
    for minor in config.known_minors():
        versions = config.versions(minor)
        assert versions.kubernetes.startswith(f"v{minor}.")
        assert versions.etcd.startswith("v3.")
        assert versions.coredns.startswith("v1.")


def test_build_takes_minors_as_a_list_or_all() -> None:
    known = list(config.known_minors())
    assert airgap_cli.requested_minors([]) == []
    assert airgap_cli.requested_minors([f"{known[0]},v{known[-1]}", known[0]]) == [
        known[0],
        known[-1],
    ]
    assert airgap_cli.requested_minors(["all"]) == known


def test_an_unknown_minor_is_refused_naming_the_known_ones() -> None:
    with pytest.raises(config.UnknownMinor, match=f"known: {', '.join(config.known_minors())}"):
        config.check_minor("1.20")

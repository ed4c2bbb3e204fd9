"""The lifecycle self-test's seed draws its fault within its budget, under any Hypothesis
profile (the "ci" profile, loaded wherever a CI variable is set, once made the seed count for
nothing and the self-test pass its fault by)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any, cast

import pytest
from hypothesis import core
from hypothesis import settings as hypothesis_settings
from hypothesis.stateful import run_state_machine_as_test

from stsconf.checks.lifecycle_model import Model
from stsconf.lifecycle_plugin import LifecycleOptions
from stsconf.model.manifest import load_manifest
from tests.conformance.test_lifecycle import hypothesis_budget, seeded_machine
from tests.selftest.test_lifecycle_shrinks import EXAMPLES, FAULT, MACHINES, SEED, STEPS

WEB = Path(__file__).parents[2] / "manifests" / "web.yaml"


class FaultDrawn(AssertionError):
    pass


class ModelOnlyRun:
    """Stands in for a Lifecycle: moves the model as the real steps do, touches no cluster."""

    def __init__(self) -> None:
        manifest = load_manifest(WEB)
        self.web = SimpleNamespace(manifest=manifest)
        self.model = Model.start(manifest.policies, 1)
        self.keeps_data = manifest.policies.keeps_data

    def write(self, offset: int) -> None:
        self.model = self.model.write(offset, "value")

    def delete_claim_behind_the_controller(self, offset: int) -> None:
        raise FaultDrawn(offset)

    def scale(self, replicas: int) -> None:
        self.model = self.model.scale(replicas)

    def delete_pod(self, offset: int) -> None:
        self.model = self.model.delete_pods(frozenset({offset}))

    def delete_all_pods(self) -> None:
        self.model = self.model.delete_pods(frozenset(self.model.pods))

    def change_template(self) -> None:
        self.model = self.model.change_template()

    def set_partition(self, partition: int) -> None:
        self.model = self.model.set_partition(partition)


@pytest.fixture
def ci_profile_and_seed(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """What CI with `--hypothesis-seed=SEED` sets up."""
    before = hypothesis_settings.get_current_profile_name()
    hypothesis_settings.load_profile("ci")
    monkeypatch.setattr(core, "global_force_seed", SEED)
    yield
    hypothesis_settings.load_profile(before)


@pytest.mark.usefixtures("ci_profile_and_seed")
def test_the_self_tests_seed_draws_its_fault_under_the_ci_profile(
    request: pytest.FixtureRequest,
) -> None:
    options = LifecycleOptions(EXAMPLES, STEPS, FAULT, machines=MACHINES, seed=SEED)
    machine = seeded_machine(cast(Any, ModelOnlyRun), lambda run: None, options, 1)
    budget = hypothesis_budget(options, request.config)
    with pytest.raises(FaultDrawn):
        run_state_machine_as_test(machine, settings=budget)

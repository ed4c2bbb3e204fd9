"""pytest side of the lifecycle test: how many random sequences, how long, over how many state
machines (each a test of its own, so that workers run them side by side), and (for the
self-tests only) a fault to inject."""

from __future__ import annotations

import math
from dataclasses import dataclass

import pytest

FAULTS = ("delete-claim",)  # a claim deleted behind the controller's back


@dataclass(frozen=True)
class LifecycleOptions:
    examples: int  # sequences Hypothesis runs, over all machines
    steps: int  # at most this many steps each
    fault: str | None
    machines: int = 1  # state machines, each running its share of the sequences
    seed: int | None = None  # --hypothesis-seed: machine k draws with seed + k - 1

    @property
    def examples_per_machine(self) -> int:
        return math.ceil(self.examples / self.machines)

    def machine_seed(self, machine: int) -> int | None:
        return None if self.seed is None else self.seed + machine - 1


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("stsconf", "StatefulSet conformance")
    group.addoption(
        "--lifecycle-examples",
        type=int,
        default=10,
        metavar="N",
        help="lifecycle test: random sequences to run (default %(default)s; more for a soak)",
    )
    group.addoption(
        "--lifecycle-steps",
        type=int,
        default=6,
        metavar="N",
        help="lifecycle test: at most this many steps per sequence (default %(default)s)",
    )
    group.addoption(
        "--lifecycle-machines",
        type=int,
        default=5,
        metavar="N",
        help="lifecycle test: split the sequences over N state machines, each a test of its "
        "own that a worker runs beside the others (default %(default)s)",
    )
    group.addoption(
        "--lifecycle-fault",
        choices=FAULTS,
        default=None,
        help="self-tests: let the lifecycle test also inject this fault, which it must catch",
    )


def lifecycle_options(config: pytest.Config) -> LifecycleOptions:
    option = config.option
    examples, steps = option.lifecycle_examples, option.lifecycle_steps
    machines = min(option.lifecycle_machines, examples)
    if min(examples, steps, machines) < 1:
        raise pytest.UsageError(
            "--lifecycle-examples, --lifecycle-steps and --lifecycle-machines must be at least 1"
        )
    seed = getattr(option, "hypothesis_seed", None)
    return LifecycleOptions(
        examples, steps, option.lifecycle_fault, machines, int(seed) if seed is not None else None
    )


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """The lifecycle test, once per state machine: test_lifecycle[machine-1] ..."""
    if "lifecycle_machine" in metafunc.fixturenames:
        machines = lifecycle_options(metafunc.config).machines
        metafunc.parametrize(
            "lifecycle_machine",
            range(1, machines + 1),
            ids=[f"machine-{k}" for k in range(1, machines + 1)],
        )

"""pytest side of the lifecycle test: how many random sequences, how long, and (for the
self-tests only) a fault to inject."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

FAULTS = ("delete-claim",)  # a claim deleted behind the controller's back


@dataclass(frozen=True)
class LifecycleOptions:
    examples: int  # sequences Hypothesis runs
    steps: int  # at most this many steps each
    fault: str | None


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
        "--lifecycle-fault",
        choices=FAULTS,
        default=None,
        help="self-tests: let the lifecycle test also inject this fault, which it must catch",
    )


def lifecycle_options(config: pytest.Config) -> LifecycleOptions:
    examples, steps = config.option.lifecycle_examples, config.option.lifecycle_steps
    if examples < 1 or steps < 1:
        raise pytest.UsageError("--lifecycle-examples and --lifecycle-steps must be at least 1")
    return LifecycleOptions(examples, steps, config.option.lifecycle_fault)

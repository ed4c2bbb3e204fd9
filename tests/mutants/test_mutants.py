"""Mutant StatefulSet controllers, each killed by the properties it breaks, beside the real
controller passing them all: proof that the suite catches a controller that is wrong.

Each mutant is the real kube-controller-manager with one named change to its StatefulSet
controller (stsconf/model/mutants.py). The real one runs first, then each mutant in turn on the
same kind cluster (the control-plane's static pod gets the mutant's image); the real one is put
back at the end. `--mutants` picks them (default: conftest.CI_MUTANTS); `python -m
stsconf.mutants` runs this module and prints the table.
"""

from __future__ import annotations

import pytest

from stsconf.checks.mutants import KILLED
from stsconf.model.expectations import expect
from stsconf.model.mutants import Mutant
from stsconf.mutants import (
    BASELINE_CHECKS_PROPERTY,
    BASELINE_PROBLEMS_PROPERTY,
    FAILED_PROPERTY,
    MUTANT_PROPERTY,
    SECONDS_PROPERTY,
    VERDICT_PROPERTY,
    MutantLab,
    run_details,
)
from stsconf.report.mutants import MutantRow
from tests.mutants.conftest import ROWS, RealRun, record

pytestmark = pytest.mark.mutants


def test_mutant_baseline_real_controller(request: pytest.FixtureRequest, real_run: RealRun) -> None:
    """The real controller passes every property the mutants are run against."""
    record(
        request,
        **{
            BASELINE_CHECKS_PROPERTY: len(real_run.checks),
            BASELINE_PROBLEMS_PROPERTY: "; ".join(real_run.problems),
            SECONDS_PROPERTY: f"{real_run.seconds:.1f}",
        },
    )
    expect(
        not real_run.problems,
        "the real controller on the mutants' properties",
        "every property to pass",
        "; ".join(real_run.problems) + f"\n{real_run.details}",
    )


def test_mutant_killed(
    request: pytest.FixtureRequest, mutant: Mutant, lab: MutantLab, real_run: RealRun
) -> None:
    """The mutant fails every property it must fail and passes those it must pass."""
    record(request, **{MUTANT_PROPERTY: mutant.name})
    if real_run.problems:
        pytest.fail(
            f"not run: the real controller did not pass {'; '.join(real_run.problems)}, so a "
            "failure under the mutant would prove nothing",
            pytrace=False,
        )
    run = lab.run_mutant(mutant)
    judgement = run.judgement
    failed = ", ".join(map(str, judgement.failed))
    record(
        request,
        **{
            VERDICT_PROPERTY: judgement.verdict,
            FAILED_PROPERTY: failed,
            SECONDS_PROPERTY: f"{run.seconds:.1f}",
        },
    )
    request.config.stash[ROWS].append(
        MutantRow(
            mutant.name,
            mutant.change,
            ", ".join(map(str, mutant.must_fail)),
            failed,
            judgement.verdict,
            run.seconds,
        )
    )
    must_pass = [check.property_id for check in mutant.must_pass]
    assert judgement.verdict == KILLED, (
        f"mutant {mutant.name} ({mutant.change}) {judgement.verdict}: "
        + "; ".join(judgement.reasons)
        + f"\nswapped in {run.swap_seconds:.0f}s; the suite runs:\n"
        + run_details(run.checks, must_pass)
    )

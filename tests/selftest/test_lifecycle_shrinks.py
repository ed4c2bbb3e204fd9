"""The lifecycle test is sensitive: a fault the suite injects (a claim deleted behind the
controller's back) is found, shrunk to a few steps, and shown as steps and kubectl commands.

It runs the lifecycle test in a subprocess against the same cluster, with a fixed Hypothesis
seed so the same sequences are drawn every time.
"""

from __future__ import annotations

import re
from concurrent.futures import Future

import pytest

from stsconf.report.observations import Observations
from stsconf.selftest import LIFECYCLE, SuiteRun, report_tables
from stsconf.settings import Settings
from tests.selftest.detection import PlannedRun

pytestmark = pytest.mark.selftest

SEED = 3  # draws the fault within the budget below (tests/unit/test_lifecycle_draws.py)
EXAMPLES, STEPS, FAULT, MACHINES = 6, 2, "delete-claim", 1
BUDGET = [f"--lifecycle-examples={EXAMPLES}", f"--lifecycle-steps={STEPS}",
          f"--lifecycle-fault={FAULT}", f"--lifecycle-machines={MACHINES}"]  # fmt: skip
LIFECYCLE_TEST = "test_lifecycle[machine-1]"
RUNS = {
    "test_lifecycle_finds_and_shrinks_an_injected_fault": PlannedRun(
        None, (f"--hypothesis-seed={SEED}", *BUDGET), LIFECYCLE, expected_seconds=350.0
    )
}
MAX_SHRUNK_STEPS = 3


def test_lifecycle_finds_and_shrinks_an_injected_fault(
    settings: Settings,
    suite_runs: dict[str, Future[SuiteRun]],
    observe: Observations,
) -> None:
    if not settings.manifest.claim_templates:
        pytest.skip("the injected fault deletes a claim: the manifest has no claim templates")
    run = suite_runs["test_lifecycle_finds_and_shrinks_an_injected_fault"].result()
    context = f"\n--- suite output ({' '.join(run.command)}) ---\n{run.output[-6000:]}"
    outcome = run.outcomes.get(LIFECYCLE_TEST)
    assert outcome is not None, f"expected the lifecycle test to run{context}"
    assert outcome.result == "failed", f"expected it to fail; saw {outcome.result}{context}"
    observe.text("the lifecycle test's failure, as it reported it", outcome.text)

    steps = re.findall(r"^  step (\d+): (.*)$", outcome.text, re.MULTILINE)
    taken = [action for number, action in steps if number != "0"]
    assert 1 <= len(taken) <= MAX_SHRUNK_STEPS, (
        f"expected at most {MAX_SHRUNK_STEPS} steps{context}"
    )
    assert any("behind the controller's back" in action for action in taken), taken
    assert re.search(r"kubectl -n \S+ delete pvc \S+", outcome.text), outcome.text
    assert "--hypothesis-seed=" in run.output, f"expected the seed to replay it{context}"

    report = run.report.read_text()
    tables = report_tables(report, LIFECYCLE_TEST)
    by_hand = [t for t in tables if t and "by hand" in t[0]]
    assert by_hand, f"expected the steps and their kubectl commands in the report{context}"
    assert len(by_hand[-1]) == len(steps), by_hand[-1]

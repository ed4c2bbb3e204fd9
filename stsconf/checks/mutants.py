"""Whether the suite killed a mutant controller, and whether the real controller passed.

Pure functions over the outcomes the suite's JUnit files gave each check (passed, failed,
error, skipped; absent when the check did not run). A mutant is killed when every property it
must fail failed (an assertion, not an error: an error says the test could not run) and every
property it must pass passed; it survived when a property it must fail passed (the suite did
not notice the change); anything else says nothing for certain.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from stsconf.model.mutants import Check, Mutant

PASSED = "passed"
FAILED = "failed"
NO_RESULT = "no result"

KILLED = "killed"
SURVIVED = "survived"
INCONCLUSIVE = "inconclusive"


@dataclass(frozen=True)
class Judgement:
    mutant: str
    verdict: str
    failed: tuple[Check, ...]  # of the checks run, those that failed
    reasons: tuple[str, ...]  # why it is not killed (empty when it is)


def outcome(outcomes: Mapping[Check, str], check: Check) -> str:
    return outcomes.get(check, NO_RESULT)


def judge(mutant: Mutant, outcomes: Mapping[Check, str]) -> Judgement:
    """Killed, survived or inconclusive, from the outcome of each of the mutant's checks."""
    survived = [c for c in mutant.must_fail if outcome(outcomes, c) == PASSED]
    not_failed = [
        f"{c} must fail; {outcome(outcomes, c)}"
        for c in mutant.must_fail
        if outcome(outcomes, c) not in (PASSED, FAILED)
    ]
    not_passed = [
        f"{c} must pass; {outcome(outcomes, c)}"
        for c in mutant.must_pass
        if outcome(outcomes, c) != PASSED
    ]
    reasons = [f"{c} must fail; passed" for c in survived] + not_failed + not_passed
    if survived:
        verdict = SURVIVED
    elif reasons:
        verdict = INCONCLUSIVE
    else:
        verdict = KILLED
    failed = tuple(c for c in mutant.checks if outcome(outcomes, c) == FAILED)
    return Judgement(mutant.name, verdict, failed, tuple(reasons))


def baseline_problems(checks: Iterable[Check], outcomes: Mapping[Check, str]) -> list[str]:
    """What the real controller did not pass of what the mutants are run against (a skip is
    not a pass: the property was not asserted)."""
    return [
        f"{check}: {outcome(outcomes, check)}"
        for check in checks
        if outcome(outcomes, check) != PASSED
    ]

"""The self-tests' verdict on a suite run: exactly the broken properties fail, and every other
property that ran passed (a skip is not a pass)."""

from __future__ import annotations

from pathlib import Path

import pytest

from stsconf.report.junit import Outcome
from stsconf.selftest import SuiteRun
from tests.selftest.detection import Violation, assert_detects

BROKEN = Violation("m.yaml", frozenset({"dns_records"}), holds=frozenset({"pod_labels"}))


def suite_run(results: dict[str, str]) -> SuiteRun:
    outcomes = {
        f"test_{name}": Outcome(f"test_{name}", result, "expected x; saw y")
        for name, result in results.items()
    }
    return SuiteRun(("pytest",), 1, "", outcomes, Path("report.html"))


def test_a_run_that_fails_exactly_the_broken_property_detects_it() -> None:
    assert_detects(suite_run({"dns_records": "failed", "pod_labels": "passed"}), BROKEN)


def test_a_property_that_should_hold_but_was_skipped_is_not_taken_as_holding() -> None:
    with pytest.raises(AssertionError, match="a skip shows nothing"):
        assert_detects(suite_run({"dns_records": "failed", "pod_labels": "skipped"}), BROKEN)


def test_a_declared_skip_is_expected_and_its_absence_is_reported() -> None:
    declared = Violation(
        "m.yaml", frozenset(), holds=frozenset({"pod_labels"}), skipped=frozenset({"pod_labels"})
    )
    assert_detects(suite_run({"pod_labels": "skipped"}), declared)
    with pytest.raises(AssertionError, match="to be skipped as not applicable"):
        assert_detects(suite_run({"pod_labels": "passed"}), declared)

"""Counting a soak's failures per property from the runs' outcomes."""

from __future__ import annotations

from stsconf.report.junit import Outcome
from stsconf.soak import failures_per_property


def outcome(name: str, result: str) -> Outcome:
    return Outcome(name, result, "", "")


def test_failures_and_errors_count_per_property_and_passes_and_skips_do_not() -> None:
    runs = [
        {"test_a": outcome("test_a", "passed"), "test_b": outcome("test_b", "failed")},
        {"test_a": outcome("test_a", "error"), "test_b": outcome("test_b", "failed")},
        {"test_a": outcome("test_a", "skipped"), "test_b": outcome("test_b", "passed")},
    ]
    assert failures_per_property(runs) == {"a": 1, "b": 2}


def test_a_run_that_broke_off_counts_its_missing_tests() -> None:
    runs = [{"test_a": outcome("test_a", "passed")}, {}]
    assert failures_per_property(runs) == {"(no result)": 1}

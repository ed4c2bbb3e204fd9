"""Failure messages that always say what was expected and what was seen."""

from __future__ import annotations

from collections.abc import Iterable

import pytest


def mismatch(subject: str, expected: str, seen: str) -> str:
    return f"{subject}: expected {expected}; saw {seen}"


def expect(condition: bool, subject: str, expected: str, seen: str) -> None:
    """Fail the test with a mismatch message unless `condition` holds."""
    if not condition:
        pytest.fail(mismatch(subject, expected, seen), pytrace=False)


def expect_none(problems: Iterable[object], subject: str) -> None:
    """Fail listing every problem (each one says expected/saw) if there is any."""
    lines = [str(problem) for problem in problems]
    if lines:
        pytest.fail(f"{subject}:\n  " + "\n  ".join(lines), pytrace=False)

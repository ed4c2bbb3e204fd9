"""Failures as data: each problem says what, what was expected and what was seen; a test fails
with its problems (Unmet), and the report reads them from the failure, never from its text."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace

from _pytest.outcomes import Failed  # pytest.fail.Exception, which mypy takes as no base class


@dataclass(frozen=True)
class Problem:
    """One thing that was not as expected."""

    what: str
    expected: str
    seen: str

    def __str__(self) -> str:
        return f"{self.what}: expected {self.expected}; saw {self.seen}"


class Unmet(Failed):
    """A test's failure on problems, as pytest.fail reports it (no traceback): its message lists
    them under the headline, then anything else worth saying (`detail`)."""

    # reported under pytest.fail's name ("Failed: ..."), in the terminal and the JUnit file alike
    __module__ = Failed.__module__
    __qualname__ = Failed.__qualname__

    def __init__(self, headline: str, problems: Sequence[Problem], detail: str = "") -> None:
        self.headline = headline
        self.problems = tuple(problems)
        self.detail = detail
        super().__init__(failure_text(headline, self.problems, detail), pytrace=False)


def failure_text(headline: str, problems: Sequence[Problem], detail: str = "") -> str:
    """`headline:` then one problem a line (a lone problem without a headline: that problem),
    then `detail`."""
    lines = [str(problem) for problem in problems]
    if headline and lines:
        text = f"{headline}:\n  " + "\n  ".join(lines)
    else:
        text = headline or "\n".join(lines)
    return "\n".join(part for part in (text, detail) if part)


def found_at(where: str, problems: Iterable[Problem]) -> list[Problem]:
    """The problems, each saying where (at which step) it was found."""
    return [replace(problem, what=f"{where}: {problem.what}") for problem in problems]


def expect(condition: bool, what: str, expected: str, seen: str) -> None:
    """Fail the test with this problem unless `condition` holds."""
    if not condition:
        raise Unmet("", [Problem(what, expected, seen)])


def expect_none(problems: Iterable[Problem], headline: str) -> None:
    """Fail listing every problem if there is any."""
    found = list(problems)
    if found:
        raise Unmet(headline, found)

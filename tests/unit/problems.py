"""What the unit tests compare checkers' problems by: the text each renders as."""

from __future__ import annotations

from collections.abc import Iterable

from stsconf.model.expectations import Problem


def texts(problems: Iterable[Problem]) -> list[str]:
    """Each problem as it reads: `what: expected ...; saw ...`."""
    return [str(problem) for problem in problems]

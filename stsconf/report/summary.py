"""The property matrix as Markdown, from a run's JUnit XML: for a CI job summary.

    python -m stsconf.report.summary reports/junit.xml >> "$GITHUB_STEP_SUMMARY"

Every guarantee of stsconf.report.matrix.GUARANTEES gets a row with the outcome of its test in that
run (not run, when the run did not have it); the other tests of the run are counted below,
the ones that did not pass named.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterable
from pathlib import Path

from stsconf.report.junit import Outcome, read_junit
from stsconf.report.matrix import (
    ERROR,
    FAILED,
    GUARANTEES,
    NOT_RUN,
    PASSED,
    SEVERITY,
    SKIPPED,
    short,
)

MARKS = {PASSED: "✅", FAILED: "❌", ERROR: "❌", SKIPPED: "⏭️", NOT_RUN: "⚪"}
PROPERTY_TESTS = {f"test_{g.property_id}" for g in GUARANTEES}


def by_function(outcomes: dict[str, Outcome]) -> dict[str, Outcome]:
    """Outcomes by test function (parametrised tests: the worst of their cases)."""
    worst: dict[str, Outcome] = {}
    for name, outcome in outcomes.items():
        function = name.split("[", 1)[0]
        known = worst.get(function)
        if known is None or SEVERITY.index(outcome.result) > SEVERITY.index(known.result):
            worst[function] = outcome
    return worst


def cell(text: str) -> str:
    """Text for one table cell: one line, pipes escaped."""
    return short(text, 160).replace("|", "\\|")


def outcome_cell(outcome: Outcome | None) -> str:
    if outcome is None:
        return f"{MARKS[NOT_RUN]} not run"
    text = f"{MARKS[outcome.result]} {outcome.result}"
    return f"{text}: {cell(outcome.message)}" if outcome.message else text


def summary_markdown(outcomes: dict[str, Outcome], title: str) -> str:
    tests = by_function(outcomes)
    rows = [(g, tests.get(f"test_{g.property_id}")) for g in GUARANTEES]
    held = sum(1 for _, o in rows if o and o.result == PASSED)
    counts = count_outcomes(o.result if o else NOT_RUN for _, o in rows)
    lines = [
        f"## {title}: {held} of {len(rows)} StatefulSet guarantees held{counts}",
        "",
        "| property | the guarantee | outcome |",
        "|---|---|---|",
    ]
    for guarantee, outcome in rows:
        form = f"<br>form: {cell(outcome.form)}" if outcome and outcome.form else ""
        lines.append(
            f"| `{guarantee.property_id}`{form} | {cell(guarantee.sentence)} "
            f"| {outcome_cell(outcome)} |"
        )
    return "\n".join([*lines, *other_tests(tests), ""])


def compare_markdown(runs: dict[str, dict[str, Outcome]]) -> str:
    """One row per guarantee, one column per run (e.g. '1.36 web'): its outcome there."""
    tests = {label: by_function(outcomes) for label, outcomes in runs.items()}
    lines = [
        "| property | " + " | ".join(runs) + " |",
        "|---|" + "---|" * len(runs),
    ]
    for guarantee in GUARANTEES:
        cells = [
            short_outcome(found.get(f"test_{guarantee.property_id}")) for found in tests.values()
        ]
        lines.append(f"| `{guarantee.property_id}` | " + " | ".join(cells) + " |")
    totals = [count_line(found) for found in tests.values()]
    lines.append("| all tests | " + " | ".join(totals) + " |")
    return "\n".join(lines) + "\n"


def short_outcome(outcome: Outcome | None) -> str:
    result = outcome.result if outcome else NOT_RUN
    return f"{MARKS[result]} {result}"


def count_line(tests: dict[str, Outcome]) -> str:
    """'21 passed, 1 skipped' over a run's tests."""
    counts: dict[str, int] = {}
    for outcome in tests.values():
        counts[outcome.result] = counts.get(outcome.result, 0) + 1
    return ", ".join(f"{n} {r}" for r, n in sorted(counts.items())) or "no result"


def count_outcomes(results: Iterable[str]) -> str:
    """', 1 failed, 3 skipped': the outcomes other than passed, counted."""
    counts: dict[str, int] = {}
    for result in results:
        counts[result] = counts.get(result, 0) + 1
    return "".join(f", {n} {r}" for r, n in sorted(counts.items()) if r != PASSED)


def other_tests(tests: dict[str, Outcome]) -> list[str]:
    """A line counting the run's other tests, and one per test of them that did not pass."""
    others = {name: o for name, o in tests.items() if name not in PROPERTY_TESTS}
    if not others:
        return []
    passed = sum(1 for o in others.values() if o.result == PASSED)
    lines = ["", f"Other tests (cluster checks, examples, ...): {passed} of {len(others)} passed."]
    lines += [
        f"- `{name}`: {outcome_cell(o)}"
        for name, o in sorted(others.items())
        if o.result in (FAILED, ERROR)
    ]
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m stsconf.report.summary", description=__doc__)
    parser.add_argument("junit", type=Path, help="the run's JUnit XML (reports/junit.xml)")
    parser.add_argument("--title", default="StatefulSet conformance")
    args = parser.parse_args(argv)
    if not args.junit.is_file():
        print(f"## {args.title}: no results\n\n{args.junit} was not written: the run "
              "stopped before testing (see the job log).")  # fmt: skip
        return 0
    print(summary_markdown(read_junit(args.junit.read_text()), args.title))
    return 0


if __name__ == "__main__":
    sys.exit(main())

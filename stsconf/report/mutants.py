"""The mutant table: each mutant controller, its change, what it must fail, what failed, and
whether the suite killed it; as Markdown (terminal, README) and as HTML (a page of its own,
and the top of the mutant run's pytest-html report)."""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass

COLUMNS = ("mutant", "change", "must fail", "failed", "verdict", "time")
VERDICT_MARKS = {"killed": "✅", "survived": "❌", "inconclusive": "⚠️"}


@dataclass(frozen=True)
class MutantRow:
    mutant: str
    change: str
    must_fail: str
    failed: str
    verdict: str
    seconds: float | None

    def cells(self) -> tuple[str, ...]:
        mark = VERDICT_MARKS.get(self.verdict, "")
        verdict = f"{mark} {self.verdict}".strip()
        return (self.mutant, self.change, self.must_fail, self.failed or "none", verdict,
                seconds_text(self.seconds))  # fmt: skip


@dataclass(frozen=True)
class Baseline:
    """The real controller's run: how many properties, which did not pass, how long."""

    checks: int
    problems: tuple[str, ...]
    seconds: float | None

    def sentence(self) -> str:
        took = f" in {seconds_text(self.seconds)}" if self.seconds is not None else ""
        if self.checks == 0:
            return "The real controller was not run."
        if self.problems:
            return (
                f"The real controller did not pass {len(self.problems)} of the {self.checks} "
                f"properties{took}: {'; '.join(self.problems)}. A kill proves nothing then."
            )
        return f"The real controller passed all {self.checks} properties{took}."


def seconds_text(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    whole = round(seconds)
    return f"{whole} s" if whole < 60 else f"{whole // 60} min {whole % 60} s"


def killed_count(rows: Sequence[MutantRow]) -> str:
    killed = sum(1 for row in rows if row.verdict == "killed")
    return f"{killed} of {len(rows)} mutants killed"


def markdown(rows: Sequence[MutantRow], baseline: Baseline) -> str:
    def line(cells: Sequence[str]) -> str:
        return "| " + " | ".join(cell.replace("|", "\\|") for cell in cells) + " |"

    table = [line(COLUMNS), line(["---"] * len(COLUMNS)), *(line(row.cells()) for row in rows)]
    return "\n".join([f"{killed_count(rows)}. {baseline.sentence()}", "", *table]) + "\n"


def html_table(rows: Sequence[MutantRow], baseline: Baseline) -> str:
    head = "".join(f"<th>{html.escape(column)}</th>" for column in COLUMNS)
    body = "".join(
        f'<tr class="{html.escape(row.verdict)}">'
        + "".join(f"<td>{html.escape(cell)}</td>" for cell in row.cells())
        + "</tr>"
        for row in rows
    )
    return (
        f'<div id="stsconf-mutants"><h2>Mutant controllers: {killed_count(rows)}</h2>'
        f"<p>{html.escape(baseline.sentence())}</p>"
        f'<table class="stsconf-mutants"><tr>{head}</tr>{body}</table></div>'
    )


STYLE = """
body { font-family: sans-serif; margin: 2em; }
table.stsconf-mutants { border-collapse: collapse; }
table.stsconf-mutants th, table.stsconf-mutants td {
  border: 1px solid #ccc; padding: 0.3em 0.6em; text-align: left; vertical-align: top; }
table.stsconf-mutants tr.killed td:nth-child(5) { background: #e6f4ea; }
table.stsconf-mutants tr.survived td:nth-child(5) { background: #fce8e6; }
table.stsconf-mutants tr.inconclusive td:nth-child(5) { background: #fef7e0; }
"""


def html_page(rows: Sequence[MutantRow], baseline: Baseline, command: str) -> str:
    """A page of its own: opens offline, nothing fetched."""
    return (
        '<!DOCTYPE html>\n<html><head><meta charset="utf-8">'
        "<title>stsconf: mutant StatefulSet controllers</title>"
        f"<style>{STYLE}</style></head><body>"
        f"{html_table(rows, baseline)}"
        f"<p>Command: <code>{html.escape(command)}</code></p>"
        "</body></html>\n"
    )

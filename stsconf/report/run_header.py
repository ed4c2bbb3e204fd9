"""The report's header line about time: the run's wall time and workers, the set-up of the
whole run (cluster, images, deletion: no test's), and the slowest properties."""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass

SLOWEST = 3


@dataclass(frozen=True)
class RunTimes:
    wall_seconds: float
    workers: int  # 0: serial
    setup: Sequence[tuple[str, float]]  # what, seconds
    properties: Sequence[tuple[str, float]]  # property id, its tests' own seconds (those run)


def slowest(
    properties: Sequence[tuple[str, float]], count: int = SLOWEST
) -> list[tuple[str, float]]:
    return sorted(properties, key=lambda entry: -entry[1])[:count]


def minutes(seconds: float) -> str:
    """'2 min 05 s', or '42.0 s' under a minute."""
    if seconds < 60:
        return f"{seconds:.1f} s"
    whole = round(seconds)
    return f"{whole // 60} min {whole % 60:02d} s"


def run_times_html(times: RunTimes) -> str:
    workers = f"{times.workers} workers (-n {times.workers})" if times.workers else "serial (-n 0)"
    total = sum(seconds for _, seconds in times.properties)
    lines = [
        f"Wall time {minutes(times.wall_seconds)}, {workers}; the properties' own durations "
        f"add up to {minutes(total)}."
    ]
    if times.setup:
        steps = "; ".join(f"{html.escape(what)}: {seconds:.1f} s" for what, seconds in times.setup)
        lines.append(f"Set-up of the whole run, charged to no test: {steps}.")
    top = slowest(times.properties)
    if top:
        lines.append(
            "Slowest properties: "
            + ", ".join(f"<code>{html.escape(name)}</code> {minutes(s)}" for name, s in top)
            + "."
        )
    return (
        '<div id="stsconf-run-times" class="stsconf-report"><p>' + "<br>".join(lines) + "</p></div>"
    )

"""What each test observed, kept as data and rendered into the HTML report as extras."""

from __future__ import annotations

import html
import json
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from stsconf.timeline import Timeline, timeline_rows


@dataclass(frozen=True)
class Observation:
    title: str
    kind: str  # "text", "table" or "timeline"
    text: str = ""
    rows: tuple[Mapping[str, str], ...] = ()
    timeline: Timeline | None = None


@dataclass
class Observations:
    """Collected by a test through the `observe` fixture."""

    items: list[Observation] = field(default_factory=list)

    def text(self, title: str, text: str) -> None:
        self.items.append(Observation(title, "text", text=text))

    def table(self, title: str, rows: Sequence[Mapping[str, object]]) -> None:
        rendered = tuple({key: str(value) for key, value in row.items()} for row in rows)
        self.items.append(Observation(title, "table", rows=rendered))

    def timeline(self, title: str, timeline: Timeline) -> None:
        self.items.append(
            Observation(title, "timeline", rows=tuple(timeline_rows(timeline)), timeline=timeline)
        )


def html_table(rows: Sequence[Mapping[str, str]]) -> str:
    if not rows:
        return "<p>(nothing)</p>"
    columns = list(rows[0])
    head = "".join(f"<th>{html.escape(c)}</th>" for c in columns)
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape(row.get(c, ''))}</td>" for c in columns) + "</tr>"
        for row in rows
    )
    return f'<table class="stsconf" border="1" cellpadding="3"><tr>{head}</tr>{body}</table>'


def observation_html(observation: Observation) -> str:
    title = f"<h4>{html.escape(observation.title)}</h4>"
    if observation.kind == "text":
        return f"{title}<pre>{html.escape(observation.text)}</pre>"
    return title + html_table(observation.rows)


def timeline_json(timeline: Timeline) -> dict[str, Any]:
    return {"events": [asdict(event) for event in timeline.events]}


def to_extras(observations: Observations) -> list[dict[str, Any]]:
    """pytest-html extras: an HTML block per observation plus JSON for each timeline."""
    from pytest_html import extras  # imported late: only needed when reporting

    result = []
    for observation in observations.items:
        result.append(extras.html(observation_html(observation)))
        if observation.timeline is not None:
            data = json.loads(json.dumps(timeline_json(observation.timeline)))
            result.append(extras.json(data, name=f"{observation.title} (json)"))
    return result


def diagnostics_extra(text: str) -> dict[str, Any]:
    from pytest_html import extras

    return extras.html(f"<h4>namespace state at failure</h4><pre>{html.escape(text)}</pre>")

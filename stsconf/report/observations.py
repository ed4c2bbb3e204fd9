"""What each test observed, kept as data and rendered into the HTML report as extras; and the
report's other parts: why a test failed, the namespace at failure, the manifest, the styles."""

from __future__ import annotations

import html
import json
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import pytest
import yaml

from stsconf.model.availability import Answer
from stsconf.model.expectations import Problem
from stsconf.model.manifest import Manifest
from stsconf.model.timeline import Timeline, timeline_rows
from stsconf.report.svg_timeline import shorten, timeline_svg


@dataclass(frozen=True)
class Observation:
    title: str
    kind: str  # "text", "table" or "timeline"
    text: str = ""
    rows: tuple[Mapping[str, str], ...] = ()
    timeline: Timeline | None = None
    answers: tuple[Answer, ...] = ()  # a client's, drawn under the timeline


@dataclass
class Observations:
    """Collected by a test through the `observe` fixture."""

    items: list[Observation] = field(default_factory=list)

    def text(self, title: str, text: str) -> None:
        self.items.append(Observation(title, "text", text=text))

    def table(self, title: str, rows: Sequence[Mapping[str, object]]) -> None:
        rendered = tuple({key: str(value) for key, value in row.items()} for row in rows)
        self.items.append(Observation(title, "table", rows=rendered))

    def timeline(self, title: str, timeline: Timeline, answers: Sequence[Answer] = ()) -> None:
        rows = tuple(timeline_rows(timeline))
        self.items.append(
            Observation(title, "timeline", rows=rows, timeline=timeline, answers=tuple(answers))
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
        body = f"<pre>{html.escape(observation.text)}</pre>"
    elif observation.timeline is not None:
        body = timeline_html(observation.timeline, observation.rows, observation.answers)
    else:
        body = html_table(observation.rows)
    return f'<div class="stsconf-report">{title}{body}</div>'


def timeline_html(
    timeline: Timeline, rows: Sequence[Mapping[str, str]], answers: Sequence[Answer] = ()
) -> str:
    """The picture, then the watch events and the client's answers it was drawn from (folded
    away)."""
    if not timeline.events and not answers:
        return "<p>(no pod events were recorded)</p>"
    events = (
        f"<details><summary>the {len(rows)} watch events this picture is drawn from</summary>"
        f"{html_table(rows)}</details>"
    )
    heard = (
        f"<details><summary>the {len(answers)} answers this picture is drawn from</summary>"
        f"{html_table(answer_rows(answers))}</details>"
        if answers
        else ""
    )
    return f'<div class="stsconf-picture">{timeline_svg(timeline, answers)}</div>{events}{heard}'


def answer_rows(answers: Sequence[Answer]) -> list[dict[str, str]]:
    """One row per request, in the order they started."""
    return [
        {
            "target": answer.target,
            "started": f"{answer.started:.2f}",
            "ended": f"{answer.ended:.2f}",
            "outcome": answer.outcome,
            "value": shorten(answer.value),
        }
        for answer in sorted(answers, key=lambda a: a.started)
    ]


def timeline_json(timeline: Timeline, answers: Sequence[Answer] = ()) -> dict[str, Any]:
    data: dict[str, Any] = {"events": [asdict(event) for event in timeline.events]}
    if answers:
        data["answers"] = [asdict(answer) for answer in answers]
    return data


def to_extras(observations: Observations) -> list[dict[str, Any]]:
    """pytest-html extras: an HTML block per observation plus JSON for each timeline."""
    from pytest_html import extras  # imported late: only needed when reporting

    result = []
    for observation in observations.items:
        result.append(extras.html(observation_html(observation)))
        if observation.timeline is not None:
            data = json.loads(json.dumps(timeline_json(observation.timeline, observation.answers)))
            result.append(extras.json(data, name=f"{observation.title} (json)"))
    return result


# Why a test failed: the problems its failure carries (see model/expectations.py)


@dataclass(frozen=True)
class Explanation:
    headline: str  # what went wrong in general ("ordered startup"), may be empty
    problems: tuple[Problem, ...]  # each with what was expected and what was seen
    rest: str = ""  # anything else the failure said


def explain_error(error: BaseException) -> Explanation:
    """What was expected and seen, from the exception that ended the test: the problems it
    carries (an expectation not met, a wait that timed out), else its message."""
    problems = getattr(error, "problems", None)
    if problems is not None:
        headline, detail = getattr(error, "headline", ""), getattr(error, "detail", "")
        return Explanation(str(headline), tuple(problems), str(detail))
    message = str(error)
    if not isinstance(error, AssertionError | pytest.fail.Exception | pytest.skip.Exception):
        message = f"{type(error).__name__}: {message}"
    return Explanation("", (), message.strip())


def failure_summary(error: BaseException) -> str:
    """One line: the first thing that was not as expected (and how many more there are)."""
    explanation = explain_error(error)
    if not explanation.problems:
        return explanation.rest
    first, *others = explanation.problems
    more = f" (and {len(others)} more)" if others else ""
    return f"{first}{more}"


def explanation_html(explanation: Explanation) -> str:
    heading = "Why it failed" + (
        f": {html.escape(explanation.headline)}" if explanation.headline else ""
    )
    rows = "".join(
        f"<tr><td>{html.escape(p.what)}</td><td>{_pre_wrap(p.expected)}</td>"
        f"<td>{_pre_wrap(p.seen)}</td></tr>"
        for p in explanation.problems
    )
    table = (
        f'<table class="stsconf"><tr><th>what</th><th>expected</th><th>saw</th></tr>{rows}</table>'
        if rows
        else ""
    )
    rest = f"<pre>{html.escape(explanation.rest)}</pre>" if explanation.rest else ""
    return f'<div class="stsconf-report stsconf-why"><h4>{heading}</h4>{table}{rest}</div>'


def _pre_wrap(text: str) -> str:
    return f'<span class="stsconf-pre">{html.escape(text)}</span>'


def failure_extra(error: BaseException) -> dict[str, Any]:
    from pytest_html import extras

    return extras.html(explanation_html(explain_error(error)))


def diagnostics_html(sections: Sequence[tuple[str, str]]) -> str:
    """The namespace at failure: events, pods and claims open; container logs folded."""
    blocks = [
        f"<details{'' if title.startswith('log of') else ' open'}>"
        f"<summary>{html.escape(title)}</summary><pre>{html.escape(text)}</pre></details>"
        for title, text in sections
    ]
    return (
        '<div class="stsconf-report stsconf-diagnostics"><h4>the namespace at failure</h4>'
        + "".join(blocks)
        + "</div>"
    )


def diagnostics_extra(sections: Sequence[tuple[str, str]]) -> dict[str, Any]:
    from pytest_html import extras

    return extras.html(diagnostics_html(sections))


def manifest_html(manifest: Manifest) -> str:
    """The manifest as applied (image substituted), folded away below the environment, with
    what of its files was left out and why."""
    text = yaml.safe_dump_all(manifest.documents, sort_keys=False)
    left_out = "".join(f"<li>{html.escape(line)}</li>" for line in manifest.left_out)
    return (
        '<details id="stsconf-manifest" class="stsconf-report">'
        f"<summary>The manifest applied: {html.escape(str(manifest.path))} "
        f"(StatefulSet {html.escape(manifest.statefulset_name)}, container under test "
        f"{html.escape(manifest.container)})</summary>"
        + (f"<h4>Not applied</h4><ul>{left_out}</ul>" if left_out else "")
        + f"<pre>{html.escape(text)}</pre></details>"
    )


def stopped_html(reason: str) -> str:
    """The first thing a report says when the run stopped before testing anything."""
    return (
        '<div id="stsconf-stopped" class="stsconf-report stsconf-why">'
        "<h2>The run stopped before testing anything</h2>"
        f'<pre class="stsconf-pre">{html.escape(reason)}</pre></div>'
    )


# Styles added to pytest-html's own: readable colours, the matrix first, no empty log boxes

REPORT_CSS = """
body { display: flex; flex-direction: column; }
#environment { align-self: flex-start; }
.summary, .summary__data, .additional-summary.prefix { display: contents; }
#title, #title + p { order: -3; }
#stsconf-stopped { order: -2; margin: 8px 0; }
#stsconf-matrix { order: -2; margin-bottom: 4px; }
#environment-header, #environment, #stsconf-manifest { order: -1; }
.summary__reload, .summary__spacer { flex: none; }
.logwrapper:not(:has(.log)) { display: none; }
.extras-row:not(:has(.extraHTML *, .log)) { display: none; }
#environment td { color: #333; }
#stsconf-matrix a, .stsconf-report a { color: #1f5fa8; }
.stsconf-report, .stsconf-report td, .stsconf-report th { color: #222; }
.stsconf-report h4 { margin: 10px 0 4px; }
.stsconf-report details { margin: 4px 0; }
.stsconf-report summary { cursor: pointer; color: #444; }
.stsconf-report pre { white-space: pre-wrap; margin: 2px 0 6px; }
table.stsconf { border-collapse: collapse; }
table.stsconf th { background: #f2f2f2; text-align: left; }
table.stsconf td, table.stsconf th { border: 1px solid #d0d0d0; padding: 3px 6px;
  vertical-align: top; }
.stsconf-pre { white-space: pre-wrap; }
.stsconf-why { border-left: 4px solid #d7301f; padding-left: 8px; }
.stsconf-why h4 { color: #b0200f; }
.stsconf-diagnostics pre { max-height: 300px; overflow: auto; background: #f7f7f7; }
.stsconf-picture svg { max-width: 100%; height: auto; }
#stsconf-matrix h2 { margin-bottom: 6px; }
#stsconf-matrix table { width: 100%; max-width: 1300px; font-size: 13px; }
#stsconf-matrix td.outcome { font-weight: bold; white-space: nowrap; }
#stsconf-matrix .passed { color: #1a7f1a; }
#stsconf-matrix .failed, #stsconf-matrix .error { color: #c0180c; }
#stsconf-matrix .skipped { color: #a35f00; }
#stsconf-matrix .not-run { color: #777; }
#stsconf-matrix .detail { display: block; font-weight: normal; color: #444;
  white-space: normal; font-size: 12px; }
#stsconf-matrix tr.group th { background: #fff; border: none; padding-top: 10px;
  font-size: 13px; }
#stsconf-matrix code { font-size: 12px; }
"""


def report_style() -> str:
    return f"<style>{REPORT_CSS}</style>"

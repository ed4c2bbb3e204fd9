"""A pod timeline drawn as an inline SVG picture: one row per pod, its stages as coloured bars;
below them, when a client was reading (model/availability.py), one row per target with its
requests coloured by what came back.

`pod_lanes` and `answer_lanes` turn the recorded events and answers into bars and runs (pure
data, unit tested); `timeline_svg` draws them as SVG text with a time axis in seconds and a
legend. No scripts, nothing fetched: the picture opens offline inside the self-contained report.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

from stsconf.model.availability import ANSWERED, INTERVAL, MISSING, REFUSED, SERVICE, Answer
from stsconf.model.timeline import DELETED, PodEvent, Timeline

CREATED = "created"
SCHEDULED = "scheduled"
RUNNING = "running"
READY = "ready"
TERMINATING = "terminating"
GONE = "gone"
STAGES = (CREATED, SCHEDULED, RUNNING, READY, TERMINATING, GONE)

# fill colour, outline colour, outline dash pattern ("" for a solid outline)
STAGE_STYLE = {
    CREATED: ("#d4d4d4", "#a3a3a3", ""),
    SCHEDULED: ("#9ecae1", "#4a90c2", ""),
    RUNNING: ("#fdb863", "#d98a1e", ""),
    READY: ("#4dac26", "#2f7a12", ""),
    TERMINATING: ("#d7301f", "#9e1b0f", ""),
    GONE: ("#ffffff", "#8c8c8c", "3 2"),
}

# Deeper than the stage colours, so that a refused request does not read as a terminating pod.
ANSWER_STYLE = {
    ANSWERED: ("#1a9641", "#0f6b2c", ""),
    MISSING: ("#f57d15", "#b35806", ""),
    REFUSED: ("#c51b1b", "#7f0000", ""),
}
# How the legend and the tooltips name each outcome
ANSWER_WORDS = {ANSWERED: "answered", MISSING: "without the value", REFUSED: "refused"}
TIP_WORDS = {ANSWERED: "answered", MISSING: "answered without the value", REFUSED: "refused"}
# A pause this long between two requests of a target ends a run: the picture shows the hole.
HOLE = 4 * INTERVAL


@dataclass(frozen=True)
class Bar:
    stage: str
    start: float
    end: float
    state: str  # the pod's state when the stage began, e.g. "Running/Ready"


@dataclass(frozen=True)
class PodLane:
    pod: str
    bars: tuple[Bar, ...]


def stage_of(event: PodEvent) -> str:
    """The stage a pod is in right after `event`."""
    pod = event.pod
    if event.kind == DELETED:
        return GONE
    if pod.terminating:
        return TERMINATING
    if pod.phase == "Running":
        return READY if pod.ready else RUNNING
    return SCHEDULED if pod.scheduled else CREATED


def ordinal_order(name: str) -> tuple[str, int, str]:
    """Sort key that puts web-2 before web-10."""
    match = re.fullmatch(r"(.*?)(\d+)", name)
    if match is None:
        return (name, -1, name)
    return (match.group(1), int(match.group(2)), name)


def pod_lanes(timeline: Timeline, end: float | None = None) -> list[PodLane]:
    """One lane per pod name, in ordinal order; each stage lasts until the pod's next change.

    A pod's last stage lasts until `end` (default: the last event of the timeline). A pod that
    is deleted and created again (same name, new uid) stays in its lane: gone, then created.
    """
    last = max((event.seconds for event in timeline.events), default=0.0)
    finish = max(last, end if end is not None else last)
    names = sorted({event.pod.name for event in timeline.events}, key=ordinal_order)
    return [PodLane(name, _bars(timeline.of(name), finish)) for name in names]


def _bars(events: list[PodEvent], finish: float) -> tuple[Bar, ...]:
    bars: list[Bar] = []
    for index, event in enumerate(events):
        until = events[index + 1].seconds if index + 1 < len(events) else finish
        stage = stage_of(event)
        if bars and bars[-1].stage == stage:
            bars[-1] = Bar(stage, bars[-1].start, until, bars[-1].state)
        else:
            bars.append(Bar(stage, event.seconds, until, _state_text(event)))
    return tuple(bars)


def _state_text(event: PodEvent) -> str:
    return "deleted" if event.kind == DELETED else event.pod.describe()


@dataclass(frozen=True)
class AnswerRun:
    """Consecutive requests to one target that came back the same way, drawn as one segment."""

    outcome: str
    started: float  # when its first request started
    ended: float  # when its last request ended
    count: int
    values: tuple[str, ...]  # the distinct bodies or reasons, in the order first seen

    @property
    def drawn_from(self) -> float:
        return max(self.started, 0.0)  # the axis starts when the watch began

    @property
    def drawn_to(self) -> float:
        return max(self.ended, 0.0)

    def joined(self, answer: Answer) -> AnswerRun:
        values = self.values if answer.value in self.values else (*self.values, answer.value)
        return AnswerRun(self.outcome, self.started, answer.ended, self.count + 1, values)


@dataclass(frozen=True)
class AnswerLane:
    target: str
    runs: tuple[AnswerRun, ...]


def answer_lanes(answers: Sequence[Answer]) -> list[AnswerLane]:
    """One lane per target, the replicas in ordinal order and then the Service; in each, the
    requests in the order they started, merged into runs of the same outcome. A pause of more
    than HOLE seconds without a request ends a run too."""
    by_target: dict[str, list[Answer]] = {}
    for answer in sorted(answers, key=lambda a: a.started):
        by_target.setdefault(answer.target, []).append(answer)
    targets = sorted(by_target, key=lambda target: (target == SERVICE, ordinal_order(target)))
    return [AnswerLane(target, _runs(by_target[target])) for target in targets]


def _runs(answers: list[Answer]) -> tuple[AnswerRun, ...]:
    runs: list[AnswerRun] = []
    for answer in answers:
        last = runs[-1] if runs else None
        if last and last.outcome == answer.outcome and answer.started - last.ended <= HOLE:
            runs[-1] = last.joined(answer)
        else:
            runs.append(AnswerRun(answer.outcome, answer.started, answer.ended, 1, (answer.value,)))
    return tuple(runs)


def shorten(text: str, most: int = 80) -> str:
    return text if len(text) <= most else text[: most - 1] + "…"


def run_tip(target: str, run: AnswerRun) -> str:
    """E.g. "web-1 refused at 12.30 s: wget: can't connect to remote host"."""
    what = f"{target} {TIP_WORDS[run.outcome]}"
    if run.count == 1:
        when = f"at {run.started:.2f} s"
    else:
        when = f"{run.count} requests from {run.started:.2f} s to {run.ended:.2f} s"
    others = len(run.values) - 1
    more = f" (and {others} other {'reply' if others == 1 else 'replies'})" if others else ""
    return f"{what} {when}: {shorten(run.values[0])}{more}"


# Drawing

WIDTH = 980
ROW = 22
BAR = 14
ANSWER_BAR = 8  # thinner than a pod's bar: these lanes show requests, not stages
LEGEND = 26
AXIS = 40
CHAR = 6.7  # width of an average label character at the font size used
FONT = 'font-family="Helvetica, Arial, sans-serif" font-size="12"'


@dataclass(frozen=True)
class Scale:
    """Maps seconds onto the x axis of the plot area."""

    left: float
    right: float
    seconds: float

    def x(self, seconds: float) -> float:
        return self.left + (self.right - self.left) * seconds / self.seconds


def tick_step(seconds: float, most: int = 10) -> float:
    """A round step (1, 2 or 5 times a power of ten) giving at most `most` ticks."""
    rough = max(seconds, 1e-9) / most
    power = 10 ** math.floor(math.log10(rough))
    return next(step * power for step in (1, 2, 5, 10) if step * power >= rough)


def axis_end(seconds: float) -> tuple[float, float]:
    """The axis length (a whole number of ticks covering `seconds`) and its tick step."""
    span = max(seconds, 1.0)
    step = tick_step(span)
    return math.ceil(span / step - 1e-9) * step, step


def timeline_svg(timeline: Timeline, answers: Sequence[Answer] = ()) -> str:
    """The timeline as an SVG element: legend, one lane per pod, then one lane per target of
    the client's `answers` (if any), time axis in seconds."""
    times = [event.seconds for event in timeline.events] + [answer.ended for answer in answers]
    length, step = axis_end(max(times, default=0.0))
    lanes = pod_lanes(timeline, end=length)
    heard = answer_lanes(answers)
    labels = [lane.pod for lane in lanes] + [_answers_label(lane) for lane in heard]
    label_width = max((len(label) for label in labels), default=4) * CHAR + 16
    scale = Scale(label_width, WIDTH - 16, length)
    rows = len(lanes) + len(heard)
    height = LEGEND + ROW * rows + AXIS
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}" '
        f'viewBox="0 0 {WIDTH} {height}" role="img" class="stsconf-timeline" {FONT}>',
        _legend(with_answers=bool(heard)),
        *_grid(scale, step, LEGEND, LEGEND + ROW * rows),
        *(_lane(lane, LEGEND + ROW * row, scale) for row, lane in enumerate(lanes)),
        *(
            _answer_lane(lane, LEGEND + ROW * row, scale)
            for row, lane in enumerate(heard, start=len(lanes))
        ),
        *_axis(scale, step, LEGEND + ROW * rows),
        "</svg>",
    ]
    return "\n".join(parts)


Style = tuple[str, str, str]  # fill colour, outline colour, outline dash pattern


def _rect(x: float, y: float, width: float, height: float, style: Style, tip: str = "") -> str:
    fill, stroke, dash = style
    dashes = f' stroke-dasharray="{dash}"' if dash else ""
    tooltip = f"<title>{escape(tip)}</title>" if tip else ""
    return (
        f'<rect x="{x:.1f}" y="{y:.1f}" width="{width:.1f}" height="{height:.1f}" '
        f'fill="{fill}" stroke="{stroke}"{dashes}>{tooltip}</rect>'
    )


def _legend(with_answers: bool = False) -> str:
    keys: list[tuple[Style, str]] = [(STAGE_STYLE[stage], stage) for stage in STAGES]
    if with_answers:
        keys += [(ANSWER_STYLE[outcome], word) for outcome, word in ANSWER_WORDS.items()]
    items = []
    x = 8.0
    for style, word in keys:
        items.append(_rect(x, 5, 18, 11, style))
        items.append(f'<text x="{x + 23:.1f}" y="15" fill="#222">{word}</text>')
        x += 23 + len(word) * CHAR + 14
    return "<g>" + "".join(items) + "</g>"


def _grid(scale: Scale, step: float, top: float, bottom: float) -> list[str]:
    return [
        f'<line x1="{scale.x(t):.1f}" y1="{top}" x2="{scale.x(t):.1f}" y2="{bottom}" '
        'stroke="#e3e3e3"/>'
        for t in _ticks(scale.seconds, step)
    ]


def _lane(lane: PodLane, top: float, scale: Scale) -> str:
    bars = [_bar(lane.pod, bar, top + (ROW - BAR) / 2, scale) for bar in lane.bars]
    return "<g>" + _label(lane.pod, top, scale) + "".join(bars) + "</g>"


def _label(text: str, top: float, scale: Scale) -> str:
    return (
        f'<text x="{scale.left - 8:.1f}" y="{top + ROW / 2 + 4:.1f}" text-anchor="end" '
        f'fill="#222">{escape(text)}</text>'
    )


def _bar(pod: str, bar: Bar, y: float, scale: Scale) -> str:
    x = scale.x(bar.start)
    width = max(scale.x(bar.end) - x, 2.0)  # a stage too short to see still shows
    tip = f"{pod} {bar.stage} from {bar.start:.2f} s to {bar.end:.2f} s ({bar.state})"
    return _rect(x, y, width, BAR, STAGE_STYLE[bar.stage], tip)


def _answers_label(lane: AnswerLane) -> str:
    return f"{lane.target} answers"


def _answer_lane(lane: AnswerLane, top: float, scale: Scale) -> str:
    y = top + (ROW - ANSWER_BAR) / 2
    segments = [_segment(lane.target, run, y, scale) for run in lane.runs]
    return "<g>" + _label(_answers_label(lane), top, scale) + "".join(segments) + "</g>"


def _segment(target: str, run: AnswerRun, y: float, scale: Scale) -> str:
    x = scale.x(run.drawn_from)
    width = max(scale.x(run.drawn_to) - x, 1.5)  # a single request still shows
    return _rect(x, y, width, ANSWER_BAR, ANSWER_STYLE[run.outcome], run_tip(target, run))


def _axis(scale: Scale, step: float, top: float) -> list[str]:
    parts = [
        f'<line x1="{scale.left:.1f}" y1="{top + 2}" x2="{scale.right:.1f}" y2="{top + 2}" '
        'stroke="#555"/>'
    ]
    for t in _ticks(scale.seconds, step):
        x = scale.x(t)
        parts.append(
            f'<line x1="{x:.1f}" y1="{top + 2}" x2="{x:.1f}" y2="{top + 7}" stroke="#555"/>'
        )
        parts.append(
            f'<text x="{x:.1f}" y="{top + 19}" text-anchor="middle" fill="#222">{t:g}</text>'
        )
    parts.append(
        f'<text x="{scale.right:.1f}" y="{top + 35}" text-anchor="end" fill="#555">'
        "seconds since the watch began</text>"
    )
    return parts


def _ticks(seconds: float, step: float) -> list[float]:
    count = round(seconds / step)
    return [round(i * step, 6) for i in range(count + 1)]

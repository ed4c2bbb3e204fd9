"""A pod timeline drawn as an inline SVG picture: one row per pod, its stages as coloured bars.

`pod_lanes` turns the recorded events into bars (pure data, unit tested); `timeline_svg` draws
them as SVG text with a time axis in seconds and a legend. No scripts, nothing fetched: the
picture opens offline inside the self-contained report.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from html import escape

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


# Drawing

WIDTH = 980
ROW = 22
BAR = 14
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


def timeline_svg(timeline: Timeline) -> str:
    """The timeline as an SVG element: legend, one lane per pod, time axis in seconds."""
    last = max((event.seconds for event in timeline.events), default=0.0)
    length, step = axis_end(last)
    lanes = pod_lanes(timeline, end=length)
    label_width = max((len(lane.pod) for lane in lanes), default=4) * CHAR + 16
    scale = Scale(label_width, WIDTH - 16, length)
    height = LEGEND + ROW * len(lanes) + AXIS
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}" '
        f'viewBox="0 0 {WIDTH} {height}" role="img" class="stsconf-timeline" {FONT}>',
        _legend(),
        *_grid(scale, step, LEGEND, LEGEND + ROW * len(lanes)),
        *(_lane(lane, LEGEND + ROW * row, scale) for row, lane in enumerate(lanes)),
        *_axis(scale, step, LEGEND + ROW * len(lanes)),
        "</svg>",
    ]
    return "\n".join(parts)


def _rect(x: float, y: float, width: float, height: float, stage: str, tip: str = "") -> str:
    fill, stroke, dash = STAGE_STYLE[stage]
    dashes = f' stroke-dasharray="{dash}"' if dash else ""
    tooltip = f"<title>{escape(tip)}</title>" if tip else ""
    return (
        f'<rect x="{x:.1f}" y="{y:.1f}" width="{width:.1f}" height="{height:.1f}" '
        f'fill="{fill}" stroke="{stroke}"{dashes}>{tooltip}</rect>'
    )


def _legend() -> str:
    items = []
    x = 8.0
    for stage in STAGES:
        items.append(_rect(x, 5, 18, 11, stage))
        items.append(f'<text x="{x + 23:.1f}" y="15" fill="#222">{stage}</text>')
        x += 23 + len(stage) * CHAR + 14
    return "<g>" + "".join(items) + "</g>"


def _grid(scale: Scale, step: float, top: float, bottom: float) -> list[str]:
    return [
        f'<line x1="{scale.x(t):.1f}" y1="{top}" x2="{scale.x(t):.1f}" y2="{bottom}" '
        'stroke="#e3e3e3"/>'
        for t in _ticks(scale.seconds, step)
    ]


def _lane(lane: PodLane, top: float, scale: Scale) -> str:
    label = (
        f'<text x="{scale.left - 8:.1f}" y="{top + ROW / 2 + 4:.1f}" text-anchor="end" '
        f'fill="#222">{escape(lane.pod)}</text>'
    )
    bars = [_bar(lane.pod, bar, top + (ROW - BAR) / 2, scale) for bar in lane.bars]
    return "<g>" + label + "".join(bars) + "</g>"


def _bar(pod: str, bar: Bar, y: float, scale: Scale) -> str:
    x = scale.x(bar.start)
    width = max(scale.x(bar.end) - x, 2.0)  # a stage too short to see still shows
    tip = f"{pod} {bar.stage} from {bar.start:.2f} s to {bar.end:.2f} s ({bar.state})"
    return _rect(x, y, width, BAR, bar.stage, tip)


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

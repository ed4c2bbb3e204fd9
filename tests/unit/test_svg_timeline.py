"""Pod timelines turned into bars, and the bars drawn as SVG."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from stsconf.model.timeline import (
    ADDED,
    DELETED,
    EXISTING,
    MODIFIED,
    PodEvent,
    PodState,
    Timeline,
)
from stsconf.report.svg_timeline import (
    CREATED,
    GONE,
    READY,
    RUNNING,
    SCHEDULED,
    STAGES,
    TERMINATING,
    Bar,
    axis_end,
    ordinal_order,
    pod_lanes,
    tick_step,
    timeline_svg,
)

SVG = "{http://www.w3.org/2000/svg}"


def pod(
    name: str,
    phase: str = "Pending",
    *,
    scheduled: bool = False,
    ready: bool = False,
    terminating: bool = False,
    uid: str = "",
) -> PodState:
    return PodState(name, uid or f"uid-{name}", phase, ready, terminating, scheduled=scheduled)


def timeline(*steps: tuple[float, str, PodState]) -> Timeline:
    return Timeline([PodEvent(i, t, kind, state) for i, (t, kind, state) in enumerate(steps)])


def stages(bars: tuple[Bar, ...]) -> list[tuple[str, float, float]]:
    return [(bar.stage, bar.start, bar.end) for bar in bars]


def test_a_pod_goes_through_every_stage_in_its_lane() -> None:
    events = timeline(
        (1.0, ADDED, pod("web-0")),
        (2.0, MODIFIED, pod("web-0", scheduled=True)),
        (3.0, MODIFIED, pod("web-0", "Running", scheduled=True)),
        (4.0, MODIFIED, pod("web-0", "Running", scheduled=True, ready=True)),
        (6.0, MODIFIED, pod("web-0", "Running", scheduled=True, ready=True, terminating=True)),
        (7.0, DELETED, pod("web-0", "Running", scheduled=True, terminating=True)),
    )
    [lane] = pod_lanes(events, end=10.0)
    assert lane.pod == "web-0"
    assert stages(lane.bars) == [
        (CREATED, 1.0, 2.0),
        (SCHEDULED, 2.0, 3.0),
        (RUNNING, 3.0, 4.0),
        (READY, 4.0, 6.0),
        (TERMINATING, 6.0, 7.0),
        (GONE, 7.0, 10.0),
    ]


def test_events_that_do_not_change_the_stage_extend_the_bar() -> None:
    events = timeline(
        (0.5, ADDED, pod("web-0")),
        (0.7, MODIFIED, pod("web-0")),
        (0.9, MODIFIED, pod("web-0")),
    )
    [lane] = pod_lanes(events)
    assert stages(lane.bars) == [(CREATED, 0.5, 0.9)]
    assert lane.bars[0].state == "Pending/NotReady"


def test_sequential_startup_shows_web_1_created_after_web_0_is_ready() -> None:
    events = timeline(
        (0.1, ADDED, pod("web-0")),
        (2.0, MODIFIED, pod("web-0", "Running", scheduled=True, ready=True)),
        (2.1, ADDED, pod("web-1")),
        (4.0, MODIFIED, pod("web-1", "Running", scheduled=True, ready=True)),
    )
    web0, web1 = pod_lanes(events)
    ready_at = next(bar.start for bar in web0.bars if bar.stage == READY)
    assert web1.bars[0].start > ready_at


def test_a_replaced_pod_stays_in_its_lane_gone_between_its_two_lives() -> None:
    events = timeline(
        (0.0, EXISTING, pod("web-0", "Running", scheduled=True, ready=True)),
        (1.0, MODIFIED, pod("web-0", "Running", scheduled=True, ready=True, terminating=True)),
        (2.0, DELETED, pod("web-0", "Running", scheduled=True, terminating=True)),
        (2.5, ADDED, pod("web-0", uid="new")),
        (4.0, MODIFIED, pod("web-0", "Running", scheduled=True, ready=True, uid="new")),
    )
    [lane] = pod_lanes(events)
    assert [bar.stage for bar in lane.bars] == [READY, TERMINATING, GONE, CREATED, READY]
    assert stages(lane.bars)[2] == (GONE, 2.0, 2.5)
    assert lane.bars[2].state == "deleted"


def test_scale_down_lanes_show_web_4_gone_before_web_3_terminates() -> None:
    events = timeline(
        (0.0, EXISTING, pod("web-3", "Running", scheduled=True, ready=True)),
        (0.0, EXISTING, pod("web-4", "Running", scheduled=True, ready=True)),
        (0.2, MODIFIED, pod("web-4", "Running", scheduled=True, terminating=True)),
        (1.0, DELETED, pod("web-4", "Running", scheduled=True, terminating=True)),
        (1.1, MODIFIED, pod("web-3", "Running", scheduled=True, terminating=True)),
        (2.0, DELETED, pod("web-3", "Running", scheduled=True, terminating=True)),
    )
    web3, web4 = pod_lanes(events)
    web4_gone = next(bar.start for bar in web4.bars if bar.stage == GONE)
    web3_terminating = next(bar.start for bar in web3.bars if bar.stage == TERMINATING)
    assert web4_gone < web3_terminating


def test_lanes_are_in_ordinal_order_not_text_order() -> None:
    events = timeline(*[(float(i), ADDED, pod(f"web-{i}")) for i in (10, 2, 1)])
    assert [lane.pod for lane in pod_lanes(events)] == ["web-1", "web-2", "web-10"]
    assert sorted(["b", "a-3", "a-1"], key=ordinal_order) == ["a-1", "a-3", "b"]


def test_no_events_no_lanes() -> None:
    assert pod_lanes(Timeline()) == []


def test_time_axis_uses_round_steps_and_covers_the_timeline() -> None:
    assert tick_step(11.3) == 2
    assert tick_step(0.4) == 0.05
    assert tick_step(95) == 10
    assert axis_end(11.3) == (12, 2)
    assert axis_end(10.0) == (10, 1)
    assert axis_end(0.0) == (1, 0.1)


def test_the_picture_is_well_formed_svg_with_legend_lanes_and_axis() -> None:
    events = timeline(
        (0.1, ADDED, pod("web-0")),
        (2.0, MODIFIED, pod("web-0", "Running", scheduled=True, ready=True)),
        (2.1, ADDED, pod("web-<1>")),
        (4.9, MODIFIED, pod("web-<1>", "Running", scheduled=True, ready=True)),
    )
    svg = ET.fromstring(timeline_svg(events))
    texts = [t.text for t in svg.iter(f"{SVG}text")]
    assert all(stage in texts for stage in STAGES)  # the legend
    assert {"web-0", "web-<1>"} <= set(texts)  # one label per lane, escaped in the source
    assert {"0", "1", "2", "3", "4", "5"} <= set(texts)  # ticks in seconds
    assert "seconds since the watch began" in texts
    tips = [t.text or "" for t in svg.iter(f"{SVG}title")]
    assert "web-0 ready from 2.00 s to 5.00 s (Running/Ready)" in tips


def test_every_bar_is_visible_even_when_very_short() -> None:
    events = timeline(
        (0.0, ADDED, pod("web-0")),
        (0.0001, DELETED, pod("web-0")),
        (30.0, ADDED, pod("web-1")),
    )
    svg = ET.fromstring(timeline_svg(events))
    widths = [float(r.get("width", "0")) for r in svg.iter(f"{SVG}rect")]
    assert min(widths) >= 2.0

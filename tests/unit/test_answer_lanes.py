"""A client's answers turned into lanes of runs, and drawn under the pod timeline."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from dataclasses import asdict

from stsconf.model.availability import ANSWERED, INTERVAL, MISSING, REFUSED, SERVICE, Answer
from stsconf.model.timeline import ADDED, MODIFIED, PodEvent, PodState, Timeline
from stsconf.report.observations import Observations, observation_html, timeline_json
from stsconf.report.svg_timeline import (
    ANSWER_BAR,
    ANSWER_STYLE,
    ANSWER_WORDS,
    AnswerRun,
    answer_lanes,
    timeline_svg,
)

SVG = "{http://www.w3.org/2000/svg}"
REFUSAL = "wget: can't connect to remote host (10.96.0.12): Connection refused"


def answer(target: str, started: float, outcome: str = ANSWERED, value: str = "v1") -> Answer:
    return Answer(target, started, started + 0.05, outcome, value)


def every(target: str, start: float, stop: float, outcome: str, value: str) -> list[Answer]:
    """A request every INTERVAL seconds, as the client makes them."""
    count = round((stop - start) / INTERVAL)
    return [answer(target, start + i * INTERVAL, outcome, value) for i in range(count)]


def runs(answers: list[Answer]) -> list[tuple[str, float, float, int]]:
    [lane] = answer_lanes(answers)
    return [(run.outcome, run.started, run.ended, run.count) for run in lane.runs]


def segments(svg: ET.Element) -> list[ET.Element]:
    """The rects of the answer lanes (they have a tooltip, the legend's have none)."""
    return [
        rect
        for rect in svg.iter(f"{SVG}rect")
        if rect.find(f"{SVG}title") is not None and rect.get("height") == f"{ANSWER_BAR:.1f}"
    ]


def pod_events() -> Timeline:
    ready = PodState("web-0", "u", "Running", True, False, scheduled=True)
    return Timeline(
        [
            PodEvent(0, 0.0, ADDED, PodState("web-0", "u", "Pending", False, False)),
            PodEvent(1, 2.0, MODIFIED, ready),
        ]
    )


def test_requests_with_the_same_outcome_merge_into_one_run() -> None:
    answers = [
        *every("web-1", 0.0, 1.0, ANSWERED, "v1"),
        *every("web-1", 1.0, 2.0, REFUSED, REFUSAL),
        answer("web-1", 2.0, MISSING, "404"),
        *every("web-1", 2.25, 3.0, ANSWERED, "v2"),
    ]
    assert runs(answers) == [
        (ANSWERED, 0.0, 0.8, 4),
        (REFUSED, 1.0, 1.8, 4),
        (MISSING, 2.0, 2.05, 1),
        (ANSWERED, 2.25, 2.8, 3),
    ]


def test_a_run_keeps_its_distinct_values_in_the_order_first_seen() -> None:
    answers = [answer("web-0", t, value=v) for t, v in ((0.0, "v1"), (0.3, "v2"), (0.6, "v1"))]
    [lane] = answer_lanes(answers)
    assert lane.runs[0].values == ("v1", "v2")


def test_a_pause_without_requests_ends_a_run() -> None:
    answers = [answer("web-0", 0.0), answer("web-0", 0.25), answer("web-0", 5.0)]
    assert runs(answers) == [(ANSWERED, 0.0, 0.3, 2), (ANSWERED, 5.0, 5.05, 1)]


def test_requests_are_taken_in_the_order_they_started() -> None:
    answers = [answer("web-0", 0.5, REFUSED), answer("web-0", 0.0), answer("web-0", 0.25)]
    assert runs(answers) == [(ANSWERED, 0.0, 0.3, 2), (REFUSED, 0.5, 0.55, 1)]


def test_lanes_are_the_replicas_in_ordinal_order_then_the_service() -> None:
    answers = [answer(target, 0.0) for target in (SERVICE, "web-10", "web-2", "web-0")]
    assert [lane.target for lane in answer_lanes(answers)] == [
        "web-0",
        "web-2",
        "web-10",
        SERVICE,
    ]
    assert answer_lanes([]) == []


def test_what_happened_before_the_watch_began_is_drawn_from_zero() -> None:
    early = AnswerRun(REFUSED, -0.8, -0.2, 3, (REFUSAL,))
    straddling = AnswerRun(ANSWERED, -0.1, 0.4, 2, ("v1",))
    assert (early.drawn_from, early.drawn_to) == (0.0, 0.0)
    assert (straddling.drawn_from, straddling.drawn_to) == (0.0, 0.4)
    svg = ET.fromstring(timeline_svg(pod_events(), [answer("web-0", -0.5, REFUSED, REFUSAL)]))
    [refused] = segments(svg)
    [label] = [t for t in svg.iter(f"{SVG}text") if t.text == "web-0 answers"]
    assert float(refused.get("x", "")) == float(label.get("x", "")) + 8  # where the axis starts
    assert float(refused.get("width", "")) >= 1.5
    # the tooltip keeps the true time
    assert refused.findtext(f"{SVG}title") == f"web-0 refused at -0.50 s: {REFUSAL}"


def test_answer_lanes_are_drawn_under_the_pods_with_colours_and_tooltips() -> None:
    answers = [
        answer("web-0", 0.0),
        answer("web-0", 0.25),
        answer("web-0", 0.5, MISSING, "wget: server returned error: HTTP/1.1 404 Not Found"),
        answer("web-0", 12.3, REFUSED, REFUSAL + " " + "x" * 100),
        answer(SERVICE, 0.0, REFUSED, "bad address"),
    ]
    svg = ET.fromstring(timeline_svg(pod_events(), answers))
    texts = [t.text for t in svg.iter(f"{SVG}text")]
    assert texts.index("web-0") < texts.index("web-0 answers") < texts.index("service answers")
    assert all(word in texts for word in ANSWER_WORDS.values())  # the legend
    assert "12" in texts  # the axis reaches the last answer, after the last pod event
    tips = [t.text or "" for t in svg.iter(f"{SVG}title")]
    assert "web-0 answered 2 requests from 0.00 s to 0.30 s: v1" in tips
    assert (
        "web-0 answered without the value at 0.50 s: "
        "wget: server returned error: HTTP/1.1 404 Not Found"
    ) in tips
    assert "service refused at 0.00 s: bad address" in tips
    [long] = [tip for tip in tips if tip.startswith("web-0 refused at 12.30 s: ")]
    assert len(long) < 120
    assert long.endswith("…")
    fills = {segment.get("fill") for segment in segments(svg)}
    assert fills == {style[0] for style in ANSWER_STYLE.values()}


def test_a_two_minute_run_stays_a_small_picture() -> None:
    answers = [
        request
        for target in ("web-0", "web-1", "web-2")
        for request in [
            *every(target, 0.0, 50.0, ANSWERED, "v1"),
            *every(target, 50.0, 60.0, REFUSED, REFUSAL),
            *every(target, 60.0, 120.0, ANSWERED, "v2"),
        ]
    ]
    assert len(answers) == 1440
    drawn = segments(ET.fromstring(timeline_svg(pod_events(), answers)))
    assert len(drawn) == 9
    tips = [segment.findtext(f"{SVG}title") for segment in drawn]
    assert "web-1 answered 240 requests from 60.00 s to 119.80 s: v2" in tips


def test_without_answers_the_picture_is_the_same_as_before() -> None:
    events = pod_events()
    assert timeline_svg(events, answers=()) == timeline_svg(events)
    assert "answers" not in timeline_svg(events)
    assert ANSWER_WORDS[MISSING] not in timeline_svg(events)


def test_the_report_folds_the_answers_below_the_events_and_keeps_them_in_json() -> None:
    answers = [answer("web-0", 0.0), answer(SERVICE, 0.1, REFUSED, "<timeout>")]
    observations = Observations()
    observations.timeline("rolling update", pod_events(), answers)
    observation = observations.items[0]
    assert observation.answers == tuple(answers)
    page = observation_html(observation)
    assert page.index("<svg") < page.index("watch events") < page.index("the 2 answers")
    assert "service answers" in page
    assert "&lt;timeout&gt;" in page
    data = json.loads(json.dumps(timeline_json(pod_events(), answers)))
    assert data["answers"] == [asdict(request) for request in answers]
    assert set(data["answers"][1]) == {"target", "started", "ended", "outcome", "value"}
    assert "answers" not in timeline_json(pod_events())


def test_answers_alone_still_make_a_picture() -> None:
    observations = Observations()
    observations.timeline("client only", Timeline(), [answer("web-0", 0.0)])
    page = observation_html(observations.items[0])
    assert "<svg" in page
    assert "web-0 answers" in page
    assert "no pod events were recorded" not in page

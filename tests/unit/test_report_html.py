"""Report parts: why a test failed, the namespace at failure, timelines, and the whole page."""

from __future__ import annotations

import json
import re
from html import unescape
from pathlib import Path

import pytest

from stsconf.access.wait import WaitTimeout
from stsconf.model.expectations import Problem, Unmet
from stsconf.model.manifest import load_manifest
from stsconf.model.timeline import ADDED, PodEvent, PodState, Timeline
from stsconf.report.matrix import GUARANTEES
from stsconf.report.observations import (
    Explanation,
    Observations,
    diagnostics_html,
    explain_error,
    explanation_html,
    failure_summary,
    manifest_html,
    observation_html,
)

pytest_plugins = ["pytester"]

REPO = Path(__file__).resolve().parents[2]


def test_a_single_problem_reads_as_expected_and_saw() -> None:
    problem = Problem("replacement of web-0", "hostname web-0", "'web-0.x'")
    assert explain_error(Unmet("", [problem])) == Explanation("", (problem,))


def test_a_list_of_problems_keeps_its_headline_and_detail() -> None:
    problems = [Problem("web-1", "A", "B"), Problem("web-2", "C", "D")]
    explanation = explain_error(Unmet("ordered startup", problems, "by hand: kubectl ..."))
    assert explanation == Explanation("ordered startup", tuple(problems), "by hand: kubectl ...")


def test_a_message_is_kept_whole_and_never_parsed() -> None:
    assert explain_error(AssertionError("assert 1 == 2")) == Explanation("", (), "assert 1 == 2")
    text = "web-1: expected A; saw B"
    assert explain_error(AssertionError(text)) == Explanation("", (), text)


def test_a_timed_out_wait_says_what_it_waited_for_without_the_namespace_dump() -> None:
    error = WaitTimeout("web-0 Ready", "web-0 Pending", 30, diagnostics="== pods ==\nweb-0 ...")
    explanation = explain_error(error)
    assert explanation.problems == (Problem("timed out after 30s", "web-0 Ready", "web-0 Pending"),)
    assert failure_summary(error) == "timed out after 30s: expected web-0 Ready; saw web-0 Pending"


def test_failure_summaries_of_problems_messages_and_other_errors() -> None:
    unmet = Unmet("dns", [Problem("a", "1", "2"), Problem("b", "3", "4")])
    assert failure_summary(unmet) == "a: expected 1; saw 2 (and 1 more)"
    with pytest.raises(pytest.fail.Exception) as failed:
        pytest.fail("no cluster", pytrace=False)
    assert failure_summary(failed.value) == "no cluster"
    assert failure_summary(KeyError("podIP")) == "KeyError: 'podIP'"


def test_explanation_html_escapes_and_puts_expected_before_saw() -> None:
    page = explanation_html(Explanation("dns", (Problem("<a>", "1.2.3.4", "no answer"),)))
    assert "Why it failed: dns" in page
    assert page.index("<th>expected</th>") < page.index("<th>saw</th>")
    assert "&lt;a&gt;" in page
    assert "<a>" not in page


def test_namespace_at_failure_keeps_its_order_and_folds_only_logs() -> None:
    page = diagnostics_html([("events in ns", "e"), ("pods in ns", "p"), ("log of web-0/c", "l")])
    assert page.index("events in ns") < page.index("pods in ns") < page.index("log of web-0/c")
    assert page.count("<details open>") == 2
    assert "<details><summary>log of web-0/c" in page


def test_a_timeline_observation_is_a_picture_with_its_events_folded_below() -> None:
    observations = Observations()
    observations.timeline(
        "startup",
        Timeline([PodEvent(0, 0.5, ADDED, PodState("web-0", "u", "Pending", False, False))]),
    )
    page = observation_html(observations.items[0])
    assert page.index("<svg") < page.index("<details>") < page.index("<table")
    assert "the 1 watch events this picture is drawn from" in page
    empty = Observations()
    empty.timeline("nothing", Timeline())
    assert "no pod events were recorded" in observation_html(empty.items[0])


def test_the_manifest_is_shown_as_applied() -> None:
    manifest = load_manifest(REPO / "manifests" / "web.yaml").with_image("img:<1>")
    page = manifest_html(manifest)
    assert "kind: StatefulSet" in page
    assert "img:&lt;1&gt;" in page


CONFORMANCE_TESTS = '''
import pytest

from stsconf.model.expectations import Problem, expect_none

pytestmark = pytest.mark.conformance


def test_ordered_startup():
    """Pods start in order."""
    expect_none([Problem("web-1", "web-0 Ready", "web-0 Pending")], "ordered startup")


def test_dns_records():
    pytest.skip("no DNS in this cluster")


def test_pvc_per_pod():
    pass
'''


def test_the_report_page_has_the_matrix_of_this_run(pytester: pytest.Pytester) -> None:
    pytester.makeconftest('pytest_plugins = ["stsconf.plugin"]')
    pytester.makepyfile(test_props=CONFORMANCE_TESTS)
    manifest = REPO / "manifests" / "web.yaml"
    result = pytester.runpytest_inprocess(
        f"--manifest={manifest}",
        "--html=report.html",
        "--self-contained-html",
        "-p",
        "no:cacheprovider",
    )
    result.assert_outcomes(passed=1, failed=1, skipped=1)
    page = (pytester.path / "report.html").read_text()
    matrix = page[
        page.index('id="stsconf-matrix"') : page.index(
            "</table>", page.index('id="stsconf-matrix"')
        )
    ]
    outcomes = re.findall(r'<td class="outcome ([\w-]+)">', matrix)
    not_run = len(GUARANTEES) - 4
    assert outcomes == ["failed", "not-run", "skipped", "passed"] + ["not-run"] * not_run
    assert "web-1: expected web-0 Ready; saw web-0 Pending" in matrix
    assert "no DNS in this cluster" in matrix
    data = json.loads(unescape(re.search(r'data-jsonblob="([^"]*)"', page)[1]))  # type: ignore[index]
    [failed] = data["tests"]["test_props.py::test_ordered_startup"]
    assert "Why it failed: ordered startup" in failed["extras"][0]["content"]

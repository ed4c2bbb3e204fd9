"""A run's outcomes as its JUnit XML file tells them: how each test went, what its failure
said, and the declared form it asserted. The self-tests, the soak and the CI job summary read
runs this way; the bench reads each testcase's seconds and properties (read_cases)."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass

from stsconf.report.matrix import FORM_PROPERTY


@dataclass(frozen=True)
class Outcome:
    name: str
    result: str  # passed, failed, error or skipped
    message: str  # shortened by pytest when long
    text: str = ""  # the full report
    form: str = ""  # the declared form it asserted, as the matrix shows it (see checks/declared.py)


@dataclass(frozen=True)
class Case:
    """One <testcase> element as pytest wrote it (a teardown error after a failure comes as a
    second element of the same classname and name)."""

    classname: str  # the module's dotted path (and class), e.g. tests.conformance.test_policies
    name: str  # the test function's name with its parameters, e.g. test_lifecycle[machine-1]
    seconds: float  # its `time`: set-up, call and teardown
    result: str  # passed, failed, error or skipped
    properties: dict[str, str]  # its user properties (record_property), by name


def read_cases(text: str) -> list[Case]:
    """Every <testcase> of the file, in its order."""
    return [
        Case(
            classname=case.get("classname", ""),
            name=case.get("name", ""),
            seconds=float(case.get("time") or 0),
            result=_result(case)[0],
            properties={p.get("name", ""): p.get("value", "") for p in case.iter("property")},
        )
        for case in ET.fromstring(text).iter("testcase")
    ]


def _result(case: ET.Element) -> tuple[str, str, str]:
    """A testcase's result, its message and its full report."""
    for tag in ("failure", "error", "skipped"):
        element = case.find(tag)
        if element is not None:
            message = element.get("message") or element.text or ""
            return {"failure": "failed"}.get(tag, tag), message, element.text or message
    return "passed", "", ""


def read_junit(text: str) -> dict[str, Outcome]:
    """Outcome per test function name (the property id is the name without `test_`)."""
    outcomes: dict[str, Outcome] = {}
    for case in ET.fromstring(text).iter("testcase"):
        name = case.get("name", "")
        result, message, text = _result(case)
        form = case.find(f"properties/property[@name='{FORM_PROPERTY}']")
        previous = outcomes.get(name)
        if previous is None or previous.result == "passed":
            # a teardown error after a pass comes as a second entry: the worse one wins
            outcomes[name] = Outcome(
                name=name,
                result=result,
                message=message,
                text=text,
                form=form.get("value", "") if form is not None else "",
            )
    return outcomes

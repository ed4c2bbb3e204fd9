"""A run's outcomes as its JUnit XML file tells them: how each test went, what its failure
said, and the declared form it asserted. The self-tests, the soak and the CI job summary read
runs this way."""

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


def read_junit(text: str) -> dict[str, Outcome]:
    """Outcome per test function name (the property id is the name without `test_`)."""
    outcomes: dict[str, Outcome] = {}
    for case in ET.fromstring(text).iter("testcase"):
        name = case.get("name", "")
        result, message, text = "passed", "", ""
        for tag in ("failure", "error", "skipped"):
            element = case.find(tag)
            if element is not None:
                result = {"failure": "failed"}.get(tag, tag)
                message = element.get("message") or element.text or ""
                text = element.text or message
                break
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

"""Fixtures the conformance modules share."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from stsconf.checks.declared import Form, form_of, required_message
from stsconf.report.matrix import FORM_PROPERTY
from stsconf.settings import Settings


@pytest.fixture
def record_form(request: pytest.FixtureRequest) -> Callable[[str], None]:
    """Record the form of its guarantee that the test asserts (e.g. "Parallel"): the property
    matrix shows it, and the JUnit file carries it as a property of the test case."""

    def record(form: str) -> None:
        # not pytest's record_property, which warns under junit_family xunit2
        request.node.user_properties.append((FORM_PROPERTY, form))

    return record


@pytest.fixture
def declared_form(
    request: pytest.FixtureRequest, settings: Settings, record_form: Callable[[str], None]
) -> Callable[[], Form]:
    """Call it first in the test: the form of the test's guarantee that the manifest declares
    (OrderedReady or Parallel, Retain or Delete), recorded for the matrix. When the manifest
    opts out of the guarantee and --require names it, the test fails there."""
    property_id = request.node.originalname.removeprefix("test_")

    def form() -> Form:
        found = form_of(settings.manifest.policies, property_id)
        if found is None:
            raise LookupError(
                f"{property_id} has no declared form (see stsconf/checks/declared.py)"
            )
        record_form(found.name)
        if found.opt_out and property_id in settings.required:
            pytest.fail(required_message(found), pytrace=False)
        return found

    return form

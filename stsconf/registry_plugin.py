"""pytest side of private registries: the --registry-* options, and the watch over every
registry password of the session (the user's and the registry tests' own), which must never
show up in test output, the HTML report or the JUnit XML."""

from __future__ import annotations

from collections.abc import Generator
from pathlib import Path
from typing import Any

import pytest

from stsconf.access.pull_secret import DEFAULT_PASSWORD_ENV
from stsconf.access.secrecy import LeakGuard
from stsconf.settings import SETTINGS

GUARD = pytest.StashKey[LeakGuard]()


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("stsconf", "StatefulSet conformance")
    group.addoption(
        "--registry-server",
        default=None,
        help="private registry of the image under test (host[:port], as in the image "
        "reference); the suite creates a docker-registry pull secret in each test namespace",
    )
    group.addoption("--registry-user", default=None, help="user name for --registry-server")
    group.addoption(
        "--registry-password-env",
        default=DEFAULT_PASSWORD_ENV,
        metavar="NAME",
        help="environment variable holding the registry password (default %(default)s); "
        "there is no option for the password itself",
    )


@pytest.hookimpl(trylast=True)
def pytest_configure(config: pytest.Config) -> None:
    """After stsconf.settings has read the settings (and the --registry-* credentials)."""
    config.addinivalue_line(
        "markers", "registry: pulls the image under test from a registry that demands a login"
    )
    guard = LeakGuard()
    credentials = config.stash[SETTINGS].pull_credentials
    if credentials is not None:
        guard.add(credentials.secrets)
    config.stash[GUARD] = guard
    config.pluginmanager.register(LeakCheck(config, guard), "stsconf-leak-check")


@pytest.fixture(scope="session")
def leak_guard(pytestconfig: pytest.Config) -> LeakGuard:
    """The session's registry passwords; add every password a test makes up."""
    return pytestconfig.stash[GUARD]


class LeakCheck:
    """Looks for the session's passwords in what pytest shows and writes."""

    def __init__(self, config: pytest.Config, guard: LeakGuard) -> None:
        self.config = config
        self.guard = guard

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        self._check_report(report)

    def pytest_collectreport(self, report: pytest.CollectReport) -> None:
        self._check_report(report)

    def _check_report(self, report: Any) -> None:
        texts = [("failure", report.longreprtext)]
        texts += [(title, text) for title, text in report.sections]
        texts += [("extras", str(extra)) for extra in getattr(report, "extras", [])]
        for title, text in texts:
            self.guard.check_text(f"{report.nodeid} ({title})", text)

    @pytest.hookimpl(wrapper=True)
    def pytest_sessionfinish(self, session: pytest.Session) -> Generator[None, None, None]:
        yield  # pytest-html and junitxml write their files inside
        if not self.guard.secrets:
            return
        self.guard.check_files(self._written_files())
        self._tell(session)

    def _written_files(self) -> list[Path]:
        option = self.config.option
        paths = [getattr(option, "htmlpath", None), getattr(option, "xmlpath", None)]
        return [Path(path) for path in paths if path]

    def _tell(self, session: pytest.Session) -> None:
        writer = self.config.pluginmanager.get_plugin("terminalreporter")
        files = ", ".join(str(path) for path in self._written_files()) or "no report files"
        if self.guard.leaks:
            session.exitstatus = pytest.ExitCode.TESTS_FAILED
            line = "stsconf: a registry password appears in: " + "; ".join(self.guard.leaks)
        else:
            line = f"stsconf: no registry password in test output or in {files}"
        if writer is not None:
            writer.write_line(line, red=bool(self.guard.leaks), bold=bool(self.guard.leaks))

"""The suite's slow set-up says what it does and how long it took."""

from __future__ import annotations

from typing import Any

import pytest

from stsconf.access.setup_progress import finished_line, setup_step, started_line


class NoPlugins:
    def getplugin(self, name: str) -> None:
        return None


class Config:
    pluginmanager = NoPlugins()


def test_lines_say_what_and_how_long() -> None:
    assert started_line("loading image x into 'c'") == "[stsconf] loading image x into 'c' ..."
    assert finished_line("kind cluster 'c'", 13.14) == "[stsconf] kind cluster 'c': done in 13.1s"
    assert finished_line("kind cluster 'c'", 2, ok=False) == (
        "[stsconf] kind cluster 'c': failed in 2.0s"
    )


def test_a_step_that_raises_is_reported_as_failed(capsys: pytest.CaptureFixture[str]) -> None:
    config: Any = Config()
    with pytest.raises(RuntimeError), setup_step(config, "kind cluster 'c'"):
        raise RuntimeError("kind create failed")
    lines = capsys.readouterr().err.splitlines()
    assert lines[0] == "[stsconf] kind cluster 'c' ..."
    assert lines[1].startswith("[stsconf] kind cluster 'c': failed in ")

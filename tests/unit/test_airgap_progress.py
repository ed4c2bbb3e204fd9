"""Progress of the air-gapped build: what is said, and how often, in a terminal and in a CI log."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from airgap.errors import AirgapError
from airgap.progress import (
    CI_INTERVAL,
    GoProgress,
    StatusLine,
    Throttle,
    compiled_package,
    duration,
    go_line,
)
from airgap.run import run_watched


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class FakeTerminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_durations_read_as_people_write_them() -> None:
    assert duration(4.46) == "4.5s"
    assert duration(130) == "2m10s"
    assert duration(3720) == "1h02m"


def test_go_line_says_step_module_count_and_time() -> None:
    assert go_line("2/6", "kubernetes", 812, 2140, 130) == (
        "[airgap] Go programs 2/6: kubernetes, 812/2140 packages compiled, 2m10s"
    )
    assert "2140/2140" in go_line("2/6", "kubernetes", 2150, 2140, 1)


def test_only_needed_packages_count_as_progress() -> None:
    wanted = frozenset({"k8s.io/kubernetes/cmd/kubelet", "fmt"})
    assert compiled_package("k8s.io/kubernetes/cmd/kubelet\n", wanted) == (
        "k8s.io/kubernetes/cmd/kubelet"
    )
    assert compiled_package("# k8s.io/kubernetes/cmd/kubelet", wanted) is None
    assert compiled_package("go: downloading fmt v1", wanted) is None


def test_throttle_lets_the_first_report_through_then_one_per_interval() -> None:
    throttle = Throttle(20)
    assert [throttle.due(t) for t in (0, 5, 19.9, 20, 30, 40.1)] == [
        True, False, False, True, False, True,
    ]  # fmt: skip


def test_ci_log_gets_plain_lines_at_most_one_per_interval() -> None:
    clock, log = FakeClock(), io.StringIO()
    status = StatusLine(log, clock)
    for second in range(0, 61, 5):
        clock.now = 1000 + second
        status.update(f"at {second}")
    status.finish()
    assert log.getvalue() == "at 0\nat 20\nat 40\nat 60\n"
    assert "\r" not in log.getvalue()
    assert CI_INTERVAL == 20


def test_terminal_gets_one_line_rewritten_in_place_and_ended() -> None:
    clock, terminal = FakeClock(), FakeTerminal()
    status = StatusLine(terminal, clock)
    status.update("one")
    clock.now += 2
    status.update("two")
    status.finish()
    assert terminal.getvalue() == "\r\033[Kone\r\033[Ktwo\n"


def test_go_progress_counts_compiled_packages_and_ends_with_the_total() -> None:
    clock, log = FakeClock(), io.StringIO()
    wanted = frozenset({"fmt", "os", "sigs.k8s.io/kind"})
    progress = GoProgress("6/6", "tools", wanted, StatusLine(log, clock))
    clock.now += 30
    progress.feed(["fmt\n", "# sigs.k8s.io/kind\n", "os\n"])  # os: throttled away
    clock.now += 45
    progress.feed(["sigs.k8s.io/kind\n"])
    progress.close()
    assert log.getvalue().splitlines() == [
        "[airgap] Go programs 6/6: tools, 1/3 packages compiled, 30.0s",
        "[airgap] Go programs 6/6: tools, 3/3 packages compiled, 1m15s",
        "[airgap] Go programs 6/6: tools, 3/3 packages compiled, 1m15s",
    ]


def test_watched_command_streams_its_lines_and_logs_them(tmp_path: Path) -> None:
    seen: list[str] = []
    log = tmp_path / "go.log"
    run_watched(["sh", "-c", "echo fmt; echo os >&2"], seen.append, log=log)
    assert seen == ["fmt\n", "os\n"]
    assert log.read_text() == "fmt\nos\n"


def test_watched_command_failure_says_which_and_shows_the_tail(tmp_path: Path) -> None:
    log = tmp_path / "go.log"
    with pytest.raises(AirgapError, match=r"exit code 3 \(full log: .*go.log\):\nbroken"):
        run_watched(["sh", "-c", "echo broken; exit 3"], lambda _: None, log=log)

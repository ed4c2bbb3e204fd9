"""The report's time header: wall time, workers, the run's own set-up apart from the tests,
and the slowest properties."""

from __future__ import annotations

from stsconf.report.run_header import RunTimes, minutes, run_times_html, slowest

TIMES = RunTimes(
    wall_seconds=131.4,
    workers=4,
    setup=[("creating kind cluster 'pytest-kind'", 35.2), ("loading image busybox:1.36", 2.1)],
    properties=[("lifecycle", 240.0), ("ordered_startup", 9.0), ("rollback", 30.5),
                ("pod_labels", 0.4), ("halts_on_unhealthy", 18.0)],
)


def test_the_slowest_three_first() -> None:
    assert [name for name, _ in slowest(TIMES.properties)] == [
        "lifecycle",
        "rollback",
        "halts_on_unhealthy",
    ]


def test_minutes_read_as_a_person_says_them() -> None:
    assert minutes(42.04) == "42.0 s"
    assert minutes(131.4) == "2 min 11 s"


def test_the_header_says_wall_time_workers_setup_and_slowest() -> None:
    text = run_times_html(TIMES)
    assert "Wall time 2 min 11 s, 4 workers (-n 4)" in text
    assert "add up to 4 min 58 s" in text  # 297.9 s of the properties' own time
    assert "creating kind cluster &#x27;pytest-kind&#x27;: 35.2 s" in text
    assert "charged to no test" in text
    assert text.index("lifecycle") < text.index("rollback") < text.index("halts_on_unhealthy")
    assert "pod_labels" not in text


def test_a_serial_run_says_so() -> None:
    text = run_times_html(RunTimes(10.0, 0, [], []))
    assert "serial (-n 0)" in text
    assert "Set-up" not in text
    assert "Slowest" not in text

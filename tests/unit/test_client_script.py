"""The client's shell program (model/availability.py) run by a real busybox sh, as in the client
pod, against a local HTTP server: one path with a value, one that is not found and a port where
nothing listens; its output read back as answers, timed on the test's own clock."""

from __future__ import annotations

import os
import queue
import shutil
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import IO

import pytest

from airgap.config import cache_root
from stsconf.model.availability import (
    ANSWERED,
    EMPTY_READ,
    MISSING,
    REFUSED,
    REQUEST_TIMEOUT,
    Answer,
    ClientPlan,
    command_request,
    http_request,
    parse_client_output,
)

APPLETS = ("sh", "timeout", "wget", "sleep", "date", "cat", "rm")
VALUE = "value * of web-0"  # the star: the script must not glob the output
ANSWERS_PER_TARGET = 3
DEADLINE = 30.0  # seconds for that many answers (the script asks every 0.25 s)
SLACK = 2.0  # seconds an answer's time may stray from the test's clock


@pytest.fixture(scope="session")
def busybox(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A static busybox, out of the Debian package the air-gapped build downloads; beside it a
    directory `applets` of links to it, for PATH."""
    debs = sorted((cache_root() / "debs").glob("busybox-static_*.deb"))
    if not debs:
        pytest.skip(
            f"no busybox-static package in {cache_root() / 'debs'}: "
            "only the air-gapped build downloads it"
        )
    if not shutil.which("dpkg-deb"):
        pytest.skip("dpkg-deb is not installed to unpack the busybox-static package")
    root = tmp_path_factory.mktemp("busybox")
    subprocess.run(["dpkg-deb", "-x", str(debs[-1]), str(root)], check=True)
    binary = root / "bin" / "busybox"
    (root / "applets").mkdir()
    for name in APPLETS:
        (root / "applets" / name).symlink_to(binary)
    return binary


class Handler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        if self.path != "/value":
            self.send_error(404)
            return
        body = VALUE.encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass  # quiet


@pytest.fixture
def server() -> Iterator[str]:
    """The base URL of an HTTP server on 127.0.0.1."""
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()


def unused_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def run_client(busybox: Path, plan: ClientPlan, time_zero: float) -> tuple[str, float]:
    """Run the plan's script until every target has answered ANSWERS_PER_TARGET times; its
    output, and when (since `time_zero`) the test had it."""
    child = subprocess.Popen(
        [str(busybox), "sh", "-c", plan.script()],
        cwd=busybox.parent,  # files a glob would find
        env={"PATH": str(busybox.parent.parent / "applets")},  # no proxy, busybox's applets
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,  # its background loops in its process group, to stop together
    )
    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(target=pump, args=(child.stdout, lines), daemon=True).start()
    output, deadline = "", time.monotonic() + DEADLINE
    try:
        while not enough(parse_client_output(output, time_zero), plan):
            remaining = deadline - time.monotonic()
            try:
                output += lines.get(timeout=max(remaining, 0))
            except queue.Empty:
                pytest.fail(
                    f"not {ANSWERS_PER_TARGET} answers per target in {DEADLINE:g}s:\n{output}"
                )
        return output, time.time() - time_zero
    finally:
        os.killpg(child.pid, signal.SIGKILL)
        child.wait()


def pump(stream: IO[str], lines: queue.Queue[str]) -> None:
    for line in stream:
        lines.put(line)


def enough(answers: list[Answer], plan: ClientPlan) -> bool:
    return all(
        sum(a.target == target for a in answers) >= ANSWERS_PER_TARGET for target in plan.requests
    )


def test_the_client_script_under_busybox_reads_values_404s_and_refusals(
    busybox: Path, server: str
) -> None:
    plan = ClientPlan({
        "web-0": http_request(f"{server}/value"),
        "web-1": http_request(f"{server}/gone"),
        "web-2": http_request(f"http://127.0.0.1:{unused_port()}/value"),
    })  # fmt: skip
    time_zero = time.time()
    output, seen_by = run_client(busybox, plan, time_zero)
    answers = parse_client_output(output, time_zero)

    outcomes = {(a.target, a.outcome, a.value) for a in answers}
    assert {(target, outcome) for target, outcome, _ in outcomes} == {
        ("web-0", ANSWERED),
        ("web-1", MISSING),
        ("web-2", REFUSED),
    }, output
    assert {value for target, _, value in outcomes if target == "web-0"} == {VALUE}
    for a in answers:
        assert -SLACK < a.started <= a.ended < seen_by + SLACK, (a, seen_by)


def test_the_apps_own_read_command_asks_each_host_and_an_empty_answer_is_no_value(
    busybox: Path,
) -> None:
    """The command reads from $STSCONF_HOST; it prints the value, nothing (the value is gone)
    or fails (refused)."""
    command = 'case "$STSCONF_HOST" in web-0) echo "$STSCONF_HOST:v1";; web-1) ;; *) exit 1;; esac'
    plan = ClientPlan(
        {name: command_request(command, name) for name in ("web-0", "web-1", "web-2")}
    )
    time_zero = time.time()
    output, _ = run_client(busybox, plan, time_zero)
    outcomes = {(a.target, a.outcome, a.value) for a in parse_client_output(output, time_zero)}
    assert outcomes == {
        ("web-0", ANSWERED, "web-0:v1"),
        ("web-1", MISSING, EMPTY_READ),
        ("web-2", REFUSED, "exit code 1"),
    }, output


def test_a_read_whose_process_hangs_on_past_the_timeout_is_refused_in_time(
    busybox: Path,
) -> None:
    """`timeout` stops the read's shell, not what that shell started: the client must not wait
    for a process still holding the read's output (a client tool blocked on a lost peer)."""
    plan = ClientPlan({"web-0": command_request("sleep 60; echo late", "web-0")})
    time_zero = time.time()
    output, _ = run_client(busybox, plan, time_zero)
    answers = parse_client_output(output, time_zero)
    assert answers, output
    assert {a.outcome for a in answers} == {REFUSED}, output
    assert all(a.ended - a.started < REQUEST_TIMEOUT + SLACK for a in answers), output

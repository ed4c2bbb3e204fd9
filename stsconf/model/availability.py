"""What a client saw while the StatefulSet was operated, as plain data: the answers of each
replica (and of the Service) to a read of the data probe's HTTP path, timed, and the values
the suite wrote, so that checks/availability.py can judge them against the declared budget.

The client is a pod (observe/client.py) running `client_script`: one loop per target, a
request every INTERVAL seconds, each printed as a line that `parse_client_output` reads back.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from stsconf.model.manifest import CLIENT_HOST_VARIABLE, ProbeDeclaration
from stsconf.model.policies import DeclaredPolicies

ANSWERED = "answered"  # the server sent the page
MISSING = "missing"  # the server answered, without the page (HTTP 404): the value is gone
REFUSED = "refused"  # no answer: connection refused, timed out, no address, a server error
INTERVAL = 0.25  # seconds between two requests to one target
# Seconds one request may take (busybox `timeout`, not wget's own -T) before it counts as
# refused. 2 s was too short for a loaded machine: at load 38 in CI, two etcd members' reads
# (a CGI, wget, a linearizable read) took over 2 s while the third was being replaced, and the
# client saw all three unanswering for 5.6 s.
REQUEST_TIMEOUT = 5
# What a client read with the app's own command prints when the command printed nothing: the
# replica answered without the value (as an HTTP 404)
EMPTY_READ = "stsconf-client: the read printed nothing"
SERVICE = "service"  # the target name of the requests through the manifest's Service
# Why the client properties skip a manifest: they read its data from another pod.
NO_CLIENT_READ = (
    "the manifest declares no way for a client to read its data from another pod "
    "(annotation stsconf.io/probe-http-path or stsconf.io/probe-client-read)"
)


@dataclass(frozen=True)
class ClientRead:
    """How the client reads a replica's value from its own pod: GET `http_path`, or the app's
    own shell `command`, which reads from the replica at $STSCONF_HOST."""

    http_path: str | None = None
    command: str | None = None

    def describe(self) -> str:
        return f"GET {self.http_path}" if self.http_path else f"sh -c {self.command!r}"


def client_read(probe: ProbeDeclaration) -> ClientRead | None:
    """How the manifest lets a client read its data (HTTP where it offers both), if at all."""
    if probe.http_path:
        return ClientRead(http_path=probe.http_path)
    if probe.client_read:
        return ClientRead(command=probe.client_read)
    return None


@dataclass(frozen=True)
class Answer:
    """One request of the client and what came back. Times are seconds on the axis of the
    pod timeline it is drawn under (since its recorder started)."""

    target: str  # a replica's pod name, or SERVICE
    started: float
    ended: float
    outcome: str  # ANSWERED, MISSING or REFUSED
    value: str  # the body when ANSWERED, else why not

    @property
    def served(self) -> bool:
        """The server answered at all (even without the value)."""
        return self.outcome != REFUSED


@dataclass(frozen=True)
class Written:
    """A value the suite stored in a replica's data, and when the write had finished."""

    replica: str
    value: str
    at: float


@dataclass(frozen=True)
class Eviction:
    """How the eviction of one pod went (workload/drain.py): accepted after `refused`
    refusals (a PodDisruptionBudget forbade it then), `seconds` after the first request."""

    pod: str
    refused: int
    seconds: float
    accepted: bool


def budget_held_by_node(earlier: Sequence[Eviction], waits_for_node: Collection[str]) -> bool:
    """An earlier eviction took a pod whose replacement waits for the drained node (its
    volume is bound there): the budget cannot allow another until the node is back."""
    return any(e.accepted and e.pod in waits_for_node for e in earlier)


@dataclass(frozen=True)
class Budget:
    """How many replicas the manifest lets be unavailable at once during an operation."""

    unavailable: int
    source: str  # where the figure comes from, for people


def update_budget(policies: DeclaredPolicies, replicas: int) -> Budget:
    """The update strategy's budget: maxUnavailable where set (a percentage of the replicas,
    rounded up, at least 1, as the controller resolves it), else one pod at a time."""
    declared = policies.max_unavailable
    if declared is None:
        return Budget(1, "a rolling update replaces one pod at a time (no maxUnavailable)")
    return Budget(max(_scaled(declared, replicas), 1), f"maxUnavailable {declared}")


def disruption_budget(
    documents: Sequence[Mapping[str, Any]], labels: Mapping[str, str], replicas: int
) -> Budget | None:
    """The budget of the manifest's PodDisruptionBudget whose selector matches the pod labels:
    maxUnavailable, or the replicas less minAvailable (percentages of the replicas, rounded
    up, as the disruption controller scales them); None without one."""
    for document in documents:
        if document.get("kind") != "PodDisruptionBudget":
            continue
        spec = document.get("spec") or {}
        wanted = (spec.get("selector") or {}).get("matchLabels") or {}
        if not wanted or any(labels.get(key) != value for key, value in wanted.items()):
            continue
        name = f"PodDisruptionBudget {document['metadata']['name']}"
        if spec.get("maxUnavailable") is not None:
            most = _scaled(spec["maxUnavailable"], replicas)
            return Budget(most, f"{name}: maxUnavailable {spec['maxUnavailable']}")
        least = _scaled(spec.get("minAvailable", 1), replicas)
        return Budget(
            max(replicas - least, 0), f"{name}: minAvailable {spec.get('minAvailable', 1)}"
        )
    return None


def _scaled(value: int | str, replicas: int) -> int:
    if isinstance(value, str) and value.endswith("%"):
        return -(-int(value[:-1]) * replicas // 100)
    return int(value)


def http_request(url: str) -> str:
    """A client's shell request for `url`, printing the page."""
    return f"timeout {REQUEST_TIMEOUT} wget -q -O - {shlex.quote(url)}"


def command_request(command: str, host: str) -> str:
    """A client's shell request: the app's own read `command`, asking `host`; printing nothing
    is answering without the value."""
    read = (
        f"value=$({command}) || exit $?; "
        f'[ -n "$value" ] || {{ echo {shlex.quote(EMPTY_READ)}; exit 3; }}; '
        'printf "%s\\n" "$value"'
    )
    return (
        f"{CLIENT_HOST_VARIABLE}={shlex.quote(host)} "
        f"timeout {REQUEST_TIMEOUT} sh -c {shlex.quote(read)}"
    )


@dataclass(frozen=True)
class ClientPlan:
    """What the client asks, and of whom: target name -> a shell request printing its value."""

    requests: Mapping[str, str]
    interval: float = INTERVAL

    def script(self) -> str:
        """The client's shell program (sh: busybox's, or the app image's): first a line tying
        the node's clock to /proc/uptime, whose hundredths time each request (busybox's date
        has whole seconds), then one background loop per target printing
        `answer <target> <started> <ended> <exit code> <output>` per request."""
        loops = [
            _loop(name, request, self.interval) for name, request in sorted(self.requests.items())
        ]
        return "\n".join(["set -f", CLOCK_LINE, *loops, "wait"])  # set -f: no globbing of $out


# Waits for the next whole second of `date` and prints it beside the uptime at that moment,
# looking every 10 ms: a loop without the sleep forked `date` hundreds of times a second, a
# core busy for up to a second at every client's start.
CLOCK_LINE = (
    's=$(date +%s); while [ "$(date +%s)" = "$s" ]; do sleep 0.01; done; '
    'read up _ < /proc/uptime; echo "clock $(date +%s) $up"'
)


def _loop(name: str, request: str, interval: float) -> str:
    """Each request's output goes to a file of its own, read once `timeout` has ended it: a
    command substitution would wait for every process holding its pipe, and `timeout` stops
    only its own child (the app's client, started by `sh -c`, may hang on past it)."""
    out = f"/tmp/stsconf-{name}-$n"
    return (
        "n=0; while true; do "
        "n=$((n + 1)); "
        "read a _ < /proc/uptime; "
        f"{request} > {out} 2>&1; rc=$?; "
        "read b _ < /proc/uptime; "
        f"out=$(cat {out}); rm -f {out}; "
        f'echo "answer {name} $a $b $rc" $out; '  # unquoted: the output on one line
        f"sleep {interval:g}; "  # the client's request rate, not a wait for anything
        "done &"
    )


CLOCK = re.compile(r"^clock (\d+) ([\d.]+)$")
ANSWER = re.compile(r"^answer (\S+) ([\d.]+) ([\d.]+) (\d+) ?(.*)$")
NOT_FOUND = re.compile(r"\b404\b")


def parse_client_output(text: str, time_zero: float) -> list[Answer]:
    """The client's answers, their times in seconds since `time_zero` (epoch seconds: the
    start of the pod timeline they are drawn under). Lines before the clock line, and lines
    cut short by the end of the log, are left out."""
    offset: float | None = None
    answers: list[Answer] = []
    lines = text.splitlines()
    if not text.endswith("\n"):
        lines = lines[:-1]  # the last line, cut short (a log read while the client writes)
    for line in lines:
        if clock := CLOCK.match(line):
            offset = float(clock.group(1)) - float(clock.group(2)) - time_zero
        elif (answer := ANSWER.match(line)) and offset is not None:
            target, started, ended, code, output = answer.groups()
            outcome, value = _outcome(int(code), output.strip())
            answers.append(
                Answer(target, float(started) + offset, float(ended) + offset, outcome, value)
            )
    return answers


def _outcome(code: int, output: str) -> tuple[str, str]:
    if code == 0:
        return ANSWERED, output
    if EMPTY_READ in output:
        return MISSING, output
    if "server returned error" in output and NOT_FOUND.search(output):
        return MISSING, output
    return REFUSED, output or f"exit code {code}"

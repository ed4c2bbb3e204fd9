"""Putting a value unique to each pod into its data, and reading it back.

A StatefulSet may declare its own probe: shell commands run in its pods that store the value
($STSCONF_VALUE) through the app and print it back (annotations stsconf.io/probe-write and
stsconf.io/probe-read). Otherwise the probe writes a marker file into each claim's mount path.
Either way the commands run with `sh -c` through exec, and a failure says what ran, its exit
code and output, and the pod's events and logs.
"""

from __future__ import annotations

import shlex
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from stsconf.access.rest import ExecResult, Kube, list_items, read_or_none
from stsconf.model.expectations import mismatch
from stsconf.model.manifest import PROBE_READ, PROBE_WRITE, Manifest
from stsconf.observe.diagnostics import describe_event, describe_pod, log_tail

VALUE_VARIABLE = "STSCONF_VALUE"
MARKER_FILE = "stsconf-marker"
LOG_LINES = 20

Exec = Callable[[str, Sequence[str], str], ExecResult]  # (pod, command, container)


@dataclass(frozen=True)
class DataProbe:
    container: str
    write_script: str  # shell; $STSCONF_VALUE holds the value
    read_script: str  # shell; prints the value (once per copy)
    source: str  # where the commands come from, for people
    copies: int = 1  # how often the read prints the value (the marker probe: once per file)
    http_path: str | None = None
    problem: str | None = None  # why the probe cannot run on this manifest

    def write_command(self, value: str) -> list[str]:
        script = f"{VALUE_VARIABLE}={shlex.quote(value)}\nexport {VALUE_VARIABLE}\n"
        return ["sh", "-c", script + self.write_script]

    def read_command(self) -> list[str]:
        return ["sh", "-c", self.read_script]

    def expected_output(self, value: str) -> str:
        return "\n".join([value] * self.copies)

    def reads_back(self, value: str, output: str) -> bool:
        return output.strip() == self.expected_output(value)

    def describe(self) -> str:
        return (
            f"{self.source}\nrun with sh -c in container {self.container} of each pod, "
            f"{VALUE_VARIABLE} set to a value unique to the pod\n"
            f"write: {self.write_script}\nread:  {self.read_script}"
            + (f"\nalso read over HTTP: GET {self.http_path}" if self.http_path else "")
        )


def data_probe(manifest: Manifest) -> DataProbe:
    """The probe the manifest declares, or the marker-file probe for its claims."""
    declared = manifest.probe
    if declared.write and declared.read:
        return DataProbe(
            declared.container,
            declared.write,
            declared.read,
            f"the app's own commands (annotations {PROBE_WRITE}, {PROBE_READ})",
            http_path=declared.http_path,
        )
    directories = manifest.data_directories(declared.container)
    return marker_file_probe(declared.container, directories, declared.http_path)


def marker_file_probe(
    container: str, directories: Sequence[str], http_path: str | None = None
) -> DataProbe:
    files = [shlex.quote(f"{d.rstrip('/')}/{MARKER_FILE}") for d in directories]
    writes = [f'printf "%s\\n" "${VALUE_VARIABLE}" > {f}' for f in files]
    problem = None
    if not files:
        problem = f"container {container} mounts no claim template (nowhere to keep data)"
    return DataProbe(
        container,
        " && ".join([*writes, "sync"]),
        "cat " + " ".join(files),
        f"the marker-file probe: a file {MARKER_FILE} in {', '.join(directories) or '-'}",
        copies=len(files),
        http_path=http_path,
        problem=problem,
    )


@dataclass(frozen=True)
class ProbeRun:
    """One probe command run in one pod, and how it went."""

    pod: str
    container: str
    shown: str  # the command as people read it
    result: ExecResult

    @property
    def output(self) -> str:
        return self.result.stdout.strip()

    def describe(self) -> str:
        return (
            f"ran in pod {self.pod}, container {self.container}: {self.shown}\n"
            f"exit code {self.result.returncode}\n"
            f"stdout: {self.result.stdout.strip() or '(empty)'}\n"
            f"stderr: {self.result.stderr.strip() or '(empty)'}"
        )


@dataclass(frozen=True)
class Stored:
    """A value written into a pod's data and read straight back."""

    pod: str
    value: str
    write: ProbeRun | None
    read: ProbeRun | None
    problem: str | None  # what went wrong, None when the value was stored


def store_value(probe: DataProbe, run: Exec, pod: str, value: str) -> Stored:
    if probe.problem:
        return Stored(pod, value, None, None, probe.problem)
    write = write_value(probe, run, pod, value)
    read = read_value(probe, run, pod) if write.result.ok else None
    return Stored(pod, value, write, read, write_problem(probe, value, write, read))


def write_value(probe: DataProbe, run: Exec, pod: str, value: str) -> ProbeRun:
    shown = f"{VALUE_VARIABLE}={shlex.quote(value)} sh -c {shlex.quote(probe.write_script)}"
    return ProbeRun(
        pod, probe.container, shown, run(pod, probe.write_command(value), probe.container)
    )


def read_value(probe: DataProbe, run: Exec, pod: str) -> ProbeRun:
    shown = f"sh -c {shlex.quote(probe.read_script)}"
    return ProbeRun(pod, probe.container, shown, run(pod, probe.read_command(), probe.container))


def write_problem(
    probe: DataProbe, value: str, write: ProbeRun, read: ProbeRun | None
) -> str | None:
    """What went wrong storing `value` and reading it straight back, or None."""
    if not write.result.ok:
        return f"the write exited {write.result.returncode}\n{write.describe()}"
    if read is None:
        return None
    if not read.result.ok:
        return f"the read exited {read.result.returncode}\n{read.describe()}"
    if not probe.reads_back(value, read.output):
        return (
            f"the read right after the write printed {read.output!r}, "
            f"not {probe.expected_output(value)!r}\n{read.describe()}"
        )
    return None


def own_data_problems(
    probe: DataProbe, written: Mapping[str, str], reads: Mapping[str, ProbeRun], what: str
) -> list[str]:
    """Each pod must read back the value written into it; otherwise say whose value it holds
    (the replicas share their data) or what the read printed."""
    problems = []
    for pod, value in written.items():
        read = reads[pod]
        if probe.reads_back(value, read.output):
            continue
        owners = [o for o, v in written.items() if o != pod and probe.reads_back(v, read.output)]
        seen = (
            f"{owners[0]}'s value {read.output!r}: the replicas share their data"
            if owners
            else seen_by(read)
        )
        problems.append(mismatch(f"{pod} {what}", f"its own value {value!r}", seen))
    return problems


def printed(read: ProbeRun) -> str:
    """What a read printed, for a table cell."""
    return read.output or seen_by(read)


def seen_by(read: ProbeRun) -> str:
    """What a read printed, or why it printed nothing."""
    if read.output:
        return repr(read.output)
    error = read.result.stderr.strip() or "no output"
    return f"nothing (exit {read.result.returncode}: {error})"


def pod_report(kube: Kube, namespace: str, pod: str) -> str:
    """The pod's state, its events and the tail of each container's log, as plain text."""
    try:
        obj = read_or_none(kube.core.read_namespaced_pod, pod, namespace)
        events = list_items(
            kube.core.list_namespaced_event,
            namespace,
            field_selector=f"involvedObject.name={pod}",
        )
    except Exception as error:  # noqa: BLE001 - diagnostics must never hide the real failure
        return f"(could not read pod {pod}: {error})"
    if obj is None:
        return f"(pod {pod} does not exist)"
    events.sort(key=lambda e: str(e.get("lastTimestamp") or e.get("eventTime") or ""))
    sections = [
        f"== pod {pod} ==\n{describe_pod(obj)}",
        f"== events of pod {pod} ==\n" + ("\n".join(map(describe_event, events)) or "(none)"),
    ]
    for container in (obj.get("spec") or {}).get("containers") or []:
        name = container["name"]
        log = log_tail(kube, namespace, pod, name, LOG_LINES)
        sections.append(f"== log of {pod}/{name} ==\n{log}")
    return "\n".join(sections)

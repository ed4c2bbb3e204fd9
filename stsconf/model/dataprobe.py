"""The data probe as plain data: how the suite puts a value unique to each pod into its data
and reads it back, as the manifest declares it, and what one run of it gave back.

A StatefulSet may declare its own probe: shell commands run in its pods that store the value
($STSCONF_VALUE) through the app and print it back (annotations stsconf.io/probe-write and
stsconf.io/probe-read). Otherwise the probe writes a marker file into each claim's mount path.
Running it is observe/dataprobe.py; judging what it read, checks/data.py.
"""

from __future__ import annotations

import shlex
from collections.abc import Sequence
from dataclasses import dataclass

from stsconf.model.exec_result import ExecResult
from stsconf.model.manifest import PROBE_READ, PROBE_WRITE, Manifest

VALUE_VARIABLE = "STSCONF_VALUE"


MARKER_FILE = "stsconf-marker"


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
    paths = [f"{d.rstrip('/')}/{MARKER_FILE}" for d in directories]
    files = [shlex.quote(path) for path in paths]
    # written beside and renamed into place: a reader (the availability client) sees the old
    # value or the new one, never a file cut short mid-write
    writes = [
        f'printf "%s\\n" "${VALUE_VARIABLE}" > {shlex.quote(path + ".new")} && '
        f"mv {shlex.quote(path + '.new')} {shlex.quote(path)}"
        for path in paths
    ]
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

    def printed(self) -> str:
        """What it printed, for a table cell."""
        return self.output or self.seen()

    def seen(self) -> str:
        """What it printed, or why it printed nothing."""
        if self.output:
            return repr(self.output)
        error = self.result.stderr.strip() or "no output"
        return f"nothing (exit {self.result.returncode}: {error})"

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

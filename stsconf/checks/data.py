"""What the data probe read back, judged: a value read straight after it was written, and each
pod holding its own value (not another replica's, not nothing)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from stsconf.model.dataprobe import DataProbe, ProbeRun
from stsconf.model.expectations import mismatch


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
            else read.seen()
        )
        problems.append(mismatch(f"{pod} {what}", f"its own value {value!r}", seen))
    return problems


@dataclass(frozen=True)
class Served:
    """What a pod served over HTTP at the data probe's path (stsconf.io/probe-http-path)."""

    url: str
    text: str  # the body without surrounding whitespace, or "error: ..." when the GET failed


def served_problems(written: Mapping[str, str], served: Mapping[str, Served]) -> list[str]:
    """Each pod serves over HTTP the value written into it."""
    return [
        mismatch(f"{served[pod].url} ({pod})", repr(value), repr(served[pod].text))
        for pod, value in written.items()
        if served[pod].text != value
    ]


def still_there_problems(
    probe: DataProbe, written: Mapping[str, str], reads: Mapping[str, ProbeRun]
) -> list[str]:
    """None of the pods reads back the value written before (their storage starts empty)."""
    return [
        mismatch(pod, "empty storage", f"the old value: {reads[pod].describe()}")
        for pod, value in written.items()
        if probe.reads_back(value, reads[pod].output)
    ]

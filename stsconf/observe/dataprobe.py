"""Running the data probe (model/dataprobe.py) in pods: putting a value unique to each pod
into its data and reading it back. The commands run with `sh -c` through exec, and a failure
says what ran, its exit code and output, and the pod's events and logs.
"""

from __future__ import annotations

import shlex
from collections.abc import Callable, Sequence

from stsconf.access.rest import Kube, list_items, read_or_none
from stsconf.model.dataprobe import VALUE_VARIABLE, DataProbe, ProbeRun
from stsconf.model.exec_result import ExecResult
from stsconf.observe.diagnostics import describe_event, describe_pod, log_tail

LOG_LINES = 20

Exec = Callable[[str, Sequence[str], str], ExecResult]  # (pod, command, container)


def write_value(probe: DataProbe, run: Exec, pod: str, value: str) -> ProbeRun:
    shown = f"{VALUE_VARIABLE}={shlex.quote(value)} sh -c {shlex.quote(probe.write_script)}"
    return ProbeRun(
        pod, probe.container, shown, run(pod, probe.write_command(value), probe.container)
    )


def read_value(probe: DataProbe, run: Exec, pod: str) -> ProbeRun:
    shown = f"sh -c {shlex.quote(probe.read_script)}"
    return ProbeRun(pod, probe.container, shown, run(pod, probe.read_command(), probe.container))


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

"""Where things are: the nodes pods may go to, the node a pod runs on, the node a local
volume belongs to. Plain reads of API objects."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

Obj = Mapping[str, Any]
CONTROL_PLANE_TAINT = "node-role.kubernetes.io/control-plane"


def is_control_plane(node: Obj) -> bool:
    labels = (node.get("metadata") or {}).get("labels") or {}
    return CONTROL_PLANE_TAINT in labels


def takes_ordinary_pods(node: Obj) -> bool:
    """A node the scheduler gives pods without tolerations: no NoSchedule/NoExecute taint."""
    taints = (node.get("spec") or {}).get("taints") or []
    return all(taint.get("effect") == "PreferNoSchedule" for taint in taints)


def busiest_node(pod_nodes: Sequence[str]) -> str:
    """Of the nodes pods run on (in ordinal order), the one running the most of them; a tie
    goes to the node of the highest ordinal among them."""
    return max(reversed(pod_nodes), key=pod_nodes.count)


def ordinary_workers(nodes: Iterable[Obj]) -> list[str]:
    """The names of the nodes ordinary pods go to (no control plane, no scheduling taint)."""
    return sorted(
        node["metadata"]["name"]
        for node in nodes
        if takes_ordinary_pods(node) and not is_control_plane(node)
    )


def pod_node(pod: Obj) -> str:
    return str((pod.get("spec") or {}).get("nodeName") or "")


def volume_node(volume: Obj) -> str:
    """The node a local volume's required node affinity names ('' without one)."""
    required = ((volume.get("spec") or {}).get("nodeAffinity") or {}).get("required") or {}
    for term in required.get("nodeSelectorTerms") or []:
        for requirement in term.get("matchExpressions") or []:
            if requirement.get("values"):
                return str(requirement["values"][0])
    return ""

"""The StatefulSet's scale subresource (autoscaling/v1 Scale) agreeing with the StatefulSet,
as a pure check."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from stsconf.model.expectations import mismatch

Obj = Mapping[str, Any]


def selector_terms(selector: str) -> set[str]:
    """The terms of a label selector string, in any order (commas inside `in (...)` kept)."""
    return {term.strip() for term in re.split(r",(?![^()]*\))", selector) if term.strip()}


def scale_problems(
    scale: Obj, statefulset: Obj, replicas: int, selector: str, settled: bool = True
) -> list[str]:
    """The Scale names the StatefulSet, says `replicas` in its spec as the StatefulSet does,
    and (once `settled`, the controller having caught up) in its status with the selector."""
    problems = []
    name = (statefulset.get("metadata") or {}).get("name")
    if (scale.get("kind"), (scale.get("metadata") or {}).get("name")) != ("Scale", name):
        seen = f"{scale.get('kind')} {(scale.get('metadata') or {}).get('name')}"
        problems.append(mismatch("scale subresource", f"a Scale named {name}", seen))
    spec = (scale.get("spec") or {}).get("replicas")
    if spec != replicas:
        problems.append(mismatch("Scale spec.replicas", str(replicas), str(spec)))
    in_set = (statefulset.get("spec") or {}).get("replicas")
    if in_set != replicas:
        problems.append(mismatch(f"StatefulSet {name} spec.replicas", str(replicas), str(in_set)))
    if settled:
        status = scale.get("status") or {}
        if status.get("replicas") != replicas:
            problems.append(
                mismatch("Scale status.replicas", str(replicas), str(status.get("replicas")))
            )
        if selector_terms(str(status.get("selector") or "")) != selector_terms(selector):
            problems.append(
                mismatch("Scale status.selector", repr(selector), repr(status.get("selector")))
            )
    return problems

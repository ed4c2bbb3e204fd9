"""`spec.ordinals.start`: which pods must exist after it changes, as a pure check."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from stsconf.model.expectations import mismatch
from stsconf.model.timeline import pod_state_from_object

Obj = Mapping[str, Any]


def ordinal_range_problems(
    pods: Mapping[str, Obj], expected: Sequence[str], kept_uids: Mapping[str, str]
) -> list[str]:
    """Exactly the `expected` pods exist, Running and Ready; those in `kept_uids` (pods whose
    ordinal stayed in range) are the same pods as before, not replaced."""
    problems = []
    if set(pods) != set(expected):
        problems.append(
            mismatch("pods", f"exactly {', '.join(expected)}", ", ".join(sorted(pods)) or "none")
        )
    for name in expected:
        if name not in pods:
            continue
        state = pod_state_from_object(pods[name])
        if not state.running_and_ready:
            problems.append(mismatch(name, "Running and Ready", state.describe()))
        if name in kept_uids and state.uid != kept_uids[name]:
            problems.append(
                mismatch(
                    name,
                    f"kept (uid={kept_uids[name]}): its ordinal stayed in range",
                    f"replaced (uid={state.uid})",
                )
            )
    return problems

"""What the manifest declares about ordering and claim retention, and which guarantees that
leaves out.

A StatefulSet may relax two of its promises on purpose: `podManagementPolicy: Parallel` gives up
ordered start-up and scaling, and a claim retention policy of `Delete` gives up keeping claims.
The suite then asserts the documented behaviour of the declared form; `--require ID` turns the
opt-out itself into a failure. Plain data and pure functions.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from stsconf.model.policies import ORDERED_READY, RETAIN, DeclaredPolicies

POLICY_FIELD = "podManagementPolicy"
WHEN_SCALED_FIELD = "persistentVolumeClaimRetentionPolicy.whenScaled"
WHEN_DELETED_FIELD = "persistentVolumeClaimRetentionPolicy.whenDeleted"


class RequireError(ValueError):
    """--require names a property that does not exist or that no manifest can opt out of."""


@dataclass(frozen=True)
class OptOut:
    """A manifest that chose not to make a promise, and the field that says so."""

    promise: str  # e.g. "ordered start-up"
    field: str
    value: str
    promising_value: str  # the value that would make the promise

    def message(self) -> str:
        return f"the manifest does not promise {self.promise}: {self.field} is {self.value}"


@dataclass(frozen=True)
class Form:
    """The form of a guarantee that a run asserts, as the property matrix shows it."""

    property_id: str
    name: str  # e.g. "OrderedReady", "whenScaled: Delete"
    opt_out: OptOut | None  # set when the declared form gives up the guarantee


@dataclass(frozen=True)
class _Rule:
    promise: str
    attribute: str  # of DeclaredPolicies
    field: str
    promising_value: str
    label: str = ""  # put before the value in the matrix


def _ordering(promise: str) -> _Rule:
    return _Rule(promise, "pod_management", POLICY_FIELD, ORDERED_READY)


# The guarantees a manifest may opt out of, by property id.
OPT_OUTS: dict[str, _Rule] = {
    "ordered_startup": _ordering("ordered start-up"),
    "scale_up_order": _ordering("ordered scale-up"),
    "scale_down_order": _ordering("ordered scale-down"),
    "halts_on_unhealthy": _ordering("to halt scaling while a pod is not Ready"),
    "pvcs_kept_after_scale_down": _Rule(
        "to keep the claims of pods removed by a scale-down",
        "when_scaled",
        WHEN_SCALED_FIELD,
        RETAIN,
        "whenScaled: ",
    ),
    "cleanup_keeps_pvcs": _Rule(
        "to keep the claims when the StatefulSet is deleted",
        "when_deleted",
        WHEN_DELETED_FIELD,
        RETAIN,
        "whenDeleted: ",
    ),
}


def form_of(policies: DeclaredPolicies, property_id: str) -> Form | None:
    """The declared form of a guarantee a manifest may opt out of; None for the others."""
    rule = OPT_OUTS.get(property_id)
    if rule is None:
        return None
    value = str(getattr(policies, rule.attribute))
    opt_out = None
    if value != rule.promising_value:
        opt_out = OptOut(rule.promise, rule.field, value, rule.promising_value)
    return Form(property_id, rule.label + value, opt_out)


def required_message(form: Form) -> str:
    """Why a property fails under --require: the opt-out, as expected and seen."""
    if form.opt_out is None:
        return ""
    out = form.opt_out
    return (
        f"{out.message()} (--require {form.property_id}: "
        f"expected {out.field} {out.promising_value}; saw {out.value})"
    )


def parse_required(values: Iterable[str], known: Iterable[str]) -> frozenset[str]:
    """The property ids of --require ID[,ID...] (the option may repeat); raise RequireError
    naming the ids that can be required when one is unknown or has no opt-out."""
    ids = [part.strip() for value in values for part in value.split(",") if part.strip()]
    all_known = set(known)
    can_require = ", ".join(OPT_OUTS)
    for property_id in ids:
        if property_id not in all_known and property_id not in OPT_OUTS:
            raise RequireError(
                f"--require: unknown property {property_id!r}; "
                f"properties a manifest can opt out of: {can_require}"
            )
        if property_id not in OPT_OUTS:
            raise RequireError(
                f"--require: {property_id} has no opt-out (every manifest promises it); "
                f"properties a manifest can opt out of: {can_require}"
            )
    return frozenset(ids)

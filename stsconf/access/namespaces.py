"""One fresh namespace per test module, and making sure they are all gone at the end."""

from __future__ import annotations

import secrets
from collections.abc import Collection
from typing import Any

from kubernetes import client
from kubernetes.client.exceptions import ApiException

from stsconf.access import rest, wait
from stsconf.access.rest import Kube
from stsconf.access.watching import Recorder

MANAGED_BY = "app.kubernetes.io/managed-by"
SUITE = "stsconf"
ATTEMPTS = 5
DEFAULT_ACCOUNT = "default"

Obj = dict[str, Any]


class NamespaceTaken(RuntimeError):
    pass


def create_fresh_namespace(kube: Kube, purpose: str) -> str:
    """Create a namespace with an unused random name (short: it ends up in pod FQDNs)."""
    for _ in range(ATTEMPTS):
        name = f"{SUITE}-{secrets.token_hex(3)}"
        body = {
            "metadata": {
                "name": name,
                "labels": {MANAGED_BY: SUITE},
                "annotations": {f"{SUITE}/purpose": purpose},
            }
        }
        try:
            kube.core.create_namespace(
                client.V1Namespace.model_validate(body), _request_timeout=rest.REQUEST_TIMEOUT
            )
        except ApiException as error:
            if error.status == 409:
                continue  # already exists: draw another name
            raise
        return name
    raise NamespaceTaken(f"could not find a free namespace name after {ATTEMPTS} attempts")


def create_namespace_for_pods(kube: Kube, purpose: str, timeout: float) -> str:
    """A fresh namespace (`create_fresh_namespace`) whose `default` ServiceAccount exists: the
    API server refuses a pod in a namespace until its controller has made that account (403
    "serviceaccount default not found"), which took seconds on a cluster just created."""
    name = create_fresh_namespace(kube, purpose)
    with Recorder(
        kube.core.list_namespaced_service_account,
        namespace=name,
        field_selector=f"metadata.name={DEFAULT_ACCOUNT}",
    ) as accounts:
        wait.wait_on_watch(
            accounts,
            lambda found: DEFAULT_ACCOUNT in found,
            expected=f"the ServiceAccount {DEFAULT_ACCOUNT!r} in the new namespace {name}, made by "
            "the controller manager's serviceaccount controller",
            seen=lambda found: f"accounts: {', '.join(sorted(found)) or 'none'}",
            timeout=timeout,
        )
    return name


def delete_namespace(kube: Kube, name: str) -> None:
    rest.ignore_missing(kube.core.delete_namespace, name)


def wait_until_gone(kube: Kube, names: Collection[str], timeout: float) -> None:
    """Wait for the namespaces and the volumes their claims used to disappear."""
    doomed = set(names)
    if not doomed:
        return
    with Recorder(kube.core.list_namespace, label_selector=f"{MANAGED_BY}={SUITE}") as recorder:
        wait.wait_on_watch(
            recorder,
            lambda namespaces: not doomed & set(namespaces),
            expected=f"namespaces {', '.join(sorted(doomed))} deleted",
            seen=lambda namespaces: "still present: " + ", ".join(sorted(doomed & set(namespaces))),
            timeout=timeout,
        )
    with Recorder(kube.core.list_persistent_volume) as recorder:
        wait.wait_on_watch(
            recorder,
            lambda volumes: not volumes_of(volumes.values(), doomed),
            expected="the volumes of their claims deleted",
            seen=lambda volumes: (
                "still present: " + ", ".join(volumes_of(volumes.values(), doomed))
            ),
            timeout=timeout,
        )


def volumes_of(volumes: Collection[Obj], namespaces: Collection[str]) -> list[str]:
    """Volumes that claims in `namespaces` used and that are meant to be deleted with them."""
    return sorted(
        volume["metadata"]["name"]
        for volume in volumes
        if _claim_namespace(volume) in namespaces
        and volume["spec"].get("persistentVolumeReclaimPolicy") == "Delete"
    )


def _claim_namespace(volume: Obj) -> str | None:
    claim_ref = (volume.get("spec") or {}).get("claimRef") or {}
    return claim_ref.get("namespace")

"""Fresh namespace names, and which volumes must go with deleted namespaces."""

from __future__ import annotations

from typing import Any

import pytest
from kubernetes.client.exceptions import ApiException

from stsconf.access.namespaces import NamespaceTaken, create_fresh_namespace, volumes_of


class FakeCore:
    def __init__(self, taken: int) -> None:
        self.taken = taken
        self.names: list[str] = []

    def create_namespace(self, body: Any, **_: Any) -> None:
        self.names.append(body.metadata.name)
        if len(self.names) <= self.taken:
            raise ApiException(status=409, reason="AlreadyExists")


class FakeKube:
    def __init__(self, taken: int) -> None:
        self.core = FakeCore(taken)


def test_a_taken_name_is_replaced_by_a_fresh_one() -> None:
    kube = FakeKube(taken=2)
    name = create_fresh_namespace(kube, "tests/x.py")  # type: ignore[arg-type]
    assert name == kube.core.names[-1]
    assert len(set(kube.core.names)) == 3
    assert all(n.startswith("stsconf-") and len(n) <= 20 for n in kube.core.names)


def test_giving_up_says_so() -> None:
    with pytest.raises(NamespaceTaken, match="could not find a free namespace name"):
        create_fresh_namespace(FakeKube(taken=100), "tests/x.py")  # type: ignore[arg-type]


def test_only_deletable_volumes_of_the_namespaces_are_awaited() -> None:
    def volume(name: str, namespace: str, policy: str = "Delete") -> dict[str, Any]:
        return {"metadata": {"name": name},
                "spec": {"claimRef": {"namespace": namespace},
                         "persistentVolumeReclaimPolicy": policy}}  # fmt: skip

    volumes = [volume("a", "ns1"), volume("b", "other"), volume("c", "ns1", "Retain")]
    assert volumes_of(volumes, {"ns1"}) == ["a"]

"""The policies a StatefulSet declares, read once from its spec: pod management, the update
strategy (partition, maxUnavailable, minReadySeconds, revisionHistoryLimit), claim retention,
the start ordinal, and whether its pods keep data. Where the spec says nothing, the API's
defaults. The manifest hands them out (Manifest.policies)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

ORDERED_READY = "OrderedReady"
PARALLEL = "Parallel"
ROLLING_UPDATE = "RollingUpdate"
ON_DELETE = "OnDelete"
RETAIN = "Retain"
DELETE = "Delete"


@dataclass(frozen=True)
class DeclaredPolicies:
    pod_management: str = ORDERED_READY
    update_strategy: str | None = None  # updateStrategy.type; None: not declared (RollingUpdate)
    partition: int | None = None  # updateStrategy.rollingUpdate.partition; None: not declared
    max_unavailable: int | str | None = None  # updateStrategy.rollingUpdate.maxUnavailable
    min_ready_seconds: int = 0
    revision_history_limit: int | None = None  # None: not declared
    when_scaled: str = RETAIN  # persistentVolumeClaimRetentionPolicy.whenScaled
    when_deleted: str = RETAIN  # persistentVolumeClaimRetentionPolicy.whenDeleted
    start_ordinal: int | None = None  # ordinals.start; None: no spec.ordinals (pods from 0)
    has_claim_templates: bool = False  # volumeClaimTemplates
    declares_data_probe: bool = False  # a stsconf.io/probe-* annotation

    @staticmethod
    def of(statefulset: Mapping[str, Any], declares_data_probe: bool = False) -> DeclaredPolicies:
        spec = statefulset.get("spec") or {}
        strategy = spec.get("updateStrategy") or {}
        rolling = strategy.get("rollingUpdate") or {}
        retention = spec.get("persistentVolumeClaimRetentionPolicy") or {}
        ordinals = spec.get("ordinals")
        limit = spec.get("revisionHistoryLimit")
        return DeclaredPolicies(
            pod_management=str(spec.get("podManagementPolicy") or ORDERED_READY),
            update_strategy=str(strategy["type"]) if strategy.get("type") else None,
            partition=int(rolling["partition"]) if rolling.get("partition") is not None else None,
            max_unavailable=rolling.get("maxUnavailable"),
            min_ready_seconds=int(spec.get("minReadySeconds") or 0),
            revision_history_limit=int(limit) if limit is not None else None,
            when_scaled=str(retention.get("whenScaled") or RETAIN),
            when_deleted=str(retention.get("whenDeleted") or RETAIN),
            start_ordinal=int(ordinals.get("start", 0)) if ordinals else None,
            has_claim_templates=bool(spec.get("volumeClaimTemplates")),
            declares_data_probe=declares_data_probe,
        )

    @property
    def ordered(self) -> bool:
        """OrderedReady pod management (else Parallel)."""
        return self.pod_management != PARALLEL

    @property
    def strategy(self) -> str:
        return self.update_strategy or ROLLING_UPDATE

    @property
    def deletes_claims_when_scaled(self) -> bool:
        return self.when_scaled == DELETE

    @property
    def keeps_data(self) -> bool:
        """Its pods keep data that must persist: it has claim templates or declares a probe."""
        return self.has_claim_templates or self.declares_data_probe

    def describe_update_strategy(self) -> str:
        """The update strategy as declared, in words."""
        words = [f"updateStrategy {self.update_strategy or 'RollingUpdate (the default)'}"]
        if self.max_unavailable is not None:
            words.append(f"maxUnavailable {self.max_unavailable}")
        if self.partition is not None:
            words.append(f"partition {self.partition}")
        words.append(f"minReadySeconds {self.min_ready_seconds}")
        if self.revision_history_limit is not None:
            words.append(f"revisionHistoryLimit {self.revision_history_limit}")
        return ", ".join(words)

"""Which arms need training, as Dagster itself sees it.

"Inputs changed" is expressed in Dagster's own terms: an arm's checkpoint is stale when its corpus has a new
data version (the corpus hash), the base model has a new data version (its weights' fingerprint), or its code
version changed (the source it runs plus the config sections it reads, see defs/code_versions.py). The UI's
"Materialize unsynced", the weekly schedule and `rlvr-assets run` all ask the same question through
`arm_states`, so they retrain exactly the same arms.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import dagster as dg
from dagster._core.asset_graph_view.asset_graph_view import AssetGraphView, TemporalContext
from dagster._core.definitions.assets.graph.base_asset_graph import BaseAssetGraph
from dagster._core.definitions.data_version import CachingStaleStatusResolver, StaleStatus
from dagster._time import get_current_datetime

from rlvr_assets.defs.groups import EVALUATION, TRAINING

CORPUS = dg.AssetKey("training_corpus")
ArmStatus = Literal["missing", "stale", "fresh"]


@dataclass(frozen=True)
class ArmState:
    """One arm's verdict and, when stale, Dagster's root causes (e.g. `training_corpus[human-8] has a new data
    version`)."""

    arm: str
    status: ArmStatus
    causes: tuple[str, ...] = ()


def stale_status_resolver(instance: dg.DagsterInstance, graph: BaseAssetGraph) -> CachingStaleStatusResolver:
    """The resolver the webserver uses for its stale/unsynced badges, over this instance and asset graph."""
    view = AssetGraphView(
        temporal_context=TemporalContext(effective_dt=get_current_datetime(), last_event_id=None),
        instance=instance,
        asset_graph=graph,
    )
    return CachingStaleStatusResolver(instance=instance, asset_graph=graph, loading_context=view)


def trained_assets(graph: BaseAssetGraph) -> list[dg.AssetKey]:
    """The arm job's assets downstream of the corpus (checkpoint, scores, ...): what training produces. The
    corpus itself is cheap and content-hashed, so it is rebuilt first and judged by its data version."""
    return sorted(k for k in dg.AssetSelection.groups(TRAINING, EVALUATION).resolve(graph) if k != CORPUS)


def _cause(cause: object) -> str:
    key = cause.asset_key.to_user_string()  # type: ignore[attr-defined]
    partition = cause.partition_key  # type: ignore[attr-defined]
    return f"{key}[{partition}] {cause.reason}" if partition else f"{key} {cause.reason}"  # type: ignore[attr-defined]


def arm_states(instance: dg.DagsterInstance, graph: BaseAssetGraph, arms: Sequence[str]) -> dict[str, ArmState]:
    """Per arm: missing (something never materialized), stale (Dagster reports a stale cause) or fresh."""
    resolver = stale_status_resolver(instance, graph)
    keys = trained_assets(graph)
    out = {}
    for arm in arms:
        statuses = {key: resolver.get_status(key, arm) for key in keys}
        if StaleStatus.MISSING in statuses.values():
            missing = [k.to_user_string() for k, s in statuses.items() if s == StaleStatus.MISSING]
            out[arm] = ArmState(arm, "missing", tuple(f"{k}[{arm}] never materialized" for k in missing))
        elif StaleStatus.STALE in statuses.values():
            causes = {_cause(c) for k in keys for c in resolver.get_stale_root_causes(k, arm)}
            out[arm] = ArmState(arm, "stale", tuple(sorted(causes)))
        else:
            out[arm] = ArmState(arm, "fresh")
    return out


def corpus_stale(instance: dg.DagsterInstance, graph: BaseAssetGraph, arm: str) -> bool:
    """Whether the arm's corpus itself waits to be rebuilt (its inputs changed since it was built)."""
    return stale_status_resolver(instance, graph).get_status(CORPUS, arm) != StaleStatus.FRESH

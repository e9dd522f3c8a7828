"""Every asset's code version, set in one place from the source it runs (see rlvr_assets/core/store/code_versions.py)
and the config sections it reads.

Assets declare no `code_version` of their own: `with_code_versions` refuses one, so a hand-kept number cannot
creep back and disagree with the code. The settings an asset computes with are part of "its code": a changed
learning rate makes `policy_checkpoint` stale in Dagster's eyes (UI, schedule and `rlvr-assets run` alike),
while a new cost ratio touches no arm asset and retrains nothing.
"""

import hashlib
import json
from collections.abc import Mapping, Sequence

import dagster as dg

from rlvr_assets.core.config import PipelineConfig
from rlvr_assets.core.store.code_versions import SourceIndex

# The config sections (dotted paths) each asset's result depends on. Paths, owners and thread counts change
# no result.
MODEL = ("model.source", "model.tiny_hidden_size", "model.tiny_layers", "model.device")
SETTINGS_OF: dict[str, tuple[str, ...]] = {
    "base_model": MODEL,
    "seed_tasks": ("domains", "economics.prices"),
    "smoke_suite": ("eval.limit",),
    "augmented_tasks": ("operators", "economics.prices"),
    "gate_results": (*MODEL, "gate", "sampling", "economics.prices"),
    "augmentation_costs": ("economics.prices",),
    "training_corpus": ("arms",),
    "policy_checkpoint": (*MODEL, "training"),
    "training_log": (*MODEL, "training"),
    "benchmark_scores": (*MODEL, "sampling", "eval"),
    "base_scores": (*MODEL, "sampling", "eval"),
    "trade_rate": ("eval",),
    "economics_report": ("economics", "eval"),
}


def settings_digest(cfg: PipelineConfig, sections: Sequence[str]) -> str:
    """A short digest of the named config sections' values."""
    data = cfg.model_dump(mode="json")
    picked = {}
    for section in sections:
        value: object = data
        for part in section.split("."):
            value = value[part]  # type: ignore[index]
        picked[section] = value
    return hashlib.sha256(json.dumps(picked, sort_keys=True).encode()).hexdigest()[:12]


def settings_versions(cfg: PipelineConfig) -> dict[str, str]:
    """Asset name -> digest of the settings it reads (assets that read none are absent)."""
    return {name: settings_digest(cfg, sections) for name, sections in SETTINGS_OF.items() if sections}


def with_code_versions(
    assets: Sequence[dg.AssetsDefinition], index: SourceIndex, settings: Mapping[str, str] | None = None
) -> list[dg.AssetsDefinition]:
    """The same assets, each with the code version derived from its compute function and the code it reaches,
    plus (`settings`, from `settings_versions`) the digest of the config sections it reads."""
    out = []
    for assets_def in assets:
        declared = {k.to_user_string(): v for k, v in assets_def.code_versions_by_key.items() if v is not None}
        if declared:
            raise ValueError(f"assets {declared} declare a code_version: versions are derived from source, drop it")
        source = index.version(assets_def.op.compute_fn.decorated_fn)  # type: ignore[union-attr]

        def versioned(spec: dg.AssetSpec, source: str = source) -> dg.AssetSpec:
            digest = (settings or {}).get(spec.key.to_user_string())
            return spec.replace_attributes(code_version=f"{source}+cfg{digest}" if digest else source)

        out += dg.map_asset_specs(versioned, [assets_def])
    return out

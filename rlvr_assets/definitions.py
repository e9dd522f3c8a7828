"""The Dagster code location: `dagster dev` loads `defs` from here (see workspace.yaml).

One loaded `PipelineConfig` feeds everything: the partitions (arms, cost ratios), the sensor's watched files
and, as the `cfg` resource, every asset and check at run time.
"""

from __future__ import annotations

import dagster as dg

from rlvr_assets.core.config import PipelineConfig, load_config
from rlvr_assets.core.store.code_versions import SourceIndex
from rlvr_assets.defs.assets.audit import gate_audit, gate_probes
from rlvr_assets.defs.assets.economics import build_economics_assets
from rlvr_assets.defs.assets.tasks import (
    augmentation_costs,
    augmented_tasks,
    base_model,
    gate_results,
    gated_tasks,
    seed_tasks,
    smoke_suite,
)
from rlvr_assets.defs.assets.training import base_scores, build_training_assets
from rlvr_assets.defs.automation import JOBS, automation_sensor, build_seed_sensor, build_sweep_schedule
from rlvr_assets.defs.checks import CHECKS
from rlvr_assets.defs.code_versions import settings_versions, with_code_versions
from rlvr_assets.defs.groups import with_owners
from rlvr_assets.defs.partitions import arm_keys
from rlvr_assets.defs.resources import DuckDBPolarsIOManager


def build_definitions(cfg: PipelineConfig, index: SourceIndex | None = None) -> dg.Definitions:
    """Everything for one pipeline config: partitions come from its arms and cost ratios. `index`: where
    code versions are read from (the installed source by default; a test passes an edited copy)."""
    assets = [
        base_model,
        seed_tasks,
        smoke_suite,
        augmented_tasks,
        gate_results,
        gated_tasks,
        augmentation_costs,
        gate_probes,
        gate_audit,
        base_scores,
        *build_training_assets(cfg),
        *build_economics_assets(cfg),
    ]
    return dg.Definitions(
        assets=with_owners(with_code_versions(assets, index or SourceIndex(), settings_versions(cfg)), cfg.owners),
        asset_checks=CHECKS,
        jobs=JOBS,
        sensors=[build_seed_sensor(cfg), automation_sensor],
        schedules=[build_sweep_schedule(arm_keys(cfg))],
        resources={"cfg": cfg, "io_manager": DuckDBPolarsIOManager(database=str(cfg.paths.duckdb_path))},
        executor=dg.in_process_executor,
        metadata={"pipeline_config": dg.MetadataValue.json(cfg.model_dump(mode="json"))},
    )


defs = build_definitions(load_config())

"""The Dagster code location: `dagster dev` loads `defs` from here (see workspace.yaml)."""

from __future__ import annotations

import dagster as dg

from rlvr_assets.core.config import PipelineConfig, load_config
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
from rlvr_assets.defs.assets.training import build_training_assets
from rlvr_assets.defs.automation import JOBS, build_seed_sensor, build_sweep_schedule
from rlvr_assets.defs.checks import CHECKS
from rlvr_assets.defs.partitions import arm_keys
from rlvr_assets.defs.resources import DuckDBPolarsIOManager, PipelineConfigResource


def build_definitions(cfg: PipelineConfig) -> dg.Definitions:
    """Everything for one pipeline config: partitions come from its arms and cost ratios."""
    return dg.Definitions(
        assets=[
            base_model,
            seed_tasks,
            smoke_suite,
            augmented_tasks,
            gate_results,
            gated_tasks,
            augmentation_costs,
            *build_training_assets(cfg),
            *build_economics_assets(cfg),
        ],
        asset_checks=CHECKS,
        jobs=JOBS,
        sensors=[build_seed_sensor(cfg)],
        schedules=[build_sweep_schedule(arm_keys(cfg))],
        resources={
            "pipeline": PipelineConfigResource(config_json=cfg.model_dump_json()),
            "io_manager": DuckDBPolarsIOManager(database=str(cfg.paths.duckdb_path)),
        },
        executor=dg.in_process_executor,
    )


defs = build_definitions(load_config())

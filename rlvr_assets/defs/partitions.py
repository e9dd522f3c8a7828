"""Partitions derived from the pipeline config: arms, and cost ratio x augmented arm for the economics."""

from __future__ import annotations

import dagster as dg

from rlvr_assets.core.config import PipelineConfig
from rlvr_assets.core.training.arms import aug_arm_key, human_arm_key

COST_RATIO_DIM = "cost_ratio"
ARM_DIM = "arm"


def cost_ratio_key(ratio: float) -> str:
    return f"{ratio:g}"


def arm_keys(cfg: PipelineConfig) -> list[str]:
    return [human_arm_key(n) for n in cfg.arms.human_sizes] + aug_arm_keys(cfg)


def aug_arm_keys(cfg: PipelineConfig) -> list[str]:
    return [aug_arm_key(f) for f in cfg.arms.aug_fractions]


def arm_partitions(cfg: PipelineConfig) -> dg.StaticPartitionsDefinition:
    return dg.StaticPartitionsDefinition(arm_keys(cfg))


def economics_partitions(cfg: PipelineConfig) -> dg.MultiPartitionsDefinition:
    return dg.MultiPartitionsDefinition(
        {
            COST_RATIO_DIM: dg.StaticPartitionsDefinition([cost_ratio_key(r) for r in cfg.economics.cost_ratios]),
            ARM_DIM: dg.StaticPartitionsDefinition(aug_arm_keys(cfg)),
        }
    )

"""The `training_log` table: one row per optimizer step of one arm and training seed (training owns it)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict

import polars as pl

from rlvr_assets.core.training.grpo import StepLog

TRAINING_LOG_SCHEMA = {
    "arm": pl.String,
    "seed": pl.Int64,
    "step": pl.Int64,
    "reward": pl.Float64,
    "reward_std": pl.Float64,
    "frac_reward_zero_std": pl.Float64,
    "zero_gradient": pl.Boolean,
    "loss": pl.Float64,
    "kl": pl.Float64,
    "entropy": pl.Float64,
    "mean_completion_length": pl.Float64,
    "grad_norm": pl.Float64,
    "seconds": pl.Float64,
    "prompts_redrawn": pl.Int64,
    "prompts_forced": pl.Int64,
    "prompt_ids": pl.List(pl.String),
}


def training_log_frame(arm: str, seed: int, log: Sequence[StepLog]) -> pl.DataFrame:
    """The `training_log` rows of one arm and training seed (typed, so an all-null `kl` still stores)."""
    rows = [
        {"arm": arm, "seed": seed, **asdict(s), "prompt_ids": list(s.prompt_ids), "zero_gradient": s.zero_gradient}
        for s in log
    ]
    return pl.DataFrame(rows, schema=TRAINING_LOG_SCHEMA)

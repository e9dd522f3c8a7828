from pathlib import Path

import polars as pl

from rlvr_assets.core.frames import tasks_to_frame
from rlvr_assets.core.quality import gated_pool_frame, validate_gated_pool
from rlvr_assets.core.tasks import load_seed_dir, load_task_file

ROOT = Path(__file__).resolve().parents[1]


def _pool(tasks, pass_at_k):
    frame = tasks_to_frame(tasks).with_columns(pl.lit("parent-x").alias("parent_id"), pl.lit("op").alias("operator"))
    gate = pl.DataFrame(
        {"variant_id": [t.id for t in tasks], "factor": ["verify"] * len(tasks), "pass_at_k": pass_at_k}
    )
    return frame, gate


def test_clean_pool_passes_the_suite() -> None:
    seeds = load_seed_dir(ROOT / "seeds")[:3]
    frame, gate = _pool(seeds, [0.5, 0.6, 0.7])
    result = validate_gated_pool(gated_pool_frame(frame, gate, []), (0.05, 0.95))
    assert result.success and result.evaluated > 5


def test_suite_names_duplicates_out_of_band_rates_and_heldout_overlap() -> None:
    seeds = load_seed_dir(ROOT / "seeds")[:2]
    heldout = load_task_file(ROOT / "heldout" / "smoke_reasoning.jsonl")
    leaked = heldout[0].model_copy(update={"name": "leaked-item"})
    frame, gate = _pool([*seeds, seeds[0], leaked], [0.5, 0.99, 0.5, 0.5])
    result = validate_gated_pool(gated_pool_frame(frame, gate, heldout), (0.05, 0.95))
    assert not result.success
    failed = {(f["expectation"], f["column"]) for f in result.failures}
    assert ("expect_column_values_to_be_unique", "task_id") in failed
    assert ("expect_column_values_to_be_between", "pass_at_k") in failed
    assert ("expect_column_values_to_be_between", "heldout_overlaps") in failed


def test_missing_columns_fail_the_schema_expectation() -> None:
    result = validate_gated_pool(pl.DataFrame({"task_id": ["a"]}), (0.0, 1.0))
    assert not result.success and result.failures[0]["expectation"] == "schema"

from pathlib import Path

import dagster as dg
import polars as pl

from rlvr_assets.core.gate.frames import tasks_to_frame
from rlvr_assets.core.gate.quality import gated_pool_audit, overlapping_pairs, validate_gated_pool, word_ngrams
from rlvr_assets.core.tasks.seeds import load_seed_dir, load_task_file

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
    result = validate_gated_pool(gated_pool_audit(frame, gate, [])[0], (0.05, 0.95))
    assert result.success and result.evaluated > 5


def test_suite_names_duplicates_out_of_band_rates_and_heldout_overlap() -> None:
    seeds = load_seed_dir(ROOT / "seeds")[:2]
    heldout = load_task_file(ROOT / "heldout" / "smoke_reasoning.jsonl")
    leaked = heldout[0].model_copy(update={"name": "leaked-item"})
    frame, gate = _pool([*seeds, seeds[0], leaked], [0.5, 0.99, 0.5, 0.5])
    result = validate_gated_pool(gated_pool_audit(frame, gate, heldout)[0], (0.05, 0.95))
    assert not result.success
    failed = {(f["expectation"], f["column"]) for f in result.failures}
    assert ("expect_column_values_to_be_unique", "task_id") in failed
    assert ("expect_column_values_to_be_between", "pass_at_k") in failed
    assert ("expect_column_values_to_be_between", "heldout_overlaps") in failed


def test_missing_columns_fail_the_schema_expectation() -> None:
    result = validate_gated_pool(pl.DataFrame({"task_id": ["a"]}), (0.0, 1.0))
    assert not result.success and result.failures[0]["expectation"] == "schema"


def test_suite_failure_names_the_overlapping_variant_and_heldout_item() -> None:
    seeds = load_seed_dir(ROOT / "seeds")[:2]
    heldout = load_task_file(ROOT / "heldout" / "smoke_reasoning.jsonl")
    leaked = heldout[3].model_copy(update={"name": "leaked-item"})
    frame, gate = _pool([*seeds, leaked], [0.5, 0.5, 0.5])
    pool, overlaps = gated_pool_audit(frame, gate, heldout)
    assert ("leaked-item", heldout[3].name) in overlaps
    assert pool.filter(pl.col("name") == "leaked-item")["heldout_overlaps"][0] == len(
        [p for p in overlaps if p[0] == "leaked-item"]
    )
    result = validate_gated_pool(pool, (0.05, 0.95), overlaps)
    failure = next(f for f in result.failures if f["column"] == "heldout_overlaps")
    assert {"variant": "leaked-item", "heldout_item": heldout[3].name} in failure["overlapping_pairs"]


def test_overlap_hoisting_keeps_every_pair() -> None:
    heldout = load_task_file(ROOT / "heldout" / "smoke_reasoning.jsonl")[:4]
    copies = [h.model_copy(update={"name": f"copy-{h.name}"}) for h in heldout]
    pairs = overlapping_pairs(copies, heldout)
    assert {(f"copy-{h.name}", h.name) for h in heldout} <= set(pairs)
    brute = [
        (t.name, h.name)
        for t in copies
        for h in heldout
        if word_ngrams(t.prompt.question) & word_ngrams(h.prompt.question)
    ]
    assert pairs == brute


def _planted_seed_run(tmp_path: Path, planted: bool):
    from rlvr_assets.core.config import load_config
    from rlvr_assets.definitions import build_definitions
    from rlvr_assets.defs.assets.tasks import smoke_suite
    from rlvr_assets.defs.checks import seeds_do_not_overlap_heldout
    from tests.conftest import write_config

    seeds = load_seed_dir(ROOT / "seeds")[:2]
    heldout = load_task_file(ROOT / "heldout" / "smoke_reasoning.jsonl")
    if planted:
        seeds.append(heldout[0].model_copy(update={"name": "leaked-seed"}))

    @dg.asset(name="seed_tasks")
    def planted_seed_tasks() -> pl.DataFrame:
        return tasks_to_frame(seeds)

    @dg.asset
    def trains_on_seeds(seed_tasks: pl.DataFrame) -> int:
        return seed_tasks.height

    defs = build_definitions(load_config(write_config(tmp_path)))
    result = dg.materialize(
        [planted_seed_tasks, smoke_suite, trains_on_seeds, seeds_do_not_overlap_heldout],
        resources={"cfg": defs.resources["cfg"]},
        raise_on_error=False,
    )
    evaluation = next(e for e in result.get_asset_check_evaluations())
    materialized = {e.asset_key.to_user_string() for e in result.get_asset_materialization_events()}
    return evaluation, materialized, heldout[0].name


def test_seed_overlapping_a_heldout_item_blocks_downstream_and_is_named(tmp_path: Path) -> None:
    evaluation, materialized, held_name = _planted_seed_run(tmp_path, planted=True)
    assert evaluation.check_name == "seeds_do_not_overlap_heldout" and not evaluation.passed
    pairs = evaluation.metadata["overlapping_pairs"].value
    assert {"seed": "leaked-seed", "heldout_item": held_name} in pairs
    assert "seed_tasks" in materialized and "trains_on_seeds" not in materialized


def test_clean_seeds_pass_the_overlap_check(tmp_path: Path) -> None:
    evaluation, materialized, _ = _planted_seed_run(tmp_path, planted=False)
    assert evaluation.passed and evaluation.metadata["overlaps"].value == 0
    assert "trains_on_seeds" in materialized

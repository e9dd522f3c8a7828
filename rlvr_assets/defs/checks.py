"""Blocking asset checks: what must hold before anything downstream trains on or is scored against it."""

import dagster as dg
import polars as pl

from rlvr_assets.core.config import PipelineConfig
from rlvr_assets.core.evaluation.benchmarks import heldout_items
from rlvr_assets.core.gate.factors import FACTORS, check_verify
from rlvr_assets.core.gate.frames import frame_to_tasks
from rlvr_assets.core.gate.quality import gated_pool_audit, overlapping_pairs, pair_records, validate_gated_pool
from rlvr_assets.core.tasks.model import Task


@dg.asset_check(asset="seed_tasks", blocking=True)
def seeds_pass_their_verifiers(seed_tasks: pl.DataFrame) -> dg.AssetCheckResult:
    """Every seed's reference solution passes its verifier; every known-bad one and a null answer fail."""
    failures = [
        f"{t.name} ({t.id}): {r.reason}" for t in frame_to_tasks(seed_tasks) if not (r := check_verify(t)).passed
    ]
    return dg.AssetCheckResult(passed=not failures, metadata={"failures": dg.MetadataValue.json(failures)})


@dg.asset_check(asset="gated_tasks", blocking=True, additional_ins={"gate_results": dg.AssetIn("gate_results")})
def gated_tasks_passed_every_factor(gated_tasks: pl.DataFrame, gate_results: pl.DataFrame) -> dg.AssetCheckResult:
    """Every gated variant has a passing row for each of the five factors, and ids are unique."""
    ids = gated_tasks["task_id"].to_list()
    passed = gate_results.filter(pl.col("passed")).group_by("variant_id").agg(pl.col("factor").n_unique().alias("n"))
    complete = set(passed.filter(pl.col("n") == len(FACTORS))["variant_id"].to_list())
    bad = [i for i in ids if i not in complete]
    dupes = len(ids) - len(set(ids))
    return dg.AssetCheckResult(
        passed=not bad and dupes == 0, metadata={"incomplete": dg.MetadataValue.json(bad), "duplicate_ids": dupes}
    )


def _heldout(cfg: PipelineConfig, smoke_suite: pl.DataFrame) -> list[Task]:
    """Every held-out item: the smoke suite asset plus every wired suite's items (paper10 included)."""
    return [*frame_to_tasks(smoke_suite), *heldout_items(cfg.paths.smoke_suite)]


@dg.asset_check(asset="seed_tasks", blocking=True, additional_ins={"smoke_suite": dg.AssetIn("smoke_suite")})
def seeds_do_not_overlap_heldout(
    cfg: dg.ResourceParam[PipelineConfig], seed_tasks: pl.DataFrame, smoke_suite: pl.DataFrame
) -> dg.AssetCheckResult:
    """No seed's problem statement shares an 8-word span with a held-out item; blocking, so nothing trains
    on or augments a leaked seed. Names the (seed, held-out item) pairs. Variants are checked against the
    held-out items by the gated pool's expectation suite."""
    pairs = overlapping_pairs(frame_to_tasks(seed_tasks), _heldout(cfg, smoke_suite))
    return dg.AssetCheckResult(
        passed=not pairs,
        metadata={"overlaps": len(pairs), "overlapping_pairs": dg.MetadataValue.json(pair_records(pairs, "seed"))},
    )


@dg.asset_check(
    asset="gated_tasks",
    blocking=True,
    additional_ins={"gate_results": dg.AssetIn("gate_results"), "smoke_suite": dg.AssetIn("smoke_suite")},
)
def gated_pool_expectations(
    cfg: dg.ResourceParam[PipelineConfig],
    gated_tasks: pl.DataFrame,
    gate_results: pl.DataFrame,
    smoke_suite: pl.DataFrame,
) -> dg.AssetCheckResult:
    """great-expectations suite: schema, no nulls, unique ids, pass@k inside the band, no held-out overlap."""
    frame, overlaps = gated_pool_audit(gated_tasks, gate_results, _heldout(cfg, smoke_suite))
    result = validate_gated_pool(frame, cfg.gate.solve_band, overlaps)
    return dg.AssetCheckResult(
        passed=result.success,
        metadata={
            "expectations": result.evaluated,
            "failures": dg.MetadataValue.json(result.failures),
            "rows": frame.height,
            "heldout_overlaps": len(overlaps),
            "overlapping_pairs": dg.MetadataValue.json(pair_records(overlaps, "variant")),
        },
    )


@dg.asset_check(asset="benchmark_scores", blocking=True)
def every_item_scored(benchmark_scores: pl.DataFrame) -> dg.AssetCheckResult:
    """Every arm and training seed is scored exactly once on the same held-out items."""
    expected = set(benchmark_scores["item_id"].to_list())
    problems = []
    for (arm, seed), group in benchmark_scores.group_by(["arm", "training_seed"]):
        got = group["item_id"].to_list()
        if set(got) != expected or len(got) != len(expected):
            problems.append(f"arm {arm} seed {seed}: {len(got)} scores for {len(expected)} items")
    return dg.AssetCheckResult(passed=not problems, metadata={"problems": dg.MetadataValue.json(problems)})


CHECKS = [
    seeds_pass_their_verifiers,
    gated_tasks_passed_every_factor,
    gated_pool_expectations,
    seeds_do_not_overlap_heldout,
    every_item_scored,
]

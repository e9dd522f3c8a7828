"""Evaluate any model on a benchmark suite: per-item results and pass@1 / pass@k per benchmark with bootstrap
CIs over items. Every number is computed by `core/kernel/scoring.py`, the grand mean over benchmarks included
(`suite_score`), so `rlvr-assets eval` and the pipeline's arm scores share one macro mean and bootstrap."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import polars as pl

from rlvr_assets.core.config import SamplingConfig
from rlvr_assets.core.evaluation.benchmarks import Benchmark
from rlvr_assets.core.evaluation.per_item import greedy
from rlvr_assets.core.kernel.draws import arm_macro_score
from rlvr_assets.core.kernel.scoring import MacroScore, bootstrap_mean_ci, pass_at_k
from rlvr_assets.core.policy.rollouts import sample_rollouts
from rlvr_assets.core.policy.sampling import Policy
from rlvr_assets.core.tasks.verifiers import verify

ITEM_SCHEMA = {
    "benchmark": pl.String,
    "area": pl.String,
    "item_id": pl.String,
    "item_name": pl.String,
    "samples": pl.Int64,
    "correct": pl.Int64,
    "pass_at_1": pl.Float64,
    "reason": pl.String,
}


@dataclass(frozen=True)
class BenchmarkScore:
    benchmark: str
    area: str
    items: int
    pass_at_1: float
    ci_low: float
    ci_high: float
    pass_at_k: float | None
    items_per_minute: float


def evaluate_suite(
    policy: Policy,
    benchmarks: Sequence[Benchmark],
    *,
    limit: int | None,
    k: int,
    sampling: SamplingConfig,
    samples: int | None = None,
    bootstrap_samples: int = 1000,
    bootstrap_seed: int = 0,
    progress: Callable[[str], None] = lambda _msg: None,
    rollout_progress: Callable[[str, int, int], None] | None = None,  # (benchmark, done, total) while sampling
) -> tuple[pl.DataFrame, list[BenchmarkScore]]:
    """`samples` (n, default k) completions per item: greedy pass@1 when n == 1; otherwise n samples at the
    sampling temperature give pass@1 = mean c/n and, for k > 1, the unbiased pass@k from n and c."""
    n = k if samples is None else samples
    if k < 1 or n < k:
        raise ValueError(f"pass@{k} needs k >= 1 and at least k samples per item (n >= k); got n = {n}")
    rows: list[dict[str, object]] = []
    scores: list[BenchmarkScore] = []
    for bench in benchmarks:
        items = bench.items(limit)
        start = time.monotonic()
        each = None if rollout_progress is None else (lambda d, t, name=bench.name: rollout_progress(name, d, t))
        rollouts = sample_rollouts(policy, items, n, greedy(sampling) if n == 1 else sampling, progress=each)
        seconds = time.monotonic() - start
        per_item: dict[int, list[float]] = {}
        reasons: dict[int, str] = {}
        for r in rollouts:
            verdict = verify(items[r.task_index], r.completion)
            per_item.setdefault(r.task_index, []).append(verdict.reward)
            reasons.setdefault(r.task_index, verdict.reason)
        p1 = []
        pk = []
        for i, item in enumerate(items):
            rewards = per_item.get(i, [])
            correct = sum(1 for x in rewards if x > 0)
            p1.append(correct / len(rewards) if rewards else 0.0)
            if k > 1:
                pk.append(pass_at_k(len(rewards), correct, k))
            rows.append(
                {
                    "benchmark": bench.name,
                    "area": bench.area,
                    "item_id": item.id,
                    "item_name": item.name,
                    "samples": len(rewards),
                    "correct": correct,
                    "pass_at_1": p1[-1],
                    "reason": reasons.get(i, ""),
                }
            )
        low, high = bootstrap_mean_ci(p1, bootstrap_samples, bootstrap_seed)
        scores.append(
            BenchmarkScore(
                bench.name,
                bench.area,
                len(items),
                100 * sum(p1) / max(1, len(p1)),
                100 * low,
                100 * high,
                100 * sum(pk) / len(pk) if pk else None,
                len(items) / max(seconds, 1e-9) * 60,
            )
        )
        progress(f"{bench.name}: pass@1 {scores[-1].pass_at_1:.1f} on {len(items)} items in {seconds:.0f}s")
    return pl.DataFrame(rows, schema=ITEM_SCHEMA), scores


def suite_score(items: pl.DataFrame, samples: int, seed: int, alpha: float = 0.05) -> MacroScore:
    """The grand mean over benchmarks of per-item pass@1 (points) with its CI: `scoring.arm_macro_score`, the
    pipeline's arm-score code, with items resampled within each benchmark (by item id, as the pipeline does)."""
    ids = items["item_id"].to_list() if "item_id" in items.columns else []
    if len(set(ids)) != items.height:  # no unique ids: the evaluation order names the items
        ids = [f"{k:09d}" for k in range(items.height)]
    per_item: dict[str, float] = {}
    benchmark_of: dict[str, str] = {}
    for key, bench, p1 in zip(ids, items["benchmark"].to_list(), items["pass_at_1"].to_list(), strict=True):
        per_item[key], benchmark_of[key] = p1, bench
    return arm_macro_score({0: per_item}, benchmark_of, samples, seed, alpha)

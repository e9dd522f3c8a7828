"""Typed Polars frames for the tables: tasks, operator attempts, gate decisions and augmentation cost.

Explicit schemas keep a column typed even when every row of one partition is null."""

from __future__ import annotations

from collections.abc import Sequence

import polars as pl

from rlvr_assets.core.augment.operators import Attempt
from rlvr_assets.core.config import PricesConfig
from rlvr_assets.core.gate.factors import GateRun
from rlvr_assets.core.tasks.model import Task

TASK_SCHEMA = {
    "task_id": pl.String,
    "name": pl.String,
    "domain": pl.String,
    "origin": pl.String,
    "split": pl.String,
    "parent_id": pl.String,
    "operator": pl.String,
    "operator_version": pl.String,
    "rng_seed": pl.Int64,
    "authoring_cost_usd": pl.Float64,
    "prompt_text": pl.String,
    "answer": pl.String,
    "task_json": pl.String,
}


def tasks_to_frame(tasks: Sequence[Task]) -> pl.DataFrame:
    rows = [
        {
            "task_id": t.id,
            "name": t.name,
            "domain": t.domain,
            "origin": t.provenance.kind,
            "split": t.provenance.split,
            "parent_id": t.provenance.parent_id,
            "operator": t.provenance.operator,
            "operator_version": t.provenance.operator_version,
            "rng_seed": t.provenance.rng_seed,
            "authoring_cost_usd": t.authoring_cost_usd,
            "prompt_text": t.prompt_text,
            "answer": t.truth_key,
            "task_json": t.to_json(),
        }
        for t in tasks
    ]
    return pl.DataFrame(rows, schema=TASK_SCHEMA)


def frame_to_tasks(frame: pl.DataFrame) -> list[Task]:
    return [Task.from_json(s) for s in frame["task_json"].to_list()]


ATTEMPT_SCHEMA = {
    "family": pl.String,
    "status": pl.String,
    "reason": pl.String,
    "sandbox_cpu_seconds": pl.Float64,
    "generation_tokens": pl.Int64,
    "generation_seconds": pl.Float64,
    "cost_usd": pl.Float64,
    **TASK_SCHEMA,
}


def operator_cost_usd(
    generation_tokens: float, generation_seconds: float, cpu_seconds: float, prices: PricesConfig
) -> float:
    """What making variants cost: rewrite-model tokens and wall time, plus sandbox CPU, at the price table."""
    return (
        generation_tokens / 1e6 * prices.usd_per_million_generation_tokens
        + generation_seconds / 3600 * prices.usd_per_generation_hour
        + cpu_seconds / 3600 * prices.usd_per_cpu_hour
    )


def attempts_to_frame(attempts: Sequence[Attempt], prices: PricesConfig) -> pl.DataFrame:
    """One row per operator application; task columns are null where no variant came out.

    Identical variants from two operators are one task: the first is kept, the rest are marked failed.
    """
    seen: set[str] = set()
    rows = []
    for a in attempts:
        row: dict[str, object] = dict.fromkeys(ATTEMPT_SCHEMA)
        if a.variant is not None:
            row.update(tasks_to_frame([a.variant]).row(0, named=True))
        status, reason = a.status, a.reason
        if a.variant is not None and a.variant.id in seen:
            status, reason = "failed", "identical to a variant from another operator"
        if a.variant is not None:
            seen.add(a.variant.id)
        row.update(
            parent_id=a.parent_id,
            operator=a.operator,
            operator_version=a.operator_version,
            family=a.family,
            rng_seed=a.rng_seed,
            status=status,
            reason=reason,
            sandbox_cpu_seconds=a.sandbox_cpu_seconds,
            generation_tokens=a.generation_tokens,
            generation_seconds=a.generation_seconds,
            cost_usd=operator_cost_usd(a.generation_tokens, a.generation_seconds, a.sandbox_cpu_seconds, prices),
        )
        rows.append(row)
    return pl.DataFrame(rows, schema=ATTEMPT_SCHEMA)


GATE_SCHEMA = {
    "variant_id": pl.String,
    "parent_id": pl.String,
    "operator": pl.String,
    "factor": pl.String,
    "passed": pl.Boolean,
    "value": pl.Float64,
    "reason": pl.String,
    "accepted": pl.Boolean,
    "q": pl.Float64,
    "decision_reason": pl.String,
    "pass_rate": pl.Float64,
    "pass_at_k": pl.Float64,
    "rollout_tokens": pl.Int64,
    "gate_cost_usd": pl.Float64,
}


def gate_to_frame(run: GateRun, variants: Sequence[Task], prices: PricesConfig) -> pl.DataFrame:
    """One row per variant per factor, with the variant's decision and its priced gate compute."""
    cpu_share = run.sandbox_cpu_seconds / max(1, len(variants))
    decisions = {d.variant_id: d for d in run.decisions}
    by_id = {t.id: t for t in variants}
    rows = []
    for r in run.factor_rows:
        d, v = decisions[r.variant_id], by_id[r.variant_id]
        tokens = run.rollout_tokens[r.variant_id]
        cost = tokens / 1e6 * prices.usd_per_million_rollout_tokens + cpu_share / 3600 * prices.usd_per_cpu_hour
        rows.append(
            {
                "variant_id": r.variant_id,
                "parent_id": v.provenance.parent_id,
                "operator": v.provenance.operator,
                "factor": r.factor,
                "passed": r.passed,
                "value": r.value,
                "reason": r.reason,
                "accepted": d.accepted,
                "q": d.q,
                "decision_reason": d.reason,
                "pass_rate": d.pass_rate,
                "pass_at_k": d.pass_at_k,
                "rollout_tokens": tokens,
                "gate_cost_usd": cost,
            }
        )
    return pl.DataFrame(rows, schema=GATE_SCHEMA)


COST_SCHEMA = {
    "total_augmentation_usd": pl.Float64,
    "accepted_variants": pl.Int64,
    "c_aug_usd": pl.Float64,
    "c_human_usd": pl.Float64,
    "measured_cost_ratio": pl.Float64,
    "generation_tokens": pl.Int64,
    "sandbox_cpu_seconds": pl.Float64,
    "gate_cost_usd": pl.Float64,
}


def augmentation_cost_frame(
    augmented: pl.DataFrame, gate: pl.DataFrame, seeds: pl.DataFrame, prices: PricesConfig
) -> pl.DataFrame:
    """c_aug = all augmentation spend (generation, sandbox CPU, gate rollouts) per accepted variant."""
    gen_tokens = int(augmented["generation_tokens"].sum() or 0)
    cpu = float(augmented["sandbox_cpu_seconds"].sum() or 0.0)
    per_variant = gate.filter(pl.col("factor") == "verify")
    gate_cost = float(per_variant["gate_cost_usd"].sum() or 0.0)
    accepted = int(per_variant["accepted"].sum() or 0)
    total = float(augmented["cost_usd"].sum() or 0.0) + gate_cost
    c_aug = total / accepted if accepted else None
    c_human = float(seeds["authoring_cost_usd"].mean() or prices.default_human_task_usd)
    from rlvr_assets.core.kernel.cost_ratio import cost_ratio  # the one place c_aug enters rho_cost

    measured = cost_ratio(c_human, c_aug) if c_aug else None
    row = {
        "total_augmentation_usd": total,
        "accepted_variants": accepted,
        "c_aug_usd": c_aug,
        "c_human_usd": c_human,
        "measured_cost_ratio": measured.value if measured else None,
        "generation_tokens": gen_tokens,
        "sandbox_cpu_seconds": cpu,
        "gate_cost_usd": gate_cost,
    }
    return pl.DataFrame([row], schema=COST_SCHEMA)


ROLLOUT_CACHE_SCHEMA = {
    "variant_id": pl.String,
    "rollout_key": pl.String,
    "rewards": pl.List(pl.Float64),
    "tokens": pl.Int64,
}


def rollout_cache_frame(
    run: GateRun, rollout_key: str, earlier: dict[str, tuple[list[float], int]] | None = None
) -> pl.DataFrame:
    """This run's rollouts plus earlier cached ones (variants reverted to later stay cached)."""
    merged = {**(earlier or {}), **{vid: (r, run.rollout_tokens[vid]) for vid, r in run.rewards.items()}}
    rows = [
        {"variant_id": vid, "rollout_key": rollout_key, "rewards": rewards, "tokens": tokens}
        for vid, (rewards, tokens) in merged.items()
    ]
    return pl.DataFrame(rows, schema=ROLLOUT_CACHE_SCHEMA)


def cached_rollouts(frame: pl.DataFrame, rollout_key: str) -> dict[str, tuple[list[float], int]]:
    hits = frame.filter(pl.col("rollout_key") == rollout_key)
    return {r["variant_id"]: (list(r["rewards"]), int(r["tokens"])) for r in hits.iter_rows(named=True)}

"""Task-side assets: the starting policy, seeds, held-out smoke suite, variants, gate and gated pool."""

import hashlib
import time
from collections import Counter
from collections.abc import Sequence

import dagster as dg
import polars as pl

from rlvr_assets.core.augment.llm_rewrite import apply_llm_rewrites, make_backend
from rlvr_assets.core.augment.operators import apply_operators, operator_versions
from rlvr_assets.core.config import PipelineConfig
from rlvr_assets.core.gate.factors import FACTORS, run_gate
from rlvr_assets.core.gate.frames import (
    attempts_to_frame,
    augmentation_cost_frame,
    cached_rollouts,
    frame_to_tasks,
    gate_to_frame,
    rollout_cache_frame,
    tasks_to_frame,
)
from rlvr_assets.core.gate.funnel import funnel_frame
from rlvr_assets.core.interop.sources import load_sources
from rlvr_assets.core.policy.models import base_model_dir, materialize_base_model
from rlvr_assets.core.policy.rollouts import sample_rollouts
from rlvr_assets.core.policy.sampling import load_policy, resolve_device
from rlvr_assets.core.store.storage import read_frame, write_frame
from rlvr_assets.core.tasks.model import Task
from rlvr_assets.core.tasks.seeds import load_seed_dir, load_task_file
from rlvr_assets.defs.automation import WATCHED_FILES_KEY, watched_files_fingerprint
from rlvr_assets.defs.groups import AUGMENTATION, TASKS
from rlvr_assets.defs.metadata import frame_table

ROLLOUT_CACHE_TABLE = "gate_rollout_cache"
GATE_OUTCOME = ["variant_id", "factor", "passed", "value", "reason", "accepted", "q", "pass_rate", "pass_at_k"]


def _digest(*parts: str) -> str:
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:16]


@dg.asset(group_name=TASKS, kinds={"transformers", "duckdb"})
def base_model(context: dg.AssetExecutionContext, cfg: dg.ResourceParam[PipelineConfig]) -> dg.Output[pl.DataFrame]:
    """The starting policy as a plain safetensors directory (the SmolLM2 GGUF converted once by default)."""
    start = time.monotonic()
    info = materialize_base_model(cfg.model, base_model_dir(cfg.model, cfg.paths.artifacts_dir))
    context.log.info(f"base model ready at {info.path} ({info.parameters} parameters, {time.monotonic() - start:.1f}s)")
    frame = pl.DataFrame(
        [{"path": info.path, "source": info.source, "parameters": info.parameters, "fingerprint": info.fingerprint}]
    )
    return dg.Output(
        frame,
        data_version=dg.DataVersion(info.fingerprint),
        metadata={"path": dg.MetadataValue.path(info.path), "source": info.source, "parameters": info.parameters},
    )


@dg.asset(group_name=TASKS, kinds={"duckdb"})
def seed_tasks(context: dg.AssetExecutionContext, cfg: dg.ResourceParam[PipelineConfig]) -> dg.Output[pl.DataFrame]:
    """Hand-authored tasks from seeds/ and the config's `seed_sources`: a small base for augmentation and a
    larger human pool."""
    tasks = load_seed_dir(cfg.paths.seeds_dir, cfg.economics.prices.default_human_task_usd)
    tasks += load_sources(cfg.seed_sources, cfg.economics.prices.default_human_task_usd, known=tasks)
    tasks = [t for t in tasks if t.domain in cfg.domains and t.provenance.split in ("base", "pool")]
    frame = tasks_to_frame(tasks)
    splits = Counter(t.provenance.split for t in tasks)
    context.log.info(f"loaded {len(tasks)} seeds: {dict(splits)}")
    return dg.Output(
        frame,
        data_version=dg.DataVersion(_digest(*sorted(frame["task_id"].to_list()))),
        metadata={
            "base": splits.get("base", 0),
            "pool": splits.get("pool", 0),
            "mean_authoring_cost_usd": float(frame["authoring_cost_usd"].mean() or 0.0),
            # what the seed sensor compares the files on disk against
            WATCHED_FILES_KEY: watched_files_fingerprint(cfg),
        },
    )


@dg.asset(group_name=TASKS, kinds={"duckdb"})
def smoke_suite(cfg: dg.ResourceParam[PipelineConfig]) -> dg.Output[pl.DataFrame]:
    """Project-authored held-out items: never trained on and never augmented."""
    items = load_task_file(cfg.paths.smoke_suite)
    if cfg.eval.limit:
        items = items[: cfg.eval.limit]
    frame = tasks_to_frame(items)
    return dg.Output(
        frame,
        data_version=dg.DataVersion(_digest(*frame["task_id"].to_list())),
        metadata={"items": len(items), "source": dg.MetadataValue.path(str(cfg.paths.smoke_suite))},
    )


@dg.asset(group_name=AUGMENTATION, kinds={"duckdb"})
def augmented_tasks(
    context: dg.AssetExecutionContext,
    cfg: dg.ResourceParam[PipelineConfig],
    seed_tasks: pl.DataFrame,
    base_model: pl.DataFrame,
) -> dg.Output[pl.DataFrame]:
    """Every operator applied to every base seed: the variants plus each not-applicable or failed attempt."""
    versions = operator_versions(cfg.operators.enabled)
    base = [t for t in frame_to_tasks(seed_tasks) if t.provenance.split == "base"]
    attempts = []
    for i, parent in enumerate(base, start=1):
        attempts += apply_operators(parent, cfg.operators.enabled, cfg.operators.rng_seed, cfg.operators.resample_draws)
        context.log.info(f"augmented base seed {i}/{len(base)} ({parent.name})")
    backend = make_backend(cfg.operators.llm, base_model["path"][0], resolve_device(cfg.model))
    if backend is not None:
        context.log.info(f"LLM rewrites with the {backend.name} backend: {cfg.operators.llm.families}")
        attempts += apply_llm_rewrites(
            base, backend, cfg.operators.llm.families, cfg.operators.rng_seed, cfg.operators.llm.max_new_tokens
        )
    frame = attempts_to_frame(attempts, cfg.economics.prices)
    counts = Counter(frame["status"].to_list())
    # content-hashed variants: an operator change that yields the same variants leaves everything downstream fresh
    outcome = sorted(f"{op}|{status}|{tid}" for op, status, tid in frame.select("operator", "status", "task_id").rows())
    return dg.Output(
        frame,
        data_version=dg.DataVersion(_digest(*outcome)),
        metadata={
            "attempts": frame.height,
            "variants": counts.get("proposed", 0),
            "not_applicable": counts.get("not_applicable", 0),
            "failed": counts.get("failed", 0),
            "operators": dg.MetadataValue.json(versions),
        },
    )


@dg.asset(group_name=AUGMENTATION, kinds={"transformers", "duckdb"})
def gate_results(
    context: dg.AssetExecutionContext,
    cfg: dg.ResourceParam[PipelineConfig],
    augmented_tasks: pl.DataFrame,
    seed_tasks: pl.DataFrame,
    base_model: pl.DataFrame,
) -> dg.Output[pl.DataFrame]:
    """One row per variant per gate factor, with the variant's decision, reason and measured gate cost."""
    proposed = augmented_tasks.filter(pl.col("status") == "proposed")
    variants = frame_to_tasks(proposed)
    parents = {t.id: t for t in frame_to_tasks(seed_tasks)}
    policy = load_policy(base_model["path"][0], cfg.model, cfg.sampling.backend)
    started = time.monotonic()
    rollout_seconds: list[float] = []

    def sample_fn(tasks: Sequence[Task], n: int) -> list[tuple[int, str | list[str], int]]:
        began = time.monotonic()
        rollouts = sample_rollouts(
            policy,
            tasks,
            n,
            cfg.sampling,
            progress=lambda done, total: context.log.info(f"gate rollouts {done}/{total}"),
        )
        rollout_seconds.append(time.monotonic() - began)
        return [(r.task_index, r.completion, r.tokens) for r in rollouts]

    # rollouts are the expensive part: reuse them for variants (content-hashed) already rolled out by the
    # same policy with the same sampling, so changing one operator re-samples only its new variants
    rollout_key = _digest(base_model["fingerprint"][0], cfg.sampling.model_dump_json(), str(cfg.gate.samples))
    try:
        cache = cached_rollouts(read_frame(cfg.paths.duckdb_path, ROLLOUT_CACHE_TABLE), rollout_key)
    except LookupError:
        cache = {}
    run = run_gate(variants, parents, sample_fn, cfg.gate, cached=cache)
    write_frame(cfg.paths.duckdb_path, ROLLOUT_CACHE_TABLE, rollout_cache_frame(run, rollout_key, cache), rollout_key)
    seconds = time.monotonic() - started
    frame = gate_to_frame(run, variants, cfg.economics.prices)
    accepted = sum(d.accepted for d in run.decisions)
    total_tokens = sum(run.rollout_tokens.values())
    new_tokens = sum(run.rollout_tokens[v] for v in run.sampled)
    context.log.info(f"gate: {accepted}/{len(variants)} accepted in {seconds:.1f}s, {new_tokens} new rollout tokens")
    metadata: dict[str, object] = {
        "variants": len(variants),
        "variants_rolled_out": len(run.sampled),
        "variants_reusing_rollouts": len(variants) - len(run.sampled),
        "accepted": accepted,
        "gate_seconds": round(seconds, 2),
        "rollout_tokens": total_tokens,
        "rollout_tokens_new": new_tokens,
        "rejected_by_factor": dg.MetadataValue.json(
            {f: int(frame.filter((pl.col("factor") == f) & ~pl.col("passed")).height) for f in FACTORS}
        ),
    }
    # a throughput only where something was generated: tokens this run rolled out over the time spent doing it
    if new_tokens and sum(rollout_seconds) > 0:
        metadata["rollout_tokens_per_second"] = round(new_tokens / sum(rollout_seconds), 1)
    # a content version: the decisions and pass rates downstream reads (policy_checkpoint's dynamic sampling),
    # not the measured costs, so an unchanged gate outcome leaves every arm fresh
    decided = frame.select(GATE_OUTCOME).sort("variant_id", "factor").rows()
    return dg.Output(frame, data_version=dg.DataVersion(_digest(*map(repr, decided))), metadata=metadata)


@dg.asset(group_name=AUGMENTATION, kinds={"duckdb"})
def gated_tasks(
    context: dg.AssetExecutionContext, augmented_tasks: pl.DataFrame, gate_results: pl.DataFrame
) -> dg.Output[pl.DataFrame]:
    """The variants that passed all five gate factors: the pool augmented arms draw from."""
    accepted_ids = (
        set(gate_results.filter(pl.col("accepted"))["variant_id"].to_list()) if gate_results.height else set()
    )
    frame = augmented_tasks.filter(pl.col("task_id").is_in(list(accepted_ids))).select(
        [c for c in augmented_tasks.columns if c in tasks_to_frame([]).columns]
    )
    funnel = funnel_frame(augmented_tasks, gate_results)
    context.log.info(f"gated pool: {frame.height} variants")
    return dg.Output(
        frame,
        data_version=dg.DataVersion(_digest(*sorted(frame["task_id"].to_list()))),
        metadata={"accepted": frame.height, "funnel": frame_table(funnel)},
    )


@dg.asset(group_name=AUGMENTATION, kinds={"duckdb"})
def augmentation_costs(
    cfg: dg.ResourceParam[PipelineConfig],
    augmented_tasks: pl.DataFrame,
    gate_results: pl.DataFrame,
    seed_tasks: pl.DataFrame,
) -> dg.Output[pl.DataFrame]:
    """Measured c_aug per accepted variant (generation + gate rollouts + sandbox CPU) and c_human from seeds."""
    frame = augmentation_cost_frame(augmented_tasks, gate_results, seed_tasks, cfg.economics.prices)
    row = frame.row(0, named=True)
    return dg.Output(frame, metadata={k: (v if v is not None else "n/a") for k, v in row.items()})

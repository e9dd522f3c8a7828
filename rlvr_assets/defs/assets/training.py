"""Arm-partitioned assets: the training corpus, the GRPO checkpoint and the held-out scores of each arm."""

import time

import dagster as dg
import polars as pl

from rlvr_assets.core.arms import arm_corpus, corpus_hash
from rlvr_assets.core.benchmarks import registry
from rlvr_assets.core.config import PipelineConfig
from rlvr_assets.core.dynamic_sampling import gate_pass_rates
from rlvr_assets.core.evaluation import eval_sampling, evaluate_items
from rlvr_assets.core.frames import frame_to_tasks, tasks_to_frame, training_log_frame
from rlvr_assets.core.report import reward_curve_markdown
from rlvr_assets.core.sampling import load_policy
from rlvr_assets.core.scoring import arm_macro_score
from rlvr_assets.core.storage import write_frame
from rlvr_assets.core.training import train_grpo
from rlvr_assets.defs.groups import EVALUATION, TRAINING
from rlvr_assets.defs.partitions import arm_partitions


def build_training_assets(cfg: PipelineConfig) -> list[dg.AssetsDefinition]:
    arms = arm_partitions(cfg)

    @dg.asset(group_name=TRAINING, partitions_def=arms, kinds={"duckdb"})
    def training_corpus(
        context: dg.AssetExecutionContext,
        cfg: dg.ResourceParam[PipelineConfig],
        seed_tasks: pl.DataFrame,
        gated_tasks: pl.DataFrame,
    ) -> dg.Output[pl.DataFrame]:
        """The tasks one arm trains on: n human seeds, or the base plus gated variants at its fraction."""
        spec, corpus = arm_corpus(
            cfg.arms, context.partition_key, frame_to_tasks(seed_tasks), frame_to_tasks(gated_tasks)
        )
        n_aug = sum(1 for t in corpus if t.provenance.kind == "augmented")
        if n_aug < spec.n_aug_target:
            context.log.warning(f"arm {spec.key}: wanted {spec.n_aug_target} gated variants, only {n_aug} exist")
        frame = tasks_to_frame(corpus).with_columns(
            pl.lit(spec.key).alias("arm"),
            pl.lit("human" if spec.is_human_only else "augmented").alias("arm_kind"),
        )
        digest = corpus_hash(corpus)
        return dg.Output(
            frame,
            data_version=dg.DataVersion(digest),
            metadata={
                "n_human": len(corpus) - n_aug,
                "n_aug": n_aug,
                "n_aug_target": spec.n_aug_target,
                "aug_fraction_target": spec.aug_fraction,
                "aug_fraction_realised": round(n_aug / len(corpus), 4) if corpus else 0.0,
                "corpus_hash": digest,
            },
        )

    @dg.asset(group_name=TRAINING, partitions_def=arms, kinds={"trl", "torch"})
    def policy_checkpoint(
        context: dg.AssetExecutionContext,
        cfg: dg.ResourceParam[PipelineConfig],
        training_corpus: pl.DataFrame,
        base_model: pl.DataFrame,
        gate_results: pl.DataFrame,
    ) -> dg.Output[pl.DataFrame]:
        """GRPO (TRL) from the base model on the arm's corpus, compute-matched across arms, per training seed.
        The gate's pass rates seed dynamic sampling; every step's metrics go to the `training_log` table."""
        tasks = frame_to_tasks(training_corpus)
        digest = corpus_hash(tasks)
        pass_rates = gate_pass_rates(gate_results.filter(pl.col("factor") == "verify").to_dicts(), cfg.gate.samples)
        rows = []
        logs = []
        for seed in cfg.training.seeds:
            out_dir = cfg.paths.artifacts_dir / "checkpoints" / context.partition_key / f"seed-{seed}"
            lineage = {
                "arm": context.partition_key,
                "corpus_hash": digest,
                "base_model": base_model["path"][0],
                "base_model_fingerprint": base_model["fingerprint"][0],
                "run_id": context.run_id,
                "task_ids": [t.id for t in tasks],
            }

            def log(metrics: dict[str, float], seed: int = seed) -> None:
                if "reward" in metrics:
                    context.log.info(
                        f"seed {seed} step {int(metrics.get('step', 0))}/{cfg.training.steps_for(len(tasks))}: "
                        f"reward {metrics['reward']:.3f} loss {metrics.get('loss', float('nan')):.4f}"
                    )

            result = train_grpo(
                tasks, base_model["path"][0], out_dir, cfg.training, cfg.model, seed, lineage, log, pass_rates
            )
            logs.append(training_log_frame(context.partition_key, seed, result.log))
            rows.append(
                {
                    "arm": context.partition_key,
                    "training_seed": seed,
                    "path": result.checkpoint_dir,
                    "corpus_hash": digest,
                    "steps": result.steps,
                    "rollouts": result.rollouts,
                    "train_seconds": result.seconds,
                    "mean_train_reward": result.mean_reward,
                    "final_loss": result.final_loss,
                    "zero_gradient_steps": result.zero_gradient_steps,
                    "precision": result.precision,
                }
            )
        frame = pl.DataFrame(rows)
        training_log = pl.concat(logs)
        write_frame(cfg.paths.duckdb_path, "training_log", training_log, context.partition_key)
        return dg.Output(
            frame,
            metadata={
                "corpus_hash": digest,
                "steps_per_seed": cfg.training.steps_for(len(tasks)),
                "compute_matched": cfg.training.compute_matched,
                "seeds": len(rows),
                "rollouts_per_seed": rows[0]["rollouts"],
                "train_seconds": round(sum(r["train_seconds"] for r in rows), 1),
                "mean_train_reward": round(sum(r["mean_train_reward"] for r in rows) / len(rows), 4),
                "checkpoint": dg.MetadataValue.path(rows[0]["path"]),
                "precision": rows[0]["precision"],
                "zero_gradient_steps": sum(r["zero_gradient_steps"] for r in rows),
                "reward_curve": dg.MetadataValue.md(reward_curve_markdown(training_log)),
            },
        )

    @dg.asset(group_name=EVALUATION, partitions_def=arms, kinds={"transformers", "duckdb"})
    def benchmark_scores(
        context: dg.AssetExecutionContext,
        cfg: dg.ResourceParam[PipelineConfig],
        policy_checkpoint: pl.DataFrame,
        smoke_suite: pl.DataFrame,
    ) -> dg.Output[pl.DataFrame]:
        """Greedy pass@1 of each checkpoint on the held-out suites, one row per item and training seed. The arm's
        score is the macro mean over benchmarks (the study's grand mean), its CI a bootstrap stratified by
        benchmark."""
        items = frame_to_tasks(smoke_suite) if "smoke" in cfg.eval.suites else []
        benchmark_of = dict.fromkeys((t.id for t in items), "smoke")
        if "paper10" in cfg.eval.suites:
            for bench in registry(cfg.paths.smoke_suite)["paper10"]:
                if cfg.eval.benchmarks is not None and bench.name not in cfg.eval.benchmarks:
                    continue
                chosen = bench.items(cfg.eval.limit)
                items += chosen
                benchmark_of |= dict.fromkeys((t.id for t in chosen), bench.name)
        rows = []
        started = time.monotonic()
        for ckpt in policy_checkpoint.iter_rows(named=True):
            policy = load_policy(ckpt["path"], cfg.model, cfg.sampling.backend)
            results = evaluate_items(
                policy,
                items,
                eval_sampling(cfg.sampling, cfg.eval.max_new_tokens, cfg.eval.batch_size),
                progress=lambda d, t, seed=ckpt["training_seed"]: context.log.info(f"eval seed {seed}: {d}/{t} items"),
            )
            rows.extend(
                {
                    "arm": context.partition_key,
                    "training_seed": ckpt["training_seed"],
                    "benchmark": benchmark_of[r.item_id],
                    "item_id": r.item_id,
                    "reward": r.reward,
                    "reason": r.reason,
                    "completion": r.completion,
                }
                for r in results
            )
        frame = pl.DataFrame(rows)
        per_seed: dict[int, dict[str, float]] = {}
        for row in rows:
            per_seed.setdefault(row["training_seed"], {})[row["item_id"]] = row["reward"]
        arm = arm_macro_score(per_seed, benchmark_of, cfg.eval.bootstrap_samples, cfg.eval.bootstrap_seed)
        seconds = time.monotonic() - started
        return dg.Output(
            frame,
            metadata={
                "pass@1": round(arm.score, 2),
                "ci_low": round(arm.ci_low, 2),
                "ci_high": round(arm.ci_high, 2),
                "benchmarks": len(arm.per_benchmark),
                "pass@1_per_benchmark": dg.MetadataValue.json({b: round(v, 2) for b, v in arm.per_benchmark.items()}),
                "items": len(items),
                "items_per_minute": round(len(rows) / max(seconds, 1e-9) * 60, 1),
            },
        )

    return [training_corpus, policy_checkpoint, benchmark_scores]

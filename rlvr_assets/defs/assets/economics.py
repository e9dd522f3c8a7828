"""Economics assets: trade rate per augmented arm, rho_cost per (cost ratio x arm), and the report."""

import dagster as dg
import polars as pl

from rlvr_assets.core.config import PipelineConfig
from rlvr_assets.core.economics.report import (
    FIGURES,
    arm_frame,
    cost_view,
    identification_banner,
    markdown_table,
    reward_curve_markdown,
    run_summary,
    trade_view,
    write_report,
)
from rlvr_assets.core.economics.trade_rate import (
    COST_ROW_SCHEMA,
    TRADE_ROW_SCHEMA,
    TradeEstimate,
    cost_rows,
    trade_intervals,
    trade_rates,
)
from rlvr_assets.core.gate.funnel import funnel_frame
from rlvr_assets.core.kernel.scoring import (
    ArmShape,
    arm_score_table,
    arm_scores_from_items,
    bootstrap_arm_scores,
    bootstrap_differences,
)
from rlvr_assets.core.store.storage import read_frame
from rlvr_assets.defs.groups import ECONOMICS
from rlvr_assets.defs.metadata import figure, frame_table
from rlvr_assets.defs.partitions import ARM_DIM, COST_RATIO_DIM, economics_partitions

TRADE_SCHEMA = {
    **TRADE_ROW_SCHEMA,
    "rho_low": pl.Float64,
    "rho_high": pl.Float64,
    "bootstrap_defined_fraction": pl.Float64,
    "items": pl.Int64,  # held-out items and training seeds behind each score: what the MDDs are "at"
    "seeds": pl.Int64,
}
RHO_COST_SCHEMA = {
    **COST_ROW_SCHEMA,
    "rho_cost_low": pl.Float64,
    "rho_cost_high": pl.Float64,
    "measured_cost_ratio": pl.Float64,
}


def _arm_inputs(
    corpus: pl.DataFrame, scores: pl.DataFrame
) -> tuple[dict[str, ArmShape], dict[str, dict[int, dict[str, float]]], dict[str, str] | None]:
    """(arm -> shape) from the corpora, (arm -> seed -> item -> reward) and (item -> benchmark) from the scores."""
    arms = {
        row["arm"]: ArmShape(int(row["n_human"]), int(row["n_aug"]), bool(row["augmented"]))
        for row in corpus.group_by("arm")
        .agg(
            (pl.col("origin") == "human").sum().alias("n_human"),
            (pl.col("origin") == "augmented").sum().alias("n_aug"),
            (pl.col("arm_kind") == "augmented").any().alias("augmented"),
        )
        .iter_rows(named=True)
    }
    missing = sorted(set(arms) - set(scores["arm"].unique().to_list()))
    if missing:
        raise ValueError(f"no benchmark scores for arm(s) {missing}: materialize benchmark_scores for them first")
    rewards: dict[str, dict[int, dict[str, float]]] = {}
    for row in scores.iter_rows(named=True):
        rewards.setdefault(row["arm"], {}).setdefault(int(row["training_seed"]), {})[row["item_id"]] = row["reward"]
    benchmark_of = (
        dict(zip(scores["item_id"].to_list(), scores["benchmark"].to_list(), strict=True))
        if "benchmark" in scores.columns
        else None
    )
    return arms, rewards, benchmark_of


def build_economics_assets(cfg: PipelineConfig) -> list[dg.AssetsDefinition]:
    @dg.asset(group_name=ECONOMICS, kinds={"duckdb"}, automation_condition=dg.AutomationCondition.eager())
    def trade_rate(
        context: dg.AssetExecutionContext,
        cfg: dg.ResourceParam[PipelineConfig],
        benchmark_scores: pl.DataFrame,
        training_corpus: pl.DataFrame,
    ) -> dg.Output[pl.DataFrame]:
        """rho per augmented arm, by the dominance bound and by log interpolation, with bootstrap CIs, and
        whether the paired bootstrap identifies it (human curve and augmented gain above noise)."""
        ev = cfg.eval
        arms, rewards, benchmark_of = _arm_inputs(training_corpus, benchmark_scores)
        point = arm_scores_from_items(arms, rewards, benchmark_of=benchmark_of)
        draws = bootstrap_arm_scores(arms, rewards, ev.bootstrap_samples, ev.bootstrap_seed, benchmark_of)
        estimates: list[TradeEstimate] = trade_rates(point, bootstrap_differences(point, draws))
        intervals = {(i.arm, i.estimator): i for i in trade_intervals(draws)}
        n_items = benchmark_scores["item_id"].n_unique()
        n_seeds = max(len(per_seed) for per_seed in rewards.values())
        rows = []
        for e in estimates:
            iv = intervals.get((e.arm, e.estimator))
            rows.append(
                {
                    **e.as_row(),
                    "rho_low": iv.rho_low if iv else None,
                    "rho_high": iv.rho_high if iv else None,
                    "bootstrap_defined_fraction": iv.defined_fraction if iv else None,
                    "items": n_items,
                    "seeds": n_seeds,
                }
            )
        frame = pl.DataFrame(rows, schema=TRADE_SCHEMA)
        curve = arm_score_table(arms, rewards, ev.bootstrap_samples, ev.bootstrap_seed, benchmark_of)
        context.log.info("trade rates:\n" + markdown_table(frame.select("arm", "estimator", "rho", "identified")))
        return dg.Output(
            frame,
            metadata={
                "trade_rate": frame_table(trade_view(frame)),
                "arm_scores": frame_table(arm_frame(curve)),
            },
        )

    @dg.asset(
        group_name=ECONOMICS,
        partitions_def=economics_partitions(cfg),
        kinds={"duckdb"},
        automation_condition=dg.AutomationCondition.eager(),
    )
    def rho_cost(
        context: dg.AssetExecutionContext,
        trade_rate: pl.DataFrame,
        augmentation_costs: pl.DataFrame,
    ) -> dg.Output[pl.DataFrame]:
        """rho_cost(r) = rho x r and break-even r* = 1/rho for one cost ratio and one augmented arm."""
        key = context.partition_key.keys_by_dimension  # type: ignore[union-attr]
        ratio, arm = float(key[COST_RATIO_DIM]), key[ARM_DIM]
        rows_for_arm = trade_rate.filter(pl.col("arm") == arm)
        estimates = [TradeEstimate.from_row(r) for r in rows_for_arm.iter_rows(named=True)]
        bounds = {r["estimator"]: (r["rho_low"], r["rho_high"]) for r in rows_for_arm.iter_rows(named=True)}
        measured = augmentation_costs["measured_cost_ratio"][0] if augmentation_costs.height else None
        rows = []
        for c in cost_rows(estimates, [ratio]):
            low, high = bounds.get(c.estimator, (None, None))
            rows.append(
                {
                    **c.as_dict(),
                    "rho_cost_low": low * ratio if low is not None else None,
                    "rho_cost_high": high * ratio if high is not None else None,
                    "measured_cost_ratio": measured,
                }
            )
        frame = pl.DataFrame(rows, schema=RHO_COST_SCHEMA)
        return dg.Output(frame, metadata={"rho_cost": frame_table(cost_view(frame))})

    @dg.asset(
        group_name=ECONOMICS,
        kinds={"duckdb"},
        automation_condition=dg.AutomationCondition.eager(),
        deps=[],
    )
    def economics_report(
        context: dg.AssetExecutionContext,
        cfg: dg.ResourceParam[PipelineConfig],
        rho_cost: pl.DataFrame,
        trade_rate: pl.DataFrame,
        benchmark_scores: pl.DataFrame,
        training_corpus: pl.DataFrame,
        augmented_tasks: pl.DataFrame,
        gate_results: pl.DataFrame,
        augmentation_costs: pl.DataFrame,
    ) -> dg.MaterializeResult:
        """What the run shows in one paragraph, the figures (scaling curve, rho_cost against r with the measured
        ratio, rho per arm with CIs, gate funnel) and the sorted tables, as files and as UI metadata."""
        arms, rewards, benchmark_of = _arm_inputs(training_corpus, benchmark_scores)
        curve = arm_score_table(arms, rewards, cfg.eval.bootstrap_samples, cfg.eval.bootstrap_seed, benchmark_of)
        cost = rho_cost.drop("partition_key").sort(["arm", "estimator", "cost_ratio"])
        funnel = funnel_frame(augmented_tasks, gate_results)
        costs = augmentation_costs.row(0, named=True) if augmentation_costs.height else {}
        out_dir = cfg.paths.artifacts_dir / "report"
        try:  # written by policy_checkpoint, one partition per arm
            log = read_frame(cfg.paths.duckdb_path, "training_log", sorted(arms)).drop("partition_key")
        except LookupError:
            log = None
        path = write_report(
            out_dir, curve, trade_rate, cost, funnel, costs, cfg.economics.cost_ratios, training_log=log
        )
        context.log.info(f"report written to {path}")
        banner = identification_banner(trade_rate)
        has_log = log is not None and log.height > 0
        return dg.MaterializeResult(
            metadata={
                "what_the_run_shows": dg.MetadataValue.text(run_summary(curve, trade_rate, costs, funnel)),
                **({"not_identified": dg.MetadataValue.text(banner)} if banner else {}),
                **{key: figure(out_dir / name, title) for key, (name, title) in FIGURES.items()},
                # the training_log's curves with their per-step table (core/economics/report.py)
                **(
                    {"reward_curves": dg.MetadataValue.md(reward_curve_markdown(log))}
                    if has_log and log is not None
                    else {}
                ),
                "arm_scores": frame_table(arm_frame(curve)),
                "trade_rate": frame_table(trade_view(trade_rate)),
                "rho_cost": frame_table(cost_view(cost)),
                "gate_funnel": frame_table(funnel),
                "report": dg.MetadataValue.path(str(path)),
                "report_markdown": dg.MetadataValue.md(path.read_text()),
            }
        )

    return [trade_rate, rho_cost, economics_report]

"""Economics assets: trade rate per augmented arm (with its bootstrap draws), rho_cost and the verdict per
(cost ratio x arm), and the report that opens with the decision."""

import base64
from pathlib import Path

import dagster as dg
import polars as pl

from rlvr_assets.core.audit.rates import audit_markdown, audited_rho_cost
from rlvr_assets.core.config import PipelineConfig
from rlvr_assets.core.economics.item_scores import ItemScores
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
    TradeEstimate,
    cost_rows,
)
from rlvr_assets.core.economics.trade_stats import (
    TRADE_FRAME_SCHEMA,
    CostRatio,
    analyse,
    base_gain_frame,
    cost_ratio,
    decide,
    decision_rows,
    item_score_draws,
    reference_lines,
    trade_frame,
    verdict_lines,
)
from rlvr_assets.core.economics.verdict_view import (
    short_summary,
    verdict_reasons,
    verdict_rows,
    verdict_table,
    write_report_html,
)
from rlvr_assets.core.gate.funnel import funnel_frame
from rlvr_assets.core.kernel.scoring import (
    ArmShape,
)
from rlvr_assets.core.store.storage import read_frame
from rlvr_assets.defs.assets.training import BASE_ARM
from rlvr_assets.defs.groups import ECONOMICS
from rlvr_assets.defs.metadata import figure, figures_markdown, frame_table, wrapped_text
from rlvr_assets.defs.partitions import ARM_DIM, COST_RATIO_DIM, economics_partitions

AUDITED_COST_SHORT = ["arm", "estimator", "cost_ratio", "rho_cost", "rho_cost_audited"]
REWARD_FIGURE = [("reward_curves.png", "GRPO training reward per arm")]
TRADE_SCHEMA = TRADE_FRAME_SCHEMA
RHO_COST_SCHEMA = {
    **COST_ROW_SCHEMA,
    "rho_cost_low": pl.Float64,  # one-sided 95% lower bound (null: unbounded)
    "rho_cost_high": pl.Float64,  # one-sided 95% upper bound (null: unbounded)
    "p_rho_cost_above_1": pl.Float64,
    "verdict": pl.String,
    "verdict_reason": pl.String,
    "primary": pl.Boolean,
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


REPORT_DOC = (
    "What the run shows: the verdict table first (does augmenting each arm pay at each cost ratio r, and is its"
    " trade rate identified), a short summary, every figure in the `figures` entry, the whole report as one"
    " HTML file (`report_html`), then the tables."
)


def report_description(report_dir: Path) -> str:
    """The asset's description, which the UI shows without a click: the text above plus the latest rho_cost
    figure embedded, as it was when the code location loaded (the materialization's metadata is always current;
    reload the location after a new run to refresh this picture)."""
    figure_path = report_dir / "rho_cost.png"
    if not figure_path.is_file():
        return REPORT_DOC
    data = base64.b64encode(figure_path.read_bytes()).decode()
    return f"{REPORT_DOC}\n\n![rho_cost against r, latest run](data:image/png;base64,{data})"


def _with_base(
    arms: dict[str, ArmShape],
    rewards: dict[str, dict[int, dict[str, float]]],
    base_scores: pl.DataFrame | None,
) -> None:
    """Add the base model (the reference arm at n = 0) to the arms, in place."""
    if base_scores is None or base_scores.height == 0:
        return
    arms[BASE_ARM] = ArmShape(0, 0, False)
    rewards[BASE_ARM] = {0: dict(zip(base_scores["item_id"].to_list(), base_scores["reward"].to_list(), strict=True))}


def analysis_of(cfg: PipelineConfig, corpus: pl.DataFrame, scores: pl.DataFrame, base: pl.DataFrame | None):  # type: ignore[no-untyped-def]
    """The trade-rate analysis of a run (`core/economics/trade_stats.py`): the arms and the base model, paired over
    items within benchmarks, seed-aware, the configured primary estimator and margin."""
    arms, rewards, benchmark_of = _arm_inputs(corpus, scores)
    _with_base(arms, rewards, base)
    draws = item_score_draws(
        ItemScores.from_rewards(arms, rewards, benchmark_of), cfg.eval.bootstrap_samples, cfg.eval.bootstrap_seed
    )
    return analyse(draws, primary=cfg.economics.primary_estimator, margin=cfg.economics.noninferiority_margin)


def run_ratios(cfg: PipelineConfig, augmentation_costs: pl.DataFrame) -> list[CostRatio]:
    """The configured cost ratios and the measured c_human / c_aug (through `trade_stats.cost_ratio`)."""
    ratios = [CostRatio(r) for r in cfg.economics.cost_ratios]
    if augmentation_costs.height and {"c_human_usd", "c_aug_usd"} <= set(augmentation_costs.columns):
        row = augmentation_costs.row(0, named=True)
        if row["c_human_usd"] is not None and row["c_aug_usd"] is not None:
            measured = cost_ratio(float(row["c_human_usd"]), float(row["c_aug_usd"]), "measured")
            if measured is not None:
                ratios.append(measured)
    return ratios


def build_economics_assets(cfg: PipelineConfig) -> list[dg.AssetsDefinition]:
    @dg.asset(group_name=ECONOMICS, kinds={"duckdb"}, automation_condition=dg.AutomationCondition.eager())
    def trade_rate(
        context: dg.AssetExecutionContext,
        cfg: dg.ResourceParam[PipelineConfig],
        benchmark_scores: pl.DataFrame,
        training_corpus: pl.DataFrame,
        base_scores: pl.DataFrame,
    ) -> dg.Output[pl.DataFrame]:
        """rho per augmented arm by the joint human curve, isotonic interpolation and the dominance bound, each
        with its interval over every bootstrap draw (items paired within benchmarks, seeds kept together, the
        seed level small-sample corrected), whether it is identified, and its draws for the verdict."""
        analysis = analysis_of(cfg, training_corpus, benchmark_scores, base_scores)
        frame = trade_frame(analysis)
        context.log.info("trade rates:\n" + markdown_table(frame.select("arm", "estimator", "rho", "identified")))
        for line in reference_lines(analysis):
            context.log.info(line)
        return dg.Output(
            frame,
            metadata={
                "trade_rate": frame_table(trade_view(frame)),
                "arm_scores": frame_table(arm_frame(analysis.draws.arms)),
                "rests_on": wrapped_text(analysis.draws.resamples),
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
        by_estimator = {r["estimator"]: r for r in rows_for_arm.iter_rows(named=True)}
        measured = augmentation_costs["measured_cost_ratio"][0] if augmentation_costs.height else None
        rows, decisions = [], []
        for c in cost_rows(estimates, [ratio]):
            d = decide(by_estimator[c.estimator], CostRatio(ratio))
            decisions.append(d)
            rows.append(
                {
                    **c.as_dict(),
                    "rho_cost_low": d.rho_cost_low,
                    "rho_cost_high": d.rho_cost_high,
                    "p_rho_cost_above_1": d.p_rho_cost_above_1,
                    "verdict": d.verdict,
                    "verdict_reason": d.reason,
                    "primary": d.primary,
                    "measured_cost_ratio": measured,
                }
            )
        frame = pl.DataFrame(rows, schema=RHO_COST_SCHEMA)
        verdicts = verdict_table(verdict_rows(decisions))
        shown = {None: "-", True: "yes", False: "no"}
        lines = [(d.estimator, shown[d.identified], f"{d.verdict} ({d.reason})") for d in decisions]
        return dg.Output(
            frame,
            metadata={  # identified and the verdict before any number: a rho_cost that is not evidence says so
                "identified": dg.MetadataValue.text("; ".join(f"{e}: {i}" for e, i, _ in lines) or "-"),
                "verdict": dg.MetadataValue.text("; ".join(f"{e}: {v}" for e, _, v in lines) or "-"),
                "verdict_table": frame_table(verdicts),
                "rho_cost": frame_table(cost_view(frame)),
            },
        )

    @dg.asset(
        group_name=ECONOMICS,
        kinds={"duckdb"},
        automation_condition=dg.AutomationCondition.eager(),
        deps=[],
        description=report_description(cfg.paths.artifacts_dir / "report"),
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
        gate_audit: pl.DataFrame,
        base_scores: pl.DataFrame,
    ) -> dg.MaterializeResult:
        """The decision first (findings, one verdict line per arm and cost ratio, the decision table), then what
        the run shows in one paragraph, the figures and the sorted tables, as files and as UI metadata."""
        analysis = analysis_of(cfg, training_corpus, benchmark_scores, base_scores)
        curve = list(analysis.draws.arms)
        cost = rho_cost.drop("partition_key").sort(["arm", "estimator", "cost_ratio"])
        funnel = funnel_frame(augmented_tasks, gate_results)
        costs = augmentation_costs.row(0, named=True) if augmentation_costs.height else {}
        decisions = decision_rows(trade_rate, run_ratios(cfg, augmentation_costs)) if trade_rate.height else []
        findings = reference_lines(analysis)
        out_dir = cfg.paths.artifacts_dir / "report"
        arms = sorted(a.arm for a in curve if not a.is_base)
        try:  # written by policy_checkpoint, one partition per arm
            log = read_frame(cfg.paths.duckdb_path, "training_log", arms).drop("partition_key")
        except LookupError:
            log = None
        gains = base_gain_frame(analysis)
        path = write_report(
            out_dir,
            curve,
            trade_rate,
            cost,
            funnel,
            costs,
            cfg.economics.cost_ratios,
            training_log=log,
            decisions=decisions,
            findings=findings,
            base_gains=gains,
        )
        # the gate audit (core/audit/rates.py): rho_cost at c_aug per correct accepted variant beside the unaudited
        audited = audited_rho_cost(trade_rate, augmentation_costs, gate_audit)
        path.write_text(path.read_text() + "\n" + audit_markdown(gate_audit, audited))
        html_path = write_report_html(path, verdict_table(verdict_rows(decisions)))
        context.log.info(f"report written to {path} and {html_path}")
        banner = identification_banner(trade_rate)
        has_log = log is not None and log.height > 0
        summary = run_summary(curve, trade_rate, costs, funnel)
        primary = [d for d in decisions if d.primary]
        shown = verdict_rows(primary or decisions)
        return dg.MaterializeResult(
            metadata={  # in the order the asset page lists them: the answer first
                "verdict": frame_table(verdict_table(shown, compact=True)),
                # findings first (no arm above the base model, dips of the human curve), then one line per verdict
                "decision": wrapped_text("\n".join(findings + verdict_lines(primary))),
                "verdict_reasons": wrapped_text(verdict_reasons(shown)),
                "summary": wrapped_text(short_summary(summary)),
                **({"not_identified": wrapped_text(banner)} if banner else {}),
                "figures": figures_markdown(
                    out_dir, [*FIGURES.values(), *REWARD_FIGURE] if has_log else FIGURES.values()
                ),
                "report_html": dg.MetadataValue.path(str(html_path)),
                "rests_on": wrapped_text(analysis.draws.resamples),
                "what_the_run_shows": dg.MetadataValue.text(summary),
                **{key: figure(out_dir / name, title) for key, (name, title) in FIGURES.items()},
                # the training_log's curves with their per-step table (core/economics/report.py)
                **(
                    {"reward_curves": dg.MetadataValue.md(reward_curve_markdown(log))}
                    if has_log and log is not None
                    else {}
                ),
                "arm_scores": frame_table(arm_frame(curve)),
                # narrow tables only: a wide one widens the whole metadata column (the full ones: report_html)
                **({"gain_over_base": frame_table(gains.drop("method"))} if gains.height else {}),
                "rho_cost_audited": frame_table(audited.select(AUDITED_COST_SHORT)),
                # the wide tables (long reasons) live on their own assets' pages and in report_html: here one
                # wide table would widen the whole metadata column past the screen and clip every entry in it
                "tables": wrapped_text(
                    "every decision (all estimators, with P(rho_cost > 1)): decisions.csv beside the report;"
                    " trade rate per arm and estimator: the trade_rate asset; rho_cost per arm and r: the rho_cost"
                    " asset's partitions; gate funnel: the gated_tasks asset; gate audit: the gate_audit asset;"
                    " all of them: report_html."
                ),
                "report": dg.MetadataValue.path(str(path)),
                "report_markdown": dg.MetadataValue.md(path.read_text()),
            }
        )

    return [trade_rate, rho_cost, economics_report]

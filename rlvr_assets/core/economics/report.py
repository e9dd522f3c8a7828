"""The economics report as files: a paragraph saying what the run shows, markdown tables, CSVs and the figures
teams look at first (core/economics/figures.py; each arm's training reward curve is drawn here from `training_log`).

It opens with a banner whenever no trade rate is identified, so noise is never read as a result, and
lists each comparison's minimum detectable difference so a reader learns what a real answer would need."""

from __future__ import annotations

import base64
import csv
import io
import math
from collections.abc import Sequence
from pathlib import Path

import polars as pl

from rlvr_assets.core.economics.figures import (
    plot_funnel,
    plot_rho_cost,
    plot_rho_per_arm,
    plot_scaling_curve,
    rho_cost_style,
)
from rlvr_assets.core.kernel.scoring import ArmScore

__all__ = [
    "FIGURES",
    "MDD_NOTE",
    "arm_frame",
    "cost_view",
    "identification_banner",
    "identification_lines",
    "markdown_table",
    "mdd_frame",
    "plot_reward_curves",
    "reward_curve_markdown",
    "rho_cost_style",  # the figure style, defined in core/economics/figures.py
    "run_summary",
    "trade_view",
    "training_summary",
    "write_arms_csv",
    "write_report",
]

MDD_NOTE = (
    "MDD = (z_0.975 + z_0.80) x SE = 2.80 x SE of the difference (two-sided 95%, 80% power) at this study's size; "
    "seed variance does not shrink with items, so `rlvr-assets plan` sizes items and seeds separately"
)


def markdown_table(frame: pl.DataFrame) -> str:
    def fmt(value: object) -> str:
        if isinstance(value, float):
            return f"{value:.4g}"
        # a reason may hold a pipe or a newline: escaped, it stays in its cell instead of breaking the table
        return "" if value is None else str(value).replace("|", "\\|").replace("\n", " ")

    header = "| " + " | ".join(frame.columns) + " |"
    sep = "|" + "---|" * len(frame.columns)
    body = ["| " + " | ".join(fmt(v) for v in row) + " |" for row in frame.iter_rows()]
    return "\n".join([header, sep, *body])


def write_arms_csv(path: Path, arms: Sequence[ArmScore]) -> None:
    """The same format `rlvr-assets economics ARMS.csv` reads, so results can be re-analysed elsewhere."""
    with path.open("w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["arm", "n_human", "n_aug", "score", "ci_low", "ci_high"])
        for a in arms:
            writer.writerow(
                [
                    a.arm,
                    a.n_human,
                    a.n_aug,
                    f"{a.score:.4f}",
                    "" if a.ci_low is None else f"{a.ci_low:.4f}",
                    "" if a.ci_high is None else f"{a.ci_high:.4f}",
                ]
            )


def _judged(trade: pl.DataFrame) -> pl.DataFrame:
    return trade if "identified" in trade.columns else trade.with_columns(pl.lit(None, pl.Boolean).alias("identified"))


def mdd_frame(trade: pl.DataFrame) -> pl.DataFrame:
    """One row per comparison behind the trade rates (human rise, augmented gain): the difference, its CI and
    its MDD at this size. No post-hoc power at the observed difference: `rlvr-assets plan` sizes a study."""
    rows: dict[str, dict[str, object]] = {}
    if "human_base" not in trade.columns:
        return pl.DataFrame()
    for r in trade.iter_rows(named=True):
        pairs = [("human rise", r.get("human_upper"), "human_rise"), ("augmented gain", r["arm"], "aug_gain")]
        for kind, arm, prefix in pairs:
            if r.get(prefix) is None or arm is None:
                continue
            comparison = f"{arm} - {r['human_base']}"
            rows.setdefault(
                comparison,
                {
                    "comparison": comparison,
                    "kind": kind,
                    "difference": r[prefix],
                    "ci_low": r[f"{prefix}_low"],
                    "ci_high": r[f"{prefix}_high"],
                    "mdd": r[f"{prefix}_mdd"],
                    "items": r.get("items"),
                    "seeds": r.get("seeds"),
                },
            )
    return pl.DataFrame(list(rows.values()))


def identification_banner(trade: pl.DataFrame) -> str | None:
    """The NOT IDENTIFIED banner when no trade-rate estimate is identified, else None."""
    if trade.height == 0:
        return None
    judged = _judged(trade)
    if judged.filter(pl.col("identified").fill_null(False)).height:
        return None
    if judged["identified"].is_null().all():
        why = "no uncertainty was given, so none can be told apart from noise"
    else:
        why = "the human curve or the augmented arm's gain is within noise (identified = false; each row says why)"
    return (
        f"NOT IDENTIFIED: none of the {judged.height} trade-rate estimates is identified: {why}. "
        "The rho and rho_cost numbers are shown, but they are not evidence of a trade rate."
    )


def identification_lines(trade: pl.DataFrame) -> list[str]:
    """Plain lines for the `run` and `economics` summaries: the banner (or how many estimates are
    identified), then every comparison's minimum detectable difference."""
    if trade.height == 0:
        return []
    banner = identification_banner(trade)
    n_true = _judged(trade).filter(pl.col("identified").fill_null(False)).height
    lines = [banner or f"Identified: {n_true} of {trade.height} trade-rate estimates (the others say why not)."]
    mdd = mdd_frame(trade)
    if mdd.height:
        first = mdd.row(0, named=True)
        at = f" at {first['items']} items x {first['seeds']} seed(s)" if first.get("items") is not None else ""
        lines.append(f"Minimum detectable difference{at} ({MDD_NOTE}):")
        for r in mdd.iter_rows(named=True):
            need = "the rewards do not vary at all, so no SE (and no MDD) can be estimated" if r["mdd"] is None else ""
            lines.append(
                f"  {r['comparison']} ({r['kind']}): {r['difference']:+.1f} [{r['ci_low']:+.1f}, {r['ci_high']:+.1f}],"
                + ("" if r["mdd"] is None else f" MDD {r['mdd']:.1f} points")
                + (f"; {need}" if need else "")
            )
        lines.append("The items x seeds x human sizes a verdict needs: `rlvr-assets plan` (docs/statistics.md).")
    return lines


FIGURES = {
    # UI metadata key: (file, title)
    "scaling_curve_figure": ("scaling_curve.png", "Human scaling curve and augmented arms"),
    "rho_cost_figure": ("rho_cost.png", "rho_cost against the cost ratio r"),
    "rho_per_arm_figure": ("rho_per_arm.png", "Trade rate per augmented arm, with CIs"),
    "gate_funnel_figure": ("funnel.png", "Gate funnel"),
}

TRADE_VIEW = ["arm", "estimator", "primary", "n_human", "n_aug", "score", "n_equiv", "rho", "rho_low", "rho_high"]
TRADE_VIEW += ["identified", "reason", "identified_reason"]
COST_VIEW = ["arm", "estimator", "cost_ratio", "verdict", "rho", "rho_cost", "rho_cost_low", "rho_cost_high"]
COST_VIEW += ["p_rho_cost_above_1", "break_even", "identified", "verdict_reason", "reason"]


def _view(frame: pl.DataFrame, columns: Sequence[str], order: Sequence[str]) -> pl.DataFrame:
    """The columns a reader compares (those present), rows in a fixed order, every reason in full."""
    keep = [c for c in columns if c in frame.columns]
    return frame.select(keep).sort([c for c in order if c in keep], nulls_last=True)


def trade_view(trade: pl.DataFrame) -> pl.DataFrame:
    """The trade-rate table as the UI shows it: one row per arm and estimator, sorted."""
    return _view(trade, TRADE_VIEW, ["arm", "estimator"])


def cost_view(cost: pl.DataFrame) -> pl.DataFrame:
    """The rho_cost table as the UI shows it: sorted by arm, estimator and cost ratio."""
    return _view(cost, COST_VIEW, ["arm", "estimator", "cost_ratio"])


def arm_frame(arms: Sequence[ArmScore]) -> pl.DataFrame:
    """Every arm's score with its CI: human-only arms by size, then augmented arms by size."""
    rows = [
        {
            "arm": a.arm,
            "kind": "base model" if a.is_base else ("human" if a.is_human_only else "augmented"),
            "n_human": a.n_human,
            "n_aug": a.n_aug,
            "score": a.score,
            "ci_low": a.ci_low,
            "ci_high": a.ci_high,
        }
        for a in sorted(arms, key=lambda a: (not a.is_base, not a.is_human_only, a.n_human + a.n_aug, a.arm))
    ]
    schema = {"arm": pl.String, "kind": pl.String, "n_human": pl.Int64, "n_aug": pl.Int64}
    schema |= {"score": pl.Float64, "ci_low": pl.Float64, "ci_high": pl.Float64}
    return pl.DataFrame(rows, schema=schema)


def run_summary(arms: Sequence[ArmScore], trade: pl.DataFrame, costs: dict[str, object], funnel: pl.DataFrame) -> str:
    """One short paragraph saying what the run shows: what was trained, how scores came out, what the gate
    kept, whether a trade rate is identified and what the measured cost ratio means for it."""
    human = sorted((a for a in arms if a.is_human_only), key=lambda a: a.n_human)
    augmented = [a for a in arms if not a.is_human_only and not a.is_base]
    base = next((a for a in arms if a.is_base), None)
    parts = [
        f"This run trained {len(human) + len(augmented)} arms: human-only with {', '.join(str(a.n_human) for a in human) or 'no'} tasks"
        + (
            f" and {len(augmented)} augmented ({', '.join(f'{a.arm} = {a.n_human}h + {a.n_aug}a' for a in augmented)})."
            if augmented
            else "."
        )
    ]
    if base is not None:
        parts.append(
            f"The untrained base model ({base.arm}) scored {base.score:.1f}, the reference every arm is read against."
        )
        arms = [a for a in arms if not a.is_base]
    if arms:
        lo, hi = min(arms, key=lambda a: a.score), max(arms, key=lambda a: a.score)
        widest = max(
            (a.ci_high - a.ci_low for a in arms if a.ci_low is not None and a.ci_high is not None), default=None
        )
        ci = f"; the widest 95% CI spans {widest:.1f} points" if widest is not None else ""
        if hi.score == lo.score:
            parts.append(f"Every arm scored {lo.score:.1f} held-out pass@1{ci}.")
        else:
            parts.append(f"Held-out pass@1 ranged from {lo.score:.1f} ({lo.arm}) to {hi.score:.1f} ({hi.arm}){ci}.")
    total = funnel.filter(pl.col("operator") == "all") if "operator" in funnel.columns else funnel.clear()
    if total.height and {"attempts", "proposed", "accepted"} <= set(total.columns):
        row = total.row(0, named=True)
        parts.append(
            f"The gate kept {row['accepted']} of {row['proposed']} proposed variants ({row['attempts']} operator attempts)."
        )
    judged = _judged(trade)
    identified = judged.filter(pl.col("identified").fill_null(False)) if judged.height else judged
    if judged.height == 0:
        parts.append("No augmented arm was scored, so there is no trade rate.")
    elif identified.height == 0:
        parts.append(f"None of the {judged.height} trade-rate estimates is identified (the note below says why).")
    else:
        parts.append(f"{identified.height} of {judged.height} trade-rate estimates are identified.")
    measured = costs.get("measured_cost_ratio")
    if isinstance(measured, int | float) and math.isfinite(measured) and measured > 0 and judged.height:
        from rlvr_assets.core.economics.trade_stats import CostRatio, decision_rows

        decisions = decision_rows(trade, [CostRatio(float(measured), "measured")])
        primary = [d for d in decisions if d.primary] or decisions
        pays = [d.arm for d in primary if d.verdict == "pays"]
        not_pay = [d.arm for d in primary if d.verdict == "does not pay"]
        verdict = (
            f"by the one-sided 95% bound of rho_cost ({primary[0].estimator}), augmentation pays for "
            f"{', '.join(pays) or 'no arm'}, does not pay for {', '.join(not_pay) or 'no arm'}, and cannot be told "
            f"for the other {len(primary) - len(pays) - len(not_pay)}"
        )
        if len(primary) > 1:
            verdict += f" (each arm judged on its own: over {len(primary)} arms a false 'pays' has up to {len(primary)} x 5% chance)"
        parts.append(f"The measured cost ratio c_human / c_aug is {measured:.3g}; {verdict}.")
    return " ".join(parts)


def _reward_curve_figure(log: pl.DataFrame):  # type: ignore[no-untyped-def]
    """The training reward figure (drawn in core/economics/figures.py)."""
    from rlvr_assets.core.economics.figures import reward_curve_figure

    return reward_curve_figure(log)


def plot_reward_curves(path: Path, log: pl.DataFrame) -> None:
    """Write the per-arm training reward curves (`training_log` rows) as a PNG."""
    import matplotlib.pyplot as plt

    fig = _reward_curve_figure(log)
    fig.savefig(path, dpi=120)
    plt.close(fig)


def training_summary(log: pl.DataFrame) -> pl.DataFrame:
    """Per arm: steps, first and last training reward (mean over seeds) and zero-gradient steps per seed."""
    per_step = log.group_by("arm", "step").agg(pl.col("reward").mean()).sort("arm", "step")
    ends = per_step.group_by("arm").agg(
        pl.col("step").max().alias("steps"),
        pl.col("reward").first().alias("first_reward"),
        pl.col("reward").last().alias("last_reward"),
    )
    zero = log.group_by("arm").agg(
        (pl.col("zero_gradient").sum() / pl.col("seed").n_unique()).alias("zero_gradient_steps_per_seed"),
        pl.col("seconds").mean().alias("seconds_per_step"),
    )
    return ends.join(zero, on="arm").sort("arm")


def reward_curve_markdown(log: pl.DataFrame) -> str:
    """Dagster UI metadata: the reward curve figure inline (PNG data URI) plus the numbers as a table."""
    import matplotlib.pyplot as plt

    fig = _reward_curve_figure(log)
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=80)
    plt.close(fig)
    image = base64.b64encode(buffer.getvalue()).decode()
    table = (
        log.group_by("arm", "step")
        .agg(
            pl.col("reward").mean().alias("reward"),
            pl.col("frac_reward_zero_std").mean().alias("frac_reward_zero_std"),
            pl.col("seconds").mean().alias("seconds"),
        )
        .sort("arm", "step")
    )
    return f"![reward curve](data:image/png;base64,{image})\n\n{markdown_table(table)}"


def footnoted(frame: pl.DataFrame, column: str, notes: list[str]) -> pl.DataFrame:
    """`column`'s long texts replaced by [k] references into `notes` (each text listed once, in order), so a
    table stays narrow and a reason shared by many rows is read once."""
    if column not in frame.columns:
        return frame
    refs = []
    for text in frame[column].to_list():
        if text is None or text == "":
            refs.append("")
            continue
        if text not in notes:
            notes.append(text)
        refs.append(f"[{notes.index(text) + 1}]")
    return frame.with_columns(pl.Series(column, refs, dtype=pl.String))


TRADE_SHORT = ["arm", "estimator", "n_equiv", "rho", "rho_low", "rho_high", "identified", "reason", "identified_reason"]
COST_SHORT = ["arm", "estimator", "cost_ratio", "rho_cost", "rho_cost_low", "verdict", "reason"]


def _flat(frame: pl.DataFrame) -> pl.DataFrame:
    """A frame a CSV can hold: list columns (the rho draws) dropped."""
    return frame.drop([c for c, t in frame.schema.items() if isinstance(t, pl.List)])


def write_report(
    out_dir: Path,
    arms: Sequence[ArmScore],
    trade: pl.DataFrame,
    cost: pl.DataFrame,
    funnel: pl.DataFrame,
    costs: dict[str, object],
    ratios: Sequence[float],
    training_log: pl.DataFrame | None = None,
    decisions: Sequence[object] | None = None,
    findings: Sequence[str] = (),
    base_gains: pl.DataFrame | None = None,
) -> Path:
    """Write report.md plus CSVs and PNGs into `out_dir`; returns the markdown path. The report opens with the
    decision: the findings that come first (no arm beats the base model, dips in the human curve), one verdict
    line per arm and cost ratio and the short decision table; the wide tables are CSV files, their reasons
    listed once as notes. `decisions` defaults to `trade_stats.decision_rows` at `ratios` and the measured
    ratio. `training_log` (per-step rows: arm, seed, step, reward, ...) adds the reward curves."""
    from rlvr_assets.core.economics.trade_stats import (
        CostRatio,
        decision_frame,
        decision_rows,
        decision_table,
        verdict_lines,
    )

    out_dir.mkdir(parents=True, exist_ok=True)
    measured = costs.get("measured_cost_ratio")
    measured_ok = isinstance(measured, int | float) and math.isfinite(measured) and measured > 0
    if decisions is None:
        chosen = [CostRatio(float(r)) for r in ratios]
        if measured_ok:
            chosen.append(CostRatio(float(measured), "measured"))  # type: ignore[arg-type]
        decisions = decision_rows(trade, chosen) if trade.height else []
    write_arms_csv(out_dir / "arms.csv", arms)
    _flat(trade).write_csv(out_dir / "trade_rate.csv")
    cost.write_csv(out_dir / "rho_cost.csv")
    decision_frame(decisions).write_csv(out_dir / "decisions.csv")  # type: ignore[arg-type]
    funnel.write_csv(out_dir / "funnel.csv")
    plot_scaling_curve(out_dir / "scaling_curve.png", arms)
    plot_rho_cost(out_dir / "rho_cost.png", trade, ratios, float(measured) if measured_ok else None)  # type: ignore[arg-type]
    plot_rho_per_arm(out_dir / "rho_per_arm.png", trade)
    plot_funnel(out_dir / "funnel.png", funnel)
    curves = training_log is not None and training_log.height > 0
    if curves and training_log is not None:
        nested = [c for c, t in training_log.schema.items() if isinstance(t, pl.List)]
        flat = training_log.with_columns(pl.col(c).list.join(" ") for c in nested)  # CSV holds no lists
        flat.write_csv(out_dir / "training_log.csv")
        plot_reward_curves(out_dir / "reward_curves.png", training_log)
    arms_table = arm_frame(arms)
    banner = identification_banner(trade)
    mdd = mdd_frame(trade)
    notes: list[str] = []
    trade_short = footnoted(
        footnoted(_view(trade, TRADE_SHORT, ["arm", "estimator"]), "reason", notes), "identified_reason", notes
    )
    cost_frame = decision_frame(decisions)  # type: ignore[arg-type]
    cost_short = footnoted(_view(cost_frame, COST_SHORT, ["arm", "estimator", "cost_ratio"]), "reason", notes)
    primary = [d for d in decisions if getattr(d, "primary", False)] or list(decisions)
    rests_on = sorted({str(getattr(d, "rests_on", "")) for d in decisions})
    lines = [
        "# rlvr_assets economics report",
        "",
        *([f"> **{banner}**", ""] if banner else []),
        "## Decision",
        "",
        *[f"- **{line}**" for line in findings],
        *[f"- {line}" for line in verdict_lines(primary)],
        *([] if decisions else ["- No augmented arm was scored, so there is no verdict."]),
        "",
        markdown_table(decision_table(decisions)) if decisions else "",  # type: ignore[arg-type]
        "",
        "Verdict: `pays` when the one-sided 95% lower bound of rho_cost = rho x r exceeds 1 (and the trade rate is "
        "identified), `does not pay` when the one-sided 95% upper bound is below 1, otherwise `cannot tell`. "
        + ("Intervals rest on: " + "; ".join(rests_on) + "." if rests_on else ""),
        "",
        run_summary(arms, trade, costs, funnel),
        "",
        "![scaling curve](scaling_curve.png) ![rho per arm](rho_per_arm.png)",
        "",
        "## Arms (held-out pass@1, %, mean over benchmarks; 95% bootstrap CI, see 'rests on' above)",
        markdown_table(arms_table),
        "",
        *(
            ["## Gain over the base model (the untrained reference arm, n = 0)", markdown_table(base_gains), ""]
            if base_gains is not None and base_gains.height
            else []
        ),
        "## Trade rate rho = (N_equiv - n_base) / n_aug (all columns: trade_rate.csv)",
        markdown_table(trade_short),
        "",
        "## rho_cost(r) = rho x r (all columns: decisions.csv, rho_cost.csv)",
        "![rho_cost against r](rho_cost.png)",
        "",
        markdown_table(cost_short),
        "",
        "## Notes (the reasons the tables refer to)",
        *[f"{k}. {text}" for k, text in enumerate(notes, 1)],
        "",
        "## Minimum detectable difference of each comparison",
        MDD_NOTE + ".",
        "",
        markdown_table(mdd) if mdd.height else "(no comparison was judged)",
        "",
        "## Augmentation cost (measured)",
        f"c_aug per accepted variant: {costs.get('c_aug_usd')} USD; c_human per seed: {costs.get('c_human_usd')} USD; "
        f"measured r = {measured}",
        "",
        *(
            [
                "## Training (GRPO reward per arm; zero-gradient steps: every group scored the same)",
                markdown_table(training_summary(training_log)),
                "",
                "![reward curves](reward_curves.png)",
                "",
            ]
            if curves and training_log is not None
            else []
        ),
        "## Gate funnel (attempts -> accepted, per factor and operator)",
        "![gate funnel](funnel.png)",
        "",
        markdown_table(funnel),
        "",
        "Figures: scaling_curve.png, rho_cost.png (estimates that are not identified in grey, null ones listed "
        "under it), rho_per_arm.png, funnel.png"
        + (", reward_curves.png. " if curves else ". ")
        + "Tables: decisions.csv, arms.csv (re-usable with `rlvr-assets economics`), trade_rate.csv, rho_cost.csv, "
        "funnel.csv" + (", training_log.csv." if curves else "."),
    ]
    path = out_dir / "report.md"
    path.write_text("\n".join(lines) + "\n")
    return path

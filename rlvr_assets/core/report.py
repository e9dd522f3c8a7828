"""The economics report as files: markdown summary, CSV tables and the two figures teams look at first."""

from __future__ import annotations

import csv
from collections.abc import Sequence
from pathlib import Path

import polars as pl

from rlvr_assets.core.economics import ArmScore


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


def _plot_curve(path: Path, arms: Sequence[ArmScore]) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 4))
    human = sorted((a for a in arms if a.is_human_only), key=lambda a: a.n_human)
    ax.errorbar(
        [a.n_human for a in human],
        [a.score for a in human],
        yerr=_err(human),
        marker="o",
        capsize=3,
        label="human-only arms",
    )
    for a in arms:
        if not a.is_human_only:
            ax.errorbar(
                [a.n_human + a.n_aug],
                [a.score],
                yerr=_err([a]),
                marker="s",
                capsize=3,
                label=f"{a.arm} ({a.n_human}h+{a.n_aug}a)",
            )
    ax.set_xscale("log")
    ax.set_xlabel("tasks in corpus (log)")
    ax.set_ylabel("held-out pass@1 (%)")
    ax.set_title("Human scaling curve and augmented arms")
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def _err(arms: Sequence[ArmScore]) -> list[list[float]] | None:
    if any(a.ci_low is None or a.ci_high is None for a in arms):
        return None
    return [[max(0.0, a.score - (a.ci_low or 0)) for a in arms], [max(0.0, (a.ci_high or 0) - a.score) for a in arms]]


def _plot_rho_cost(path: Path, trade: pl.DataFrame, ratios: Sequence[float]) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 4))
    r_max = max(ratios) * 1.2 if ratios else 50.0
    grid = [r_max * i / 100 for i in range(1, 101)]
    for row in trade.filter(pl.col("rho").is_not_null()).iter_rows(named=True):
        label = f"{row['arm']} ({row['estimator']})"
        line = ax.plot(grid, [row["rho"] * r for r in grid], label=label)[0]
        if row.get("rho_low") is not None and row.get("rho_high") is not None:
            ax.fill_between(
                grid,
                [row["rho_low"] * r for r in grid],
                [row["rho_high"] * r for r in grid],
                color=line.get_color(),
                alpha=0.15,
            )
        ax.scatter(ratios, [row["rho"] * r for r in ratios], color=line.get_color(), s=12)
    ax.axhline(1.0, color="grey", linestyle="--", linewidth=1, label="break-even (rho_cost = 1)")
    ax.set_xlabel("cost ratio r = c_human / c_aug")
    ax.set_ylabel("rho_cost = rho x r")
    ax.set_title("Cost-adjusted trade rate (95% bootstrap bands)")
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def write_report(
    out_dir: Path,
    arms: Sequence[ArmScore],
    trade: pl.DataFrame,
    cost: pl.DataFrame,
    funnel: pl.DataFrame,
    costs: dict[str, object],
    ratios: Sequence[float],
) -> Path:
    """Write report.md plus CSVs and PNGs into `out_dir`; returns the markdown path."""
    out_dir.mkdir(parents=True, exist_ok=True)
    write_arms_csv(out_dir / "arms.csv", arms)
    trade.write_csv(out_dir / "trade_rate.csv")
    cost.write_csv(out_dir / "rho_cost.csv")
    funnel.write_csv(out_dir / "funnel.csv")
    _plot_curve(out_dir / "scaling_curve.png", arms)
    _plot_rho_cost(out_dir / "rho_cost.png", trade, ratios)
    arm_frame = pl.DataFrame(
        [
            {
                "arm": a.arm,
                "n_human": a.n_human,
                "n_aug": a.n_aug,
                "score": a.score,
                "ci_low": a.ci_low,
                "ci_high": a.ci_high,
            }
            for a in arms
        ]
    )
    measured = costs.get("measured_cost_ratio")
    lines = [
        "# rlvr_assets economics report",
        "",
        "## Arms (held-out pass@1, %, mean over benchmarks; 95% bootstrap CI over items within each benchmark)",
        markdown_table(arm_frame),
        "",
        "## Trade rate rho = (N_equiv - n_base) / n_aug",
        markdown_table(trade),
        "",
        "## rho_cost(r) = rho x r, break-even r* = 1 / rho",
        markdown_table(cost),
        "",
        "## Augmentation cost (measured)",
        f"c_aug per accepted variant: {costs.get('c_aug_usd')} USD; c_human per seed: {costs.get('c_human_usd')} USD; "
        f"measured r = {measured}",
        "",
        "## Gate funnel (attempts -> accepted, per factor and operator)",
        markdown_table(funnel),
        "",
        "Figures: scaling_curve.png, rho_cost.png. Tables: arms.csv (re-usable with `rlvr-assets economics`), "
        "trade_rate.csv, rho_cost.csv, funnel.csv.",
    ]
    path = out_dir / "report.md"
    path.write_text("\n".join(lines) + "\n")
    return path

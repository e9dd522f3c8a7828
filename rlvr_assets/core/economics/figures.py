"""The report's figures, drawn so they read at a glance and never hide what did not work.

- Scaling curve: plain task-count ticks (4, 8, 16) on a log axis; augmented arms drawn a little to the right
  of a human arm of the same size, so their error bars do not overlap.
- rho_cost against r on log-log axes: every estimate in colour with its CI band (not identified: dashed and
  labelled so), rho_cost = 1 with each break-even r*, the configured ratios, and the measured cost ratio always
  on the axis; null and rho <= 0 estimates listed under the plot with their reason.
- Gate funnel: attempts -> proposed -> each factor -> accepted, overall and per operator.
- rho per arm: each estimator's rho with its bootstrap CI, unidentified hollow, null as a cross at 0; the
  reasons in numbered notes under the plot.
- Reward curves: raw points faint, a moving average on top, one panel per arm when there are many.
"""

from __future__ import annotations

import textwrap
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import polars as pl

from rlvr_assets.core.gate.factors import FACTORS
from rlvr_assets.core.kernel.scoring import ArmScore

GREY = "#9e9e9e"
AUG_OFFSET = 1.07  # augmented arms sit 7% (in log x) to the right of a human arm of the same size


def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _save(fig: Any, path: Path) -> Path:
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    _pyplot().close(fig)
    return path


def _short(text: str | None, width: int = 70) -> str:
    return textwrap.shorten(text or "", width=width, placeholder="…")


def _identified(row: dict[str, Any]) -> bool:
    return bool(row.get("identified"))


def rho_cost_style(row: dict[str, Any]) -> dict[str, Any]:
    """Line style of one estimate in the rho_cost figure: an estimate that is not identified keeps its colour (so
    it stays readable) but is dashed, thinner and labelled NOT identified."""
    if _identified(row):
        return {"linestyle": "-", "linewidth": 2.0}
    return {"linestyle": "--", "linewidth": 1.5}


def plain_log_ticks(ax: Any, values: Sequence[float], axis: str = "x") -> None:
    """A log axis labelled with the values themselves (4, 8, 16), not 4x10^0."""
    from matplotlib.ticker import FixedLocator, NullFormatter, NullLocator, StrMethodFormatter

    target = ax.xaxis if axis == "x" else ax.yaxis
    target.set_major_locator(FixedLocator(sorted(set(values))))
    target.set_major_formatter(StrMethodFormatter("{x:g}"))
    target.set_minor_locator(NullLocator())
    target.set_minor_formatter(NullFormatter())


def plot_scaling_curve(path: Path, arms: Sequence[ArmScore]) -> Path:
    """Held-out score against tasks in the corpus: the human-only curve and each augmented arm."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    human = sorted((a for a in arms if a.is_human_only), key=lambda a: a.n_human)
    augmented = sorted(
        (a for a in arms if not a.is_human_only and not a.is_base), key=lambda a: (a.n_human + a.n_aug, a.arm)
    )
    for a in arms:  # the base model (n = 0) has no place on a log axis: a dashed reference line with its CI
        if a.is_base:
            ax.axhline(a.score, color="grey", linestyle="--", linewidth=1, label=f"{a.arm}: base model (n = 0)")
            if a.ci_low is not None and a.ci_high is not None:
                ax.axhspan(a.ci_low, a.ci_high, color="grey", alpha=0.12)
    ax.errorbar(
        [a.n_human for a in human],
        [a.score for a in human],
        yerr=_err(human),
        marker="o",
        capsize=3,
        color="black",
        label="human-only arms",
    )
    sizes = {a.n_human for a in human}
    stacked: dict[int, int] = {}
    for a in augmented:
        size = a.n_human + a.n_aug
        shift = stacked.get(size, 0) + (1 if size in sizes else 0)
        stacked[size] = stacked.get(size, 0) + 1
        x = size * AUG_OFFSET**shift
        ax.errorbar([x], [a.score], yerr=_err([a]), marker="s", capsize=3, label=f"{a.arm} ({a.n_human}h + {a.n_aug}a)")
    ticks = [a.n_human for a in human] + [a.n_human + a.n_aug for a in augmented]
    if ticks:
        ax.set_xscale("log")
        plain_log_ticks(ax, ticks)
        ax.set_xlim(min(ticks) / 1.25, max(ticks) * AUG_OFFSET ** (max(stacked.values(), default=0) + 2))
    ax.set_xlabel("tasks in the training corpus (log scale; augmented arms drawn slightly right)")
    ax.set_ylabel("held-out pass@1 (%)")
    ax.set_title("Human scaling curve and augmented arms (95% bootstrap CI)")
    ax.legend(fontsize=7)
    return _save(fig, path)


def _err(arms: Sequence[ArmScore]) -> list[list[float]] | None:
    if any(a.ci_low is None or a.ci_high is None for a in arms):
        return None
    return [[max(0.0, a.score - (a.ci_low or 0)) for a in arms], [max(0.0, (a.ci_high or 0) - a.score) for a in arms]]


def _null_notes(trade: pl.DataFrame) -> list[str]:
    return [
        f"{r['arm']} {r['estimator']}: null ({_short(r['reason'], 80)})"
        for r in trade.filter(pl.col("rho").is_null()).sort("arm", "estimator").iter_rows(named=True)
    ]


def _log_span(values: Sequence[float], pad: float = 1.8) -> tuple[float, float]:
    positive = [v for v in values if v is not None and v > 0]
    if not positive:
        return 0.1, 10.0
    return min(positive) / pad, max(positive) * pad


def plot_rho_cost(path: Path, trade: pl.DataFrame, ratios: Sequence[float], measured: float | None) -> Path:
    """Write `rho_cost_figure` as a PNG."""
    fig = rho_cost_figure(trade, ratios, measured)
    fig.savefig(path, dpi=110, bbox_inches="tight")
    _pyplot().close(fig)
    return path


def rho_cost_figure(trade: pl.DataFrame, ratios: Sequence[float], measured: float | None) -> Any:
    """rho_cost(r) = rho x r on log-log axes (a straight line of slope 1 per estimate, its 95% band around it),
    the line rho_cost = 1, each estimate's break-even r* = 1/rho, the configured ratios and the measured r,
    which is always on the axis. Estimates that are not identified keep their colour but are dashed and say so
    in the legend; rho <= 0 and null estimates are listed under the plot with their reason."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(7.2, 4.8))
    defined = trade.filter(pl.col("rho").is_not_null()).sort("arm", "estimator")
    drawable = defined.filter(pl.col("rho") > 0)
    breaks = [1 / r for r in drawable["rho"].to_list()]
    r_lo, r_hi = _log_span([*ratios, *([measured] if measured else []), *breaks])
    grid = [r_lo * (r_hi / r_lo) ** (i / 120) for i in range(121)]
    y_values: list[float] = [1.0]
    colors = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    for i, row in enumerate(drawable.iter_rows(named=True)):
        ok = _identified(row)
        color = colors[i % len(colors)]
        label = f"{row['arm']} {row['estimator'].replace('_', ' ')}, r* = {1 / row['rho']:.3g}"
        label += "" if ok else " (NOT identified)"
        ys = [row["rho"] * r for r in grid]
        y_values += [ys[0], ys[-1]]
        ax.plot(grid, ys, color=color, label=label, **rho_cost_style(row))
        if row.get("rho_low") is not None and row.get("rho_high") is not None:
            low = [max(row["rho_low"], 1e-9) * r for r in grid]
            high = [row["rho_high"] * r for r in grid]
            ax.fill_between(grid, low, high, color=color, alpha=0.28 if ok else 0.15, linewidth=0)
            y_values += [high[-1], max(low[0], ys[0] / 20)]
        ax.scatter(ratios, [row["rho"] * r for r in ratios], color=color, s=22, zorder=3)
        ax.scatter([1 / row["rho"]], [1.0], marker="D", color=color, edgecolor="black", s=30, zorder=4)
    ax.axhline(1.0, color="black", linewidth=1.0, label="rho_cost = 1: pays above, not below (◆ break-even r*)")
    for r in ratios:
        ax.axvline(r, color="#cccccc", linewidth=0.8, zorder=0)
    if measured is not None and measured > 0:
        ax.axvline(measured, color="tab:red", linewidth=1.6, label=f"measured r = {measured:.3g}")
    from matplotlib.ticker import FuncFormatter, NullFormatter

    ax.set_xscale("log")
    ax.set_yscale("log")
    for axis in (ax.xaxis, ax.yaxis):  # plain numbers (5, 10, 40), not 4x10^0; no crowded minor labels
        axis.set_major_formatter(FuncFormatter(lambda v, _pos: f"{v:g}"))
        axis.set_minor_formatter(NullFormatter())
    if ratios:  # the configured ratios labelled on the axis too
        from matplotlib.ticker import FixedLocator

        ax.xaxis.set_minor_locator(FixedLocator(sorted(set(ratios))))
        ax.xaxis.set_minor_formatter(FuncFormatter(lambda v, _pos: f"{v:g}"))
    ax.set_xlim(r_lo, r_hi)
    y_lo, y_hi = _log_span(y_values, pad=1.5)
    ax.set_ylim(y_lo, y_hi)
    ax.set_xlabel("cost ratio r = c_human / c_aug (log; grey: configured ratios)")
    ax.set_ylabel("rho_cost = rho x r (log)")
    ax.set_title("Cost-adjusted trade rate with 95% bootstrap bands")
    ax.grid(True, which="major", color="#eeeeee")
    ax.legend(fontsize=7, loc="upper left", framealpha=0.9)
    notes = _null_notes(trade) + [
        f"{r['arm']} {r['estimator']}: rho = {r['rho']:.3g} <= 0, never pays (not drawn on a log axis)"
        for r in defined.filter(pl.col("rho") <= 0).iter_rows(named=True)
    ]
    fig.tight_layout()
    if notes:
        fig.text(0.01, 0.01, "Not drawn:\n" + "\n".join(notes), fontsize=7, va="bottom")
        fig.subplots_adjust(bottom=0.16 + 0.04 * len(notes))
    return fig


def plot_funnel(path: Path, funnel: pl.DataFrame) -> Path:
    """Left: how many variants survive each stage overall. Right: proposed vs accepted per operator."""
    plt = _pyplot()
    stages = ["attempts", "proposed", *[f"pass_{f}" for f in FACTORS], "accepted"]
    total = funnel.filter(pl.col("operator") == "all")
    per_op = funnel.filter(pl.col("operator") != "all").sort("operator")
    fig, (left, right) = plt.subplots(1, 2, figsize=(9.5, 4.0), width_ratios=[1, 1.2])
    values = [int(total[s][0]) if total.height and s in total.columns else 0 for s in stages]
    bars = left.barh(stages[::-1], values[::-1], color="tab:blue")
    left.bar_label(bars, fontsize=7, padding=2)
    left.set_title("Gate funnel (all operators)")
    left.set_xlabel("variants (each factor counted over all proposed)")
    names = per_op["operator"].to_list()
    ys = list(range(len(names)))
    for column, dy, color in (("proposed", 0.2, "#bbbbbb"), ("accepted", -0.2, "tab:green")):
        if column in per_op.columns:
            right.barh([y + dy for y in ys], per_op[column].to_list(), height=0.4, color=color, label=column)
    right.set_yticks(ys, names, fontsize=7)
    right.invert_yaxis()
    right.set_title("Per operator")
    right.set_xlabel("variants")
    right.legend(fontsize=7)
    return _save(fig, path)


def plot_rho_per_arm(path: Path, trade: pl.DataFrame) -> Path:
    """rho with its 95% bootstrap CI per augmented arm and estimator. The status sits in the row label and each
    reason in a numbered, wrapped note under the plot, so no text runs over the border."""
    plt = _pyplot()
    rows = trade.sort("arm", "estimator").to_dicts()
    notes: list[str] = []
    labels = []
    fig, ax = plt.subplots(figsize=(7.2, 1.4 + 0.5 * max(1, len(rows))))
    for y, row in enumerate(rows):
        ok = _identified(row)
        status = "null" if row["rho"] is None else ("identified" if ok else "not identified")
        why = row["reason"] if row["rho"] is None else (None if ok else row.get("identified_reason"))
        mark = ""
        if why:
            notes.append(f"[{len(notes) + 1}] {row['arm']} {row['estimator']}: {why}")
            mark = f" [{len(notes)}]"
        labels.append(f"{row['arm']} · {row['estimator'].replace('_', ' ')}\n{status}{mark}")
        if row["rho"] is None:
            ax.scatter([0], [y], marker="x", color=GREY, s=40, zorder=3)
            continue
        low, high = row.get("rho_low"), row.get("rho_high")
        xerr = None
        if low is not None and high is not None:
            xerr = [[max(0.0, row["rho"] - low)], [max(0.0, high - row["rho"])]]
        color = "tab:blue" if ok else "tab:orange"
        ax.errorbar(
            [row["rho"]], [y], xerr=xerr, fmt="o", capsize=4, color=color, markerfacecolor=color if ok else "white"
        )
    ax.axvline(0, color="black", linewidth=0.6)
    ax.set_yticks(range(len(rows)), labels, fontsize=7.5)
    ax.set_ylim(-0.7, len(rows) - 0.3)
    ax.invert_yaxis()
    ax.margins(x=0.15)
    ax.set_xlabel("rho = human tasks replaced per augmented task (95% bootstrap CI; hollow: not identified)")
    ax.set_title("Trade rate per augmented arm")
    if notes:
        wrapped = "\n".join(textwrap.fill(n, 120, subsequent_indent="     ") for n in notes)
        fig.text(0.01, -0.02, wrapped, fontsize=6.5, va="top", ha="left")
    fig.tight_layout()
    fig.savefig(path, dpi=110, bbox_inches="tight")
    plt.close(fig)
    return path


def _smooth(values: Sequence[float], window: int) -> list[float]:
    """Trailing moving average (window steps, fewer at the start): the trend without the per-step noise."""
    out, total = [], 0.0
    for i, v in enumerate(values):
        total += v
        if i >= window:
            total -= values[i - window]
        out.append(total / min(i + 1, window))
    return out


def _arm_order(arm: str) -> tuple[int, float, str]:
    """human-4, human-8, human-16, then aug-0.50, aug-0.75 (numbers as numbers, not text)."""
    kind, _, size = arm.partition("-")
    try:
        return (0 if kind == "human" else 1, float(size), arm)
    except ValueError:
        return (2, 0.0, arm)


def reward_curve_figure(log: pl.DataFrame) -> Any:
    """Training reward per step: raw per-seed points faint, the mean over seeds smoothed on top, one panel per
    arm when there are more than two (overlaid lines of many arms at one prompt per step are unreadable), and
    the fraction of zero-gradient groups under each. Hollow markers: steps whose every group scored the same."""
    plt = _pyplot()
    arms = sorted(log["arm"].unique().to_list(), key=_arm_order)
    cols = 1 if len(arms) <= 2 else min(3, len(arms))
    panels = [arms] if len(arms) <= 2 else [[a] for a in arms]
    nrows = -(-len(panels) // cols)
    fig, axes = plt.subplots(
        2 * nrows, cols, figsize=(4.2 * cols if cols > 1 else 6.4, 3.3 * nrows + 0.6), squeeze=False,
        height_ratios=[2, 1] * nrows, sharex=True,
    )  # fmt: skip
    colors = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    color_of = {a: colors[i % len(colors)] for i, a in enumerate(arms)}
    steps_max = int(log["step"].max() or 1)
    window = max(1, steps_max // 8)
    for p, group in enumerate(panels):
        top, bottom = axes[2 * (p // cols)][p % cols], axes[2 * (p // cols) + 1][p % cols]
        for arm in group:
            rows = log.filter(pl.col("arm") == arm).sort("step")
            color = color_of[arm]
            top.scatter(rows["step"].to_list(), rows["reward"].to_list(), color=color, alpha=0.25, s=9, linewidths=0)
            mean = (
                rows.group_by("step")
                .agg(pl.col("reward").mean(), pl.col("frac_reward_zero_std").mean(), pl.col("zero_gradient").all())
                .sort("step")
            )
            steps = mean["step"].to_list()
            smooth = _smooth(mean["reward"].to_list(), window)
            top.plot(steps, smooth, color=color, linewidth=2, label=f"{arm} (mean, {window}-step average)")
            zero = [(s, v) for s, v, z in zip(steps, smooth, mean["zero_gradient"].to_list(), strict=True) if z]
            if zero:
                top.scatter(*zip(*zero, strict=True), facecolors="none", edgecolors=color, s=22, zorder=3)
            bottom.plot(steps, mean["frac_reward_zero_std"].to_list(), color=color)
        top.set_title(group[0] if len(group) == 1 else "training reward per arm", fontsize=9)
        top.set_ylabel("reward")
        top.legend(fontsize=6.5) if len(group) > 1 else None
        bottom.set_ylim(-0.05, 1.05)
        bottom.set_ylabel("zero-std\ngroups", fontsize=7)
        bottom.set_xlabel("optimizer step")
    for p in range(len(panels), nrows * cols):
        axes[2 * (p // cols)][p % cols].set_visible(False)
        axes[2 * (p // cols) + 1][p % cols].set_visible(False)
    fig.suptitle("GRPO training reward (faint: raw per-seed points; hollow: zero-gradient step)", fontsize=10)
    fig.tight_layout()
    return fig


__all__ = [
    "plain_log_ticks",
    "plot_funnel",
    "plot_rho_cost",
    "plot_rho_per_arm",
    "plot_scaling_curve",
    "reward_curve_figure",
    "rho_cost_figure",
    "rho_cost_style",
]

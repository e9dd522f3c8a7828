"""The report's figures, drawn so they read at a glance and never hide what did not work.

- Scaling curve: plain task-count ticks (4, 8, 16) on a log axis; augmented arms drawn a little to the right
  of a human arm of the same size, so their error bars do not overlap.
- rho_cost against r: identified estimates in colour with their CI band, unidentified ones grey and labelled
  so, null estimates listed under the plot with their reason, and the measured cost ratio marked (with an
  arrow and its value when it lies far off the axis).
- Gate funnel: attempts -> proposed -> each factor -> accepted, overall and per operator.
- rho per arm: each estimator's rho with its bootstrap CI, unidentified hollow and grey, null as a cross at 0
  with its reason.
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
    """Line style of one estimate in the rho_cost figure: an estimate that is not identified is greyed out."""
    if _identified(row):
        return {}
    return {"color": "lightgrey", "linestyle": ":" if row.get("estimator") == "log_interpolation" else "--"}


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
    augmented = sorted((a for a in arms if not a.is_human_only), key=lambda a: (a.n_human + a.n_aug, a.arm))
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


def plot_rho_cost(path: Path, trade: pl.DataFrame, ratios: Sequence[float], measured: float | None) -> Path:
    """rho_cost(r) = rho x r for every estimate, with the configured ratios and the measured one marked."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(6.8, 4.6))
    r_max = max(ratios) * 1.25 if ratios else 50.0
    on_axis = measured is not None and measured <= 3 * r_max
    if on_axis and measured is not None:
        r_max = max(r_max, measured * 1.15)
    grid = [r_max * i / 200 for i in range(1, 201)]
    defined = trade.filter(pl.col("rho").is_not_null()).sort("arm", "estimator")
    for row in defined.iter_rows(named=True):
        ok = _identified(row)
        label = f"{row['arm']} {row['estimator']}" + ("" if ok else " (not identified)")
        line = ax.plot(grid, [row["rho"] * r for r in grid], label=label, **rho_cost_style(row))[0]
        if row.get("rho_low") is not None and row.get("rho_high") is not None:
            ax.fill_between(
                grid,
                [row["rho_low"] * r for r in grid],
                [row["rho_high"] * r for r in grid],
                color=line.get_color(),
                alpha=0.18 if ok else 0.07,
            )
        ax.scatter(ratios, [row["rho"] * r for r in ratios], color=line.get_color(), s=14, zorder=3)
    ax.axhline(1.0, color="black", linestyle="-.", linewidth=0.8, label="break-even (rho_cost = 1)")
    for r in ratios:
        ax.axvline(r, color="#dddddd", linewidth=0.6, zorder=0)
    if measured is not None and on_axis:
        ax.axvline(measured, color="tab:red", linewidth=1.2, label=f"measured r = {measured:.3g}")
    elif measured is not None:
        ax.annotate(
            f"measured r = {measured:.3g}\n(off the axis) →",
            xy=(1.0, 0.5),
            xycoords="axes fraction",
            xytext=(-8, 0),
            textcoords="offset points",
            ha="right",
            va="center",
            color="tab:red",
            fontsize=8,
        )
    ax.set_xlim(0, r_max)
    ax.set_xlabel("cost ratio r = c_human / c_aug (grey verticals: configured ratios)")
    ax.set_ylabel("rho_cost = rho x r")
    ax.set_title("Cost-adjusted trade rate (95% bootstrap bands)")
    nulls = _null_notes(trade)
    if nulls:
        fig.text(0.01, 0.01, "Null estimates (not drawn):\n" + "\n".join(nulls), fontsize=7, va="bottom")
        fig.subplots_adjust(bottom=0.16 + 0.04 * len(nulls))
    if defined.height or measured is not None:
        ax.legend(fontsize=7, loc="upper left")
    if nulls:
        fig.savefig(path, dpi=110, bbox_inches="tight")
        plt.close(fig)
        return path
    return _save(fig, path)


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
    """rho with its 95% bootstrap CI per augmented arm and estimator."""
    plt = _pyplot()
    rows = trade.sort("arm", "estimator").to_dicts()
    fig, ax = plt.subplots(figsize=(6.4, 1.6 + 0.45 * max(1, len(rows))))
    labels = []
    for y, row in enumerate(rows):
        labels.append(f"{row['arm']}\n{row['estimator']}")
        if row["rho"] is None:
            ax.scatter([0], [y], marker="x", color=GREY, s=40, zorder=3)
            ax.annotate(
                f"null: {_short(row['reason'], 60)}", (0, y), xytext=(8, 0), textcoords="offset points", fontsize=7
            )
            continue
        ok = _identified(row)
        low, high = row.get("rho_low"), row.get("rho_high")
        xerr = None
        if low is not None and high is not None:
            xerr = [[max(0.0, row["rho"] - low)], [max(0.0, high - row["rho"])]]
        ax.errorbar(
            [row["rho"]],
            [y],
            xerr=xerr,
            fmt="o",
            capsize=4,
            color="tab:blue" if ok else GREY,
            markerfacecolor="tab:blue" if ok else "white",
        )
        note = "identified" if ok else f"not identified: {_short(row.get('identified_reason'), 55)}"
        ax.annotate(note, (row["rho"], y), xytext=(0, -14), textcoords="offset points", fontsize=6.5, ha="center")
    ax.axvline(0, color="black", linewidth=0.6)
    ax.set_yticks(range(len(rows)), labels, fontsize=7)
    ax.set_ylim(-0.8, len(rows) - 0.2)
    ax.invert_yaxis()
    ax.set_xlabel("rho = human tasks replaced per augmented task (95% bootstrap CI)")
    ax.set_title("Trade rate per augmented arm")
    return _save(fig, path)


__all__ = [
    "plain_log_ticks",
    "plot_funnel",
    "plot_rho_cost",
    "plot_rho_per_arm",
    "plot_scaling_curve",
    "rho_cost_style",
]

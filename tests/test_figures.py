"""Figures a researcher would put in a paper: rho_cost on log-log axes with visible bands and the measured r on
the axis however far it lies; reward curves one panel per arm when there are many."""

from __future__ import annotations

import polars as pl


def _trade() -> pl.DataFrame:
    return pl.DataFrame(
        {
            "arm": ["aug-0.50", "aug-0.50"],
            "estimator": ["dominance_bound", "log_interpolation"],
            "rho": [0.27, 0.4],
            "rho_low": [0.1, 0.05],
            "rho_high": [0.5, 0.9],
            "identified": [True, False],
            "reason": ["matches human-16", "interpolated"],
        }
    )


def test_rho_cost_is_log_log_with_visible_bands_and_the_measured_ratio_on_the_axis() -> None:
    from matplotlib.collections import PolyCollection
    from matplotlib.colors import to_rgb

    from rlvr_assets.core.economics.figures import rho_cost_figure

    fig = rho_cost_figure(_trade(), [5, 10, 40], 3.2e4)
    ax = fig.axes[0]
    assert ax.get_xscale() == "log" and ax.get_yscale() == "log"
    low, high = ax.get_xlim()
    assert low <= 5 and high >= 3.2e4, "the measured r (and every configured ratio) must be on the axis"
    bands = [c for c in ax.collections if isinstance(c, PolyCollection)]
    assert len(bands) == 2 and min(b.get_alpha() for b in bands) >= 0.15
    lines = {line.get_label(): line for line in ax.get_lines()}
    unidentified = next(line for label, line in lines.items() if "NOT identified" in label)
    assert unidentified.get_linestyle() == "--"
    red, green, blue = to_rgb(unidentified.get_color())
    assert max(red, green, blue) - min(red, green, blue) > 0.2, "a not-identified estimate must not fade to grey"
    assert any(label.startswith("measured r = 3.2e+04") for label in lines)
    assert any("r* = 3.7" in label for label in lines)  # the break-even ratio 1/0.27 is in the legend


def test_reward_curves_get_one_panel_per_arm_when_there_are_many() -> None:
    from rlvr_assets.core.economics.figures import reward_curve_figure

    arms = ["aug-0.50", "human-16", "human-4", "human-8"]
    log = pl.DataFrame(
        [
            {"arm": a, "seed": 0, "step": s, "reward": s / 10, "frac_reward_zero_std": 0.5, "zero_gradient": s == 2}
            for a in arms
            for s in range(1, 9)
        ]
    )
    fig = reward_curve_figure(log)
    titles = [ax.get_title() for ax in fig.axes if ax.get_visible() and ax.get_title()]
    assert titles == ["human-4", "human-8", "human-16", "aug-0.50"]  # humans by size, then augmented
    first = next(ax for ax in fig.axes if ax.get_title() == "human-4")
    raw = [c for c in first.collections if c.get_alpha() is not None and c.get_alpha() < 0.5]
    assert raw, "raw per-step points are drawn faint under the smoothed line"

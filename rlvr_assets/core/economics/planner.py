"""`rlvr-assets plan`: the items x seeds x human sizes a verdict needs, from a pilot's variance components or
stated priors, before GPU hours are spent (formulas: docs/statistics.md).

Model of one trained arm's score (points), items i, training seeds s:
    score = mu_arm + mean_i(u_i + ua_{arm,i}) + mean_s(seed_{arm,s}) + mean_{s,i}(e_{arm,s,i})
The item effect u_i is shared by every arm (the items are paired) and cancels in every comparison; what is
left per arm is
    v(I, S) = (sigma_ua^2 + sigma_e^2 / S) / I + sigma_seed^2 / S
so seed variance does not shrink with items. Every goal (a slope, the identification of rho, a verdict, a
width) is a cap v* on v; for each seed count the items follow in closed form:
    I >= (sigma_ua^2 + sigma_e^2 / S) / (v* - sigma_seed^2 / S)     (impossible when v* <= sigma_seed^2 / S)
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from statistics import NormalDist

import numpy as np

from rlvr_assets.core.economics.item_scores import ItemScores
from rlvr_assets.core.economics.trade_stats import pooled_seed_variance

_Z = NormalDist()
PRIOR_ITEM_SD = 30.0  # points: item x arm interaction of two arms' per-item pass@1 (binary rewards near 35%)
PRIOR_RESIDUAL_SD = 25.0  # points: a training seed's item-level noise around the arm's per-item mean
PRIOR_SEED_SD = 2.0  # points: an arm's score between training seeds


@dataclass(frozen=True)
class VarianceComponents:
    """Points^2. `source` says where each came from (a pilot or a stated prior)."""

    item_arm: float
    residual: float
    seed: float
    source: str
    seed_measured: bool

    def per_arm(self, items: float, seeds: int) -> float:
        """v(I, S): the variance of one arm's score that no pairing removes."""
        return (self.item_arm + self.residual / seeds) / items + self.seed / seeds


def priors(
    item_sd: float = PRIOR_ITEM_SD, residual_sd: float = PRIOR_RESIDUAL_SD, seed_sd: float = PRIOR_SEED_SD
) -> VarianceComponents:
    return VarianceComponents(
        item_sd**2,
        residual_sd**2,
        seed_sd**2,
        f"stated priors: item x arm SD {item_sd:g}, residual SD {residual_sd:g}, seed SD {seed_sd:g} points",
        False,
    )


def estimate_components(scores: ItemScores, seed_sd_prior: float = PRIOR_SEED_SD) -> VarianceComponents:
    """Method of moments over the trained arms of a pilot (the base model left out): the item x seed residual
    pooled within arms, the item x arm interaction from the per-item means (minus the residual share), the
    seed variance pooled over arms (`trade_stats.pooled_seed_variance`); with one seed the residual cannot be
    told from the interaction (all of it is counted as interaction, which does not shrink with seeds) and
    the seed variance is the stated prior."""
    trained = [a for a in scores.arms if not a.is_base]
    if len(trained) < 2:
        raise ValueError("a pilot needs at least two trained arms")
    resid_ss, resid_df, seeds_total = 0.0, 0, 0
    for a in trained:
        r = 100.0 * scores.rewards[a.name]
        s = r.shape[0]
        seeds_total += s
        if s >= 2:
            res = r - r.mean(axis=1, keepdims=True) - r.mean(axis=0, keepdims=True) + r.mean()
            resid_ss += float((res**2).sum())
            resid_df += (s - 1) * (r.shape[1] - 1)
    residual = resid_ss / resid_df if resid_df else 0.0
    means = np.stack([100.0 * scores.rewards[a.name].mean(axis=0) for a in trained])  # (arms, items)
    inter = means - means.mean(axis=0, keepdims=True) - means.mean(axis=1, keepdims=True) + means.mean()
    n_arms, n_items = means.shape
    ms_inter = float((inter**2).sum()) / ((n_arms - 1) * (n_items - 1))
    mean_seeds = seeds_total / len(trained)
    item_arm = max(ms_inter - residual / mean_seeds, 0.0)
    sigma_seed, df = pooled_seed_variance(scores)
    measured = df > 0
    seed = sigma_seed if measured else seed_sd_prior**2
    where = f"pilot of {n_arms} trained arms x {n_items} items x {mean_seeds:g} seeds"
    if item_arm == 0.0 and residual == 0.0:  # every arm scored every item the same: the pilot says nothing
        prior = priors(seed_sd=math.sqrt(sigma_seed) if df else seed_sd_prior)
        return VarianceComponents(
            prior.item_arm,
            prior.residual,
            prior.seed,
            f"{where}, whose rewards do not vary between arms: item priors used ({prior.source})",
            df > 0,
        )
    seed_note = f"seed variance measured on {df} df" if measured else f"seed SD a stated prior of {seed_sd_prior:g}"
    return VarianceComponents(item_arm, residual, seed, f"{where}; {seed_note}", measured)


def _design(sizes: Sequence[int]) -> tuple[np.ndarray, float, float]:
    x = np.log2(np.asarray(sizes, dtype=float))
    return x, float(x.mean()), float(((x - x.mean()) ** 2).sum())


def slope_cap(sizes: Sequence[int], slope: float, power: float = 0.8, alpha: float = 0.05) -> float:
    """v* to see a slope of `slope` points per doubling with the two-sided (1 - alpha) CI of b above 0 at
    `power`: Var(b) = v / Sxx, so v* = Sxx (slope / (z_{1-alpha/2} + z_power))^2."""
    _, _, sxx = _design(sizes)
    return sxx * (slope / (_Z.inv_cdf(1 - alpha / 2) + _Z.inv_cdf(power))) ** 2


def _rho_var_factor(sizes: Sequence[int], slope: float, rho: float, n_base: int, n_aug: int) -> float:
    """K^2 with Var(rho) = K^2 v (delta method over the joint curve's a, b and the augmented arm's score)."""
    x, xm, sxx = _design(sizes)
    n_eq = n_base + rho * n_aug
    x0 = math.log2(n_base)
    g = slope * (math.log2(n_eq) - x0)  # the augmented arm's true gain over the curve at n_base
    var_g = 1 + 1 / len(x) + (x0 - xm) ** 2 / sxx
    var_b = 1 / sxx
    cov = -(x0 - xm) / sxx
    dn = n_eq * math.log(2) / slope
    var_n = dn**2 * (var_g + (g / slope) ** 2 * var_b - 2 * (g / slope) * cov)
    return var_n / n_aug**2


def identified_cap(
    sizes: Sequence[int], slope: float, rho: float, n_base: int, n_aug: int, power: float = 0.8
) -> float:
    """v* for `identified` (slope and the augmented gain both significant, two-sided 95%) with joint power
    `power`: each at sqrt(power), treating the two tests as independent."""
    each = math.sqrt(power)
    z = _Z.inv_cdf(0.975) + _Z.inv_cdf(each)
    x, xm, sxx = _design(sizes)
    x0 = math.log2(n_base)
    gain = slope * (math.log2(n_base + rho * n_aug) - x0)
    gain_cap = (gain / z) ** 2 / (1 + 1 / len(x) + (x0 - xm) ** 2 / sxx) if gain > 0 else 0.0
    return min(slope_cap(sizes, slope, each), gain_cap)


def verdict_cap(
    sizes: Sequence[int], slope: float, rho: float, n_base: int, n_aug: int, r: float, power: float = 0.8
) -> float:
    """v* for a `pays` verdict at cost ratio r when the true rho_cost = rho r > 1 (or `does not pay` when
    < 1): |rho - 1/r| >= (z_0.95 + z_power) SE(rho), SE(rho)^2 = K^2 v."""
    z = _Z.inv_cdf(0.95) + _Z.inv_cdf(power)
    return ((rho - 1 / r) / z) ** 2 / _rho_var_factor(sizes, slope, rho, n_base, n_aug)


def width_cap(sizes: Sequence[int], slope: float, rho: float, n_base: int, n_aug: int, width: float) -> float:
    """v* for a 95% CI of rho no wider than `width` (expected): 2 z_0.975 SE(rho) <= width."""
    return (width / (2 * _Z.inv_cdf(0.975))) ** 2 / _rho_var_factor(sizes, slope, rho, n_base, n_aug)


def items_needed(comp: VarianceComponents, cap: float, seeds: int) -> int | None:
    """The fewest items with v(I, seeds) <= cap; None when the seed variance alone exceeds the cap."""
    room = cap - comp.seed / seeds
    if room <= 0 or not math.isfinite(room):
        return None
    return max(2, math.ceil((comp.item_arm + comp.residual / seeds) / room))


@dataclass(frozen=True)
class PlanRow:
    sizes: tuple[int, ...]
    seeds: int
    goal: str
    items: int | None
    train_runs: int  # arms x seeds: the GPU cost driver

    def words(self) -> str:
        if self.items is None:
            return f"{self.seeds} seed(s): impossible at any item count (seed variance alone is too large)"
        return f"{self.seeds} seed(s) x {self.items} items ({self.train_runs} training runs)"


def plan(
    comp: VarianceComponents,
    sizes_options: Sequence[Sequence[int]],
    *,
    slope: float = 5.0,
    rho: float = 1.0,
    n_base: int = 4,
    n_aug: int = 12,
    ratio: float = 5.0,
    width: float | None = None,
    aug_arms: int = 1,
    seeds_options: Sequence[int] = (1, 2, 3, 5),
    power: float = 0.8,
) -> list[PlanRow]:
    """For each human size set and seed count: the items each goal needs at `power`."""
    rows = []
    for sizes in sizes_options:
        goals = {
            f"slope +{slope:g}/doubling": slope_cap(sizes, slope, power),
            "identified": identified_cap(sizes, slope, rho, n_base, n_aug, power),
            f"verdict at r={ratio:g}": verdict_cap(sizes, slope, rho, n_base, n_aug, ratio, power),
        }
        if width is not None:
            goals[f"rho CI width {width:g}"] = width_cap(sizes, slope, rho, n_base, n_aug, width)
        runs = len(sizes) + aug_arms
        for s in seeds_options:
            for goal, cap in goals.items():
                rows.append(PlanRow(tuple(sizes), s, goal, items_needed(comp, cap, s), runs * s))
    return rows


def plan_lines(comp: VarianceComponents, rows: Sequence[PlanRow], slope: float, power: float = 0.8) -> list[str]:
    """The budget in plain words: per human size set, the cheapest seeds x items for the slope goal."""
    lines = [
        f"Variance components ({comp.source}): item x arm {comp.item_arm:.0f}, residual {comp.residual:.0f}, "
        f"seed {comp.seed:.2f} points^2."
    ]
    for sizes in dict.fromkeys(r.sizes for r in rows):
        mine = [r for r in rows if r.sizes == sizes and r.goal.startswith("slope")]
        ok = [r for r in mine if r.items is not None]
        if not ok:
            lines.append(
                f"A +{slope:g}-point slope per doubling over human sizes {list(sizes)} is out of reach at "
                f"{power:.0%} power with up to {max(r.seeds for r in mine)} seeds."
            )
            continue
        # one seed cannot measure seed variance, so its intervals would be over items only: not recommended
        measured = [r for r in ok if r.seeds >= 2] or ok
        best = min(measured, key=lambda r: (r.items or 0) * r.train_runs)
        options = "; ".join(r.words() for r in ok)
        lines.append(
            f"To see a +{slope:g}-point slope per doubling over human sizes {list(sizes)} at {power:.0%} power: "
            f"{options}. Cheapest with seed variance measured (>= 2 seeds): {best.words()}."
        )
    return lines


def pilot_from_frames(corpus_arms: dict, scores_rows: dict, benchmark_of: dict | None) -> ItemScores:
    """An ItemScores pilot from the pipeline's tables (arm shapes, arm -> seed -> item -> reward)."""
    return ItemScores.from_rewards(corpus_arms, scores_rows, benchmark_of)


def ladder(start: int, count: int) -> tuple[int, ...]:
    """`count` human sizes doubling from `start`."""
    return tuple(start * 2**k for k in range(count))

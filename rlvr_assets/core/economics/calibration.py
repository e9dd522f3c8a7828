"""Calibration by simulation: item-level studies drawn from a known truth, run through the pipeline's own
estimators (`core/economics/trade_stats.py`), to measure how often the intervals cover the truth and how often a
verdict or `identified` is wrong. `perf/calibration.py` prints the table; a fast test runs a few studies.

The simulated study: human arms of sizes 4, 8, 16, 32 and one augmented arm of n_base = 4 + n_aug = 12.
Item i has a base solve probability p_i ~ U(0.2, 0.5); an arm adds slope x log2(n / 4) points (the
augmented arm at its true N_equiv = 4 + rho x 12), an item x arm deviation N(0, 3 points) and per training
seed a seed deviation N(0, seed_sd); each reward is Bernoulli. The truth is linear in log2(n) by
construction, so the joint curve is the right model and the estimand is known exactly.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from rlvr_assets.core.economics.item_scores import ArmInfo, ItemScores
from rlvr_assets.core.economics.trade_stats import CostRatio, decide, fit_curve, item_score_draws, joint_curve_estimate

HUMAN_SIZES = (4, 8, 16, 32)
N_BASE, N_AUG = 4, 12


@dataclass(frozen=True)
class Truth:
    slope: float  # points per doubling of human tasks
    rho: float | None  # the augmented arm's true trade rate (None: give it `aug_gain` points over its base)
    aug_gain: float = 0.0
    seed_sd: float = 2.0  # points
    item_arm_sd: float = 3.0  # points


def simulate(truth: Truth, items: int, seeds: int, rng: np.random.Generator) -> ItemScores:
    """One study's item-level rewards (two benchmarks of equal size)."""
    p = rng.uniform(0.2, 0.5, items)
    arms = [ArmInfo(f"h{n}", n, 0, False) for n in HUMAN_SIZES] + [ArmInfo("aug", N_BASE, N_AUG, True)]
    rewards = {}
    for a in arms:
        if a.augmented:
            effect = (
                truth.slope * math.log2((N_BASE + truth.rho * N_AUG) / 4) if truth.rho is not None else truth.aug_gain
            )
        else:
            effect = truth.slope * math.log2(a.n_human / 4)
        arm_p = p + (effect + rng.normal(0.0, truth.item_arm_sd, items)) / 100.0
        seed_p = arm_p[None, :] + rng.normal(0.0, truth.seed_sd, (seeds, 1)) / 100.0
        rewards[a.name] = (rng.random((seeds, items)) < np.clip(seed_p, 0.0, 1.0)).astype(float)
    bench = tuple("b1" if k % 2 else "b2" for k in range(items))
    names = tuple(f"q{k:04d}" for k in range(items))
    return ItemScores(tuple(arms), names, bench, {a.name: tuple(range(seeds)) for a in arms}, rewards)


@dataclass(frozen=True)
class StudyResult:
    covered: bool  # the two-sided 95% rho interval contains the true rho (an unbounded one does)
    lower_covered: bool  # the one-sided 95% lower bound of rho_cost is at or below the truth
    unbounded: bool
    verdict: str  # at r = 1 / true rho (true rho_cost = 1)
    identified: bool


def run_study(truth: Truth, items: int, seeds: int, samples: int, rng: np.random.Generator) -> StudyResult:
    """Simulate one study and judge it with the joint curve (the pipeline's primary estimator)."""
    scores = simulate(truth, items, seeds, rng)
    draws = item_score_draws(scores, samples, int(rng.integers(2**31)))
    fit = fit_curve(draws)
    aug = next(a for a in draws.arms if a.arm == "aug")
    est, rho_draws, iv = joint_curve_estimate(aug, fit, draws)
    assert iv is not None and rho_draws is not None
    r = 1.0 / truth.rho if truth.rho else 1.0
    row = {
        **est.as_row(),
        "primary": True,
        "rho_low": iv.low,
        "rho_high": iv.high,
        "rho_low_1s": iv.low_1s,
        "rho_high_1s": iv.high_1s,
        "rho_draws": rho_draws.tolist(),
        "rests_on": draws.resamples,
    }
    decision = decide(row, CostRatio(r))
    true_rho = truth.rho if truth.rho is not None else math.nan
    low = -math.inf if iv.low is None else iv.low
    high = math.inf if iv.high is None else iv.high
    low_1s = -math.inf if iv.low_1s is None else iv.low_1s
    return StudyResult(
        bool(low <= true_rho <= high),
        bool(low_1s * r <= true_rho * r),
        iv.low is None and iv.high is None,
        decision.verdict,
        bool(est.identified),
    )


@dataclass(frozen=True)
class CalibrationRow:
    items: int
    seeds: int
    studies: int
    samples: int
    rho_coverage: float  # target 0.93-0.97
    rho_cost_lower_coverage: float  # one-sided 95%: target >= 0.95 (within 0.93-0.97)
    unbounded: float
    false_pays: float  # truth rho_cost = 1: target <= 0.05
    false_identified: float  # human slope 0: target <= 0.05


def calibrate(
    items: int, seeds: int, studies: int, samples: int, seed: int = 0, truth: Truth | None = None
) -> CalibrationRow:
    """`studies` simulated studies with a rising curve (true rho 1, judged at r = 1) and as many with a flat
    human curve (slope 0, the augmented arm +5 points over its base)."""
    rng = np.random.default_rng(seed)
    truth = truth or Truth(slope=5.0, rho=1.0)
    flat = Truth(slope=0.0, rho=None, aug_gain=5.0, seed_sd=truth.seed_sd, item_arm_sd=truth.item_arm_sd)
    rising = [run_study(truth, items, seeds, samples, rng) for _ in range(studies)]
    flats = [run_study(flat, items, seeds, samples, rng) for _ in range(studies)]
    n = float(studies)
    return CalibrationRow(
        items,
        seeds,
        studies,
        samples,
        sum(s.covered for s in rising) / n,
        sum(s.lower_covered for s in rising) / n,
        sum(s.unbounded for s in rising) / n,
        sum(s.verdict == "pays" for s in rising) / n,
        sum(s.identified for s in flats) / n,
    )


def calibration_table(rows: Sequence[CalibrationRow]) -> str:
    """Markdown table of the calibration rows."""
    head = (
        "| items | seeds | studies | draws | rho 95% coverage | rho_cost lower-bound coverage | unbounded | "
        "false pays | false identified |\n|---|---|---|---|---|---|---|---|---|"
    )
    body = [
        f"| {r.items} | {r.seeds} | {r.studies} | {r.samples} | {r.rho_coverage:.3f} | {r.rho_cost_lower_coverage:.3f} "
        f"| {r.unbounded:.3f} | {r.false_pays:.3f} | {r.false_identified:.3f} |"
        for r in rows
    ]
    return "\n".join([head, *body])

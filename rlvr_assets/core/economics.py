"""Trade rate and cost-adjusted trade rate between augmented and human-authored tasks.

For an augmented arm (n_base humans + n_aug variants) find N_equiv, the human task count that reaches the
same score on the human-only scaling curve; rho = (N_equiv - n_base) / n_aug; rho_cost(r) = rho * r with
r = c_human / c_aug; break-even r* = 1 / rho. Two estimators, never silent extrapolation:

- dominance_bound: the largest human arm the augmented arm matches (its score >= the human arm's score,
  or >= the human arm's lower CI bound when CIs are given). A lower bound on N_equiv and so on rho.
- log_interpolation: invert the (isotonic) human curve, linear in log task count. Outside the measured
  curve the estimate is null with the reason.
"""

from __future__ import annotations

import csv
import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import NamedTuple

import polars as pl

COST_ROW_SCHEMA = {
    "arm": pl.String,
    "estimator": pl.String,
    "cost_ratio": pl.Float64,
    "n_equiv": pl.Float64,
    "rho": pl.Float64,
    "rho_cost": pl.Float64,
    "break_even": pl.Float64,
    "reason": pl.String,
}


@dataclass(frozen=True)
class ArmScore:
    arm: str
    n_human: int
    n_aug: int
    score: float
    ci_low: float | None = None
    ci_high: float | None = None
    augmented: bool | None = None  # None: decided by n_aug (a CSV row with n_aug = 0 is human-only)

    @property
    def is_human_only(self) -> bool:
        return self.n_aug == 0 if self.augmented is None else not self.augmented


class ArmShape(NamedTuple):
    """What an arm trained on; an augmented arm stays augmented even if the gate left it no variants."""

    n_human: int
    n_aug: int
    augmented: bool


@dataclass(frozen=True)
class TradeEstimate:
    arm: str
    estimator: str
    n_base: int
    n_aug: int
    score: float
    n_equiv: float | None
    rho: float | None
    reason: str


@dataclass(frozen=True)
class CostRow:
    arm: str
    estimator: str
    cost_ratio: float
    n_equiv: float | None
    rho: float | None
    rho_cost: float | None
    break_even: float | None
    reason: str

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


class ArmsFileError(ValueError):
    pass


def _isotonic(values: Sequence[float]) -> list[float]:
    """Pool-adjacent-violators: the non-decreasing fit, so a noisy human curve can be inverted."""
    blocks: list[list[float]] = []  # [sum, count]
    for v in values:
        blocks.append([v, 1])
        while len(blocks) > 1 and blocks[-2][0] / blocks[-2][1] > blocks[-1][0] / blocks[-1][1]:
            s, c = blocks.pop()
            blocks[-1][0] += s
            blocks[-1][1] += c
    fitted: list[float] = []
    for s, c in blocks:
        fitted.extend([s / c] * int(c))
    return fitted


def human_curve(arms: Sequence[ArmScore]) -> list[ArmScore]:
    curve = sorted((a for a in arms if a.is_human_only), key=lambda a: a.n_human)
    if len({a.n_human for a in curve}) != len(curve):
        raise ValueError("two human-only arms have the same n_human")
    return curve


def dominance_bound(arm: ArmScore, curve: Sequence[ArmScore]) -> TradeEstimate:
    if arm.n_aug <= 0:
        return TradeEstimate(
            arm.arm, "dominance_bound", arm.n_human, arm.n_aug, arm.score, None, None, "arm has no augmented tasks"
        )
    matched = [
        h for h in curve if arm.score >= (h.ci_low if h.ci_low is not None and arm.ci_low is not None else h.score)
    ]
    matched = [h for h in matched if h.n_human >= arm.n_human]
    if not matched:
        return TradeEstimate(
            arm.arm,
            "dominance_bound",
            arm.n_human,
            arm.n_aug,
            arm.score,
            None,
            None,
            f"score {arm.score:.4g} does not reach any human arm with >= {arm.n_human} tasks",
        )
    best = max(matched, key=lambda h: h.n_human)
    rho = (best.n_human - arm.n_human) / arm.n_aug
    return TradeEstimate(
        arm.arm,
        "dominance_bound",
        arm.n_human,
        arm.n_aug,
        arm.score,
        float(best.n_human),
        rho,
        f"matches human arm {best.arm} ({best.score:.4g}); rho is a lower bound",
    )


def log_interpolation(arm: ArmScore, curve: Sequence[ArmScore]) -> TradeEstimate:
    def null(reason: str) -> TradeEstimate:
        return TradeEstimate(arm.arm, "log_interpolation", arm.n_human, arm.n_aug, arm.score, None, None, reason)

    if arm.n_aug <= 0:
        return null("arm has no augmented tasks")
    if len(curve) < 2:
        return null("human curve needs at least two arms")
    xs = [math.log(h.n_human) for h in curve]
    ys = _isotonic([h.score for h in curve])
    if arm.score > ys[-1]:
        return null(
            f"extrapolation: score {arm.score:.4g} is above the largest human arm "
            f"({curve[-1].arm}, fitted {ys[-1]:.4g})"
        )
    if arm.score < ys[0]:
        return null(
            f"extrapolation: score {arm.score:.4g} is below the smallest human arm ({curve[0].arm}, fitted {ys[0]:.4g})"
        )
    # smallest N whose fitted score reaches the arm's score (conservative on flat stretches)
    n_equiv = None
    for i, y in enumerate(ys):
        if y >= arm.score:
            if i == 0 or ys[i] == ys[i - 1]:
                n_equiv = float(curve[i].n_human)
            else:
                t = (arm.score - ys[i - 1]) / (ys[i] - ys[i - 1])
                n_equiv = math.exp(xs[i - 1] + t * (xs[i] - xs[i - 1]))
            break
    assert n_equiv is not None
    rho = (n_equiv - arm.n_human) / arm.n_aug
    return TradeEstimate(
        arm.arm,
        "log_interpolation",
        arm.n_human,
        arm.n_aug,
        arm.score,
        n_equiv,
        rho,
        "interpolated on the isotonic human curve in log task count",
    )


def trade_rates(arms: Sequence[ArmScore]) -> list[TradeEstimate]:
    """Both estimators for every augmented arm."""
    curve = human_curve(arms)
    out: list[TradeEstimate] = []
    for arm in arms:
        if arm.is_human_only:
            continue
        out.append(dominance_bound(arm, curve))
        out.append(log_interpolation(arm, curve))
    return out


def cost_rows(estimates: Sequence[TradeEstimate], cost_ratios: Sequence[float]) -> list[CostRow]:
    """rho_cost(r) = rho * r and break-even r* = 1/rho for every estimate and cost ratio."""
    rows = []
    for est in estimates:
        for r in cost_ratios:
            if est.rho is None:
                rows.append(CostRow(est.arm, est.estimator, r, est.n_equiv, None, None, None, est.reason))
                continue
            break_even = 1.0 / est.rho if est.rho > 0 else None
            reason = est.reason if est.rho > 0 else f"{est.reason}; rho <= 0, augmentation never breaks even"
            rows.append(CostRow(est.arm, est.estimator, r, est.n_equiv, est.rho, est.rho * r, break_even, reason))
    return rows


def read_arms_csv(path: Path) -> list[ArmScore]:
    """Read `arm,n_human,n_aug,score[,ci_low,ci_high]`; errors name the file, line and column."""
    with path.open(newline="") as fh:
        reader = csv.DictReader(fh)
        required = {"arm", "n_human", "n_aug", "score"}
        missing = required - set(reader.fieldnames or [])
        if missing:
            raise ArmsFileError(f"{path}: missing column(s) {sorted(missing)}; need arm,n_human,n_aug,score")
        arms = []
        human_lines: dict[int, int] = {}
        for line, row in enumerate(reader, start=2):

            def num(col: str, cast: type, row: dict[str, str] = row, line: int = line) -> float | int | None:
                value = (row.get(col) or "").strip()
                if value == "" and col in ("ci_low", "ci_high"):
                    return None
                try:
                    return cast(value)
                except ValueError:
                    raise ArmsFileError(
                        f"{path}:{line}: arm {row.get('arm')!r}: column '{col}': "
                        f"{value!r} is not a valid {cast.__name__}"
                    ) from None

            arm = ArmScore(
                row["arm"],
                int(num("n_human", int)),
                int(num("n_aug", int)),
                float(num("score", float)),
                num("ci_low", float),
                num("ci_high", float),
            )  # type: ignore[arg-type]
            if arm.n_human <= 0 or arm.n_aug < 0:
                raise ArmsFileError(f"{path}:{line}: arm {arm.arm!r}: n_human must be > 0 and n_aug >= 0")
            if arm.is_human_only and arm.n_human in human_lines:
                raise ArmsFileError(
                    f"{path}:{line}: arm {arm.arm!r}: column 'n_human': a human-only arm with n_human = {arm.n_human} "
                    f"is already on line {human_lines[arm.n_human]} (average the two, or keep one)"
                )
            if arm.is_human_only:
                human_lines[arm.n_human] = line
            arms.append(arm)
    if len([a for a in arms if a.is_human_only]) < 1:
        raise ArmsFileError(f"{path}: no human-only rows (n_aug = 0) to form the human curve")
    return arms


@dataclass(frozen=True)
class TradeInterval:
    arm: str
    estimator: str
    rho_low: float | None
    rho_high: float | None
    defined_fraction: float


def _macro_score(
    per_seed: dict[int, dict[str, float]],
    seeds: Sequence[int],
    items: Sequence[str],
    benchmark_of: dict[str, str] | None,
) -> float:
    """100 x the mean over benchmarks of each benchmark's mean reward over `seeds` x its `items` (repeats
    count); with one benchmark exactly the pooled 100 * sum / count."""
    sums: dict[str, float] = {}
    counts: dict[str, int] = {}
    for s in seeds:
        rewards = per_seed[s]
        for i in items:
            b = benchmark_of[i] if benchmark_of else ""
            sums[b] = sums.get(b, 0.0) + rewards[i]
            counts[b] = counts.get(b, 0) + 1
    return sum(100.0 * sums[b] / counts[b] for b in sums) / len(sums)


def arm_scores_from_items(
    arms: dict[str, ArmShape],
    item_rewards: dict[str, dict[int, dict[str, float]]],
    items: Sequence[str] | None = None,
    seeds: dict[str, Sequence[int]] | None = None,
    benchmark_of: dict[str, str] | None = None,
) -> list[ArmScore]:
    """Score = 100 * the macro mean over benchmarks of pass@1 (each benchmark's mean over its `items` and the
    arm's training `seeds`, repeats counted), the study's grand mean: a large benchmark does not outweigh a
    small one. Without `benchmark_of` every item is one benchmark (the pooled mean)."""
    out = []
    for arm, (n_human, n_aug, augmented) in arms.items():
        per_seed = item_rewards[arm]
        use_seeds = list(seeds[arm]) if seeds else sorted(per_seed)
        use_items = list(items) if items is not None else sorted(next(iter(per_seed.values())))
        score = _macro_score(per_seed, use_seeds, use_items, benchmark_of)
        out.append(ArmScore(arm, n_human, n_aug, score, augmented=augmented))
    return out


def items_by_benchmark(items: Sequence[str], benchmark_of: dict[str, str] | None) -> list[list[str]]:
    """`items` split by benchmark (sorted benchmark names, item order kept); one group without a mapping."""
    if not benchmark_of:
        return [list(items)]
    groups: dict[str, list[str]] = {}
    for i in items:
        groups.setdefault(benchmark_of[i], []).append(i)
    return [groups[b] for b in sorted(groups)]


def bootstrap_trade_rates(
    arms: dict[str, ArmShape],
    item_rewards: dict[str, dict[int, dict[str, float]]],
    samples: int,
    seed: int,
    alpha: float = 0.05,
    benchmark_of: dict[str, str] | None = None,
) -> list[TradeInterval]:
    """Percentile CIs for rho, resampling benchmark items within each benchmark (stratified, paired across
    arms) and each arm's training seeds; arm scores are the macro mean over benchmarks."""
    import random

    rng = random.Random(seed)
    groups = items_by_benchmark(sorted(next(iter(next(iter(item_rewards.values())).values()))), benchmark_of)
    draws: dict[tuple[str, str], list[float | None]] = {}
    for _ in range(samples):
        picked = [g[rng.randrange(len(g))] for g in groups for _ in g]
        seeds = {a: [ss[rng.randrange(len(ss))] for ss in [sorted(item_rewards[a])] for _ in ss] for a in arms}
        for est in trade_rates(arm_scores_from_items(arms, item_rewards, picked, seeds, benchmark_of)):
            draws.setdefault((est.arm, est.estimator), []).append(est.rho)
    out = []
    for (arm, estimator), values in sorted(draws.items()):
        defined = sorted(v for v in values if v is not None)
        frac = len(defined) / len(values)
        if len(defined) < max(10, samples // 2):
            out.append(TradeInterval(arm, estimator, None, None, frac))
            continue
        lo = defined[int(alpha / 2 * len(defined))]
        hi = defined[min(len(defined) - 1, int((1 - alpha / 2) * len(defined)))]
        out.append(TradeInterval(arm, estimator, lo, hi, frac))
    return out

"""Item-level scores and their bootstrap draws: the one resampling every interval of the project rests on.

An arm's score is the macro mean over benchmarks of each item's mean over training seeds. A draw resamples items
within each benchmark (paired across arms: the same items for every arm) with a seed's rewards on an item kept
together, and adds the seed level from a variance pooled over arms with a small-sample (scaled-inverse-chi-square)
draw when arms have >= 2 seeds; with one seed it says that seed variance is not measured. It lives in the kernel
because held-out evaluation (`evaluation/suite.py`), the benchmark_scores asset and the economics all score arms
with it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace

import numpy as np

from rlvr_assets.core.kernel.scoring import (
    ArmScore,
    ArmShape,
    Difference,
    MacroScore,
    RewardTable,
    pooled_groups,
)

ALPHA = 0.05
SEED_NOT_MEASURED = "seed variance not measured (one seed per arm)"


@dataclass(frozen=True)
class ArmInfo:
    """What an arm trained on; n_human = n_aug = 0 is the base model."""

    name: str
    n_human: int
    n_aug: int
    augmented: bool

    @property
    def is_base(self) -> bool:
        return self.n_human == 0 and self.n_aug == 0 and not self.augmented


@dataclass(frozen=True)
class ItemScores:
    """Rewards per arm as a (seeds x items) array over one shared, ordered item list."""

    arms: tuple[ArmInfo, ...]
    items: tuple[str, ...]
    benchmarks: tuple[str, ...]  # the benchmark of each item, same order as `items`
    seeds: Mapping[str, tuple[int, ...]]
    rewards: Mapping[str, np.ndarray]  # arm -> float array (len(seeds[arm]), len(items))

    @property
    def n_items(self) -> int:
        return len(self.items)

    @property
    def max_seeds(self) -> int:
        return max(len(s) for s in self.seeds.values())

    def item_weights(self) -> np.ndarray:
        """w_i such that the macro mean over benchmarks is sum_i w_i r_i (each benchmark weighs the same)."""
        names, inverse, counts = np.unique(np.array(self.benchmarks), return_inverse=True, return_counts=True)
        return 1.0 / (len(names) * counts[inverse])

    def benchmark_groups(self) -> list[np.ndarray]:
        """Item indices per benchmark (sorted benchmark names)."""
        bench = np.array(self.benchmarks)
        return [np.flatnonzero(bench == b) for b in sorted(set(self.benchmarks))]

    @classmethod
    def from_rewards(
        cls,
        arms: Mapping[str, ArmShape],
        rewards: RewardTable,
        benchmark_of: Mapping[str, str] | None = None,
    ) -> ItemScores:
        """From the pipeline's (arm -> seed -> item -> reward) table; every arm and seed must cover the same items."""
        names = list(arms)
        first = rewards[names[0]]
        items = tuple(sorted(next(iter(first.values()))))
        out: dict[str, np.ndarray] = {}
        seeds: dict[str, tuple[int, ...]] = {}
        for a in names:
            per_seed = rewards[a]
            seeds[a] = tuple(sorted(per_seed))
            for s in seeds[a]:
                if set(per_seed[s]) != set(items):
                    raise ValueError(f"arm {a} seed {s} scored other items than arm {names[0]}: scores are paired")
            out[a] = np.array([[per_seed[s][i] for i in items] for s in seeds[a]], dtype=float)
        info = tuple(ArmInfo(a, arms[a].n_human, arms[a].n_aug, arms[a].augmented) for a in names)
        bench = tuple(benchmark_of[i] if benchmark_of else "" for i in items)
        return cls(info, items, bench, seeds, out)


@dataclass(frozen=True)
class ScoreDraws:
    """Point scores of every arm and, unless only point scores are known, bootstrap draws of them."""

    arms: tuple[ArmScore, ...]
    draws: np.ndarray | None  # (samples, arms) in points, columns in the order of `arms`
    resamples: str  # what the draws resample: every interval built on them says so
    paired: bool
    items: int | None = None
    seeds: int | None = None
    seed_df: int = 0  # degrees of freedom of the pooled seed variance (0: not measured)

    def column(self, arm: str) -> np.ndarray:
        assert self.draws is not None
        return self.draws[:, [a.arm for a in self.arms].index(arm)]

    def difference(self, arm: str, reference: str, alpha: float = ALPHA) -> Difference | None:
        """score(arm) - score(reference), percentile CI over the draws (paired when the draws are)."""
        if self.draws is None:
            return None
        by = {a.arm: a.score for a in self.arms}
        d = self.column(arm) - self.column(reference)
        low, high = np.quantile(d, [alpha / 2, 1 - alpha / 2])
        method = "paired bootstrap" if self.paired else "bootstrap of independent CI draws, unpaired"
        return Difference(
            arm, reference, by[arm] - by[reference], float(low), float(high), float(np.std(d, ddof=1)), method
        )


def _weights_and_groups(scores: ItemScores) -> tuple[np.ndarray, list[np.ndarray]]:
    return scores.item_weights(), scores.benchmark_groups()


def pooled_seed_variance(scores: ItemScores) -> tuple[float, int]:
    """(sigma_seed^2 in points^2, degrees of freedom): the variance of a trained arm's macro score between
    training seeds, pooled over arms with >= 2 seeds, minus the item x seed residual it contains (method of
    moments, clipped at 0). The base model is not trained and has no seed level."""
    w = scores.item_weights()
    total, df = 0.0, 0
    for a in scores.arms:
        r = scores.rewards[a.name]
        s = r.shape[0]
        if a.is_base or s < 2:
            continue
        per_seed = 100.0 * r @ w
        resid = r - r.mean(axis=1, keepdims=True) - r.mean(axis=0, keepdims=True) + r.mean()
        n_items = r.shape[1]
        sigma_e2 = float((resid**2).sum()) / ((s - 1) * max(n_items - 1, 1))
        total += (s - 1) * (float(np.var(per_seed, ddof=1)) - 1e4 * sigma_e2 * float((w**2).sum()))
        df += s - 1
    return (max(total / df, 0.0), df) if df else (0.0, 0)


def arm_scores_of(scores: ItemScores) -> list[ArmScore]:
    """Point scores: per item the mean over the arm's seeds, then the macro mean over benchmarks (points)."""
    w = scores.item_weights()
    return [
        ArmScore(
            a.name, a.n_human, a.n_aug, float(100.0 * scores.rewards[a.name].mean(axis=0) @ w), augmented=a.augmented
        )
        for a in scores.arms
    ]


def item_score_draws(scores: ItemScores, samples: int, seed: int, alpha: float = ALPHA) -> ScoreDraws:
    """Draws of every arm's score (see the module docstring), and point scores with percentile CIs."""
    _w, groups = _weights_and_groups(scores)
    rng = np.random.default_rng(seed)
    means = np.stack([scores.rewards[a.name].mean(axis=0) for a in scores.arms])  # (arms, items)
    draws = np.zeros((samples, len(scores.arms)))
    for idx in groups:
        n = len(idx)
        counts = rng.multinomial(n, np.full(n, 1.0 / n), size=samples)
        draws += counts @ means[:, idx].T / n
    draws *= 100.0 / len(groups)
    sigma2, df = pooled_seed_variance(scores)
    n_seeds = np.array([0 if a.is_base else len(scores.seeds[a.name]) for a in scores.arms])
    if df and sigma2 > 0:
        per_draw = df * sigma2 / rng.chisquare(df, samples)
        scale = np.sqrt(per_draw[:, None] / np.maximum(n_seeds, 1)[None, :]) * (n_seeds > 0)[None, :]
        draws += rng.standard_normal(draws.shape) * scale
    seed_note = (
        f"seed level: pooled seed variance {sigma2:.3g} points^2 on {df} df, scaled-inverse-chi-square draws"
        if df
        else SEED_NOT_MEASURED
    )
    resamples = (
        f"{samples} draws: items resampled within each benchmark, paired across arms, seeds kept together; {seed_note}"
    )
    point = arm_scores_of(scores)
    arms = []
    for k, a in enumerate(point):
        low, high = np.quantile(draws[:, k], [alpha / 2, 1 - alpha / 2])
        arms.append(replace(a, ci_low=float(low), ci_high=float(high)))
    return ScoreDraws(tuple(arms), draws, resamples, True, scores.n_items, scores.max_seeds, df)


def arm_macro_score(
    per_seed: Mapping[int, Mapping[str, float]],
    benchmark_of: Mapping[str, str] | None,
    samples: int,
    seed: int,
    alpha: float = 0.05,
) -> MacroScore:
    """One arm's score: the macro mean over benchmarks of each item's mean over seeds. The CI resamples items
    within benchmarks with a seed's rewards on an item kept together (a second seed is not a second item)
    and adds the seed level when there are >= 2 seeds (the module docstring). The `benchmark_scores` asset
    and the report's arm table both call this."""
    scores = ItemScores.from_rewards({"arm": ArmShape(1, 0, False)}, {"arm": per_seed}, benchmark_of)
    drawn = item_score_draws(scores, samples, seed, alpha).arms[0]
    groups = pooled_groups(per_seed, benchmark_of)
    per_benchmark = {b: 100.0 * sum(g) / len(g) for b, g in groups.items() if len(g)}
    return MacroScore(drawn.score, drawn.ci_low, drawn.ci_high, per_benchmark)  # type: ignore[arg-type]


def arm_score_table(
    arms: Mapping[str, ArmShape],
    rewards: RewardTable,
    samples: int,
    seed: int,
    benchmark_of: Mapping[str, str] | None = None,
) -> list[ArmScore]:
    """Each arm's macro-mean score over benchmarks with its CI (items within benchmarks, paired, seeds kept
    together, the seed level pooled over arms; the module docstring)."""
    return list(item_score_draws(ItemScores.from_rewards(arms, rewards, benchmark_of), samples, seed).arms)


def bootstrap_arm_scores(
    arms: Mapping[str, ArmShape],
    item_rewards: RewardTable,
    samples: int,
    seed: int,
    benchmark_of: Mapping[str, str] | None = None,
) -> list[list[ArmScore]]:
    """Bootstrap draws of every arm's score: items resampled within each benchmark, the same items for every
    arm (paired), a seed's rewards on an item kept together, and the seed level drawn from the pooled seed
    variance with its small-sample (scaled-inverse-chi-square) uncertainty; the module docstring."""
    scores = ItemScores.from_rewards(arms, item_rewards, benchmark_of)
    drawn = item_score_draws(scores, samples, seed)
    assert drawn.draws is not None
    shapes = {a.name: a for a in scores.arms}
    return [
        [
            ArmScore(a.arm, a.n_human, a.n_aug, float(v), augmented=shapes[a.arm].augmented)
            for a, v in zip(drawn.arms, row, strict=False)
        ]
        for row in drawn.draws
    ]

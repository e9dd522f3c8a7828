"""Scoring: pass@k, the macro mean over benchmarks, bootstrap CIs (plain, stratified, paired) and arm scores.

One home for every step that turns rewards into a score, so the `benchmark_scores` asset, the report's arm
table, `rlvr-assets eval` and the economics estimators agree to the last digit. Scores are in points
(100 x mean reward). The headline number is the study's grand mean: each benchmark's mean, then the
unweighted mean over benchmarks (the macro mean), so a 200-item benchmark does not outweigh a 20-item one.
CIs are percentile bootstraps that resample items within each benchmark (stratified); a comparison of two
arms resamples the same items for both (paired) and each arm's training seeds.

Minimum detectable difference (MDD) of a comparison, two-sided at level alpha with power 1 - beta:

    MDD = (z_{1-alpha/2} + z_{1-beta}) * SE      (alpha = 0.05, power = 0.8: MDD = 2.80 * SE)

with SE the standard deviation of the paired-bootstrap differences (or, from reported CIs, the normal
approximation). SE falls roughly as 1 / sqrt(items x seeds), so a true difference d needs about
(MDD / d)^2 times the current items x seeds to be detected.
"""

from __future__ import annotations

import math
import random
import statistics
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import NamedTuple

# arm -> training seed -> item id -> reward in [0, 1]
RewardTable = Mapping[str, Mapping[int, Mapping[str, float]]]


def pass_at_k(n: int, c: int, k: int) -> float:
    """Unbiased pass@k from n samples with c correct (Chen et al., 2021)."""
    if k > n:
        raise ValueError(f"pass@{k} needs at least {k} samples, got {n}")
    if n - c < k:
        return 1.0
    return 1.0 - math.comb(n - c, k) / math.comb(n, k)


def _percentiles(sorted_values: Sequence[float], alpha: float) -> tuple[float, float]:
    n = len(sorted_values)
    return sorted_values[int(alpha / 2 * n)], sorted_values[min(n - 1, int((1 - alpha / 2) * n))]


def bootstrap_mean_ci(values: Sequence[float], samples: int, seed: int, alpha: float = 0.05) -> tuple[float, float]:
    """Percentile CI for the mean of `values`, resampling them with replacement."""
    if not values or samples <= 0:
        return (float("nan"), float("nan"))
    rng = random.Random(seed)
    n = len(values)
    means = sorted(sum(values[rng.randrange(n)] for _ in range(n)) / n for _ in range(samples))
    return _percentiles(means, alpha)


def stratified_bootstrap_mean_ci(
    groups: Sequence[Sequence[float]], samples: int, seed: int, alpha: float = 0.05
) -> tuple[float, float]:
    """Percentile CI for the mean of group means (the grand mean over benchmarks): each draw resamples items
    with replacement within every group and averages the group means, so a large group never outweighs a
    small one. One group gives exactly `bootstrap_mean_ci` with the same seed."""
    groups = [g for g in groups if len(g)]
    if not groups or samples <= 0:
        return (float("nan"), float("nan"))
    rng = random.Random(seed)
    means = []
    for _ in range(samples):
        total = 0.0
        for g in groups:
            n = len(g)
            total += sum(g[rng.randrange(n)] for _ in range(n)) / n
        means.append(total / len(groups))
    means.sort()
    return _percentiles(means, alpha)


def macro_mean(groups: Mapping[str, Sequence[float]]) -> float:
    """100 x the unweighted mean over benchmarks of each benchmark's mean reward (empty benchmarks skipped)."""
    means = [100.0 * sum(g) / len(g) for g in groups.values() if len(g)]
    return sum(means) / len(means) if means else float("nan")


@dataclass(frozen=True)
class MacroScore:
    """A macro-mean score in points with its stratified-bootstrap CI and each benchmark's mean."""

    score: float
    ci_low: float
    ci_high: float
    per_benchmark: dict[str, float]


def macro_score_ci(groups: Mapping[str, Sequence[float]], samples: int, seed: int, alpha: float = 0.05) -> MacroScore:
    """The macro mean of `groups` (benchmark -> rewards, in the order given) and its CI in points."""
    kept = {b: list(g) for b, g in groups.items() if len(g)}
    low, high = stratified_bootstrap_mean_ci(list(kept.values()), samples, seed, alpha)
    return MacroScore(macro_mean(kept), 100 * low, 100 * high, {b: 100.0 * sum(g) / len(g) for b, g in kept.items()})


def pooled_groups(
    per_seed: Mapping[int, Mapping[str, float]], benchmark_of: Mapping[str, str] | None
) -> dict[str, list[float]]:
    """Every (seed, item) reward of one arm grouped by benchmark, benchmarks sorted by name."""
    groups: dict[str, list[float]] = {}
    for rewards in per_seed.values():
        for item, r in rewards.items():
            groups.setdefault(benchmark_of[item] if benchmark_of else "", []).append(r)
    return {b: groups[b] for b in sorted(groups)}


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
    def is_base(self) -> bool:
        """The untrained base model (n_human = n_aug = 0): the reference arm at n = 0, not on the log curve."""
        return self.n_human == 0 and self.n_aug == 0 and not self.augmented

    @property
    def is_human_only(self) -> bool:
        if self.is_base:
            return False
        return self.n_aug == 0 if self.augmented is None else not self.augmented


class ArmShape(NamedTuple):
    """What an arm trained on; an augmented arm stays augmented even if the gate left it no variants."""

    n_human: int
    n_aug: int
    augmented: bool


def _item_groups(
    per_seed: Mapping[int, Mapping[str, float]],
    seeds: Sequence[int],
    items: Sequence[str],
    benchmark_of: Mapping[str, str] | None,
) -> dict[str, list[float]]:
    groups: dict[str, list[float]] = {}
    for s in seeds:
        rewards = per_seed[s]
        for i in items:
            groups.setdefault(benchmark_of[i] if benchmark_of else "", []).append(rewards[i])
    return groups


def arm_scores_from_items(
    arms: Mapping[str, ArmShape],
    item_rewards: RewardTable,
    items: Sequence[str] | None = None,
    seeds: Mapping[str, Sequence[int]] | None = None,
    benchmark_of: Mapping[str, str] | None = None,
) -> list[ArmScore]:
    """Score = the macro mean over benchmarks of pass@1 (each benchmark's mean over its `items` and the arm's
    training `seeds`, repeats counted). Without `benchmark_of` every item is one benchmark (the pooled mean)."""
    out = []
    for arm, (n_human, n_aug, augmented) in arms.items():
        per_seed = item_rewards[arm]
        use_seeds = list(seeds[arm]) if seeds else sorted(per_seed)
        use_items = list(items) if items is not None else sorted(next(iter(per_seed.values())))
        score = macro_mean(_item_groups(per_seed, use_seeds, use_items, benchmark_of))
        out.append(ArmScore(arm, n_human, n_aug, score, augmented=augmented))
    return out


def items_by_benchmark(items: Sequence[str], benchmark_of: Mapping[str, str] | None) -> list[list[str]]:
    """`items` split by benchmark (sorted benchmark names, item order kept); one group without a mapping."""
    if not benchmark_of:
        return [list(items)]
    groups: dict[str, list[str]] = {}
    for i in items:
        groups.setdefault(benchmark_of[i], []).append(i)
    return [groups[b] for b in sorted(groups)]


def minimum_detectable_difference(se: float, alpha: float = 0.05, power: float = 0.8) -> float:
    """MDD = (z_{1-alpha/2} + z_{power}) * SE: the smallest true difference a two-sided test at level alpha
    detects with probability `power` (2.80 SE at the defaults)."""
    z = statistics.NormalDist()
    return (z.inv_cdf(1 - alpha / 2) + z.inv_cdf(power)) * se


def scale_to_detect(mdd: float | None, difference: float) -> float | None:
    """How many times the current items x seeds a true `difference` needs to reach the MDD: (MDD / d)^2,
    since SE falls about as 1 / sqrt(items x seeds). None for a zero difference (no size detects it) or an
    unknown MDD."""
    if difference == 0 or mdd is None or not math.isfinite(mdd):
        return None
    return (mdd / abs(difference)) ** 2


PAIRED_BOOTSTRAP = "paired bootstrap"
NORMAL_FROM_CI = "normal approximation from each side of the CIs, unpaired"


@dataclass(frozen=True)
class Difference:
    """score(arm) - score(reference) in points, its CI, its standard error and how they were judged."""

    arm: str
    reference: str
    diff: float
    ci_low: float
    ci_high: float
    se: float
    method: str

    @property
    def significant(self) -> bool:
        """Significantly above zero: the CI excludes 0 on the positive side."""
        return self.ci_low > 0

    @property
    def mdd(self) -> float | None:
        """None when the scores do not vary at all (SE 0): there is no noise to size a test against."""
        if not (math.isfinite(self.se) and self.se > 0):
            return None
        return minimum_detectable_difference(self.se)

    def describe(self) -> str:
        mdd = "MDD n/a (no variation)" if self.mdd is None else f"MDD {self.mdd:.1f}"
        return f"{self.diff:+.1f} [{self.ci_low:+.1f}, {self.ci_high:+.1f}], {mdd}"


# (arm, reference) -> their difference, or None where no uncertainty is known
DifferenceFn = Callable[[str, str], Difference | None]


def paired_difference(
    point: Sequence[ArmScore], draws: Sequence[Sequence[ArmScore]], arm: str, reference: str, alpha: float = 0.05
) -> Difference:
    """score(arm) - score(reference) with a percentile CI over paired bootstrap draws; SE is their SD."""
    scores = {a.arm: a.score for a in point}
    diffs = []
    for draw in draws:
        by_arm = {a.arm: a.score for a in draw}
        diffs.append(by_arm[arm] - by_arm[reference])
    diffs.sort()
    low, high = _percentiles(diffs, alpha) if diffs else (float("nan"), float("nan"))
    se = statistics.stdev(diffs) if len(diffs) > 1 else float("nan")
    return Difference(arm, reference, scores[arm] - scores[reference], low, high, se, PAIRED_BOOTSTRAP)


def bootstrap_differences(point: Sequence[ArmScore], draws: Sequence[Sequence[ArmScore]]) -> DifferenceFn:
    """Paired-bootstrap differences between any two arms, from one shared set of draws."""

    def difference(arm: str, reference: str) -> Difference | None:
        return paired_difference(point, draws, arm, reference) if draws else None

    return difference


def normal_difference(arm: ArmScore, reference: ArmScore, alpha: float = 0.05) -> Difference | None:
    """From reported (1 - alpha) CIs only, the two taken as independent (unpaired, so wider than a paired
    bootstrap). An asymmetric CI is read side by side: the lower bound of the difference uses the arm's
    lower half-width and the reference's upper one (and the other way round for the upper bound), each
    half-width / z a one-sided SE. SE (for the MDD) is the side that decides 'above': the lower one.
    None when either arm has no CI."""
    if None in (arm.ci_low, arm.ci_high, reference.ci_low, reference.ci_high):
        return None
    z = statistics.NormalDist().inv_cdf(1 - alpha / 2)
    se_low = math.hypot(arm.score - arm.ci_low, reference.ci_high - reference.score) / z  # type: ignore[operator]
    se_high = math.hypot(arm.ci_high - arm.score, reference.score - reference.ci_low) / z  # type: ignore[operator]
    d = arm.score - reference.score
    return Difference(arm.arm, reference.arm, d, d - z * se_low, d + z * se_high, se_low, NORMAL_FROM_CI)


def ci_differences(arms: Sequence[ArmScore]) -> DifferenceFn:
    """Differences judged from each arm's reported CI (`normal_difference`)."""
    by_name = {a.arm: a for a in arms}

    def difference(arm: str, reference: str) -> Difference | None:
        return normal_difference(by_name[arm], by_name[reference])

    return difference

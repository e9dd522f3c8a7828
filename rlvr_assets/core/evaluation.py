"""Held-out evaluation: per-item pass@1 and bootstrap confidence intervals over items (and seeds)."""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from rlvr_assets.core.config import SamplingConfig
from rlvr_assets.core.rollouts import sample_rollouts
from rlvr_assets.core.sampling import Policy
from rlvr_assets.core.tasks import Task
from rlvr_assets.core.verifiers import verify


@dataclass(frozen=True)
class ItemResult:
    item_id: str
    reward: float
    reason: str
    completion: str
    completion_tokens: int


def evaluate_items(
    policy: Policy,
    items: Sequence[Task],
    cfg: SamplingConfig,
    *,
    progress: Callable[[int, int], None] | None = None,
) -> list[ItemResult]:
    """Greedy pass@1 on every item (tool-use items as live episodes), scored by the item's own verifier."""
    results = []
    for r in sample_rollouts(policy, items, 1, greedy(cfg), progress=progress):
        item = items[r.task_index]
        verdict = verify(item, r.completion)
        text = r.completion if isinstance(r.completion, str) else "\n---\n".join(r.completion)
        results.append(ItemResult(item.id, verdict.reward, verdict.reason, text, r.tokens))
    return results


def greedy(cfg: SamplingConfig) -> SamplingConfig:
    """Held-out pass@1 decodes greedily; every other setting (token budget, batch bounds) is the caller's."""
    return cfg.model_copy(update={"temperature": 0.0})


def eval_sampling(sampling: SamplingConfig, max_new_tokens: int, batch_size: int) -> SamplingConfig:
    """The sampling config of held-out evaluation: eval's token budget and batch size, the pipeline's
    memory bound (`max_batch_tokens`) and seed; the same for the pipeline's arms and `rlvr-assets eval`."""
    return sampling.model_copy(update={"max_new_tokens": max_new_tokens, "batch_size": batch_size})


def bootstrap_mean_ci(values: Sequence[float], samples: int, seed: int, alpha: float = 0.05) -> tuple[float, float]:
    if not values:
        return (float("nan"), float("nan"))
    rng = random.Random(seed)
    n = len(values)
    means = sorted(sum(values[rng.randrange(n)] for _ in range(n)) / n for _ in range(samples))
    return means[int(alpha / 2 * samples)], means[min(samples - 1, int((1 - alpha / 2) * samples))]


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
    return means[int(alpha / 2 * samples)], means[min(samples - 1, int((1 - alpha / 2) * samples))]

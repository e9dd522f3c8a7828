"""Held-out evaluation: greedy per-item rewards of one policy (the scores and their CIs are `core/kernel/scoring.py`)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from rlvr_assets.core.config import SamplingConfig
from rlvr_assets.core.policy.rollouts import sample_rollouts
from rlvr_assets.core.policy.sampling import Policy
from rlvr_assets.core.tasks.model import Task
from rlvr_assets.core.tasks.verifiers import verify


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

"""Policy rollouts for any task, through one episode loop: the gate, evaluation and the CLI all use it.

Every rollout is an Episode (core/episodes.py) created by the task's domain: a single-turn task ends
after one completion; a tool-use task is a live episode whose tool results come back as the next turn.
Each round samples one assistant turn for every live episode in one batched call, so conversations are
batched across tasks, samples and kinds of episode alike.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from rlvr_assets.core.config import SamplingConfig
from rlvr_assets.core.domains import domain_of
from rlvr_assets.core.domains.base import Solution
from rlvr_assets.core.episodes import Episode
from rlvr_assets.core.sampling import Policy
from rlvr_assets.core.tasks import Task


@dataclass
class Rollout:
    task_index: int
    completion: Solution
    tokens: int


def sample_rollouts(
    policy: Policy,
    tasks: Sequence[Task],
    n: int,
    cfg: SamplingConfig,
    *,
    progress: Callable[[int, int], None] | None = None,
) -> list[Rollout]:
    """`n` rollouts per task (greedy when `cfg.temperature` is 0), in task order then sample order.

    `progress(done, total)` reports the first round, where every episode takes its first turn."""
    live: list[tuple[int, Episode]] = [
        (i, domain_of(t).start_episode(t)) for i, t in enumerate(tasks) for _ in range(n)
    ]
    tokens = [0] * len(live)
    round_ = 0
    while active := [j for j, (_, ep) in enumerate(live) if not ep.done]:
        samples = policy.sample(
            [live[j][1].messages for j in active],
            1,
            cfg,
            seed=cfg.seed + round_,
            progress=progress if round_ == 0 else None,
        )
        for sample in samples:
            j = active[sample.prompt_index]
            tokens[j] += sample.prompt_tokens + sample.completion_tokens
            live[j][1].advance(sample.text)
        round_ += 1
    return [Rollout(i, ep.completion(), tokens[j]) for j, (i, ep) in enumerate(live)]

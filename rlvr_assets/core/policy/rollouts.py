"""Policy rollouts for any task, through one episode loop: the gate, evaluation, the CLI and GRPO training.

Every rollout is an Episode (core/kernel/episodes.py) created by the task's domain: a single-turn task ends
after one completion; a tool-use task is a live episode whose tool results come back as the next turn.
`run_episodes` is the loop: each round samples one assistant turn for every live episode in one batched
call, so conversations are batched across tasks, samples and kinds of episode alike. What samples the
turns is the caller's: `sample_rollouts` uses a `Policy` (gate, evaluation); training uses the GRPO
trainer's own generation (core/policy/agentic.py). The loop, the episodes and their parsers are the same.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from rlvr_assets.core.config import SamplingConfig
from rlvr_assets.core.domains import domain_of
from rlvr_assets.core.domains.base import Solution
from rlvr_assets.core.kernel.episodes import Episode
from rlvr_assets.core.policy.sampling import Policy
from rlvr_assets.core.tasks.model import Task


@dataclass
class Rollout:
    task_index: int
    completion: Solution
    tokens: int


@dataclass(frozen=True)
class Turn:
    """One sampled assistant turn and the tokens it cost (context + new tokens)."""

    text: str
    tokens: int


# (indices of the live episodes, round number) -> one turn for each of them, in the same order
TurnSampler = Callable[[list[int], int], Sequence[Turn]]


def run_episodes(episodes: Sequence[Episode], sample_turns: TurnSampler) -> list[int]:
    """Drive every episode to its end; returns the tokens each one cost.

    Each round hands the indices of the still-live episodes to `sample_turns` (which reads their
    `messages`), then gives each episode its turn through `advance`, which appends what the task answers
    or ends the episode."""
    tokens = [0] * len(episodes)
    round_ = 0
    while active := [j for j, ep in enumerate(episodes) if not ep.done]:
        turns = sample_turns(active, round_)
        for j, turn in zip(active, turns, strict=True):
            tokens[j] += turn.tokens
            episodes[j].advance(turn.text)
        round_ += 1
    return tokens


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
    owners = [i for i in range(len(tasks)) for _ in range(n)]
    episodes = [domain_of(tasks[i]).start_episode(tasks[i]) for i in owners]

    def sample_turns(active: list[int], round_: int) -> list[Turn]:
        samples = policy.sample(
            [episodes[j].messages for j in active],
            1,
            cfg,
            seed=cfg.seed + round_,
            progress=progress if round_ == 0 else None,
        )
        return [Turn(s.text, s.prompt_tokens + s.completion_tokens) for s in samples]

    tokens = run_episodes(episodes, sample_turns)
    return [Rollout(i, ep.completion(), t) for i, ep, t in zip(owners, episodes, tokens, strict=True)]

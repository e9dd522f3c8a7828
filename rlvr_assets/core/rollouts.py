"""Policy rollouts for any task: one completion for single-turn tasks, a live episode for tool use.

In an episode each assistant turn's tool calls are executed against a fresh copy of the task's
environment and the results are appended as tool turns before the model speaks again, until it makes no
call or the turn limit is reached. Conversations are batched across tasks and samples at every turn.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from rlvr_assets.core.config import SamplingConfig
from rlvr_assets.core.environments import Episode
from rlvr_assets.core.sampling import Policy
from rlvr_assets.core.tasks import BFCLMultiTurn, EnvironmentOutcome, Task

if TYPE_CHECKING:
    from rlvr_assets.core.bfcl import BFCLEpisode


@dataclass
class Rollout:
    task_index: int
    completion: str | list[str]
    tokens: int


@dataclass
class _Live:
    task_index: int
    messages: list[dict[str, str]]
    episode: Episode
    turns: list[str] = field(default_factory=list)
    tokens: int = 0
    done: bool = False


def sample_rollouts(
    policy: Policy,
    tasks: Sequence[Task],
    n: int,
    cfg: SamplingConfig,
    *,
    temperature: float | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> list[Rollout]:
    """`n` rollouts per task (greedy when temperature is 0), in task order then sample order."""
    temp = cfg.temperature if temperature is None else temperature
    bfcl = [i for i, t in enumerate(tasks) if isinstance(t.verifier, BFCLMultiTurn)]
    single = [i for i, t in enumerate(tasks) if t.environment is None and i not in bfcl]
    multi = [i for i, t in enumerate(tasks) if t.environment is not None]
    out: list[Rollout] = []
    if single:
        samples = policy.sample(
            [tasks[i].messages for i in single],
            n,
            max_new_tokens=cfg.max_new_tokens,
            temperature=temp,
            top_p=cfg.top_p,
            batch_size=cfg.batch_size,
            max_batch_tokens=cfg.max_batch_tokens,
            seed=cfg.seed,
            progress=progress,
        )
        out += [Rollout(single[s.prompt_index], s.text, s.prompt_tokens + s.completion_tokens) for s in samples]
    if multi:
        out += _episodes(policy, tasks, multi, n, cfg, temp)
    if bfcl:
        out += _bfcl_episodes(policy, tasks, bfcl, n, cfg, temp)
    return sorted(out, key=lambda r: r.task_index)


def _episodes(
    policy: Policy, tasks: Sequence[Task], indices: list[int], n: int, cfg: SamplingConfig, temperature: float
) -> list[Rollout]:
    live = [_Live(i, list(tasks[i].messages), Episode(tasks[i].environment)) for i in indices for _ in range(n)]
    max_turns = max(
        t.verifier.max_turns for t in (tasks[i] for i in indices) if isinstance(t.verifier, EnvironmentOutcome)
    )
    for turn in range(max_turns):
        active = [r for r in live if not r.done]
        if not active:
            break
        samples = policy.sample(
            [r.messages for r in active],
            1,
            max_new_tokens=cfg.max_new_tokens,
            temperature=temperature,
            top_p=cfg.top_p,
            batch_size=cfg.batch_size,
            max_batch_tokens=cfg.max_batch_tokens,
            seed=cfg.seed + turn,
        )
        for sample in samples:
            r = active[sample.prompt_index]
            r.turns.append(sample.text)
            r.tokens += sample.prompt_tokens + sample.completion_tokens
            results = r.episode.step(sample.text)
            r.messages = [
                *r.messages,
                {"role": "assistant", "content": sample.text},
                *({"role": "tool", "content": res} for res in results),
            ]
            task = tasks[r.task_index]
            limit = task.verifier.max_turns if isinstance(task.verifier, EnvironmentOutcome) else max_turns
            r.done = not results or len(r.turns) >= limit
    return [Rollout(r.task_index, r.turns, r.tokens) for r in live]


@dataclass
class _BFCLLive:
    task_index: int
    spec: BFCLMultiTurn
    messages: list[dict[str, str]]
    episode: BFCLEpisode
    decoded: list[list[list[str]]] = field(default_factory=lambda: [[]])
    tokens: int = 0
    steps: int = 0
    done: bool = False

    def next_turn(self) -> None:
        turn = len(self.decoded)
        if turn > len(self.spec.later_user_turns):
            self.done = True
            return
        self.messages = [*self.messages, {"role": "user", "content": self.spec.later_user_turns[turn - 1]}]
        self.decoded.append([])
        self.steps = 0


def _bfcl_episodes(
    policy: Policy, tasks: Sequence[Task], indices: list[int], n: int, cfg: SamplingConfig, temperature: float
) -> list[Rollout]:
    """BFCL multi-turn: each user turn is answered by steps of calls, executed by BFCL's classes in the
    sandbox, until the model answers without a call; then the next user turn arrives."""
    from rlvr_assets.core.bfcl import BFCLEpisode, decode_turn

    live = []
    for i in indices:
        spec = tasks[i].verifier
        assert isinstance(spec, BFCLMultiTurn)
        # each episode's BFCL instances live in a sandboxed session, opened at its first call
        live += [_BFCLLive(i, spec, list(tasks[i].messages), BFCLEpisode(spec.entry)) for _ in range(n)]
    try:
        _drive_bfcl(policy, live, decode_turn, cfg, temperature)
    finally:
        for r in live:
            r.episode.close()
    return [Rollout(r.task_index, json.dumps(r.decoded), r.tokens) for r in live]


def _drive_bfcl(
    policy: Policy,
    live: list[_BFCLLive],
    decode_turn: Callable[[str], list[str]],
    cfg: SamplingConfig,
    temperature: float,
) -> None:
    round_ = 0
    while active := [r for r in live if not r.done]:
        samples = policy.sample(
            [r.messages for r in active],
            1,
            max_new_tokens=cfg.max_new_tokens,
            temperature=temperature,
            top_p=cfg.top_p,
            batch_size=cfg.batch_size,
            max_batch_tokens=cfg.max_batch_tokens,
            seed=cfg.seed + round_,
        )
        round_ += 1
        for sample in samples:
            r = active[sample.prompt_index]
            r.tokens += sample.prompt_tokens + sample.completion_tokens
            r.messages = [*r.messages, {"role": "assistant", "content": sample.text}]
            calls = decode_turn(sample.text)
            if calls:
                results = r.episode.execute(calls)
                r.decoded[-1].append(calls)
                r.messages += [{"role": "tool", "content": res} for res in results]
                r.steps += 1
            if not calls or r.steps >= r.spec.max_steps_per_turn:
                r.next_turn()

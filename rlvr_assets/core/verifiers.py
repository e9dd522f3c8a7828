"""The reward entry point: `verify` asks the task's domain; `make_trl_reward` wraps it for GRPO."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from rlvr_assets.core.answers import Verdict
from rlvr_assets.core.domains import domain_of
from rlvr_assets.core.domains.base import Solution
from rlvr_assets.core.tasks import Task


def verify(task: Task, completion: Solution) -> Verdict:
    """Score one completion (for multi-turn tasks: the assistant's turns) with the task's domain verifier.

    Every verifier fails closed: anything it cannot check is reward 0 with the reason.
    """
    return domain_of(task).verify(task, completion)


def completion_text(completion: Any) -> str:
    """TRL passes plain strings for text datasets and message lists for conversational ones."""
    if isinstance(completion, str):
        return completion
    if isinstance(completion, list) and completion and isinstance(completion[-1], dict):
        return str(completion[-1].get("content", ""))
    return ""


def make_trl_reward(name: str = "verifier_reward") -> Callable[..., list[float]]:
    """A GRPOTrainer reward function: reads the `task` column (task JSON) and scores each completion."""
    cache: dict[str, Task] = {}

    def reward(prompts: Sequence[Any], completions: Sequence[Any], task: Sequence[str], **_: Any) -> list[float]:
        scores = []
        for completion, task_json in zip(completions, task, strict=True):
            parsed = cache.get(task_json)
            if parsed is None:
                parsed = cache.setdefault(task_json, Task.from_json(task_json))
            scores.append(verify(parsed, completion_text(completion)).reward)
        return scores

    reward.__name__ = name
    return reward

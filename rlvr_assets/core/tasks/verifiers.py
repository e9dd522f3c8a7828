"""The reward entry point: `verify` asks the task's domain; `make_trl_reward` wraps it for GRPO.

`verify` is total: whatever a completion holds, it returns a Verdict. Each verifier handles the hostile
inputs it knows of (huge numbers, deep nesting, invalid UTF-8, costly expressions); one guard at this
boundary turns anything else it raises into reward 0 with the exception's type in the reason, and logs
it, so training, the gate and evaluation never die on a completion.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable, Sequence
from typing import Any

from rlvr_assets.core.domains import domain_of
from rlvr_assets.core.domains.base import Solution
from rlvr_assets.core.kernel.verdict import Verdict
from rlvr_assets.core.tasks.model import Task

_log = logging.getLogger(__name__)
NOT_UTF8 = "completion was not valid UTF-8: decoded with replacement characters"


def decode_completion(data: bytes) -> tuple[str, str | None]:
    """UTF-8 text of a completion, invalid bytes replaced; the note says when any were."""
    try:
        return data.decode("utf-8"), None
    except UnicodeDecodeError:
        return data.decode("utf-8", errors="replace"), NOT_UTF8


def verify(task: Task, completion: Solution | bytes) -> Verdict:
    """Score one completion (for multi-turn tasks: the assistant's turns) with the task's domain verifier.

    Every verifier fails closed: anything it cannot check is reward 0 with the reason. Bytes are decoded
    as UTF-8 with replacement, and the reason says so when that changed anything.
    """
    note = None
    if isinstance(completion, bytes):
        completion, note = decode_completion(completion)
    try:
        verdict = domain_of(task).verify(task, completion)
    except Exception as exc:  # the last line of defence: a verifier bug must not kill a training step
        _log.warning("verifier for task %s raised %s; reward 0", task.id, type(exc).__name__, exc_info=True)
        verdict = Verdict(0.0, f"verifier error: {type(exc).__name__} (reward 0)")
    if note:
        verdict = dataclasses.replace(verdict, reason=f"{note}; {verdict.reason}")
    return verdict


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

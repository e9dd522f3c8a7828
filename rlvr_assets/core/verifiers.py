"""Reward functions: one entry point per domain, plus a TRL-shaped batch reward for GRPO."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from rlvr_assets.core.answers import (
    Verdict,
    check_choice_answer,
    check_expression_answer,
    check_json_answer,
    check_numeric_answer,
)
from rlvr_assets.core.tasks import (
    BFCLCalls,
    BFCLMultiTurn,
    Constraints,
    EnvironmentOutcome,
    NumericAnswer,
    Task,
    UnitTests,
)


def verify(task: Task, completion: str | list[str]) -> Verdict:
    """Score one completion (for multi-turn tasks: the assistant's turns) against the task's verifier.

    Every branch fails closed: anything it cannot check is reward 0 with the reason.
    """
    spec = task.verifier
    text = completion if isinstance(completion, str) else "\n".join(completion)
    if isinstance(spec, NumericAnswer):
        if spec.kind == "choice":
            return check_choice_answer(text, spec.answer)
        if spec.kind == "expression":
            return check_expression_answer(text, spec.answer)
        if spec.kind == "json":
            return check_json_answer(text, spec.answer)
        return check_numeric_answer(text, spec.answer)
    if isinstance(spec, UnitTests):
        from rlvr_assets.core.code_verifier import check_code

        return check_code(text, spec)
    if isinstance(spec, Constraints):
        from rlvr_assets.core.constraints import check_constraints

        return check_constraints(text, spec, task.prompt.question if spec.registry == "ifbench" else None)
    if isinstance(spec, EnvironmentOutcome) and task.environment is not None:
        from rlvr_assets.core.environments import check_episode

        return check_episode(task.environment, spec, completion)
    if isinstance(spec, BFCLMultiTurn):
        from rlvr_assets.core.bfcl import check_bfcl_multi_turn

        return check_bfcl_multi_turn(spec.entry, spec.ground_truth, text)
    if isinstance(spec, BFCLCalls):
        from rlvr_assets.core.bfcl import check_bfcl_single

        return check_bfcl_single(text, spec.functions, spec.ground_truth)
    return Verdict(0.0, f"no verifier for {spec.type} in domain {task.domain!r}")


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

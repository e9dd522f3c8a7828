"""Parametric goals for function-calling tasks.

A function-calling seed with `params` writes its reference turns, required calls and known-bad turns as
templates over those params (`{folder}`). The templates are the task's solution program: rendering them
for new params and replaying the reference in the environment re-derives the expected final state, the
way a reasoning task's `solve(**params)` re-derives its answer. Replay runs the project's own simulated
tools in the tool sandbox, like every tool call.
"""

from __future__ import annotations

import json
import re
from typing import Any

from rlvr_assets.core.tasks import Environment, EnvironmentOutcome, Task, ToolCall


def fill(value: Any, params: dict[str, Any]) -> Any:
    """Substitute `{name}` for each param in strings, lists and dicts; a string that is exactly one
    placeholder takes the param's own value (so `"{amount}"` becomes a number in a JSON argument)."""
    if isinstance(value, str):
        whole = re.fullmatch(r"\{(\w+)\}", value)
        if whole and whole.group(1) in params:
            return params[whole.group(1)]
        if not params:
            return value
        names = "|".join(re.escape(k) for k in params)
        return re.sub(r"\{(" + names + r")\}", lambda m: str(params[m.group(1)]), value)
    if isinstance(value, list):
        return [fill(v, params) for v in value]
    if isinstance(value, dict):
        return {str(fill(k, params)): fill(v, params) for k, v in value.items()}
    return value


def solution_templates(reference: list[str], required_calls: list[Any], known_bad: list[Any]) -> str:
    """The solution program of a parametric function-calling task (stored on the task, hashed into its id)."""
    return json.dumps(
        {"reference": reference, "required_calls": required_calls, "known_bad": known_bad}, sort_keys=True
    )


def rendered_solution(task: Task, params: dict[str, Any]) -> tuple[list[str], list[ToolCall], list[list[str]]]:
    """The task's reference turns, required calls and known-bad turns for `params`."""
    assert task.solution_program is not None and task.domain == "function_calling"
    templates = json.loads(task.solution_program)
    calls = [ToolCall(**c) for c in fill(templates["required_calls"], params)]
    return fill(templates["reference"], params), calls, fill(templates["known_bad"], params)


def replay_expected_state(
    reference: list[str], environment: Environment, keys: list[str], baseline: Environment | None = None
) -> dict[str, Any] | str:
    """The final state (for `keys`) after replaying `reference` in `environment`, or why it failed. With a
    `baseline` environment, a tool error the same replay also gives there is tolerated (only new ones fail)."""
    from rlvr_assets.core.environments import Episode

    episode = Episode(environment)
    before = Episode(baseline) if baseline is not None else None
    where = " in the new environment" if baseline is not None else ""
    for turn in reference:
        results = episode.step(turn)
        old = before.step(turn) if before is not None else [None] * len(results)
        errors = [r for o, r in zip(old, results, strict=True) if '"error"' in r and o != r]
        if errors:
            return f"reference solution fails{where}: {errors[0]}"
    return {key: episode.state.get(key) for key in keys}


def derive_goal_truth(parent: Task, params: dict[str, Any], environment: Environment) -> dict[str, Any] | str:
    """Verifier, reference and known-bad turns of `parent` with its goal re-parametrised by `params`."""
    spec = parent.verifier
    if not isinstance(spec, EnvironmentOutcome) or parent.solution_program is None:
        return "task has no parametric goal to re-derive"
    reference, calls, known_bad = rendered_solution(parent, params)
    expected = replay_expected_state(reference, environment, list(spec.expected_state))
    if isinstance(expected, str):
        return expected
    parent_turns = parent.reference_solution if isinstance(parent.reference_solution, list) else []
    if parent_turns != reference:  # the old goal's solution must not pass the new goal
        known_bad.append(parent_turns)
    return {
        "verifier": spec.model_copy(update={"expected_state": expected, "required_calls": calls}),
        "reference_solution": reference,
        "known_bad": known_bad,
    }

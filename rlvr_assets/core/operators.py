"""The versioned catalogue of pre-specified mutation operators.

Each operator is deterministic given (seed task, operator, rng seed) and carries a code version, so
changing one operator makes only its own variants stale. Every operator re-derives the ground truth by
running the parent's reference solution program (in the sandbox) on the variant's parameters.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from rlvr_assets.core.goal_templates import derive_goal_truth, replay_expected_state
from rlvr_assets.core.solutions import run_solution
from rlvr_assets.core.tasks import (
    DOMAINS,
    Environment,
    EnvironmentOutcome,
    NumericAnswer,
    Provenance,
    ReasoningPrompt,
    Task,
    build_task,
)

# Per-domain texts of the operators that add or genericize prompt parts; a domain missing from a table
# makes the operator not applicable there (instruction following states its format as constraints).
GENERIC_HINTS = {
    "reasoning": "Work through the problem step by step and check the arithmetic before answering.",
    "code": "Think about edge cases such as empty inputs before you write the function.",
    "instruction_following": "Check every requirement of the request one by one before you answer.",
    "function_calling": "Look at the current state with the tools before you change anything.",
}
GENERIC_FORMAT_EXAMPLES = {
    "reasoning": "For example, if the result were 1234, the last line would read: Answer: 1234",
    "code": "For example, a reply has this shape:\n```python\ndef function_name(arguments):\n    ...\n```",
    "function_calling": 'For example, one tool call is written as: <tool_call>{"name": "tool_name", "arguments": '
    '{"argument": "value"}}</tool_call>',
}
VAGUE_INSTRUCTIONS = {
    "reasoning": "End with the result.",
    "code": "Reply with the function.",
    "function_calling": "Take care of it.",
}


@dataclass(frozen=True)
class Proposal:
    """What an operator wants to change; the ground truth is re-derived from the parent's reference."""

    prompt: ReasoningPrompt
    rng_seed: int
    environment: Environment | None = None


@dataclass(frozen=True)
class Operator:
    name: str
    version: str
    family: str
    direction: str  # "harder", "easier" or "resample"
    description: str
    propose: Callable[[Task, int, int], list[Proposal] | str] = field(repr=False)
    domains: tuple[str, ...] = DOMAINS

    @property
    def code_version(self) -> str:
        return f"{self.name}@{self.version}"


@dataclass(frozen=True)
class Attempt:
    """One operator application: a variant, or the reason there is none."""

    parent_id: str
    operator: str
    operator_version: str
    family: str
    rng_seed: int | None
    status: str  # "proposed", "not_applicable", "failed"
    reason: str
    variant: Task | None
    sandbox_cpu_seconds: float
    generation_tokens: int = 0
    generation_seconds: float = 0.0


def _rng(task: Task, operator: str, rng_seed: int) -> random.Random:
    digest = hashlib.sha256(f"{task.id}|{operator}|{rng_seed}".encode()).hexdigest()
    return random.Random(int(digest[:16], 16))


def _draw(space: list[Any] | dict[str, int], rng: random.Random) -> Any:
    if isinstance(space, dict):
        return rng.randint(int(space["min"]), int(space["max"]))
    return rng.choice(space)


def _resample_params(task: Task, rng_seed: int, draws: int) -> list[Proposal] | str:
    space = task.prompt.param_space
    if not space:
        return "task declares no param_space to resample"
    proposals: list[Proposal] = []
    seen = {tuple(sorted(task.prompt.params.items()))}
    for draw in range(draws):
        rng = _rng(task, "resample_params", rng_seed + draw)
        for _ in range(50):
            params = dict(task.prompt.params)
            params.update({k: _draw(v, rng) for k, v in space.items()})
            key = tuple(sorted(params.items()))
            if key not in seen:
                seen.add(key)
                proposals.append(Proposal(task.prompt.model_copy(update={"params": params}), rng_seed + draw))
                break
    return proposals or "param_space yields no new parameter combination"


def _single(
    update: Callable[[ReasoningPrompt], dict[str, Any] | str],
) -> Callable[[Task, int, int], list[Proposal] | str]:
    return _single_for_domain(lambda prompt, _domain: update(prompt))


def _single_for_domain(
    update: Callable[[ReasoningPrompt, str], dict[str, Any] | str],
) -> Callable[[Task, int, int], list[Proposal] | str]:
    def propose(task: Task, rng_seed: int, _draws: int) -> list[Proposal] | str:
        change = update(task.prompt, task.domain)
        if isinstance(change, str):
            return change
        return [Proposal(task.prompt.model_copy(update=change), rng_seed)]

    return propose


def _generic_names(prompt: ReasoningPrompt) -> dict[str, Any] | str:
    if not prompt.name_params:
        return "task has no name parameters to redact"
    params = dict(prompt.params)
    labels = (
        ["the person"]
        if len(prompt.name_params) == 1
        else [f"person {chr(65 + i)}" for i in range(len(prompt.name_params))]
    )
    for key, label in zip(prompt.name_params, labels, strict=True):
        params[key] = label
    space = {k: v for k, v in prompt.param_space.items() if k not in prompt.name_params}
    return {"params": params, "param_space": space, "name_params": []}


OBSCURE_FRAME = (
    'A colleague left you this note without further explanation: "{question}" Work out what is needed and handle it.'
)
_DISTRACTOR_WORDS = ["budget", "invoice", "recipe", "holiday", "minutes", "ideas", "contacts", "poem"]
_DISTRACTOR_TITLES = ["yoga", "book club", "call with Ana", "plumber", "piano lesson", "car service"]
_DAYS = ["mon", "tue", "wed", "thu", "fri"]


def _add_hint(prompt: ReasoningPrompt, domain: str) -> dict[str, Any] | str:
    return {"hint": GENERIC_HINTS[domain]} if not prompt.hint else "task already has a hint"


def _add_format_example(prompt: ReasoningPrompt, domain: str) -> dict[str, Any] | str:
    if prompt.format_example:
        return "task already has a format example"
    return {"format_example": GENERIC_FORMAT_EXAMPLES[domain]}


def _vaguer_instruction(prompt: ReasoningPrompt, domain: str) -> dict[str, Any] | str:
    vague = VAGUE_INSTRUCTIONS[domain]
    if not prompt.instruction:
        return "task has no separate instruction to make vaguer"
    return {"instruction": vague} if prompt.instruction != vague else "instruction is already vague"


def _obscure_goal(prompt: ReasoningPrompt) -> dict[str, Any] | str:
    if prompt.template.startswith("A colleague left you this note"):
        return "goal is already obscured"
    return {"template": OBSCURE_FRAME.format(question=prompt.template.replace('"', "'"))}


def _distractors(task: Task, rng_seed: int, draws: int) -> list[Proposal] | str:
    """New initial states: the parent's state plus entities the task must leave alone."""
    env = task.environment
    if env is None:
        return "task has no environment"
    proposals = []
    for draw in range(draws):
        rng = _rng(task, "add_distractors", rng_seed + draw)
        state = json.loads(json.dumps(env.initial_state))
        if env.name == "filesystem":
            for _ in range(rng.randint(1, 2)):
                word = rng.choice(_DISTRACTOR_WORDS)
                state.setdefault("files", {})[f"misc/{word}-{rng.randint(1, 99)}.txt"] = f"{word} {rng.randint(1, 999)}"
        elif env.name == "calendar":
            events = state.setdefault("events", [])
            for _ in range(rng.randint(1, 2)):
                start = rng.randint(6, 20)
                events.append(
                    {
                        "id": f"x{len(events) + 1}",
                        "title": rng.choice(_DISTRACTOR_TITLES),
                        "day": rng.choice(_DAYS),
                        "start": start,
                        "end": start + 1,
                    }
                )
        else:
            state.setdefault("accounts", {})[f"{rng.choice(_DISTRACTOR_WORDS)}-fund"] = rng.randint(1, 500) * 100
        proposals.append(Proposal(task.prompt, rng_seed + draw, env.model_copy(update={"initial_state": state})))
    return proposals


CATALOGUE_VERSION = "2026.11.3"

OPERATORS: dict[str, Operator] = {
    op.name: op
    for op in (
        Operator(
            "resample_params",
            "2",
            "parameter_resampling",
            "resample",
            "draw new parameters from param_space; reasoning: the answer is recomputed by the solution program; "
            "function calling: a new goal whose expected state is re-derived by replaying the templated reference",
            _resample_params,
            ("reasoning", "function_calling"),
        ),
        Operator(
            "remove_hint",
            "1",
            "remove_hints",
            "harder",
            "drop the hint sentence",
            _single(lambda p: {"hint": None} if p.hint else "task has no hint"),
        ),
        Operator(
            "remove_format_example",
            "1",
            "remove_format_examples",
            "harder",
            "drop the worked format example",
            _single(lambda p: {"format_example": None} if p.format_example else "task has no format example"),
        ),
        Operator(
            "densify_formatting",
            "1",
            "densify_formatting",
            "harder",
            "collapse the prompt into one dense paragraph",
            _single(lambda p: {"dense": True} if not p.dense else "task is already dense"),
        ),
        Operator(
            "genericize_names",
            "1",
            "redact_names",
            "harder",
            "replace personal names with generic references",
            _single(_generic_names),
        ),
        Operator(
            "vaguer_instruction",
            "2",
            "genericize_constraints",
            "harder",
            "replace the explicit answer-format instruction with a vague one",
            _single_for_domain(_vaguer_instruction),
            tuple(VAGUE_INSTRUCTIONS),
        ),
        Operator(
            "add_hint",
            "2",
            "inverse_easier",
            "easier",
            "add a generic hint suited to the domain",
            _single_for_domain(_add_hint),
            tuple(GENERIC_HINTS),
        ),
        Operator(
            "obscure_goal",
            "1",
            "obscure_goal",
            "harder",
            "state the task indirectly, as a note to interpret",
            _single(_obscure_goal),
            ("code", "instruction_following", "function_calling"),
        ),
        Operator(
            "add_distractors",
            "1",
            "parameter_resampling",
            "resample",
            "new initial environment state with entities the task must leave alone; expected state re-derived "
            "by replaying the reference solution",
            _distractors,
            ("function_calling",),
        ),
        Operator(
            "add_format_example",
            "2",
            "inverse_easier",
            "easier",
            "add a worked answer-format example",
            _single_for_domain(_add_format_example),
            tuple(GENERIC_FORMAT_EXAMPLES),
        ),
    )
}


def operator_versions(names: list[str]) -> dict[str, str]:
    unknown = [n for n in names if n not in OPERATORS]
    if unknown:
        raise KeyError(f"unknown operator(s) {unknown}; the catalogue has {sorted(OPERATORS)}")
    return {n: OPERATORS[n].code_version for n in names}


def _variant_known_bad(parent: Task, answer: str) -> list[str | list[str]]:
    if answer == parent.answer:
        return list(parent.known_bad)
    bad = [f"Answer: {parent.answer}"]
    with contextlib.suppress(ValueError):
        bad.append(f"Answer: {int(answer) + 1}")
    return bad


def apply_operators(parent: Task, names: list[str], rng_seed: int, resample_draws: int) -> list[Attempt]:
    """Apply each named operator to `parent`; all proposals share one sandboxed solution run."""
    operator_versions(names)
    attempts: list[Attempt] = []
    pending: list[tuple[Operator, Proposal]] = []
    for name in names:
        op = OPERATORS[name]
        proposed = (
            op.propose(parent, rng_seed, resample_draws)
            if parent.domain in op.domains
            else f"operator applies to {', '.join(op.domains)} tasks, not {parent.domain}"
        )
        if isinstance(proposed, str):
            attempts.append(
                Attempt(parent.id, op.name, op.version, op.family, rng_seed, "not_applicable", proposed, None, 0.0)
            )
        else:
            pending.extend((op, p) for p in proposed)
    if not pending:
        return attempts
    if parent.domain == "reasoning" and parent.solution_program:
        run = run_solution(parent.solution_program, [p.prompt.params for _, p in pending])
        answers, errors, cpu = run.answers, run.errors, run.cpu_seconds
    else:  # rephrasing of a non-parametric task: the verifier carries over unchanged
        answers, errors, cpu = [None] * len(pending), [None] * len(pending), 0.0
    cpu_each = cpu / len(pending)
    for (op, proposal), answer, error in zip(pending, answers, errors, strict=True):
        if parent.domain == "reasoning" and parent.solution_program and answer is None:
            reason = f"reference solution failed on variant params: {error}"
            attempts.append(
                Attempt(parent.id, op.name, op.version, op.family, proposal.rng_seed, "failed", reason, None, cpu_each)
            )
            continue
        new_goal = parent.domain == "function_calling" and proposal.prompt.params != parent.prompt.params
        if new_goal or proposal.environment is not None:
            truth_or_reason = (
                derive_goal_truth(parent, proposal.prompt.params, proposal.environment or parent.environment)
                if new_goal and parent.environment is not None
                else _replayed_truth(parent, proposal.environment or parent.environment)
            )
            if isinstance(truth_or_reason, str):
                attempts.append(
                    Attempt(
                        parent.id,
                        op.name,
                        op.version,
                        op.family,
                        proposal.rng_seed,
                        "failed",
                        truth_or_reason,
                        None,
                        cpu_each,
                    )
                )
                continue
            truth = truth_or_reason
        elif answer is not None:
            truth = {
                "verifier": parent.verifier.model_copy(update={"answer": answer})
                if isinstance(parent.verifier, NumericAnswer)
                else NumericAnswer(answer=answer),
                "reference_solution": f"Answer: {answer}",
                "known_bad": _variant_known_bad(parent, answer),
            }
        else:
            truth = {
                "verifier": parent.verifier,
                "reference_solution": parent.reference_solution,
                "known_bad": list(parent.known_bad),
            }
        variant = build_task(
            name=f"{parent.name}~{op.name}~{proposal.rng_seed}",
            domain=parent.domain,
            prompt=proposal.prompt,
            solution_program=parent.solution_program,
            environment=proposal.environment or parent.environment,
            system=parent.system,
            authoring_cost_usd=0.0,
            provenance=Provenance(
                kind="augmented",
                split=None,
                parent_id=parent.id,
                operator=op.name,
                operator_version=op.version,
                rng_seed=proposal.rng_seed,
            ),
            **truth,
        )
        attempts.append(
            Attempt(parent.id, op.name, op.version, op.family, proposal.rng_seed, "proposed", "ok", variant, cpu_each)
        )
    return attempts


def _replayed_truth(parent: Task, environment: Environment) -> dict[str, Any] | str:
    """Re-derive a function-calling task's expected state by replaying its reference in the new environment."""
    spec = parent.verifier
    if not isinstance(spec, EnvironmentOutcome) or parent.environment is None:
        return "task has no environment outcome to re-derive"
    turns = [parent.reference_solution] if isinstance(parent.reference_solution, str) else parent.reference_solution
    expected = replay_expected_state(turns, environment, list(spec.expected_state), baseline=parent.environment)
    if isinstance(expected, str):
        return expected
    return {
        "verifier": spec.model_copy(update={"expected_state": expected}),
        "reference_solution": parent.reference_solution,
        "known_bad": list(parent.known_bad),
    }

"""The versioned catalogue of pre-specified mutation operators.

Each operator is deterministic given (seed task, operator, rng seed) and carries a code version, so
changing one operator makes only its own variants stale. An operator only proposes a change (new prompt
parts, params or initial state); the parent's domain says whether the operator applies, supplies the
domain's texts, and re-derives the ground truth for the change (core/domains/), the same derivation the
gate's V_faithful checks against.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from rlvr_assets.core.domains import REGISTRY, domain_of
from rlvr_assets.core.domains.base import Domain, VariantChange
from rlvr_assets.core.kernel.failures import Rejected
from rlvr_assets.core.tasks.model import PromptSpec, Provenance, Task, build_task


@dataclass(frozen=True)
class Proposal:
    """What an operator wants to change; the ground truth is re-derived from the parent's reference."""

    prompt: PromptSpec
    rng_seed: int
    environment: Any = None  # a new environment (the domain's type), or None to keep the parent's


@dataclass(frozen=True)
class Operator:
    name: str
    version: str
    family: str
    direction: str  # "harder", "easier" or "resample"
    description: str
    propose: Callable[[Task, int, int], list[Proposal] | Rejected] = field(repr=False)

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


def _resample_params(task: Task, rng_seed: int, draws: int) -> list[Proposal] | Rejected:
    space = task.prompt.param_space
    if not space:
        return Rejected("task declares no param_space to resample")
    proposals: list[Proposal] = []
    seen = {tuple(sorted(task.prompt.params.items()))}
    for draw in range(draws):
        rng = _rng(task, "resample_params", rng_seed + draw)
        for _ in range(50):
            params = dict(task.prompt.params)
            params.update({k: _draw(v, rng) for k, v in space.items()})
            params = domain_of(task).resampled_params(task, params)
            key = tuple(sorted(params.items()))
            if key not in seen:
                seen.add(key)
                proposals.append(Proposal(task.prompt.model_copy(update={"params": params}), rng_seed + draw))
                break
    return proposals or Rejected("param_space yields no new parameter combination")


def _single(
    update: Callable[[PromptSpec], dict[str, Any] | Rejected],
) -> Callable[[Task, int, int], list[Proposal] | Rejected]:
    return _single_for_domain(lambda prompt, _domain: update(prompt))


def _single_for_domain(
    update: Callable[[PromptSpec, Domain], dict[str, Any] | Rejected],
) -> Callable[[Task, int, int], list[Proposal] | Rejected]:
    """An operator that changes prompt parts only (one proposal, the rng seed unused)."""

    def propose(task: Task, rng_seed: int, _draws: int) -> list[Proposal] | Rejected:
        change = update(task.prompt, domain_of(task))
        if isinstance(change, Rejected):
            return change
        return [Proposal(task.prompt.model_copy(update=change), rng_seed)]

    return propose


def _generic_names(prompt: PromptSpec) -> dict[str, Any] | Rejected:
    if not prompt.name_params:
        return Rejected("task has no name parameters to redact")
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


def _add_hint(prompt: PromptSpec, domain: Domain) -> dict[str, Any] | Rejected:
    if domain.hint is None:
        return Rejected(f"{domain.name} has no generic hint")
    return {"hint": domain.hint} if not prompt.hint else Rejected("task already has a hint")


def _add_format_example(prompt: PromptSpec, domain: Domain) -> dict[str, Any] | Rejected:
    if domain.format_example is None:
        return Rejected(f"{domain.name} has no generic format example")
    if prompt.format_example:
        return Rejected("task already has a format example")
    return {"format_example": domain.format_example}


def _vaguer_instruction(prompt: PromptSpec, domain: Domain) -> dict[str, Any] | Rejected:
    vague = domain.vague_instruction
    if vague is None:
        return Rejected(f"{domain.name} has no vague instruction")
    if not prompt.instruction:
        return Rejected("task has no separate instruction to make vaguer")
    return {"instruction": vague} if prompt.instruction != vague else Rejected("instruction is already vague")


def _obscure_goal(prompt: PromptSpec) -> dict[str, Any] | Rejected:
    if prompt.template.startswith("A colleague left you this note"):
        return Rejected("goal is already obscured")
    return {"template": OBSCURE_FRAME.format(question=prompt.template.replace('"', "'"))}


def _distractors(task: Task, rng_seed: int, draws: int) -> list[Proposal] | Rejected:
    """New initial states: the parent's state plus entities the task must leave alone (the domain draws them)."""
    env = task.environment
    if env is None:
        return Rejected("task has no environment")
    domain = domain_of(task)
    proposals = []
    for draw in range(draws):
        changed = domain.add_distractors(env, _rng(task, "add_distractors", rng_seed + draw))
        if isinstance(changed, Rejected):
            return changed
        proposals.append(Proposal(task.prompt, rng_seed + draw, changed))
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
        ),
        Operator(
            "remove_hint",
            "1",
            "remove_hints",
            "harder",
            "drop the hint sentence",
            _single(lambda p: {"hint": None} if p.hint else Rejected("task has no hint")),
        ),
        Operator(
            "remove_format_example",
            "1",
            "remove_format_examples",
            "harder",
            "drop the worked format example",
            _single(lambda p: {"format_example": None} if p.format_example else Rejected("task has no format example")),
        ),
        Operator(
            "densify_formatting",
            "1",
            "densify_formatting",
            "harder",
            "collapse the prompt into one dense paragraph",
            _single(lambda p: {"dense": True} if not p.dense else Rejected("task is already dense")),
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
        ),
        Operator(
            "add_hint",
            "2",
            "inverse_easier",
            "easier",
            "add a generic hint suited to the domain",
            _single_for_domain(_add_hint),
        ),
        Operator(
            "obscure_goal",
            "1",
            "obscure_goal",
            "harder",
            "state the task indirectly, as a note to interpret",
            _single(_obscure_goal),
        ),
        Operator(
            "add_distractors",
            "1",
            "parameter_resampling",
            "resample",
            "new initial environment state with entities the task must leave alone; expected state re-derived "
            "by replaying the reference solution",
            _distractors,
        ),
        Operator(
            "add_format_example",
            "2",
            "inverse_easier",
            "easier",
            "add a worked answer-format example",
            _single_for_domain(_add_format_example),
        ),
    )
}


def operator_versions(names: list[str]) -> dict[str, str]:
    unknown = [n for n in names if n not in OPERATORS]
    if unknown:
        raise KeyError(f"unknown operator(s) {unknown}; the catalogue has {sorted(OPERATORS)}")
    return {n: OPERATORS[n].code_version for n in names}


def applicable_domains(operator: str) -> list[str]:
    """The registered domains whose operator hooks include `operator`."""
    return [name for name, domain in REGISTRY.items() if operator in domain.operators]


def apply_operators(parent: Task, names: list[str], rng_seed: int, resample_draws: int) -> list[Attempt]:
    """Apply each named operator to `parent`; the domain derives every proposal's ground truth in one go
    (for reasoning, one sandboxed solution run)."""
    operator_versions(names)
    domain = domain_of(parent)
    attempts: list[Attempt] = []
    pending: list[tuple[Operator, Proposal]] = []
    for name in names:
        op = OPERATORS[name]
        proposed = (
            op.propose(parent, rng_seed, resample_draws)
            if op.name in domain.operators
            else Rejected(f"operator applies to {', '.join(applicable_domains(op.name))} tasks, not {domain.name}")
        )
        if isinstance(proposed, Rejected):
            attempts.append(
                Attempt(
                    parent.id, op.name, op.version, op.family, rng_seed, "not_applicable", proposed.reason, None, 0.0
                )
            )
        else:
            pending.extend((op, p) for p in proposed)
    if not pending:
        return attempts
    derived = domain.derive_truths(parent, [VariantChange(p.prompt.params, p.environment) for _, p in pending])
    cpu_each = derived.sandbox_cpu_seconds / len(pending)
    for (op, proposal), truth in zip(pending, derived.truths, strict=True):
        if isinstance(truth, Rejected):
            attempts.append(
                Attempt(
                    parent.id, op.name, op.version, op.family, proposal.rng_seed, "failed", truth.reason, None, cpu_each
                )
            )
            continue
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
            verifier=truth.verifier,
            reference_solution=truth.reference_solution,
            known_bad=truth.known_bad,
        )
        attempts.append(
            Attempt(parent.id, op.name, op.version, op.family, proposal.rng_seed, "proposed", "ok", variant, cpu_each)
        )
    return attempts

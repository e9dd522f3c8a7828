"""The contract of a task domain: everything the rest of the core asks about a domain goes through it.

A domain owns its seed fields and their validation, its default texts, its verifier spec types and
verifier, how ground truth is re-derived for a variant (used by the operators to build the variant and by
the gate to check it), its operator hooks (which catalogue operators apply, and the domain's hint,
format-example and vague-instruction texts) and how one of its tasks is rolled out (single turn or a live
episode). Adding a domain is one folder in this package plus one line in the registry (`__init__.py`).
"""

from __future__ import annotations

import hashlib
import json
import random
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar, Protocol

from pydantic import BaseModel, ConfigDict

from rlvr_assets.core.kernel.failures import Rejected
from rlvr_assets.core.kernel.verdict import Verdict

if TYPE_CHECKING:
    from rlvr_assets.core.kernel.episodes import Episode

Solution = str | list[str]  # a completion, or for multi-turn tasks the assistant's turns


class TaskView(Protocol):
    """What a domain reads from a task. Hooks are typed against this, not the task model (core/tasks/), which
    is itself built from every domain's spec types: a domain never imports tasks/."""

    @property
    def id(self) -> str: ...
    @property
    def domain(self) -> str: ...
    @property
    def prompt(self) -> Any: ...  # the task model's PromptSpec: template and params
    @property
    def prompt_text(self) -> str: ...
    @property
    def messages(self) -> list[dict[str, str]]: ...
    @property
    def environment(self) -> Any: ...  # function calling's Environment, or None
    @property
    def verifier(self) -> Any: ...  # one of the domains' spec types
    @property
    def solution_program(self) -> str | None: ...
    @property
    def reference_solution(self) -> Solution: ...
    @property
    def known_bad(self) -> list[Solution]: ...


class VerifierSpecBase(BaseModel):
    """Base of every verifier spec: frozen, strict, and able to say in a few characters what it accepts."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    def summary(self) -> str:
        """Short, stable identity of what this spec accepts: equal exactly when two specs accept the same."""
        return hashlib.sha256(self.model_dump_json().encode()).hexdigest()[:12]


class SeedFieldError(ValueError):
    """A domain-specific seed field is wrong; `field` is its dotted path inside the record."""

    def __init__(self, field: str, problem: str) -> None:
        self.field, self.problem = field, problem
        super().__init__(f"{field}: {problem}")


@dataclass(frozen=True)
class VariantChange:
    """What an operator changed that can move the ground truth: the prompt params and the environment."""

    params: Mapping[str, Any]
    environment: Any = None  # a domain's environment state (function calling's Environment), or None


@dataclass(frozen=True)
class GroundTruth:
    """A task's verifier, reference solution and known-bad solutions, re-derived for a variant."""

    verifier: Any
    reference_solution: Solution
    known_bad: list[Solution] = field(default_factory=list)


@dataclass(frozen=True)
class DerivedTruths:
    """One ground truth (or the reason there is none) per change, and the sandbox CPU seconds it cost."""

    truths: list[GroundTruth | Rejected]
    sandbox_cpu_seconds: float = 0.0


# The operators that rewrite only the prompt's own text (its hint, format example, layout, names and
# instruction): every domain whose prompts have those parts takes them; a domain adds the operators that
# change its content (new parameters, an obscured goal, distractors) and drops what its prompts lack.
PROMPT_TEXT_OPERATORS: frozenset[str] = frozenset(
    {
        "remove_hint",
        "remove_format_example",
        "densify_formatting",
        "genericize_names",
        "vaguer_instruction",
        "add_hint",
        "add_format_example",
    }
)


class Domain(ABC):
    """One task domain. Subclasses are stateless: class attributes plus pure hooks."""

    name: ClassVar[str]
    # seed file: fields beyond the common ones (template, params, hint, ...) and which of them are required
    seed_fields: ClassVar[frozenset[str]]
    required_seed_fields: ClassVar[tuple[str, ...]]
    # what the prompt says about the answer format unless the seed overrides it
    default_instruction: ClassVar[str]
    # the verifier spec models this domain's tasks may carry (their `type` literals must be unique)
    spec_types: ClassVar[tuple[type[VerifierSpecBase], ...]]
    # solutions are lists of assistant turns (live episodes) rather than one completion
    multi_turn: ClassVar[bool] = False
    # operator hooks: which catalogue operators apply, and the texts of those that add or genericize parts
    operators: ClassVar[frozenset[str]]
    hint: ClassVar[str | None] = None
    format_example: ClassVar[str | None] = None
    vague_instruction: ClassVar[str | None] = None

    @abstractmethod
    def seed_truth(self, record: Mapping[str, Any]) -> dict[str, Any]:
        """The task fields this domain derives from a seed record (verifier, reference_solution, and optionally
        solution_program, environment); raises SeedFieldError naming the field."""

    def seed_known_bad(self, known_bad: list[Solution], params: Mapping[str, Any]) -> list[Solution]:
        """Known-bad solutions as the verifier will see them (e.g. code wrapped in a fence)."""
        return known_bad

    def default_system(self, truth: Mapping[str, Any]) -> str | None:
        """The system turn a seed gets when it gives none."""
        return None

    @abstractmethod
    def verify(self, task: TaskView, completion: Solution) -> Verdict:
        """Score one completion (or the assistant's turns); fails closed with the reason."""

    def derive_truths(self, parent: TaskView, changes: Sequence[VariantChange]) -> DerivedTruths:
        """Ground truth of `parent` under each change. The default: a change of wording only keeps the
        parent's truth; a domain whose truth depends on params or the environment overrides this."""
        truths: list[GroundTruth | Rejected] = []
        for change in changes:
            if dict(change.params) != parent.prompt.params or (
                change.environment is not None and change.environment != parent.environment
            ):
                truths.append(Rejected(f"{self.name} tasks cannot re-derive ground truth for new params"))
            else:
                truths.append(parent_truth(parent))
        return DerivedTruths(truths)

    def resampled_params(self, task: TaskView, params: Mapping[str, Any]) -> dict[str, Any]:
        """The params of a resampled variant once the drawn ones are in: a domain whose prompt text is derived
        from a drawn value (a generator's item) fills it in here."""
        return dict(params)

    def unstated_params(self, variant: TaskView) -> list[str]:
        """Params the variant's prompt fails to state (a faithful variant states what its truth depends on)."""
        return []

    def add_distractors(self, environment: Any, rng: random.Random) -> Any:
        """A new initial environment: the parent's plus entities the task must leave alone (domains whose
        tasks run in an environment override this)."""
        return Rejected(f"{self.name} tasks have no environment to add distractors to")

    def start_episode(self, task: TaskView) -> Episode:
        """A rollout of `task`: single turn unless the domain runs live episodes."""
        from rlvr_assets.core.kernel.episodes import SingleTurn

        return SingleTurn(list(task.messages))


def parent_truth(parent: TaskView) -> GroundTruth:
    return GroundTruth(parent.verifier, parent.reference_solution, list(parent.known_bad))


def is_solution(value: Any, multi_turn: bool) -> bool:
    if multi_turn:
        return isinstance(value, list) and all(isinstance(t, str) for t in value)
    return isinstance(value, str)


def canonical_json(value: Any) -> str:
    return json.dumps(value, sort_keys=True)

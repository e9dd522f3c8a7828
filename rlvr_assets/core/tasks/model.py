"""The task model: one versioned shape for a task of any domain.

A task is everything a policy and a verifier need: the parametric prompt, the verifier spec, a reference
solution known to pass, known-bad completions that must fail, its authoring cost and its provenance.
Ids are content hashes, so lineage and staleness follow content rather than file order. The verifier spec
types belong to the domains (core/domains/); the seed-file parser is core/tasks/seeds.py.
"""

from __future__ import annotations

import hashlib
import json
import re
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from rlvr_assets.core.domains import DOMAINS, VerifierSpec
from rlvr_assets.core.domains.base import Solution, VerifierSpecBase
from rlvr_assets.core.domains.function_calling.environments import Environment
from rlvr_assets.core.kernel.templates import TemplateError, field_names, render

SCHEMA_VERSION = 2
Split = Literal["base", "pool", "heldout"]


class Provenance(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: Literal["human", "augmented"] = "human"
    split: Split | None = None
    parent_id: str | None = None
    operator: str | None = None
    operator_version: str | None = None
    rng_seed: int | None = None
    source_file: str | None = None


class PromptSpec(BaseModel):
    """The user turn, in parts operators can change: a template (formatted with `params` when it has any),
    an optional hint, the instruction, an optional format example, and a dense (one-paragraph) flag."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    template: str
    params: dict[str, Any] = Field(default_factory=dict)
    # name -> explicit choices (a list) or an inclusive integer range ({"min": 2, "max": 9})
    param_space: dict[str, list[Any] | dict[str, int]] = Field(default_factory=dict)
    name_params: list[str] = Field(default_factory=list)
    hint: str | None = None
    instruction: str = ""
    format_example: str | None = None
    dense: bool = False

    @model_validator(mode="after")
    def _plain_fields(self) -> PromptSpec:
        """A parametric template is in the template language (`templates.py`: plain `{name}` fields only) and
        every field has a param; checked when the prompt is read, so rendering it later cannot fail."""
        if self.params:
            try:
                missing = sorted(field_names(self.template) - set(self.params))
            except TemplateError as exc:
                raise ValueError(f"cannot be formatted with params: {exc}") from None
            if missing:
                raise ValueError(f"cannot be formatted with params: field {{{missing[0]}}} has no param")
        return self

    @property
    def question(self) -> str:
        """The problem statement alone, without hint, instruction or format boilerplate."""
        if not self.params:
            return self.template
        return _capitalize_sentences(render(self.template, self.params))

    def render(self) -> str:
        parts = [self.question]
        if self.hint:
            parts.append(f"Hint: {self.hint}")
        if self.instruction:
            parts.append(self.instruction)
        if self.format_example:
            parts.append(self.format_example)
        if self.dense:
            return " ".join(" ".join(p.split()) for p in parts)
        return "\n\n".join(parts)


class Task(BaseModel):
    """One RLVR task of any domain (schema version 2; JSON Schema in schemas/task.schema.json)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    schema_version: int = SCHEMA_VERSION
    id: str
    name: str
    domain: str = Field(json_schema_extra={"enum": list(DOMAINS)})  # a registered domain (core/domains/)
    prompt: PromptSpec
    system: str | None = None
    environment: Environment | None = None
    verifier: VerifierSpec
    # How ground truth is re-derived for new params: reasoning, a Python `solve(**params)` run in the sandbox;
    # function calling, the reference turns and calls as templates over params (core/domains/function_calling/domain.py).
    solution_program: str | None = None
    reference_solution: Solution
    known_bad: list[Solution] = Field(default_factory=list)
    authoring_cost_usd: float = 0.0
    provenance: Provenance = Field(default_factory=Provenance)

    @field_validator("domain")
    @classmethod
    def _registered(cls, value: str) -> str:
        if value not in DOMAINS:
            raise ValueError(f"unsupported domain {value!r}; one of {list(DOMAINS)}")
        return value

    @property
    def prompt_text(self) -> str:
        return self.prompt.render()

    @property
    def messages(self) -> list[dict[str, str]]:
        system = [{"role": "system", "content": self.system}] if self.system else []
        return [*system, {"role": "user", "content": self.prompt_text}]

    @property
    def truth_key(self) -> str:
        """What the task accepts, in a few characters (a reasoning answer, else a digest of the verifier
        spec): two tasks with the same key accept the same solutions."""
        return self.verifier.summary()

    def to_json(self) -> str:
        return self.model_dump_json()

    @classmethod
    def from_json(cls, text: str) -> Task:
        return cls.model_validate_json(text)


def task_json_schema() -> dict[str, Any]:
    return Task.model_json_schema()


def content_id(
    domain: str, prompt: PromptSpec, verifier: BaseModel, environment: Environment | None, solution_program: str | None
) -> str:
    """Hash of everything that changes what the task asks or accepts (not its name, cost or file position)."""
    payload = json.dumps(
        {
            "domain": domain,
            "prompt": prompt.model_dump(mode="json"),
            "verifier": verifier.model_dump(mode="json"),
            "environment": environment.model_dump(mode="json") if environment else None,
            "solution": solution_program,
        },
        sort_keys=True,
    )
    return f"{domain[:4]}-{hashlib.sha256(payload.encode()).hexdigest()[:12]}"


def build_task(
    *,
    name: str,
    domain: str,
    prompt: PromptSpec,
    verifier: VerifierSpecBase,
    reference_solution: Solution,
    known_bad: list[Solution],
    authoring_cost_usd: float,
    provenance: Provenance,
    solution_program: str | None = None,
    environment: Environment | None = None,
    system: str | None = None,
) -> Task:
    return Task(
        id=content_id(domain, prompt, verifier, environment, solution_program),
        name=name,
        domain=domain,  # type: ignore[arg-type]
        prompt=prompt,
        system=system,
        environment=environment,
        verifier=verifier,
        solution_program=solution_program,
        reference_solution=reference_solution,
        known_bad=known_bad,
        authoring_cost_usd=authoring_cost_usd,
        provenance=provenance,
    )


def _capitalize_sentences(text: str) -> str:
    """Capitalise the first letter of each sentence (names redacted to \"the customer\" start sentences too)."""
    return re.sub(r"(^\s*|[.?!]\s+)([a-z])", lambda m: m.group(1) + m.group(2).upper(), text)

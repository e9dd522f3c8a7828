"""The task model and the seed-file loader.

A task is everything a policy and a verifier need: the parametric prompt, the verifier spec, a reference
solution known to pass, known-bad completions that must fail, its authoring cost and its provenance.
Ids are content hashes, so lineage and staleness follow content rather than file order.
"""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

SCHEMA_VERSION = 2
Split = Literal["base", "pool", "heldout"]


class SeedFileError(ValueError):
    """A seed file is malformed; the message names the file, the line, the task and the field."""

    def __init__(self, path: Path, line: int, task_name: str | None, field: str, problem: str) -> None:
        self.path, self.line, self.task_name, self.field, self.problem = path, line, task_name, field, problem
        super().__init__(f"{path}:{line}: task {task_name or '<unnamed>'}: field '{field}': {problem}")


class Provenance(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: Literal["human", "augmented"] = "human"
    split: Split | None = None
    parent_id: str | None = None
    operator: str | None = None
    operator_version: str | None = None
    rng_seed: int | None = None
    source_file: str | None = None


DOMAINS = ("reasoning", "code", "instruction_following", "function_calling")
Domain = Literal["reasoning", "code", "instruction_following", "function_calling"]
DEFAULT_INSTRUCTIONS = {
    "reasoning": "Give your final answer on the last line as 'Answer: <number>'.",
    "code": "Reply with the complete function in one ```python code block.",
    "instruction_following": "",
    "function_calling": "Use the tools to do this. When you are finished, say so briefly.",
}


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
    instruction: str = DEFAULT_INSTRUCTIONS["reasoning"]
    format_example: str | None = None
    dense: bool = False

    @property
    def question(self) -> str:
        """The problem statement alone, without hint, instruction or format boilerplate."""
        if not self.params:
            return self.template
        return _capitalize_sentences(self.template.format(**self.params))

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


ReasoningPrompt = PromptSpec  # the reasoning domain's name for it


class NumericAnswer(BaseModel):
    """Reasoning: the final answer must equal `answer`: a number (integer, fraction, decimal), a choice
    letter, a symbolic expression (compared with sympy), or a JSON value (compared structurally)."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    type: Literal["numeric_answer"] = "numeric_answer"
    answer: str
    kind: Literal["number", "choice", "expression", "json"] = "number"


class TestCase(BaseModel):
    """One hidden unit test: call the function with `args`/`kwargs`; it must return `expected`."""

    __test__ = False  # not a pytest class
    model_config = ConfigDict(extra="forbid", frozen=True)
    args: list[Any] = Field(default_factory=list)
    kwargs: dict[str, Any] = Field(default_factory=dict)
    expected: Any


class UnitTests(BaseModel):
    """Code: hidden tests run in the sandbox against `entry_point`, either as `cases` (expected values stay
    outside the sandbox) or as HumanEval-style `tests` source defining `check(candidate)`."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    type: Literal["unit_tests"] = "unit_tests"
    entry_point: str
    cases: list[TestCase] | None = None
    tests: str | None = None
    prelude: str | None = None  # code run before the candidate's (a benchmark's imports and helpers)

    @model_validator(mode="after")
    def _one_style(self) -> UnitTests:
        if (self.cases is None) == (self.tests is None):
            raise ValueError("give exactly one of cases or tests")
        if self.cases is not None and not self.cases:
            raise ValueError("cases must not be empty")
        return self


class Constraint(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    id: str
    kwargs: dict[str, Any] = Field(default_factory=dict)


class Constraints(BaseModel):
    """Instruction following: every constraint must hold (ids from the project's checker registry)."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    type: Literal["constraints"] = "constraints"
    constraints: list[Constraint] = Field(min_length=1)
    registry: Literal["ifeval", "ifbench"] = "ifeval"  # which checker family the ids come from


class ToolCall(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    name: str
    arguments: dict[str, Any] = Field(default_factory=dict)


class EnvironmentOutcome(BaseModel):
    """Function calling: the final environment state (per top-level key) and the calls that must occur,
    in order (arguments given here must match; others are free)."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    type: Literal["environment_outcome"] = "environment_outcome"
    expected_state: dict[str, Any] = Field(default_factory=dict)
    required_calls: list[ToolCall] = Field(default_factory=list)
    max_turns: int = 6


class BFCLCalls(BaseModel):
    """BFCL single-turn categories: the calls must match the ground truth by BFCL's AST rules."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    type: Literal["bfcl_calls"] = "bfcl_calls"
    functions: list[dict[str, Any]]
    ground_truth: list[dict[str, Any]]


class BFCLMultiTurn(BaseModel):
    """BFCL multi-turn: later user turns arrive in order; BFCL's state-based checker judges the episode."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    type: Literal["bfcl_multi_turn"] = "bfcl_multi_turn"
    entry: dict[str, Any]  # id, initial_config, involved_classes
    later_user_turns: list[str]
    ground_truth: list[list[str]]
    max_steps_per_turn: int = 5


VerifierSpec = Annotated[
    NumericAnswer | UnitTests | Constraints | EnvironmentOutcome | BFCLCalls | BFCLMultiTurn,
    Field(discriminator="type"),
]


class Environment(BaseModel):
    """A simulated, stateful tool environment (see core/environments.py) and its starting state."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    name: Literal["filesystem", "calendar", "bank"]
    initial_state: dict[str, Any] = Field(default_factory=dict)


Solution = str | list[str]  # a completion, or for multi-turn tasks the assistant's turns


class Task(BaseModel):
    """One RLVR task of any domain (schema version 2; JSON Schema in schemas/task.schema.json)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    schema_version: int = SCHEMA_VERSION
    id: str
    name: str
    domain: Domain
    prompt: PromptSpec
    system: str | None = None
    environment: Environment | None = None
    verifier: VerifierSpec
    # How ground truth is re-derived for new params: reasoning, a Python `solve(**params)` run in the sandbox;
    # function calling, the reference turns and calls as templates over params (core/goal_templates.py).
    solution_program: str | None = None
    reference_solution: Solution
    known_bad: list[Solution] = Field(default_factory=list)
    authoring_cost_usd: float = 0.0
    provenance: Provenance = Field(default_factory=Provenance)

    @property
    def prompt_text(self) -> str:
        return self.prompt.render()

    @property
    def messages(self) -> list[dict[str, str]]:
        system = [{"role": "system", "content": self.system}] if self.system else []
        return [*system, {"role": "user", "content": self.prompt_text}]

    @property
    def answer(self) -> str:
        """What counts as correct, as one string: the numeric answer, else a digest of the verifier spec."""
        if isinstance(self.verifier, NumericAnswer):
            return self.verifier.answer
        return hashlib.sha256(self.verifier.model_dump_json().encode()).hexdigest()[:12]

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
    verifier: NumericAnswer | UnitTests | Constraints | EnvironmentOutcome | BFCLCalls | BFCLMultiTurn,
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


_COMMON_FIELDS = {
    "name",
    "domain",
    "split",
    "template",
    "params",
    "param_space",
    "name_params",
    "hint",
    "instruction",
    "format_example",
    "known_bad",
    "authoring_cost_usd",
    "system",
}
_DOMAIN_FIELDS = {
    "reasoning": ({"solution", "answer", "answer_kind"}, ("answer",)),
    "code": ({"entry_point", "cases", "tests", "reference"}, ("entry_point", "reference")),
    "instruction_following": ({"constraints", "reference"}, ("constraints", "reference")),
    "function_calling": (
        {"environment", "expected_state", "required_calls", "reference", "max_turns"},
        ("environment", "reference"),
    ),
}


def _code_block(code: str) -> str:
    return f"```python\n{code.rstrip()}\n```"


def parse_seed_record(record: Any, path: Path, line: int, default_cost: float) -> Task:
    """Turn one authored JSON record into a Task, or raise SeedFileError naming what is wrong."""
    if not isinstance(record, dict):
        raise SeedFileError(path, line, None, "<record>", f"expected a JSON object, got {type(record).__name__}")
    name = record.get("name") if isinstance(record.get("name"), str) else None
    domain = record.get("domain")
    if domain not in _DOMAIN_FIELDS:
        raise SeedFileError(path, line, name, "domain", f"unsupported domain {domain!r}; one of {list(DOMAINS)}")
    extra_fields, required = _DOMAIN_FIELDS[domain]
    for key in record:
        if key not in _COMMON_FIELDS | extra_fields:
            raise SeedFileError(path, line, name, key, f"unknown field for domain {domain}")
    for key in ("name", "split", "template", *required):
        if key not in record or record[key] in (None, ""):
            raise SeedFileError(path, line, name, key, "required field is missing or empty")
    if record["split"] not in ("base", "pool", "heldout"):
        raise SeedFileError(path, line, name, "split", f"must be base, pool or heldout, got {record['split']!r}")
    cost = record.get("authoring_cost_usd", default_cost)
    if not isinstance(cost, int | float) or isinstance(cost, bool) or cost < 0:
        raise SeedFileError(path, line, name, "authoring_cost_usd", f"must be a non-negative number, got {cost!r}")
    try:
        prompt = PromptSpec(
            template=record["template"],
            params=record.get("params", {}),
            param_space=record.get("param_space", {}),
            name_params=record.get("name_params", []),
            hint=record.get("hint"),
            format_example=record.get("format_example"),
            instruction=record.get("instruction", DEFAULT_INSTRUCTIONS[domain]),
        )
    except ValidationError as exc:
        err = exc.errors()[0]
        raise SeedFileError(path, line, name, ".".join(map(str, err["loc"])), err["msg"]) from exc
    try:
        prompt.render()
    except (KeyError, IndexError, ValueError) as exc:
        raise SeedFileError(path, line, name, "template", f"cannot be formatted with params: {exc!r}") from exc
    known_bad = record.get("known_bad", [])
    multi_turn = domain == "function_calling"
    if not isinstance(known_bad, list) or not all(_is_solution(k, multi_turn) for k in known_bad):
        shape = "a list of turn lists (lists of strings)" if multi_turn else "a list of strings"
        raise SeedFileError(path, line, name, "known_bad", f"must be {shape}")
    try:
        fields = _domain_fields(domain, record)
    except (ValidationError, TypeError, ValueError) as exc:
        field, problem = _first_error(exc)
        raise SeedFileError(path, line, name, field, problem) from exc
    if domain == "code":
        known_bad = [_code_block(k) if "```" not in k else k for k in known_bad]
    if domain == "function_calling" and prompt.params:
        from rlvr_assets.core.goal_templates import fill

        known_bad = fill(known_bad, prompt.params)
    return build_task(
        name=record["name"],
        domain=domain,
        prompt=prompt,
        known_bad=known_bad,
        authoring_cost_usd=float(cost),
        provenance=Provenance(kind="human", split=record["split"], source_file=str(path)),
        system=record.get("system") or _default_system(domain, fields),
        **fields,
    )


def _default_system(domain: str, fields: dict[str, Any]) -> str | None:
    """Function-calling tasks get the tool protocol and their environment's tool schemas as system turn."""
    if domain != "function_calling":
        return None
    from rlvr_assets.core.environments import system_prompt

    return system_prompt(fields["environment"].name)


def _is_solution(value: Any, multi_turn: bool) -> bool:
    if multi_turn:
        return isinstance(value, list) and all(isinstance(t, str) for t in value)
    return isinstance(value, str)


def _first_error(exc: Exception) -> tuple[str, str]:
    if isinstance(exc, ValidationError):
        err = exc.errors()[0]
        return ".".join(map(str, err["loc"])) or "<record>", err["msg"]
    field, _, problem = str(exc).partition(": ")
    return field, problem


def _domain_fields(domain: str, record: dict[str, Any]) -> dict[str, Any]:
    if domain == "reasoning":
        answer = record["answer"]
        if not isinstance(answer, str | int) or isinstance(answer, bool):
            raise TypeError("answer: must be a string or an integer")
        kind = record.get("answer_kind", "number")
        if kind == "number" and not record.get("solution"):
            raise ValueError("solution: numeric reasoning tasks need a solution program (def solve(**params))")
        return {
            "verifier": NumericAnswer(answer=str(answer), kind=kind),
            "reference_solution": f"Answer: {answer}",
            "solution_program": record.get("solution"),
        }
    if domain == "code":
        if not isinstance(record["reference"], str):
            raise TypeError("reference: must be the function's source code as a string")
        return {
            "verifier": UnitTests(
                entry_point=record["entry_point"], cases=record.get("cases"), tests=record.get("tests")
            ),
            "reference_solution": _code_block(record["reference"]),
        }
    if domain == "instruction_following":
        if not isinstance(record["reference"], str):
            raise TypeError("reference: must be a string")
        constraints = record["constraints"]
        if not isinstance(constraints, list):
            raise TypeError("constraints: must be a list of {id, kwargs}")
        from rlvr_assets.core.constraints import known_constraint_ids

        known = set(known_constraint_ids())
        for i, c in enumerate(constraints):
            cid = c.get("id") if isinstance(c, dict) else None
            if cid not in known:
                raise ValueError(f"constraints.{i}.id: no checker for constraint id {cid!r}")
        return {"verifier": Constraints(constraints=constraints), "reference_solution": record["reference"]}
    reference = record["reference"]
    if not _is_solution(reference, True):
        raise TypeError("reference: must be a list of assistant turns (strings)")
    env = record["environment"]
    if not isinstance(env, dict):
        raise TypeError("environment: must be an object with name and initial_state")
    params = record.get("params") or {}
    required_calls = record.get("required_calls", [])
    program = None
    if params:  # a parametric goal: reference, calls and known-bad turns are templates over params
        from rlvr_assets.core.goal_templates import fill, solution_templates

        program = solution_templates(reference, required_calls, record.get("known_bad", []))
        reference, required_calls = fill(reference, params), fill(required_calls, params)
    outcome = EnvironmentOutcome(
        expected_state=fill(record.get("expected_state", {}), params) if params else record.get("expected_state", {}),
        required_calls=required_calls,
        **({"max_turns": record["max_turns"]} if "max_turns" in record else {}),
    )
    return {
        "verifier": outcome,
        "environment": Environment(**env),
        "reference_solution": reference,
        "solution_program": program,
    }


def load_task_file(path: Path, default_cost: float = 20.0) -> list[Task]:
    """Read a JSONL file of authored tasks (blank lines and lines starting with // are skipped)."""
    return [task for _line, task in _load_numbered(path, default_cost)]


def _load_numbered(path: Path, default_cost: float) -> list[tuple[int, Task]]:
    tasks: list[tuple[int, Task]] = []
    for line_no, raw in enumerate(path.read_text().splitlines(), start=1):
        stripped = raw.strip()
        if not stripped or stripped.startswith("//"):
            continue
        try:
            record = json.loads(stripped)
        except json.JSONDecodeError as exc:
            raise SeedFileError(
                path, line_no, None, "<json>", f"invalid JSON: {exc.msg} at column {exc.colno}"
            ) from exc
        tasks.append((line_no, parse_seed_record(record, path, line_no, default_cost)))
    return tasks


def load_seed_dir(seeds_dir: Path, default_cost: float = 20.0) -> list[Task]:
    """Load every `*.jsonl` under `seeds_dir`; duplicate names or duplicate content are errors."""
    files = sorted(seeds_dir.glob("**/*.jsonl"))
    if not files:
        raise FileNotFoundError(f"no seed files (*.jsonl) under {seeds_dir}")
    tasks: list[Task] = []
    seen_names: dict[str, str] = {}
    seen_ids: dict[str, str] = {}
    for path in files:
        for line, task in _load_numbered(path, default_cost):
            if task.name in seen_names:
                raise SeedFileError(
                    path, line, task.name, "name", f"duplicate name, first defined at {seen_names[task.name]}"
                )
            if task.id in seen_ids:
                raise SeedFileError(path, line, task.name, "template", f"same content as task {seen_ids[task.id]}")
            seen_names[task.name] = f"{path}:{line}"
            seen_ids[task.id] = task.name
            tasks.append(task)
    return tasks


def _capitalize_sentences(text: str) -> str:
    """Capitalise the first letter of each sentence (names redacted to "the customer" start sentences too)."""
    return re.sub(r"(^\s*|[.?!]\s+)([a-z])", lambda m: m.group(1) + m.group(2).upper(), text)

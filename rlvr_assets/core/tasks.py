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
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

SCHEMA_VERSION = 1
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


class ReasoningPrompt(BaseModel):
    """A parametric word problem: `template` formatted with `params`, plus optional hint and format example."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    template: str
    params: dict[str, Any] = Field(default_factory=dict)
    # name -> explicit choices (a list) or an inclusive integer range ({"min": 2, "max": 9})
    param_space: dict[str, list[Any] | dict[str, int]] = Field(default_factory=dict)
    name_params: list[str] = Field(default_factory=list)
    hint: str | None = None
    instruction: str = "Give your final answer on the last line as 'Answer: <number>'."
    format_example: str | None = None
    dense: bool = False

    @property
    def question(self) -> str:
        """The problem statement alone, without hint, instruction or format boilerplate."""
        return _capitalize_sentences(self.template.format(**self.params))

    def render(self) -> str:
        parts = [self.question]
        if self.hint:
            parts.append(f"Hint: {self.hint}")
        parts.append(self.instruction)
        if self.format_example:
            parts.append(self.format_example)
        if self.dense:
            return " ".join(" ".join(p.split()) for p in parts)
        return "\n\n".join(parts)


class Task(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    schema_version: int = SCHEMA_VERSION
    id: str
    name: str
    domain: Literal["reasoning"]
    prompt: ReasoningPrompt
    solution_program: str
    answer: str
    reference_solution: str
    known_bad: list[str] = Field(default_factory=list)
    authoring_cost_usd: float = 0.0
    provenance: Provenance = Field(default_factory=Provenance)

    @property
    def prompt_text(self) -> str:
        return self.prompt.render()

    @property
    def messages(self) -> list[dict[str, str]]:
        return [{"role": "user", "content": self.prompt_text}]

    def to_json(self) -> str:
        return self.model_dump_json()

    @classmethod
    def from_json(cls, text: str) -> Task:
        return cls.model_validate_json(text)


def content_id(domain: str, prompt: ReasoningPrompt, answer: str, solution_program: str) -> str:
    """Hash of everything that changes what the task asks or accepts (not its name, cost or file position)."""
    payload = json.dumps(
        {"domain": domain, "prompt": prompt.model_dump(mode="json"), "answer": answer, "solution": solution_program},
        sort_keys=True,
    )
    return f"{domain[:4]}-{hashlib.sha256(payload.encode()).hexdigest()[:12]}"


def build_task(
    *,
    name: str,
    domain: str,
    prompt: ReasoningPrompt,
    solution_program: str,
    answer: str,
    known_bad: list[str],
    authoring_cost_usd: float,
    provenance: Provenance,
) -> Task:
    return Task(
        id=content_id(domain, prompt, answer, solution_program),
        name=name,
        domain=domain,  # type: ignore[arg-type]
        prompt=prompt,
        solution_program=solution_program,
        answer=answer,
        reference_solution=f"Answer: {answer}",
        known_bad=known_bad,
        authoring_cost_usd=authoring_cost_usd,
        provenance=provenance,
    )


_SEED_FIELDS = {
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
    "solution",
    "answer",
    "known_bad",
    "authoring_cost_usd",
}
_REQUIRED = ("name", "domain", "split", "template", "solution", "answer")


def parse_seed_record(record: Any, path: Path, line: int, default_cost: float) -> Task:
    """Turn one authored JSON record into a Task, or raise SeedFileError naming what is wrong."""
    if not isinstance(record, dict):
        raise SeedFileError(path, line, None, "<record>", f"expected a JSON object, got {type(record).__name__}")
    name = record.get("name") if isinstance(record.get("name"), str) else None
    for key in record:
        if key not in _SEED_FIELDS:
            raise SeedFileError(path, line, name, key, "unknown field")
    for key in _REQUIRED:
        if key not in record or record[key] in (None, ""):
            raise SeedFileError(path, line, name, key, "required field is missing or empty")
    if record["domain"] != "reasoning":
        raise SeedFileError(path, line, name, "domain", f"unsupported domain {record['domain']!r}")
    if record["split"] not in ("base", "pool", "heldout"):
        raise SeedFileError(path, line, name, "split", f"must be base, pool or heldout, got {record['split']!r}")
    answer = record["answer"]
    if not isinstance(answer, str | int):
        raise SeedFileError(path, line, name, "answer", "must be a string or an integer")
    cost = record.get("authoring_cost_usd", default_cost)
    if not isinstance(cost, int | float) or cost < 0:
        raise SeedFileError(path, line, name, "authoring_cost_usd", f"must be a non-negative number, got {cost!r}")
    try:
        prompt = ReasoningPrompt(
            template=record["template"],
            params=record.get("params", {}),
            param_space=record.get("param_space", {}),
            name_params=record.get("name_params", []),
            hint=record.get("hint"),
            format_example=record.get("format_example"),
            **({"instruction": record["instruction"]} if "instruction" in record else {}),
        )
    except ValidationError as exc:
        err = exc.errors()[0]
        raise SeedFileError(path, line, name, ".".join(map(str, err["loc"])), err["msg"]) from exc
    try:
        prompt.render()
    except (KeyError, IndexError, ValueError) as exc:
        raise SeedFileError(path, line, name, "template", f"cannot be formatted with params: {exc!r}") from exc
    known_bad = record.get("known_bad", [])
    if not isinstance(known_bad, list) or not all(isinstance(k, str) for k in known_bad):
        raise SeedFileError(path, line, name, "known_bad", "must be a list of strings")
    return build_task(
        name=record["name"],
        domain="reasoning",
        prompt=prompt,
        solution_program=record["solution"],
        answer=str(answer),
        known_bad=known_bad,
        authoring_cost_usd=float(cost),
        provenance=Provenance(kind="human", split=record["split"], source_file=str(path)),
    )


def load_task_file(path: Path, default_cost: float = 20.0) -> list[Task]:
    """Read a JSONL file of authored tasks (blank lines and lines starting with // are skipped)."""
    tasks: list[Task] = []
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
        tasks.append(parse_seed_record(record, path, line_no, default_cost))
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
        for task in load_task_file(path, default_cost):
            if task.name in seen_names:
                raise SeedFileError(
                    path, 0, task.name, "name", f"duplicate name, first defined in {seen_names[task.name]}"
                )
            if task.id in seen_ids:
                raise SeedFileError(path, 0, task.name, "template", f"same content as task {seen_ids[task.id]}")
            seen_names[task.name] = str(path)
            seen_ids[task.id] = task.name
            tasks.append(task)
    return tasks


def _capitalize_sentences(text: str) -> str:
    """Capitalise the first letter of each sentence (names redacted to "the customer" start sentences too)."""
    return re.sub(r"(^\s*|[.?!]\s+)([a-z])", lambda m: m.group(1) + m.group(2).upper(), text)

"""The seed-file parser: authored JSONL records in, validated Tasks out, or one error naming what is wrong.

Common fields (name, split, template, params, hint, ...) are parsed here; each domain parses its own
fields (`Domain.seed_truth`, core/domains/). Errors name the file, the line, the task and the field.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from rlvr_assets.core.domains import DOMAINS, REGISTRY
from rlvr_assets.core.domains.base import SeedFieldError, is_solution
from rlvr_assets.core.kernel.files import FileProblem, read_text
from rlvr_assets.core.tasks.model import PromptSpec, Provenance, Task, build_task

COMMON_FIELDS = frozenset(
    {
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
)


class SeedFileError(ValueError):
    """A seed file is malformed; the message names the file, the line, the task and the field."""

    def __init__(self, path: Path, line: int, task_name: str | None, field: str, problem: str) -> None:
        self.path, self.line, self.task_name, self.field, self.problem = path, line, task_name, field, problem
        super().__init__(f"{path}:{line}: task {task_name or '<unnamed>'}: field '{field}': {problem}")


def parse_seed_record(record: Any, path: Path, line: int, default_cost: float) -> Task:
    """Turn one authored JSON record into a Task, or raise SeedFileError naming what is wrong."""
    if not isinstance(record, dict):
        raise SeedFileError(path, line, None, "<record>", f"expected a JSON object, got {type(record).__name__}")
    name = record.get("name") if isinstance(record.get("name"), str) else None
    domain = REGISTRY.get(record.get("domain"))  # type: ignore[arg-type]
    if domain is None:
        raise SeedFileError(
            path, line, name, "domain", f"unsupported domain {record.get('domain')!r}; one of {list(DOMAINS)}"
        )
    for key in record:
        if key not in COMMON_FIELDS | domain.seed_fields:
            raise SeedFileError(path, line, name, key, f"unknown field for domain {domain.name}")
    for key in ("name", "split", "template", *domain.required_seed_fields):
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
            instruction=record.get("instruction", domain.default_instruction),
        )
    except ValidationError as exc:
        err = exc.errors()[0]
        raise SeedFileError(path, line, name, ".".join(map(str, err["loc"])) or "template", err["msg"]) from exc
    try:
        prompt.render()
    except (KeyError, IndexError, ValueError) as exc:
        raise SeedFileError(path, line, name, "template", f"cannot be formatted with params: {exc!r}") from exc
    known_bad = record.get("known_bad", [])
    if not isinstance(known_bad, list) or not all(is_solution(k, domain.multi_turn) for k in known_bad):
        shape = "a list of turn lists (lists of strings)" if domain.multi_turn else "a list of strings"
        raise SeedFileError(path, line, name, "known_bad", f"must be {shape}")
    try:
        truth = domain.seed_truth(record)
    except SeedFieldError as exc:
        raise SeedFileError(path, line, name, exc.field, exc.problem) from exc
    except ValidationError as exc:
        err = exc.errors()[0]
        raise SeedFileError(path, line, name, ".".join(map(str, err["loc"])) or "<record>", err["msg"]) from exc
    except (TypeError, KeyError) as exc:
        raise SeedFileError(path, line, name, "<record>", f"malformed domain fields: {exc!r}") from exc
    return build_task(
        name=record["name"],
        domain=domain.name,
        prompt=prompt,
        known_bad=domain.seed_known_bad(known_bad, prompt.params),
        authoring_cost_usd=float(cost),
        provenance=Provenance(kind="human", split=record["split"], source_file=str(path)),
        system=record.get("system") or domain.default_system(truth),
        **truth,
    )


def load_task_file(path: Path, default_cost: float = 20.0) -> list[Task]:
    """Read a JSONL file of authored tasks (blank lines and lines starting with // are skipped)."""
    return [task for _line, task in _load_numbered(path, default_cost)]


def _load_numbered(path: Path, default_cost: float) -> list[tuple[int, Task]]:
    tasks: list[tuple[int, Task]] = []
    try:
        text = read_text(path)
    except FileProblem as exc:
        raise SeedFileError(path, 0, None, "<file>", exc.problem) from None
    for line_no, raw in enumerate(text.splitlines(), start=1):
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

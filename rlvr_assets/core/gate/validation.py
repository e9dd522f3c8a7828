"""Seed-library validation: every record parses, every reference passes and every known-bad fails.

Problems are collected, not raised, so one bad record never hides the others.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path

from rlvr_assets.core.gate.factors import check_verify
from rlvr_assets.core.kernel.files import FileProblem, read_text
from rlvr_assets.core.tasks.model import Task
from rlvr_assets.core.tasks.seeds import SeedFileError, parse_seed_record


@dataclass(frozen=True)
class Problem:
    file: str
    line: int
    task: str | None
    task_id: str | None
    field: str
    reason: str

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


@dataclass(frozen=True)
class ValidationReport:
    tasks: list[Task]
    problems: list[Problem]

    @property
    def ok(self) -> bool:
        return not self.problems


def validate_seed_files(files: list[Path], default_cost: float = 20.0) -> ValidationReport:
    tasks: list[Task] = []
    problems: list[Problem] = []
    names: dict[str, str] = {}
    ids: dict[str, str] = {}
    for path in files:
        try:
            content = read_text(path)  # a directory, FIFO, device or non-UTF-8 file is one problem line
        except FileProblem as exc:
            problems.append(Problem(str(path), 0, None, None, "<file>", exc.problem))
            continue
        for line_no, raw in enumerate(content.splitlines(), start=1):
            text = raw.strip()
            if not text or text.startswith("//"):
                continue
            try:
                task = parse_seed_record(json.loads(text), path, line_no, default_cost)
            except json.JSONDecodeError as exc:
                problems.append(Problem(str(path), line_no, None, None, "<json>", f"invalid JSON: {exc.msg}"))
                continue
            except SeedFileError as exc:
                problems.append(Problem(str(path), line_no, exc.task_name, None, exc.field, exc.problem))
                continue
            where = f"{path}:{line_no}"
            if task.name in names:
                problems.append(
                    Problem(
                        str(path), line_no, task.name, task.id, "name", f"duplicate name (first at {names[task.name]})"
                    )
                )
            if task.id in ids:
                problems.append(
                    Problem(str(path), line_no, task.name, task.id, "<content>", f"same content as {ids[task.id]}")
                )
            names.setdefault(task.name, where)
            ids.setdefault(task.id, task.name)
            verdict = check_verify(task)
            if not verdict.passed:
                field = "reference" if "reference" in verdict.reason else "known_bad"
                problems.append(Problem(str(path), line_no, task.name, task.id, field, verdict.reason))
            tasks.append(task)
    return ValidationReport(tasks, problems)


def validate_seed_dir(seeds_dir: Path, default_cost: float = 20.0) -> ValidationReport:
    files = sorted(seeds_dir.glob("**/*.jsonl"))
    if not files:
        raise FileNotFoundError(f"no seed files (*.jsonl) under {seeds_dir}")
    return validate_seed_files(files, default_cost)

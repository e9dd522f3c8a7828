"""Candidate tasks produced by a team's own generator, read for gating against the seed library.

Each JSONL line is a task record in the seed format plus `parent` (the name or id of a task in the seed
library or on an earlier line) and optionally `operator` (what produced it, default "external").
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from rlvr_assets.core.kernel.files import FileProblem, read_text
from rlvr_assets.core.tasks.model import Provenance, Task
from rlvr_assets.core.tasks.seeds import SeedFileError, parse_seed_record


def load_candidates(path: Path, library: list[Task]) -> tuple[list[Task], dict[str, Task]]:
    """The candidate tasks (provenance: augmented, with parent) and every task a parent can be resolved to."""
    known: dict[str, Task] = {}
    for t in library:
        known[t.name] = known[t.id] = t
    candidates: list[Task] = []
    try:
        text_of_file = read_text(path)
    except FileProblem as exc:
        raise SeedFileError(path, 0, None, "<file>", exc.problem) from None
    for line_no, raw in enumerate(text_of_file.splitlines(), start=1):
        text = raw.strip()
        if not text or text.startswith("//"):
            continue
        try:
            record: Any = json.loads(text)
        except json.JSONDecodeError as exc:
            raise SeedFileError(path, line_no, None, "<json>", f"invalid JSON: {exc.msg}") from exc
        if not isinstance(record, dict):
            raise SeedFileError(path, line_no, None, "<record>", "expected a JSON object")
        name = record.get("name")
        parent_ref = record.pop("parent", None)
        operator = record.pop("operator", "external")
        if not isinstance(parent_ref, str):  # a list or object is no name (and unhashable): a line, not a crash
            raise SeedFileError(
                path, line_no, name, "parent", f"must be a task name or id, got {type(parent_ref).__name__}"
            )
        if parent_ref not in known:
            raise SeedFileError(path, line_no, name, "parent", f"{parent_ref!r} is not a seed or an earlier candidate")
        record.setdefault("split", "pool")
        parsed = parse_seed_record(record, path, line_no, 0.0)
        parent = known[parent_ref]
        if parsed.domain != parent.domain:
            raise SeedFileError(path, line_no, name, "domain", f"differs from its parent's ({parent.domain})")
        task = parsed.model_copy(
            update={
                "provenance": Provenance(
                    kind="augmented", parent_id=parent.id, operator=str(operator), source_file=str(path)
                )
            }
        )
        candidates.append(task)
        known[task.name] = known[task.id] = task
    return candidates, {t.id: t for t in known.values()}

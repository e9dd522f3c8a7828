"""Task lists <-> Polars frames: the table shape every task-carrying asset shares."""

from __future__ import annotations

from collections.abc import Sequence

import polars as pl

from rlvr_assets.core.tasks import Task

TASK_SCHEMA = {
    "task_id": pl.String,
    "name": pl.String,
    "domain": pl.String,
    "origin": pl.String,
    "split": pl.String,
    "parent_id": pl.String,
    "operator": pl.String,
    "operator_version": pl.String,
    "rng_seed": pl.Int64,
    "authoring_cost_usd": pl.Float64,
    "prompt_text": pl.String,
    "answer": pl.String,
    "task_json": pl.String,
}


def tasks_to_frame(tasks: Sequence[Task]) -> pl.DataFrame:
    rows = [
        {
            "task_id": t.id,
            "name": t.name,
            "domain": t.domain,
            "origin": t.provenance.kind,
            "split": t.provenance.split,
            "parent_id": t.provenance.parent_id,
            "operator": t.provenance.operator,
            "operator_version": t.provenance.operator_version,
            "rng_seed": t.provenance.rng_seed,
            "authoring_cost_usd": t.authoring_cost_usd,
            "prompt_text": t.prompt_text,
            "answer": t.answer,
            "task_json": t.to_json(),
        }
        for t in tasks
    ]
    return pl.DataFrame(rows, schema=TASK_SCHEMA)


def frame_to_tasks(frame: pl.DataFrame) -> list[Task]:
    return [Task.from_json(s) for s in frame["task_json"].to_list()]

"""Data-quality suites (great-expectations 1.x) for the gated pool, and held-out overlap detection."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

import polars as pl

from rlvr_assets.core.frames import frame_to_tasks
from rlvr_assets.core.tasks import DOMAINS, Task

REQUIRED_COLUMNS = ["task_id", "name", "domain", "parent_id", "operator", "prompt_text", "task_json", "pass_at_k"]


def word_ngrams(text: str, n: int = 8) -> set[tuple[str, ...]]:
    words = re.findall(r"[a-z]+", text.lower())
    return {tuple(words[i : i + n]) for i in range(len(words) - n + 1)}


def overlapping_pairs(tasks: Sequence[Task], heldout: Sequence[Task], n: int = 8) -> list[tuple[str, str]]:
    """(task name, held-out item name) for every pair whose problem statements share an n-word span."""
    held = [(h.name, word_ngrams(h.prompt.question, n)) for h in heldout]
    return [(t.name, name) for t in tasks for name, grams in held if word_ngrams(t.prompt.question, n) & grams]


@dataclass(frozen=True)
class SuiteResult:
    success: bool
    failures: list[dict[str, object]] = field(default_factory=list)
    evaluated: int = 0


def gated_pool_frame(gated: pl.DataFrame, gate: pl.DataFrame, heldout: Sequence[Task]) -> pl.DataFrame:
    """The gated pool with each variant's pass@k and its count of overlaps with held-out items."""
    pass_rates = gate.filter(pl.col("factor") == "verify").select(pl.col("variant_id").alias("task_id"), "pass_at_k")
    frame = gated.join(pass_rates, on="task_id", how="left")
    tasks = frame_to_tasks(frame) if frame.height else []
    overlaps = overlapping_pairs(tasks, heldout)
    counts = {t.name: sum(1 for name, _ in overlaps if name == t.name) for t in tasks}
    return frame.with_columns(pl.Series("heldout_overlaps", [counts.get(n, 0) for n in frame["name"]], pl.Int64))


def validate_gated_pool(frame: pl.DataFrame, solve_band: tuple[float, float]) -> SuiteResult:
    """Schema, no nulls, unique ids, pass rates inside the band, no overlap with held-out items."""
    import great_expectations as gx

    missing = [c for c in [*REQUIRED_COLUMNS, "heldout_overlaps"] if c not in frame.columns]
    if missing:
        return SuiteResult(False, [{"expectation": "schema", "missing_columns": missing}])
    context = gx.get_context(mode="ephemeral")
    batch = (
        context.data_sources.add_pandas("rlvr")
        .add_dataframe_asset("gated_pool")
        .add_batch_definition_whole_dataframe("all")
        .get_batch(batch_parameters={"dataframe": frame.to_pandas()})
    )
    suite = gx.ExpectationSuite(name="gated_pool")
    suite.add_expectation(gx.expectations.ExpectTableColumnsToMatchSet(column_set=REQUIRED_COLUMNS, exact_match=False))
    for column in REQUIRED_COLUMNS:
        suite.add_expectation(gx.expectations.ExpectColumnValuesToNotBeNull(column=column))
    suite.add_expectation(gx.expectations.ExpectColumnValuesToBeUnique(column="task_id"))
    suite.add_expectation(gx.expectations.ExpectColumnValuesToBeInSet(column="domain", value_set=list(DOMAINS)))
    low, high = solve_band
    suite.add_expectation(
        gx.expectations.ExpectColumnValuesToBeBetween(column="pass_at_k", min_value=low, max_value=high)
    )
    suite.add_expectation(
        gx.expectations.ExpectColumnValuesToBeBetween(column="heldout_overlaps", min_value=0, max_value=0)
    )
    result = batch.validate(context.suites.add(suite))
    failures = [
        {
            "expectation": r.expectation_config.type,
            "column": r.expectation_config.kwargs.get("column"),
            "unexpected": [str(v) for v in (r.result.get("partial_unexpected_list") or [])][:10],
        }
        for r in result.results
        if not r.success
    ]
    return SuiteResult(bool(result.success), failures, len(result.results))

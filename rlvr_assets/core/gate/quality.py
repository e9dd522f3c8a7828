"""Data-quality suites (great-expectations 1.x) for the gated pool, and held-out overlap detection."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

import polars as pl

from rlvr_assets.core.domains import DOMAINS
from rlvr_assets.core.gate.frames import frame_to_tasks
from rlvr_assets.core.tasks.model import Task

REQUIRED_COLUMNS = ["task_id", "name", "domain", "parent_id", "operator", "prompt_text", "task_json", "pass_at_k"]


def word_ngrams(text: str, n: int = 8) -> set[tuple[str, ...]]:
    words = re.findall(r"[a-z]+", text.lower())
    return {tuple(words[i : i + n]) for i in range(len(words) - n + 1)}


def overlapping_pairs(tasks: Sequence[Task], heldout: Sequence[Task], n: int = 8) -> list[tuple[str, str]]:
    """(task name, held-out item name) for every pair whose problem statements share an n-word span."""
    held = [(h.name, grams) for h in heldout if (grams := word_ngrams(h.prompt.question, n))]
    pairs = []
    for t in tasks:
        own = word_ngrams(t.prompt.question, n)
        if own:
            pairs.extend((t.name, name) for name, grams in held if not own.isdisjoint(grams))
    return pairs


def pair_records(pairs: Sequence[tuple[str, str]], role: str = "task", limit: int = 50) -> list[dict[str, str]]:
    """Overlapping pairs as check metadata: the first `limit` as {role: task name, "heldout_item": name}."""
    return [{role: task, "heldout_item": held} for task, held in list(pairs)[:limit]]


@dataclass(frozen=True)
class SuiteResult:
    success: bool
    failures: list[dict[str, object]] = field(default_factory=list)
    evaluated: int = 0


def gated_pool_audit(
    gated: pl.DataFrame, gate: pl.DataFrame, heldout: Sequence[Task]
) -> tuple[pl.DataFrame, list[tuple[str, str]]]:
    """The gated pool with each variant's pass@k and its count of overlaps with held-out items, and the
    overlapping (variant name, held-out item name) pairs themselves."""
    pass_rates = gate.filter(pl.col("factor") == "verify").select(pl.col("variant_id").alias("task_id"), "pass_at_k")
    frame = gated.join(pass_rates, on="task_id", how="left")
    tasks = frame_to_tasks(frame) if frame.height else []
    overlaps = overlapping_pairs(tasks, heldout)
    counts = Counter(name for name, _ in overlaps)
    frame = frame.with_columns(pl.Series("heldout_overlaps", [counts.get(n, 0) for n in frame["name"]], pl.Int64))
    return frame, overlaps


def validate_gated_pool(
    frame: pl.DataFrame, solve_band: tuple[float, float], overlaps: Sequence[tuple[str, str]] = ()
) -> SuiteResult:
    """Schema, no nulls, unique ids, pass rates inside the band, no overlap with held-out items. `overlaps`
    (from `gated_pool_audit`) names the offending (variant, held-out item) pairs in that failure."""
    import great_expectations as gx

    missing = [c for c in [*REQUIRED_COLUMNS, "heldout_overlaps"] if c not in frame.columns]
    if missing:
        return SuiteResult(False, [{"expectation": "schema", "missing_columns": missing}])
    from great_expectations.data_context.types.base import ProgressBarsConfig

    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False)  # a check's result, not a progress bar
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
    failures: list[dict[str, object]] = []
    for r in result.results:
        if r.success:
            continue
        column = r.expectation_config.kwargs.get("column")
        failure: dict[str, object] = {
            "expectation": r.expectation_config.type,
            "column": column,
            "unexpected": [str(v) for v in (r.result.get("partial_unexpected_list") or [])][:10],
        }
        if column == "heldout_overlaps":
            failure["overlapping_pairs"] = pair_records(overlaps, "variant")
        failures.append(failure)
    return SuiteResult(bool(result.success), failures, len(result.results))

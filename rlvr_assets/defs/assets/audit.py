"""Gate-audit assets: probes of every accepted variant, and the gate's error rates per operator.

`gate_probes` runs with the task preparation (same group, same job), so every run probes what its gate
accepted. `gate_audit` adds the reviewers' verdicts (`rlvr-assets audit record` writes them to DuckDB and
re-materializes this asset), and shows the rates as a table and a figure.
"""

import hashlib

import dagster as dg
import polars as pl

from rlvr_assets.core.audit.probes import probe_frame, run_probes
from rlvr_assets.core.audit.rates import (
    INTERVAL_NOTE,
    RATE_VIEW,
    REVIEWS_TABLE,
    audit_rates,
    false_positive_frame,
    plot_gate_audit,
    variant_audit_frame,
)
from rlvr_assets.core.config import PipelineConfig
from rlvr_assets.core.gate.frames import frame_to_tasks
from rlvr_assets.core.store.storage import read_frame
from rlvr_assets.defs.groups import AUGMENTATION
from rlvr_assets.defs.metadata import figure, frame_table

AUDIT_FIGURE = "gate_audit.png"


def _digest(*parts: str) -> str:
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:16]


@dg.asset(group_name=AUGMENTATION, kinds={"duckdb"})
def gate_probes(
    context: dg.AssetExecutionContext,
    augmented_tasks: pl.DataFrame,
    gate_results: pl.DataFrame,
    seed_tasks: pl.DataFrame,
) -> dg.Output[pl.DataFrame]:
    """Probes of every accepted variant (floor, references, parent's answer, rendered known-bad, reward hacks),
    one row per variant and probe; a failed probe marks a gate false positive."""
    accepted = set(gate_results.filter(pl.col("accepted"))["variant_id"].to_list()) if gate_results.height else set()
    variants = frame_to_tasks(augmented_tasks.filter(pl.col("task_id").is_in(list(accepted))))
    parents = {t.id: t for t in frame_to_tasks(seed_tasks)}
    step = max(1, len(variants) // 10)

    def progress(done: int, total: int) -> None:
        if done % step == 0 or done == total:
            context.log.info(f"gate probes {done}/{total} variants")

    run = run_probes(variants, parents, progress)
    frame = probe_frame(run.results)
    failed = frame.filter(~pl.col("passed"))
    per_probe = frame.group_by("probe").agg(pl.len().alias("runs"), (~pl.col("passed")).sum().alias("failed"))
    return dg.Output(
        frame,
        data_version=dg.DataVersion(
            _digest(*map(repr, frame.select("variant_id", "probe", "passed").sort("*").rows()))
        ),
        metadata={
            "variants_probed": len(variants),
            "probes_run": frame.height,
            "variants_failing": failed["variant_id"].n_unique(),
            "probe_seconds": round(run.seconds, 2),
            "sandbox_cpu_seconds": round(run.sandbox_cpu_seconds, 3),
            "per_probe": frame_table(per_probe.sort("probe")),
            "failures": frame_table(failed.select("variant_id", "operator", "probe", "reason")),
        },
    )


@dg.asset(group_name=AUGMENTATION, kinds={"duckdb"})
def gate_audit(
    context: dg.AssetExecutionContext,
    cfg: dg.ResourceParam[PipelineConfig],
    augmented_tasks: pl.DataFrame,
    gate_results: pl.DataFrame,
    gate_probes: pl.DataFrame,
) -> dg.Output[pl.DataFrame]:
    """Gate precision and false-rejection rate with Wilson intervals, overall and per operator, from the
    probes and the reviewers' verdicts (table gate_reviews); per-operator yield beside audited precision."""
    try:
        reviews: pl.DataFrame | None = read_frame(cfg.paths.duckdb_path, REVIEWS_TABLE)
    except LookupError:
        reviews = None
    variants = variant_audit_frame(gate_results, gate_probes, reviews)
    rates = audit_rates(augmented_tasks, variants)
    path = plot_gate_audit(cfg.paths.artifacts_dir / "report" / AUDIT_FIGURE, rates)
    overall = rates.filter(pl.col("operator") == "all").row(0, named=True)
    context.log.info(f"gate audit: precision {overall['precision']} ({overall['precision_basis']})")
    return dg.Output(
        rates,
        data_version=dg.DataVersion(_digest(*map(repr, rates.rows()))),
        metadata={
            "precision": overall["precision"] if overall["precision"] is not None else "n/a",
            "precision_basis": overall["precision_basis"],
            "false_rejection_rate": overall["false_rejection_rate"]
            if overall["false_rejection_rate"] is not None
            else "n/a",
            "reviews": reviews.height if reviews is not None else 0,
            "intervals": INTERVAL_NOTE,
            "gate_audit": frame_table(rates.select(RATE_VIEW)),
            "gate_audit_figure": figure(path, "Gate audit: precision, false rejections and yield per operator"),
            "false_positives": frame_table(false_positive_frame(variants)),
        },
    )

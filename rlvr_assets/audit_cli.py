"""`rlvr-assets audit sample|record`: the human loop of the gate audit (core/audit/rates.py, core/audit/review.py).

`sample` draws a reproducible stratified sample of the gated variants into a review file (HTML page and/or
CSV); `record FILE` reads the verdicts back into DuckDB (table gate_reviews), recomputes the rates and
re-materializes the `gate_audit` asset so the UI shows them. Bad rows are one-line errors naming the file,
row and field (exit 2); every other verdict of the file is kept.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

import polars as pl

from rlvr_assets.core.audit.rates import REVIEWS_TABLE, SAMPLE_TABLE, audit_rates, variant_audit_frame
from rlvr_assets.core.audit.review import (
    ReviewFileError,
    draw_sample,
    merge_reviews,
    read_review_file,
    review_rows,
    sample_record,
    tasks_by_id,
    write_review_csv,
    write_review_html,
)
from rlvr_assets.core.config import PipelineConfig, load_config
from rlvr_assets.core.store.storage import read_frame, write_frame

NEEDS_RUN = "`rlvr-assets run` prepares the tasks and the gate"


def _table(cfg: PipelineConfig, name: str, required: bool = True) -> pl.DataFrame | None:
    try:
        return read_frame(cfg.paths.duckdb_path, name)
    except LookupError:
        if required:
            raise
        return None


def _inputs(cfg: PipelineConfig) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame, pl.DataFrame | None]:
    """augmented_tasks, gate_results, seed_tasks and (if materialized) gate_probes, from DuckDB."""
    return (
        _table(cfg, "augmented_tasks"),  # type: ignore[return-value]
        _table(cfg, "gate_results"),
        _table(cfg, "seed_tasks"),
        _table(cfg, "gate_probes", required=False),
    )


def _fmt_rate(value: Any, low: Any, high: Any) -> str:
    if value is None:
        return "-"
    if low is None or high is None:
        return f"{value:.3f}"
    return f"{value:.3f} [{low:.3f}, {high:.3f}]"


def print_rates(rates: pl.DataFrame) -> None:
    print(
        f"{'operator':<22} {'accepted':>8} {'yield':>6}  {'precision [95%]':<24} {'reviewed':>8}  false rejection [95%]"
    )
    for r in rates.iter_rows(named=True):
        yield_ = "-" if r["yield"] is None else f"{r['yield']:.2f}"
        print(
            f"{r['operator']:<22} {r['accepted']:>8} {yield_:>6}  "
            f"{_fmt_rate(r['precision'], r['precision_low'], r['precision_high']):<24} {r['reviewed_accepted']:>8}  "
            f"{_fmt_rate(r['false_rejection_rate'], r['false_rejection_low'], r['false_rejection_high'])}"
            f" ({r['reviewed_rejected']} reviewed)"
        )
    overall = rates.filter(pl.col("operator") == "all").row(0, named=True)
    print(f"precision rests on: {overall['precision_basis']}")
    print(f"false-rejection rate rests on: {overall['false_rejection_basis']}")


def cmd_audit_sample(args: argparse.Namespace) -> int:
    cfg = load_config(args.config)
    if args.n < 1:
        print("error: --n: must be at least 1", file=sys.stderr)
        return 2
    try:
        augmented, gate, seeds, probes = _inputs(cfg)
    except LookupError as exc:
        print(f"error: {exc} ({NEEDS_RUN})", file=sys.stderr)
        return 2
    if probes is None:
        print("note: gate_probes is not materialized: accepted variants are drawn without their probe results")
    variants = variant_audit_frame(gate, probes, None)
    sample = draw_sample(variants, args.n, args.seed)
    rows = review_rows(sample, tasks_by_id(seeds, augmented), gate)
    out_dir = Path(args.out) if args.out else cfg.paths.artifacts_dir / "audit"
    out_dir.mkdir(parents=True, exist_ok=True)
    stem = f"review-seed{args.seed}-n{args.n}"
    written = []
    if args.format in ("csv", "both"):
        written.append(write_review_csv(out_dir / f"{stem}.csv", rows))
    if args.format in ("html", "both"):
        title = f"Gate audit review: {len(rows)} variants (seed {args.seed})"
        written.append(write_review_html(out_dir / f"{stem}.html", rows, title, f"{stem}-verdicts.csv"))
    write_frame(cfg.paths.duckdb_path, SAMPLE_TABLE, sample_record(sample, args.seed, args.n), f"{args.seed}|{args.n}")
    accepted = int(sample["accepted"].sum() or 0) if sample.height else 0
    print(
        f"drew {sample.height} variants ({accepted} accepted, {sample.height - accepted} rejected) from "
        f"{sample['stratum'].n_unique() if sample.height else 0} strata (operator x decision), seed {args.seed}"
    )
    for path in written:
        print(f"review file: {path}")
    print("fill in verdict (correct/broken/unsure; blank = not reviewed), then: rlvr-assets audit record FILE")
    return 0


def _materialize_gate_audit(cfg: PipelineConfig) -> None:
    """Re-materialize `gate_audit` in the Dagster instance `rlvr-assets run` uses, so the UI shows the rates."""
    import dagster as dg

    from rlvr_assets.definitions import build_definitions
    from rlvr_assets.sweep import ensure_dagster_home

    ensure_dagster_home(cfg)
    defs = build_definitions(cfg)
    with dg.DagsterInstance.get() as instance:
        result = defs.resolve_job_def("prepare_tasks_job").execute_in_process(
            instance=instance,
            asset_selection=[dg.AssetKey("gate_audit")],
            raise_on_error=True,
            run_config={"loggers": {"console": {"config": {"log_level": "WARNING"}}}},
        )
    assert result.success


def cmd_audit_record(args: argparse.Namespace) -> int:
    from rlvr_assets.core.store.runlock import VarDirBusy, var_dir_lock

    cfg = load_config(args.config)
    try:
        augmented, gate, _seeds, probes = _inputs(cfg)
    except LookupError as exc:
        print(f"error: {exc} ({NEEDS_RUN})", file=sys.stderr)
        return 2
    path = Path(args.file)
    try:
        parsed = read_review_file(path, set(gate["variant_id"].to_list()))
    except ReviewFileError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    for problem in parsed.problems:
        print(f"error: {problem.line()}", file=sys.stderr)
    try:
        with var_dir_lock(cfg.paths.var_dir):
            reviews = merge_reviews(_table(cfg, REVIEWS_TABLE, required=False), parsed, path)
            write_frame(cfg.paths.duckdb_path, REVIEWS_TABLE, reviews)
            rates = audit_rates(augmented, variant_audit_frame(gate, probes, reviews))
            if args.no_materialize or probes is None:
                write_frame(cfg.paths.duckdb_path, "gate_audit", rates)
            else:
                _materialize_gate_audit(cfg)
    except VarDirBusy as exc:
        print(f"error: {exc}; record the verdicts when it has finished", file=sys.stderr)
        return 2
    kept = "kept" if not parsed.problems else f"kept ({len(parsed.problems)} bad row(s) skipped)"
    print(
        f"{path}: {len(parsed.reviews)} verdict(s) {kept}, {parsed.blank} not reviewed yet; {reviews.height} in total"
    )
    if args.json:
        print(json.dumps(rates.to_dicts(), indent=2))
    else:
        print_rates(rates)
    if probes is None:
        print("note: gate_probes is not materialized: rates rest on reviews only")
    return 2 if parsed.problems else 0


def add_audit_parser(sub: Any) -> None:
    """The `audit` command group (called from cli.build_parser)."""
    audit = sub.add_parser("audit", help="audit the gate: review sample, verdicts, error rates per operator")
    audit_sub = audit.add_subparsers(dest="audit_command", required=True)
    sample = audit_sub.add_parser("sample", help="draw a stratified sample of gated variants into a review file")
    sample.add_argument("--n", type=int, required=True, help="variants to draw (every operator x decision gets one)")
    sample.add_argument("--seed", type=int, default=0, help="sampling seed: the same seed gives the same sample")
    sample.add_argument("--format", choices=["html", "csv", "both"], default="both")
    sample.add_argument("--out", help="directory for the review files (default: <artifacts>/audit)")
    sample.add_argument("--config", help="pipeline YAML (where the DuckDB file is)")
    sample.set_defaults(func=cmd_audit_sample)
    record = audit_sub.add_parser("record", help="read a reviewed file's verdicts into DuckDB and show the rates")
    record.add_argument("file", help="CSV with variant_id,verdict[,note] (the review CSV or the page's export)")
    record.add_argument(
        "--no-materialize", action="store_true", help="write the gate_audit table only, without a Dagster run"
    )
    record.add_argument("--config", help="pipeline YAML (where the DuckDB file is)")
    record.add_argument("--json", action="store_true")
    record.set_defaults(func=cmd_audit_record)

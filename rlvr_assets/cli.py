"""`rlvr-assets`: run the sweep, or compute the economics on arm scores measured elsewhere."""

import argparse
import json
import sys
import time
from pathlib import Path

from rlvr_assets.core.config import load_config
from rlvr_assets.core.economics import ArmsFileError, cost_rows, read_arms_csv, trade_rates


def _parse_ratios(text: str) -> list[float]:
    try:
        ratios = [float(x) for x in text.split(",") if x.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"--cost-ratios must be comma-separated numbers, got {text!r}") from None
    if not ratios or any(r <= 0 for r in ratios):
        raise argparse.ArgumentTypeError("--cost-ratios needs at least one positive number")
    return ratios


def _fmt(value: object) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def _print_table(rows: list[dict[str, object]], columns: list[str]) -> None:
    widths = {c: max(len(c), *(len(_fmt(r.get(c))) for r in rows)) if rows else len(c) for c in columns}
    print("  ".join(c.ljust(widths[c]) for c in columns))
    for r in rows:
        print("  ".join(_fmt(r.get(c)).ljust(widths[c]) for c in columns))


COST_COLUMNS = ["arm", "estimator", "cost_ratio", "n_equiv", "rho", "rho_cost", "break_even"]


def cmd_economics(args: argparse.Namespace) -> int:
    try:
        arms = read_arms_csv(Path(args.arms_csv))
    except (ArmsFileError, FileNotFoundError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    rows = [r.as_dict() for r in cost_rows(trade_rates(arms), args.cost_ratios)]
    if args.json:
        print(json.dumps(rows, indent=2))
    else:
        _print_table(rows, [*COST_COLUMNS, "reason"])
    return 0


def cmd_run(args: argparse.Namespace) -> int:
    import dagster as dg

    from rlvr_assets.core.storage import read_frame
    from rlvr_assets.definitions import build_definitions
    from rlvr_assets.defs.sweep import ensure_dagster_home, run_sweep

    cfg = load_config(args.config)
    home = ensure_dagster_home(cfg)
    defs = build_definitions(cfg)
    started = time.monotonic()
    with dg.DagsterInstance.get() as instance:
        timings = run_sweep(
            defs, cfg, instance, missing_only=args.missing_only, arms=args.arms.split(",") if args.arms else None
        )
    total = time.monotonic() - started
    print("\nStage timings (wall seconds, peak RSS of this process during the stage):")
    _print_table(
        [
            {
                "stage": t.stage,
                "partition": t.partition,
                "seconds": round(t.seconds, 1),
                "peak_rss_gib": round(t.peak_rss_gib, 2),
                "skipped": t.skipped,
            }
            for t in timings
        ],
        ["stage", "partition", "seconds", "peak_rss_gib", "skipped"],
    )
    print(f"total: {total:.1f}s, peak RSS {max((t.peak_rss_gib for t in timings), default=0):.2f} GiB")
    cost = read_frame(cfg.paths.duckdb_path, "rho_cost").drop("partition_key").sort(["arm", "estimator", "cost_ratio"])
    print("\nrho_cost:")
    _print_table(cost.to_dicts(), COST_COLUMNS)
    measured = cost["measured_cost_ratio"][0] if cost.height else None
    print(f"\nmeasured cost ratio c_human / c_aug here: {_fmt(measured)}")
    report = cfg.paths.artifacts_dir / "report" / "report.md"
    print(f"report: {report}\nDuckDB: {cfg.paths.duckdb_path}\nDagster home: {home} (open with `make ui`)")
    if args.timings_json:
        Path(args.timings_json).write_text(json.dumps([t.__dict__ for t in timings], indent=2))
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="rlvr-assets", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="run the whole sweep (seeds -> gate -> arms -> rho_cost -> report)")
    run.add_argument("--config", help="pipeline YAML (default: $RLVR_ASSETS_CONFIG or rlvr_assets.yaml)")
    run.add_argument(
        "--missing-only",
        action="store_true",
        help="skip partitions already materialized (a new cost ratio then trains nothing)",
    )
    run.add_argument("--arms", help="comma-separated arm keys to train (default: all)")
    run.add_argument("--timings-json", help="also write the per-stage timings to this file")
    run.set_defaults(func=cmd_run)
    eco = sub.add_parser("economics", help="trade rate and rho_cost from arm scores measured elsewhere")
    eco.add_argument("arms_csv", help="CSV with columns arm,n_human,n_aug,score[,ci_low,ci_high]")
    eco.add_argument(
        "--cost-ratios",
        type=_parse_ratios,
        default=[5.0, 10.0, 40.0],
        help="comma-separated c_human / c_aug ratios (default 5,10,40)",
    )
    eco.add_argument("--json", action="store_true", help="print JSON rows instead of a table")
    eco.set_defaults(func=cmd_economics)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return int(args.func(args))


if __name__ == "__main__":
    sys.exit(main())

"""`rlvr-assets`: run the sweep (the default command), or gate, verify, evaluate and price tasks and arms."""

import argparse
import json
import os
import signal
import sys
import time
from pathlib import Path

import polars as pl

from rlvr_assets.core.config import ConfigError, PipelineConfig, load_config
from rlvr_assets.core.economics.trade_rate import (
    TRADE_ROW_SCHEMA,
    ArmsFileError,
    cost_rows,
    parse_cost_ratios,
    read_arms_csv,
    trade_rates,
)
from rlvr_assets.core.kernel.scoring import ci_differences


def _parse_seeds(text: str) -> list[int]:
    try:
        seeds = [int(x) for x in text.split(",") if x.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"--seeds must be comma-separated integers, got {text!r}") from None
    if not seeds:
        raise argparse.ArgumentTypeError("--seeds needs at least one training seed")
    return seeds


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
    from rlvr_assets.core.economics.report import identification_lines

    try:
        ratios = parse_cost_ratios(args.cost_ratios)
    except ValueError as exc:
        print(f"error: --cost-ratios: {exc}", file=sys.stderr)
        return 2
    try:
        arms = read_arms_csv(Path(args.arms_csv))
    except ArmsFileError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    has_ci = any(a.ci_low is not None for a in arms)
    estimates = trade_rates(arms, ci_differences(arms) if has_ci else None)
    rows = [r.as_dict() for r in cost_rows(estimates, ratios)]
    if args.json:
        print(json.dumps(rows, indent=2))
    else:
        _print_table(rows, [*COST_COLUMNS, "identified", "reason"])
        print()
        for line in identification_lines(pl.DataFrame([e.as_row() for e in estimates], schema=TRADE_ROW_SCHEMA)):
            print(line)
    return 0


def _quiet_libraries() -> None:
    """The terminal gets progress lines and warnings that need action, not library chatter: Dagster's beta
    notices, transformers' and datasets' info logs and progress bars (all still in the UI's event log)."""
    import logging
    import os
    import warnings

    import dagster as dg

    # training runs in a child process (Dagster Pipes): it inherits these
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
    os.environ.setdefault("TQDM_DISABLE", "1")
    os.environ.setdefault("HF_DATASETS_DISABLE_PROGRESS_BARS", "1")
    os.environ.setdefault("PYTHONWARNINGS", "ignore")

    for category in (dg.BetaWarning, dg.PreviewWarning, UserWarning):
        warnings.filterwarnings("ignore", category=category)
    for name in ("transformers", "trl", "datasets", "accelerate", "httpx", "great_expectations"):
        logging.getLogger(name).setLevel(logging.ERROR)
    try:
        import datasets
        import transformers

        transformers.logging.set_verbosity_error()
        transformers.logging.disable_progress_bar()
        datasets.disable_progress_bars()
    except ImportError:  # pragma: no cover - both are dependencies
        pass


def print_economics_summary(cost: pl.DataFrame, trade: pl.DataFrame) -> None:
    """The end of `run`: the rho_cost table, whether anything is identified (a plain NOT IDENTIFIED line
    otherwise) and each comparison's minimum detectable difference."""
    from rlvr_assets.core.economics.report import identification_lines

    cost = cost.drop("partition_key").sort(["arm", "estimator", "cost_ratio"])
    print("\nrho_cost (null estimates say why):")
    _print_table(cost.to_dicts(), [*COST_COLUMNS, "identified", "reason"])
    print()
    for line in identification_lines(trade):
        print(line)
    measured = cost["measured_cost_ratio"][0] if cost.height else None
    print(f"\nmeasured cost ratio c_human / c_aug here: {_fmt(measured)}")


def _config_path(args: argparse.Namespace) -> str:
    from rlvr_assets.core.config import CONFIG_ENV_VAR, DEFAULT_CONFIG_PATH

    return str(args.config or os.environ.get(CONFIG_ENV_VAR, DEFAULT_CONFIG_PATH))


def _check_model_source(cfg: PipelineConfig, where: str) -> None:
    """Fail fast (ConfigError, exit 2) on a model source that cannot load, before any work starts."""
    from rlvr_assets.core.policy.models import model_source_problem

    problem = model_source_problem(cfg.model.source)
    if problem is not None:
        raise ConfigError(f"{where}: field 'model.source': {problem}")


def cmd_run(args: argparse.Namespace) -> int:
    from rlvr_assets.core.store.runlock import LockHolder, VarDirBusy, var_dir_lock

    cfg = load_config(args.config)
    if args.seeds:  # a slice of the study: these training seeds only (e.g. one seed of a GPU profile)
        cfg = cfg.model_copy(update={"training": cfg.training.model_copy(update={"seeds": args.seeds})})
    _check_model_source(cfg, _config_path(args))

    def waiting(holder: LockHolder) -> None:
        print(f"waiting for the run holding {cfg.paths.var_dir} ({holder.describe()})", file=sys.stderr)

    try:
        with var_dir_lock(cfg.paths.var_dir, wait=args.wait, on_wait=waiting):
            return _run_locked(args, cfg)
    except VarDirBusy as exc:
        print(f"error: {exc}; wait for it to finish or pass --wait", file=sys.stderr)
        return 2


def _run_locked(args: argparse.Namespace, cfg: PipelineConfig) -> int:
    import dagster as dg

    from rlvr_assets.definitions import build_definitions
    from rlvr_assets.sweep import ensure_dagster_home, run_sweep

    if not args.verbose:
        _quiet_libraries()
    home = ensure_dagster_home(cfg)
    defs = build_definitions(cfg)
    started = time.monotonic()
    print("one line per finished stage; Dagster's own logs are in the UI (`make ui`) or here with --verbose")
    with dg.DagsterInstance.get() as instance:
        timings = run_sweep(
            defs,
            cfg,
            instance,
            missing_only=args.missing_only,
            force=args.force,
            arms=args.arms.split(",") if args.arms else None,
            log_level="DEBUG" if args.verbose else "WARNING",
        )
        cost = defs.load_asset_value("rho_cost", instance=instance)
        trade = defs.load_asset_value("trade_rate", instance=instance)
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
    print_economics_summary(cost, trade)
    report = cfg.paths.artifacts_dir / "report" / "report.md"
    print(f"report: {report}\nDuckDB: {cfg.paths.duckdb_path}\nDagster home: {home} (open with `make ui`)")
    if args.timings_json:
        Path(args.timings_json).write_text(json.dumps([t.__dict__ for t in timings], indent=2))
    return 0


def cmd_seeds_validate(args: argparse.Namespace) -> int:
    from rlvr_assets.core.gate.validation import validate_seed_dir

    seeds_dir = Path(args.seeds_dir) if args.seeds_dir else load_config(args.config).paths.seeds_dir
    if not seeds_dir.is_dir():
        print(f"error: seeds directory {seeds_dir} does not exist", file=sys.stderr)
        return 2
    try:
        report = validate_seed_dir(seeds_dir)
    except FileNotFoundError as exc:  # no seed files at all
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if not report.tasks and not report.problems:
        print(f"error: no seed tasks in {seeds_dir} (its .jsonl files are empty)", file=sys.stderr)
        return 2
    if args.json:
        print(
            json.dumps(
                {"ok": report.ok, "tasks": len(report.tasks), "problems": [p.as_dict() for p in report.problems]},
                indent=2,
            )
        )
    else:
        for p in report.problems:
            print(
                f"{p.file}:{p.line}: task {p.task or '<unnamed>'} ({p.task_id or '-'}): field '{p.field}': {p.reason}"
            )
        by_domain: dict[str, int] = {}
        for t in report.tasks:
            by_domain[t.domain] = by_domain.get(t.domain, 0) + 1
        print(f"{len(report.tasks)} tasks parsed {by_domain}; {len(report.problems)} problem(s)")
    return 0 if report.ok else 1


def _load_task(path: Path):  # type: ignore[no-untyped-def]
    from rlvr_assets.core.tasks.model import Task
    from rlvr_assets.core.tasks.seeds import parse_seed_record

    record = json.loads(path.read_text())
    if isinstance(record, dict) and "verifier" in record and "id" in record:
        return Task.model_validate(record)
    return parse_seed_record(record, path, 1, 0.0)


def cmd_verify(args: argparse.Namespace) -> int:
    from rlvr_assets.core.domains import domain_of
    from rlvr_assets.core.tasks.seeds import SeedFileError
    from rlvr_assets.core.tasks.verifiers import decode_completion, verify

    try:
        task = _load_task(Path(args.task))
    except (OSError, ValueError, RecursionError, SeedFileError) as exc:
        print(f"error: cannot read task {args.task}: {exc}", file=sys.stderr)
        return 2
    try:
        data = Path(args.completion).read_bytes()
    except OSError as exc:
        print(f"error: cannot read completion {args.completion}: {exc.strerror or exc}", file=sys.stderr)
        return 2
    text, note = decode_completion(data)
    completion: str | list[str] = text
    if domain_of(task).multi_turn:
        try:
            turns = json.loads(text)
            if isinstance(turns, list) and all(isinstance(t, str) for t in turns):
                completion = turns
        except (ValueError, RecursionError):
            pass
    verdict = verify(task, completion)
    reason = f"{note}; {verdict.reason}" if note else verdict.reason
    if args.json:
        print(json.dumps({"reward": verdict.reward, "reason": reason, "task_id": task.id}))
    else:
        print(f"reward {verdict.reward} ({reason})")
    return 0


def cmd_gate(args: argparse.Namespace) -> int:
    from collections.abc import Sequence

    from rlvr_assets.core.gate.factors import run_gate
    from rlvr_assets.core.policy.models import ensure_base_model
    from rlvr_assets.core.policy.rollouts import sample_rollouts
    from rlvr_assets.core.policy.sampling import load_policy
    from rlvr_assets.core.tasks.candidates import load_candidates
    from rlvr_assets.core.tasks.model import Task
    from rlvr_assets.core.tasks.seeds import load_seed_dir

    cfg = load_config(args.config)
    _check_model_source(cfg, _config_path(args))
    try:
        candidates, parents = load_candidates(Path(args.candidates), load_seed_dir(cfg.paths.seeds_dir))
    except UnicodeDecodeError as exc:
        print(f"error: {args.candidates}: not UTF-8 text ({exc.reason} at byte {exc.start})", file=sys.stderr)
        return 2
    except (OSError, ValueError) as exc:  # SeedFileError is a ValueError naming file, line, task and field
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if not candidates:
        print(f"error: {args.candidates} has no candidate tasks", file=sys.stderr)
        return 2
    policy = load_policy(ensure_base_model(cfg.model, cfg.paths.artifacts_dir), cfg.model, cfg.sampling.backend)

    def sample_fn(tasks: Sequence[Task], n: int) -> list[tuple[int, str | list[str], int]]:
        return [(r.task_index, r.completion, r.tokens) for r in sample_rollouts(policy, tasks, n, cfg.sampling)]

    run = run_gate(candidates, parents, sample_fn, cfg.gate)
    rows = [
        {
            "candidate": c.name,
            "task_id": c.id,
            "parent": c.provenance.parent_id,
            "accepted": d.accepted,
            "q": d.q,
            "failed_factors": list(d.failed_factors),
            "pass_at_k": d.pass_at_k,
            "reason": d.reason,
        }
        for c, d in zip(candidates, run.decisions, strict=True)
    ]
    if args.json:
        print(json.dumps(rows, indent=2))
    else:
        for r in rows:
            verdict = "ACCEPT" if r["accepted"] else "REJECT " + ",".join(r["failed_factors"])
            print(f"{r['candidate']}: {verdict} ({r['reason']})")
        print(f"{sum(r['accepted'] for r in rows)}/{len(rows)} accepted")
    return 0


def cmd_benchmarks_list(args: argparse.Namespace) -> int:
    from rlvr_assets.core.evaluation.benchmarks import registry

    cfg = load_config(args.config)
    rows: list[dict[str, object]] = []
    for suite, benches in registry(cfg.paths.smoke_suite).items():
        for b in benches:
            version = b.version()
            package = b.package or "(project)"
            row = {"suite": suite, "name": b.name, "area": b.area, "package": package, "version": version}
            try:
                items, dropped = b.load_counted()
            except (ImportError, FileNotFoundError) as exc:  # ModuleNotFoundError is an ImportError
                if version == "not installed":
                    missing = b.package
                elif isinstance(exc, ModuleNotFoundError) and exc.name:
                    missing = exc.name.split(".")[0]
                else:
                    missing = None
                status = f"missing: {missing} not installed" if missing else f"missing: {exc}"
                rows.append(
                    {
                        **row,
                        "items": 0,
                        "dropped": None,
                        "dropped_reason": "",
                        "unpassable": None,
                        "unpassable_items": [],
                        "unpassable_reason": "",
                        "status": status,
                    }
                )
                continue
            why = getattr(items, "why", "") if dropped else ""
            unpassable = list(getattr(items, "unpassable", ()))
            status = "ready" if items else "empty"
            rows.append(
                {
                    **row,
                    "items": len(items),
                    "dropped": dropped,
                    "dropped_reason": why,
                    "unpassable": len(unpassable),  # kept and scored as failures, as the benchmark does
                    "unpassable_items": unpassable,
                    "unpassable_reason": getattr(items, "unpassable_why", "") if unpassable else "",
                    "status": status,
                }
            )
    if args.json:
        print(json.dumps(rows, indent=2))
    else:
        columns = ["suite", "name", "area", "package", "version", "items", "dropped", "unpassable", "status"]
        _print_table(rows, columns)
        reasons = {r["name"]: r["dropped_reason"] for r in rows if r["dropped"]}
        for name, why in reasons.items():
            print(f"dropped from {name}: {why}")
        for r in rows:
            if r["unpassable"]:
                print(f"unpassable in {r['name']} ({', '.join(r['unpassable_items'])}): {r['unpassable_reason']}")
    return 0


def _policy_for(model: str, cfg):  # type: ignore[no-untyped-def]
    from rlvr_assets.core.policy.models import ensure_base_model
    from rlvr_assets.core.policy.sampling import load_policy

    model_cfg = cfg.model.model_copy(update={"source": model})
    return load_policy(ensure_base_model(model_cfg, cfg.paths.artifacts_dir), model_cfg, cfg.sampling.backend)


def cmd_eval(args: argparse.Namespace) -> int:
    import polars as pl

    from rlvr_assets.core.evaluation.benchmarks import registry
    from rlvr_assets.core.evaluation.per_item import eval_sampling
    from rlvr_assets.core.evaluation.suite import evaluate_suite, suite_score
    from rlvr_assets.core.store.storage import write_frame

    cfg = load_config(args.config)
    n = args.samples if args.samples is not None else args.k
    if args.k < 1 or n < args.k:
        print(f"error: --samples ({n}) must be >= -k ({args.k}) and -k >= 1: pass@k needs n >= k", file=sys.stderr)
        return 2
    max_new_tokens = args.max_new_tokens if args.max_new_tokens is not None else cfg.eval.max_new_tokens
    boot_samples = args.bootstrap_samples if args.bootstrap_samples is not None else cfg.eval.bootstrap_samples
    boot_seed = args.bootstrap_seed if args.bootstrap_seed is not None else cfg.eval.bootstrap_seed
    benches = registry(cfg.paths.smoke_suite)[args.suite]
    if args.benchmarks:
        wanted = set(args.benchmarks.split(","))
        unknown = wanted - {b.name for b in benches}
        if unknown:
            print(f"error: no benchmark(s) {sorted(unknown)} in suite {args.suite}", file=sys.stderr)
            return 2
        benches = [b for b in benches if b.name in wanted]
    from rlvr_assets.core.policy.models import model_source_problem

    problem = model_source_problem(args.model)
    if problem is not None:
        print(f"error: --model: {problem}", file=sys.stderr)
        return 2
    policy = _policy_for(args.model, cfg)
    echo = (lambda m: print(m, file=sys.stderr)) if args.json else print
    items, scores = evaluate_suite(
        policy,
        benches,
        limit=args.limit,
        k=args.k,
        samples=n,
        sampling=eval_sampling(cfg.sampling, max_new_tokens, cfg.eval.batch_size),
        bootstrap_samples=boot_samples,
        bootstrap_seed=boot_seed,
        progress=echo,
    )
    write_frame(
        cfg.paths.duckdb_path,
        "eval_results",
        items.with_columns(pl.lit(args.model).alias("model"), pl.lit(args.suite).alias("suite")),
        f"{args.model}|{args.suite}|{args.limit}|{args.k}|{n}",
    )
    rows = [s.__dict__ for s in scores]
    grand = suite_score(items, boot_samples, boot_seed)
    low, high = grand.ci_low, grand.ci_high
    summary = {
        "model": args.model,
        "suite": args.suite,
        "k": args.k,
        "samples": n,
        "max_new_tokens": max_new_tokens,
        "grand_mean_pass_at_1": grand.score,
        "grand_mean_ci_low": low,
        "grand_mean_ci_high": high,
        "bootstrap_samples": boot_samples,
        "bootstrap_seed": boot_seed,
        "benchmarks": rows,
    }
    if args.json:
        print(json.dumps(summary, indent=2))
    else:
        _print_table(
            rows, ["benchmark", "area", "items", "pass_at_1", "ci_low", "ci_high", "pass_at_k", "items_per_minute"]
        )
        print(
            f"grand mean pass@1: {summary['grand_mean_pass_at_1']:.2f} [95% CI {low:.2f}, {high:.2f}; bootstrap over"
            f" items within each benchmark, {boot_samples} samples, seed {boot_seed}]"
            f"  (n = {n} samples per item; per-item results: {cfg.paths.duckdb_path} table eval_results)"
        )
    return 0


def cmd_lineage(args: argparse.Namespace) -> int:
    from rlvr_assets.core.kernel.failures import Rejected
    from rlvr_assets.core.training.lineage import lineage_frame, load_arm_lineage, rejected_frame

    cfg = load_config(args.config)
    result = load_arm_lineage(cfg.paths.duckdb_path, args.arm, seed_filter=args.seed, with_rejected=args.rejected)
    if isinstance(result, Rejected):
        print(f"error: {result.reason}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps(result.as_dict(), indent=2))
        return 0
    counts = result.counts
    print(
        f"arm {result.arm}: {counts['tasks']} training tasks ({counts['seeds']} seeds, {counts['variants']} variants)"
    )
    table = lineage_frame(result).drop("gate").to_dicts()
    _print_table(table, ["task_id", "origin", "seed", "operator", "rng_seed", "parent"])
    variants = [r for r in result.tasks if r.origin == "variant"]
    if variants:
        print("\ngate verdicts of the variants (factor, pass/FAIL, value, reason):")
    for r in variants:
        why = f" ({r.decision_reason})" if r.decision_reason not in (None, "", "accepted") else ""
        print(f"{r.task_id} {r.name}: {'accepted' if r.accepted else 'rejected'}{why}")
        for f in r.factors:
            value = "-" if f.value is None else f"{f.value:.3g}"
            print(f"    {f.factor:<12} {'pass' if f.passed else 'FAIL':<5} {value:<6} {f.reason}")
    if result.rejected is not None:
        print(f"\nrejected variants of these parents: {len(result.rejected)}")
        _print_table(
            rejected_frame(result.rejected).to_dicts(),
            ["parent", "stage", "task_id", "operator", "rng_seed", "failed_factors", "reason"],
        )
    return 0


def cmd_schema(args: argparse.Namespace) -> int:
    from rlvr_assets.core.tasks.model import task_json_schema

    text = json.dumps(task_json_schema(), indent=2, sort_keys=True) + "\n"
    if args.output:
        Path(args.output).write_text(text)
    else:
        print(text, end="")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="rlvr-assets", description=__doc__)
    sub = parser.add_subparsers(dest="command")
    run = sub.add_parser("run", help="run the whole sweep (seeds -> gate -> arms -> rho_cost -> report)")
    run.add_argument("--config", help="pipeline YAML (default: $RLVR_ASSETS_CONFIG or rlvr_assets.yaml)")
    run.add_argument(
        "--missing-only",
        action="store_true",
        help="skip every partition already materialized, even one whose inputs changed",
    )
    run.add_argument("--force", action="store_true", help="retrain every arm (default: only arms whose inputs changed)")
    run.add_argument("--arms", help="comma-separated arm keys to train (default: all)")
    run.add_argument(
        "--seeds", type=_parse_seeds, help="comma-separated training seeds (default: training.seeds of the config)"
    )
    run.add_argument("--timings-json", help="also write the per-stage timings to this file")
    run.add_argument("--verbose", action="store_true", help="print Dagster's DEBUG event log and library logs too")
    run.add_argument(
        "--wait", action="store_true", help="if another run holds the var directory, wait for it instead of exiting"
    )
    run.set_defaults(func=cmd_run)
    eco = sub.add_parser("economics", help="trade rate and rho_cost from arm scores measured elsewhere")
    eco.add_argument("arms_csv", help="CSV with columns arm,n_human,n_aug,score[,ci_low,ci_high]")
    eco.add_argument(
        "--cost-ratios",
        default="5,10,40",
        help="comma-separated c_human / c_aug ratios, finite and > 0 (default 5,10,40)",
    )
    eco.add_argument("--json", action="store_true", help="print JSON rows instead of a table")
    eco.set_defaults(func=cmd_economics)
    seeds = sub.add_parser("seeds", help="seed-library commands")
    seeds_sub = seeds.add_subparsers(dest="seeds_command", required=True)
    validate = seeds_sub.add_parser("validate", help="every seed parses, its reference passes, its known-bad fail")
    validate.add_argument("--seeds-dir", help="default: paths.seeds_dir of the config")
    validate.add_argument("--config", help="pipeline YAML")
    validate.add_argument("--json", action="store_true")
    validate.set_defaults(func=cmd_seeds_validate)
    ver = sub.add_parser("verify", help="score one completion against one task")
    ver.add_argument("task", help="a task JSON (full schema, or one seed record)")
    ver.add_argument("completion", help="a text file; for multi-turn tasks a JSON list of assistant turns")
    ver.add_argument("--json", action="store_true")
    ver.set_defaults(func=cmd_verify)
    gate = sub.add_parser("gate", help="gate candidate tasks from your own generator with the configured policy")
    gate.add_argument("candidates", help="JSONL: seed-format records, each naming its `parent`")
    gate.add_argument("--config", help="pipeline YAML (model, gate thresholds, sampling)")
    gate.add_argument("--json", action="store_true")
    gate.set_defaults(func=cmd_gate)
    bench = sub.add_parser("benchmarks", help="held-out benchmark suites")
    bench_sub = bench.add_subparsers(dest="benchmarks_command", required=True)
    blist = bench_sub.add_parser("list", help="name, area, source package and version, item count")
    blist.add_argument("--config")
    blist.add_argument("--json", action="store_true")
    blist.set_defaults(func=cmd_benchmarks_list)
    ev = sub.add_parser("eval", help="evaluate any model on a suite (pass@1, pass@k, bootstrap CIs, grand mean)")
    ev.add_argument("--model", default="smollm2-gguf", help="smollm2-gguf, tiny, a .gguf file, an HF id or a directory")
    ev.add_argument("--suite", choices=["smoke", "paper10"], default="smoke")
    ev.add_argument("--limit", type=int, help="items per benchmark (default: all)")
    ev.add_argument("-k", type=int, default=1, help="k of pass@k; k > 1 also reports unbiased pass@k (default 1)")
    ev.add_argument(
        "--samples",
        type=int,
        help="n completions per item, n >= k (default k): pass@1 = mean c/n, pass@k from n and c; n = 1 is greedy",
    )
    ev.add_argument("--benchmarks", help="comma-separated subset of the suite's benchmarks")
    ev.add_argument("--max-new-tokens", type=int, help="per model turn (default: eval.max_new_tokens of the config)")
    ev.add_argument("--bootstrap-samples", type=int, help="bootstrap draws (default: eval.bootstrap_samples)")
    ev.add_argument("--bootstrap-seed", type=int, help="bootstrap RNG seed (default: eval.bootstrap_seed, 0)")
    ev.add_argument("--config")
    ev.add_argument("--json", action="store_true")
    ev.set_defaults(func=cmd_eval)
    lin = sub.add_parser(
        "lineage", help="every training task of an arm: origin, operator, parent, gate verdicts and reasons"
    )
    lin.add_argument("arm", help="arm key, e.g. aug-0.50 or human-8")
    lin.add_argument("--seed", help="only this seed (name or content id) and its variants")
    lin.add_argument("--rejected", action="store_true", help="also the parents' rejected variants with reasons")
    lin.add_argument("--config", help="pipeline YAML (where the DuckDB file is)")
    lin.add_argument("--json", action="store_true")
    lin.set_defaults(func=cmd_lineage)
    schema = sub.add_parser("schema", help="print (or write) the task JSON Schema")
    schema.add_argument("--output", help="write to this file instead of stdout")
    schema.set_defaults(func=cmd_schema)
    return parser


def restore_interrupt_handling() -> None:
    """Ctrl-C and `kill` stop this process and its children, however it was started. A background job of a
    non-interactive shell (`rlvr-assets run &` in a script, a CI step) starts with SIGINT ignored; Dagster
    then gives SIGTERM whatever SIGINT has (dagster._utils.interrupts), so the run, and every training
    process it starts (they inherit the ignore across exec), would ignore `kill` too."""
    if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
        signal.signal(signal.SIGINT, signal.default_int_handler)
    if signal.getsignal(signal.SIGTERM) is signal.SIG_IGN:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)


def main(argv: list[str] | None = None) -> int:
    restore_interrupt_handling()
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:  # the main command: the whole sweep on the configured (default) setup
        args = parser.parse_args(["run"])
    try:
        return int(args.func(args))
    except ConfigError as exc:  # one line naming the file and the field, never a traceback, before any model work
        print(f"error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())

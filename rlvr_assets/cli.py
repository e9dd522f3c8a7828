"""`rlvr-assets`: run the sweep (the default command), or gate, verify, evaluate and price tasks and arms."""

import argparse
import json
import os
import signal
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import NoReturn, TextIO

import polars as pl

from rlvr_assets.core.config import ConfigError, PipelineConfig, load_config
from rlvr_assets.core.economics.trade_rate import (
    ArmsFileError,
    cost_rows,
    parse_cost_ratios,
    read_arms_csv,
)
from rlvr_assets.core.kernel.files import FileProblem, read_bytes, read_text
from rlvr_assets.core.kernel.progress import ProgressPrinter


def _parse_seeds(text: str) -> list[int]:
    try:
        seeds = [int(x) for x in text.split(",") if x.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"--seeds must be comma-separated integers, got {text!r}") from None
    if not seeds:
        raise argparse.ArgumentTypeError("--seeds needs at least one training seed")
    if any(s < 0 for s in seeds) or len(set(seeds)) != len(seeds):
        raise argparse.ArgumentTypeError(f"--seeds must be distinct integers >= 0, got {text!r}")
    return seeds


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be >= 1, got {value}")
    return value


class OneLineParser(argparse.ArgumentParser):
    """Argument errors are one line on stderr and exit code 2, before any work (argparse's default prints the
    whole usage block first, which buries the error)."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"error: {self.prog}: {message} (see {self.prog} --help)\n")


def package_version() -> str:
    """The installed distribution's version (pyproject's `version`), or the source tree's when not installed."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("rlvr_assets")
    except PackageNotFoundError:  # pragma: no cover - run from a checkout without `pip install -e`
        return "0+unknown"


def arms_problem(requested: list[str], cfg: PipelineConfig) -> str | None:
    """Why `--arms` names no arm of this config (None if every one is known): checked before any work, so a typo
    fails in a second instead of after the task preparation."""
    from rlvr_assets.core.training.arms import aug_arm_key, human_arm_key

    valid = [human_arm_key(n) for n in cfg.arms.human_sizes] + [aug_arm_key(f) for f in cfg.arms.aug_fractions]
    if not requested:
        return f"no arm given; valid arms: {', '.join(valid)}"
    unknown = [a for a in requested if a not in valid]
    if unknown:
        return f"unknown arm(s) {', '.join(repr(a) for a in unknown)}; valid arms: {', '.join(valid)}"
    if len(set(requested)) != len(requested):
        return f"an arm is named twice in {','.join(requested)}"
    return None


def _fmt(value: object) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def _print_table(rows: list[dict[str, object]], columns: list[str]) -> None:
    widths = {c: max(len(c), *(len(_fmt(r.get(c))) for r in rows)) if rows else len(c) for c in columns}
    print("  ".join(c.ljust(widths[c]) for c in columns).rstrip())
    for r in rows:
        print("  ".join(_fmt(r.get(c)).ljust(widths[c]) for c in columns).rstrip())


COST_COLUMNS = ["arm", "estimator", "cost_ratio", "n_equiv", "rho", "rho_cost", "break_even"]


def load_score_draws(path: Path, samples: int, seed: int):  # type: ignore[no-untyped-def]
    """Item-level or arm-level scores from a CSV, told apart by the header, as bootstrap draws
    (`core/economics/trade_stats.py`); a bad file raises ArmsFileError with its one-line reason."""
    from rlvr_assets.core.economics.item_scores import ItemScoresError, csv_kind, load_item_scores
    from rlvr_assets.core.economics.trade_stats import ci_score_draws, item_score_draws

    kind = csv_kind(path)
    if kind == "mixed":
        raise ItemScoresError(f"{path}:1: mixed levels: the header has both 'score' (arm level) and item columns")
    if kind == "item":
        return item_score_draws(load_item_scores(path), samples, seed)
    return ci_score_draws(read_arms_csv(path), samples, seed)


VERDICT_KEYS = ["verdict", "verdict_reason", "primary", "rho_low", "rho_high", "rho_cost_low", "rho_cost_high"]
VERDICT_KEYS += ["p_rho_cost_above_1", "rests_on"]


def cmd_economics(args: argparse.Namespace) -> int:
    from rlvr_assets.core.economics.report import identification_lines
    from rlvr_assets.core.economics.trade_stats import (
        CostRatio,
        analyse,
        decision_rows,
        decision_table,
        reference_lines,
        strict_json_value,
        trade_frame,
        verdict_lines,
    )

    try:
        ratios = parse_cost_ratios(args.cost_ratios)
    except ValueError as exc:
        print(f"error: --cost-ratios: {exc}", file=sys.stderr)
        return 2
    try:
        draws = load_score_draws(Path(args.arms_csv), args.samples, args.seed)
    except ArmsFileError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    analysis = analyse(draws, primary=args.primary, margin=args.margin)
    trade = trade_frame(analysis)
    decisions = decision_rows(trade, [CostRatio(r) for r in ratios])
    estimates = list(analysis.estimates)
    by_key = {(d.arm, d.estimator, d.cost_ratio): d for d in decisions}
    gains = {g.arm: g for g in analysis.base_gains}
    rows = []
    for c in cost_rows(estimates, ratios):
        d = by_key[(c.arm, c.estimator, c.cost_ratio)]
        g = gains.get(c.arm)
        verdict = {**d.__dict__, "verdict_reason": d.reason}
        rows.append(
            {
                **{k: verdict[k] for k in ("arm", "estimator", "cost_ratio")},
                **{k: verdict[k] for k in VERDICT_KEYS},
                **{k: v for k, v in c.as_dict().items() if k not in ("arm", "estimator", "cost_ratio")},
                "gain_over_base": g.diff if g else None,
                "gain_over_base_low": g.ci_low if g else None,
                "gain_over_base_high": g.ci_high if g else None,
            }
        )
    if args.figure:
        from rlvr_assets.core.economics.figures import plot_rho_cost

        plot_rho_cost(Path(args.figure), trade.drop("rho_draws"), ratios, None)
    if args.json:
        print(json.dumps(strict_json_value(rows), indent=2, allow_nan=False))
        return 0
    for line in reference_lines(analysis) + verdict_lines([d for d in decisions if d.primary]):
        print(line)
    print(f"(intervals rest on: {draws.resamples})\n")
    table = decision_table(decisions)
    _print_table(table.to_dicts(), table.columns)
    print()
    _print_table(rows, [*COST_COLUMNS, "identified"])
    print()
    for line in identification_lines(trade.drop("rho_draws")):
        print(line)
    return 0


def _pilot_from_duckdb(path: Path):  # type: ignore[no-untyped-def]
    """The item-level pilot of a pipeline run: benchmark_scores, training_corpus and base_scores, read from a
    copy of the DuckDB file (a running sweep may hold the original)."""
    import shutil
    import tempfile

    from rlvr_assets.core.economics.item_scores import ItemScores
    from rlvr_assets.core.store.storage import read_frame
    from rlvr_assets.defs.assets.economics import _arm_inputs, _with_base

    with tempfile.TemporaryDirectory() as tmp:
        copy = Path(tmp) / "pilot.duckdb"
        shutil.copyfile(path, copy)
        scores = read_frame(copy, "benchmark_scores").drop("partition_key", strict=False)
        corpus = read_frame(copy, "training_corpus").drop("partition_key", strict=False)
        try:
            base = read_frame(copy, "base_scores").drop("partition_key", strict=False)
        except LookupError:
            base = None
    arms, rewards, benchmark_of = _arm_inputs(corpus, scores)
    _with_base(arms, rewards, base)
    return ItemScores.from_rewards(arms, rewards, benchmark_of)


def _sizes_options(text: str | None, pilot_sizes: list[int]) -> list[tuple[int, ...]]:
    from rlvr_assets.core.economics.planner import ladder

    if text:
        try:
            return [tuple(int(x) for x in part.split(",") if x.strip()) for part in text.split(";") if part.strip()]
        except ValueError:
            raise ValueError(f"--sizes {text!r}: human sizes are integers, sets separated by ';'") from None
    start = min(pilot_sizes) if pilot_sizes else 4
    options = [tuple(sorted(pilot_sizes))] if len(pilot_sizes) >= 2 else []
    for count in (5, 7):
        if ladder(start, count) not in options:
            options.append(ladder(start, count))
    return options


def plan_report(
    args: argparse.Namespace, cfg: PipelineConfig | None = None
) -> tuple[list[str], list[dict[str, object]]]:
    """(lines in plain words, table rows) of `rlvr-assets plan`; raises ValueError / ArmsFileError with a
    one-line reason on bad input."""
    from rlvr_assets.core.economics.item_scores import load_item_scores
    from rlvr_assets.core.economics.planner import estimate_components, plan, plan_lines, priors

    pilot = None
    if args.items_csv:
        pilot = load_item_scores(Path(args.items_csv))
    elif args.duckdb:
        path = Path(args.duckdb)
        if not path.is_file():
            raise ValueError(f"--duckdb {path}: no such file")
        pilot = _pilot_from_duckdb(path)
    elif not args.priors and cfg is not None and cfg.paths.duckdb_path.is_file():
        pilot = _pilot_from_duckdb(cfg.paths.duckdb_path)
    if pilot is None:
        comp = priors(args.item_sd, args.residual_sd, args.seed_sd)
        sizes = list(cfg.arms.human_sizes) if cfg is not None else []
        aug = []
    else:
        comp = estimate_components(pilot, args.seed_sd)
        sizes = sorted(a.n_human for a in pilot.arms if not a.augmented and not a.is_base)
        aug = [a for a in pilot.arms if a.augmented and a.n_aug > 0]
    n_base = args.n_base or (aug[0].n_human if aug else (min(sizes) if sizes else 4))
    n_aug = args.n_aug or (aug[0].n_aug if aug else 3 * n_base)
    options = _sizes_options(args.sizes, sizes)
    rows = plan(
        comp,
        options,
        slope=args.slope,
        rho=args.rho,
        n_base=n_base,
        n_aug=n_aug,
        ratio=args.ratio,
        width=args.width,
        aug_arms=max(1, len(aug) if pilot is not None or cfg is None else len(cfg.arms.aug_fractions)),
    )
    lines = plan_lines(comp, rows, args.slope)
    lines.append(
        f"Assumed truth for the other goals: rho = {args.rho:g} for an arm of n_base = {n_base} + n_aug = {n_aug}, "
        f"the verdict at r = {args.ratio:g}; 80% power; formulas in docs/statistics.md."
    )
    run_s, item_s = getattr(args, "run_seconds", None), getattr(args, "item_seconds", None) or 0.0
    table = []
    for r in rows:
        device = None
        if run_s is not None and r.items is not None:
            device = round(r.train_runs * (run_s + item_s * r.items))
        table.append(
            {
                "human_sizes": ",".join(map(str, r.sizes)),
                "seeds": r.seeds,
                "goal": r.goal,
                "items": r.items,
                "train_runs": r.train_runs,
                "device_seconds": device,
            }
        )
    if run_s is not None:
        lines.append(
            f"Device time = training runs x ({run_s:g} s per arm and seed + {item_s:g} s per held-out item), "
            "task preparation not included."
        )
    return lines, table


def cmd_plan(args: argparse.Namespace) -> int:
    cfg = None
    if args.config or not (args.items_csv or args.duckdb or args.priors):
        try:
            cfg = load_config(args.config)
        except ConfigError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
    try:
        lines, table = plan_report(args, cfg)
    except (ArmsFileError, ValueError, LookupError) as exc:
        print(f"error: {str(exc).splitlines()[0] if str(exc) else type(exc).__name__}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps({"summary": lines, "rows": table}, indent=2, allow_nan=False))
        return 0
    wide: dict[tuple[str, int], dict[str, object]] = {}
    for r in table:
        row = wide.setdefault(
            (str(r["human_sizes"]), int(r["seeds"])), {"human_sizes": r["human_sizes"], "seeds": r["seeds"]}
        )  # type: ignore[arg-type]
        row[f"items: {r['goal']}"] = "impossible" if r["items"] is None else r["items"]
        if r["device_seconds"] is not None:
            row[f"device min: {r['goal']}"] = round(int(r["device_seconds"]) / 60)  # type: ignore[call-overload]
    columns = list(dict.fromkeys(k for row in wide.values() for k in row))
    print("Items needed at 80% power, per human size set and seed count:")
    _print_table(list(wide.values()), columns)
    print()
    for line in lines:
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


def print_economics_summary(
    cost: pl.DataFrame, trade: pl.DataFrame, plan: list[str] | None = None, findings: list[str] | None = None
) -> None:
    """The end of `run`: the rho_cost table, whether anything is identified, each comparison's minimum
    detectable difference, and last the decision: findings (base model, dips), one verdict line per arm at
    every configured and the measured cost ratio, and the planner's budget in plain words."""
    from rlvr_assets.core.economics.report import identification_lines
    from rlvr_assets.core.economics.trade_stats import CostRatio, decision_rows, verdict_lines

    cost = cost.drop("partition_key").sort(["arm", "estimator", "cost_ratio"])
    print("\nrho_cost (null estimates say why):")
    _print_table(cost.to_dicts(), [*COST_COLUMNS, "identified", "verdict"])
    print()
    for line in identification_lines(trade.drop("rho_draws", strict=False)):
        print(line)
    measured = cost["measured_cost_ratio"][0] if cost.height else None
    print(f"\nmeasured cost ratio c_human / c_aug here: {_fmt(measured)}")
    ratios = [CostRatio(float(r)) for r in sorted(set(cost["cost_ratio"].to_list()))] if cost.height else []
    if isinstance(measured, int | float) and measured > 0 and measured < float("inf"):
        ratios.append(CostRatio(float(measured), "measured"))
    if "rho_draws" in trade.columns and trade.height and ratios:
        decisions = [d for d in decision_rows(trade, ratios) if d.primary]
        print("\nDecision (primary estimator; one-sided 95% bounds of rho_cost):")
        for line in (findings or []) + verdict_lines(decisions):
            print(f"  {line}")
    if plan:
        print("\nBudget for a verdict (rlvr-assets plan, from this run's variance components):")
        for line in plan:
            print(f"  {line}")


def _run_findings(cfg: PipelineConfig) -> list[str]:
    """The report's opening findings (no arm beats the base model, dips), read back from its markdown."""
    report = cfg.paths.artifacts_dir / "report" / "report.md"
    try:
        text = report.read_text()
    except OSError:
        return []
    return [line[4:-2] for line in text.splitlines() if line.startswith("- **") and line.endswith("**")]


def _run_plan_lines(cfg: PipelineConfig) -> list[str]:
    """The planner's budget from this run's own tables, or one line saying why there is none."""
    args = argparse.Namespace(
        items_csv=None,
        duckdb=str(cfg.paths.duckdb_path),
        priors=False,
        slope=5.0,
        rho=1.0,
        ratio=5.0,
        width=None,
        sizes=None,
        n_base=None,
        n_aug=None,
        item_sd=30.0,
        residual_sd=25.0,
        seed_sd=2.0,
    )
    try:
        lines, _ = plan_report(args, cfg)
    except (ArmsFileError, ValueError, LookupError, OSError) as exc:
        return [f"no budget: {exc}"]
    return lines


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
    if args.arms is not None:
        args.arms = [a.strip() for a in args.arms.split(",") if a.strip()]
        problem = arms_problem(args.arms, cfg)
        if problem is not None:
            print(f"error: --arms: {problem}", file=sys.stderr)
            return 2
    _check_model_source(cfg, _config_path(args))

    def waiting(holder: LockHolder) -> None:
        print(f"waiting for the run holding {cfg.paths.var_dir} ({holder.describe()})", file=sys.stderr)

    try:
        with var_dir_lock(cfg.paths.var_dir, wait=args.wait, on_wait=waiting):
            return _run_locked(args, cfg)
    except VarDirBusy as exc:
        print(f"error: {exc}; wait for it to finish or pass --wait", file=sys.stderr)
        return 2


def _write_out(text: str) -> None:
    sys.stdout.write(text)
    sys.stdout.flush()


def _run_locked(args: argparse.Namespace, cfg: PipelineConfig) -> int:
    if not args.verbose:  # before anything imports tqdm: it reads TQDM_DISABLE once, at import
        _quiet_libraries()
    import dagster as dg

    from rlvr_assets.definitions import build_definitions
    from rlvr_assets.sweep import ensure_dagster_home, run_sweep

    home = ensure_dagster_home(cfg)
    defs = build_definitions(cfg)
    started = time.monotonic()
    print(
        "one line per finished stage, progress of long ones in between; Dagster's own logs are in the UI"
        " (`make ui`) or here with --verbose"
    )
    with dg.DagsterInstance.get() as instance:
        timings = run_sweep(
            defs,
            cfg,
            instance,
            missing_only=args.missing_only,
            force=args.force,
            arms=args.arms or None,
            log_level="DEBUG" if args.verbose else "WARNING",
            progress=ProgressPrinter(_write_out, interactive=sys.stdout.isatty()),
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
    print_economics_summary(cost, trade, plan=_run_plan_lines(cfg), findings=_run_findings(cfg))
    report = cfg.paths.artifacts_dir / "report" / "report.md"
    print(f"report: {report}\nDuckDB: {cfg.paths.duckdb_path}\nDagster home: {home} (open with `make ui`)")
    if args.timings_json:
        Path(args.timings_json).write_text(json.dumps([t.__dict__ for t in timings], indent=2))
    return 0


def cmd_seeds_validate(args: argparse.Namespace) -> int:
    from rlvr_assets.core.gate.validation import validate_seed_dir
    from rlvr_assets.core.interop.sources import SourceError, load_sources, validate_sources

    cfg = load_config(args.config) if args.config or not args.seeds_dir else None
    seeds_dir = Path(args.seeds_dir) if args.seeds_dir else cfg.paths.seeds_dir  # type: ignore[union-attr]
    if not seeds_dir.is_dir():
        print(f"error: seeds directory {seeds_dir} does not exist", file=sys.stderr)
        return 2
    try:
        if cfg is not None and cfg.seed_sources:  # a malformed source fails before the slower seed checks
            load_sources(cfg.seed_sources)
        report = validate_seed_dir(seeds_dir)
        if cfg is not None and cfg.seed_sources:  # the config's task sources, checked the same way
            report = validate_sources(cfg.seed_sources, report)
    except FileNotFoundError as exc:  # no seed files at all
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except SourceError as exc:
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
    unreadable = [p for p in report.problems if p.field == "<file>"]
    for p in unreadable:  # a file that cannot be read at all is an input error (exit 2), not a failed seed
        print(f"error: {p.file}: {p.reason}", file=sys.stderr)
    return 2 if unreadable else 0 if report.ok else 1


def _load_task(path: Path):  # type: ignore[no-untyped-def]
    from rlvr_assets.core.tasks.model import Task
    from rlvr_assets.core.tasks.seeds import parse_seed_record

    record = json.loads(read_text(path))  # FileProblem (a ValueError): not a regular UTF-8 file
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
        data = read_bytes(args.completion)
    except FileProblem as exc:
        print(f"error: cannot read completion {exc}", file=sys.stderr)
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


def _rollout_progress(stream: TextIO) -> Callable[[str, int, int], None]:
    """Items sampled so far, with rate and ETA: in place on a terminal, every 30 s in a log file."""
    from rlvr_assets.core.kernel.progress import ProgressTracker

    def write(text: str) -> None:
        stream.write(text)
        stream.flush()

    printer = ProgressPrinter(write, interactive=stream.isatty())
    tracker = ProgressTracker()
    started = time.monotonic()

    def report(benchmark: str, done: int, total: int) -> None:
        now = time.monotonic()
        reading = tracker.observe(f"{benchmark} rollouts {done}/{total}", now)
        printer.update("eval", now - started, reading, now)
        if done == total:
            printer.clear()

    return report


def cmd_eval(args: argparse.Namespace) -> int:
    if not args.verbose:  # before anything imports tqdm: it reads TQDM_DISABLE once, at import
        _quiet_libraries()
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
    duckdb_path = Path(args.duckdb) if args.duckdb else cfg.paths.duckdb_path
    if duckdb_path.is_dir():
        print(f"error: --duckdb: {duckdb_path} is a directory, not a DuckDB file", file=sys.stderr)
        return 2
    echo = (lambda m: print(m, file=sys.stderr)) if args.json else print
    echo(f"per-item results go to {duckdb_path} (table eval_results; --duckdb to write elsewhere)")
    policy = _policy_for(args.model, cfg)
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
        rollout_progress=_rollout_progress(sys.stderr if args.json else sys.stdout),
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
            f"  (n = {n} samples per item; per-item results: {duckdb_path} table eval_results)"
        )
    sys.stdout.flush()  # the result is out before anything can fail to store it
    frame = items.with_columns(pl.lit(args.model).alias("model"), pl.lit(args.suite).alias("suite"))
    try:
        write_frame(duckdb_path, "eval_results", frame, f"{args.model}|{args.suite}|{args.limit}|{args.k}|{n}")
    except (RuntimeError, OSError) as exc:  # locked by a running pipeline, or not writable: keep the items
        kept = Path(tempfile.mkstemp(prefix="eval_results-", suffix=".parquet", dir=_writable_dir(cfg))[1])
        frame.write_parquet(kept)
        print(f"warning: per-item results not stored in DuckDB ({exc}); kept in {kept}", file=sys.stderr)
    return 0


def _writable_dir(cfg: PipelineConfig) -> str:
    """Where results that could not go into the database are kept: the var directory, else the temp directory."""
    var = Path(cfg.paths.var_dir)
    return str(var) if var.is_dir() and os.access(var, os.W_OK) else tempfile.gettempdir()


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


def cmd_export(args: argparse.Namespace) -> int:
    from rlvr_assets.core.interop.export import ExportError, export_corpus
    from rlvr_assets.core.interop.export_source import ExportSourceError, load_corpus_export
    from rlvr_assets.core.interop.sources import SourceError

    cfg = load_config(args.config)
    try:
        export = load_corpus_export(cfg, args.arm)
        files = export_corpus(export, args.format, Path(args.output), force=args.force)
    except (ExportError, ExportSourceError, SourceError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    n_aug = sum(1 for t in export.train if t.provenance.kind == "augmented")
    print(
        f"arm {export.arm}: {len(export.train)} training tasks ({n_aug} gated variants) and "
        f"{len(export.heldout)} held-out items written as {args.format} to {args.output} ({len(files)} files)"
    )
    return 0


def cmd_scores_from_lm_eval(args: argparse.Namespace) -> int:
    from rlvr_assets.core.interop.lm_eval_scores import LmEvalMapError, read_lm_eval_map, write_arm_csv, write_item_csv

    try:
        rows = read_lm_eval_map(Path(args.map))
        for target in (Path(args.output), *([Path(args.arms_csv)] if args.arms_csv else [])):
            if target.exists() and not args.force:  # checked before either is written: nothing half-done
                raise LmEvalMapError(f"{target}: exists; not overwriting it (pass --force)")
        write_item_csv(rows, Path(args.output), force=args.force)
        if args.arms_csv:
            write_arm_csv(rows, Path(args.arms_csv), force=args.force)
    except LmEvalMapError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    arms = sorted({(r.arm, r.seed) for r in rows})
    print(f"{len(rows)} item scores from {len(arms)} arm/seed runs written to {args.output}")
    return 0


def cmd_schema(args: argparse.Namespace) -> int:
    from rlvr_assets.core.tasks.model import task_json_schema

    text = json.dumps(task_json_schema(), indent=2, sort_keys=True) + "\n"
    if args.output:
        try:
            Path(args.output).write_text(text)
        except OSError as exc:  # a directory, a missing folder, no permission: one line
            print(f"error: cannot write schema to {args.output}: {exc.strerror or exc}", file=sys.stderr)
            return 2
    else:
        print(text, end="")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineParser(prog="rlvr-assets", description=__doc__)
    parser.add_argument("--version", action="version", version=f"%(prog)s {package_version()}")
    sub = parser.add_subparsers(dest="command")
    run = sub.add_parser("run", help="run the whole sweep (seeds -> gate -> arms -> rho_cost -> report)")
    run.add_argument("--config", help="pipeline YAML (default: $RLVR_ASSETS_CONFIG or rlvr_assets.yaml)")
    redo = run.add_mutually_exclusive_group()
    redo.add_argument(
        "--missing-only",
        action="store_true",
        help="skip every partition already materialized, even one whose inputs changed",
    )
    redo.add_argument(
        "--force", action="store_true", help="retrain every arm (default: only arms whose inputs changed)"
    )
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
    eco.add_argument(
        "arms_csv",
        help="CSV: arm,n_human,n_aug,score[,ci_low,ci_high] (one row per arm) or arm,n_human,n_aug,seed,benchmark,"
        "item,reward (one row per arm x seed x item; told apart by the header); n_human = n_aug = 0 is the base model",
    )
    eco.add_argument(
        "--cost-ratios",
        default="5,10,40",
        help="comma-separated c_human / c_aug ratios, finite and > 0 (default 5,10,40)",
    )
    eco.add_argument("--json", action="store_true", help="print JSON rows (strict JSON: null, never Infinity)")
    eco.add_argument("--samples", type=int, default=2000, help="bootstrap draws behind every interval (default 2000)")
    eco.add_argument("--seed", type=int, default=0, help="seed of the bootstrap draws (default 0)")
    eco.add_argument(
        "--primary",
        choices=["joint_curve", "log_interpolation", "dominance_bound"],
        default="joint_curve",
        help="the pre-specified primary estimator the verdict lines state (default joint_curve)",
    )
    eco.add_argument(
        "--margin", type=float, default=0.0, help="non-inferiority margin in points for the dominance bound (default 0)"
    )
    eco.add_argument("--figure", help="also draw rho_cost against r (log-log) into this PNG file")
    eco.set_defaults(func=cmd_economics)
    pl_ = sub.add_parser(
        "plan", help="items x seeds x human sizes a verdict needs at 80%% power, from a pilot or stated priors"
    )
    pl_.add_argument("--config", help="pipeline YAML: its DuckDB is the pilot when no other is given")
    pl_.add_argument("--duckdb", help="a pipeline DuckDB file as the pilot (read from a copy)")
    pl_.add_argument(
        "--items-csv", help="an item-level CSV (arm,n_human,n_aug,seed,benchmark,item,reward) as the pilot"
    )
    pl_.add_argument("--priors", action="store_true", help="no pilot: use the stated priors (--item-sd etc.)")
    pl_.add_argument("--slope", type=float, default=5.0, help="human slope to detect, points per doubling (default 5)")
    pl_.add_argument("--rho", type=float, default=1.0, help="assumed true rho for the verdict goals (default 1)")
    pl_.add_argument("--ratio", type=float, default=5.0, help="cost ratio r for the verdict goal (default 5)")
    pl_.add_argument("--width", type=float, help="also: the items for a 95%% CI of rho this wide")
    pl_.add_argument("--sizes", help="human size sets to compare, e.g. '4,8,16;4,8,16,32,64'")
    pl_.add_argument("--n-base", type=int, help="the augmented arm's human tasks (default: from the pilot)")
    pl_.add_argument("--n-aug", type=int, help="the augmented arm's variants (default: from the pilot)")
    pl_.add_argument("--item-sd", type=float, default=30.0, help="prior item x arm SD, points (no pilot)")
    pl_.add_argument("--residual-sd", type=float, default=25.0, help="prior item x seed SD, points (no pilot)")
    pl_.add_argument("--seed-sd", type=float, default=2.0, help="prior seed SD, points (no pilot, or a 1-seed pilot)")
    pl_.add_argument("--run-seconds", type=float, help="device seconds per arm and seed (training, load, save)")
    pl_.add_argument("--item-seconds", type=float, help="device seconds per held-out item scored (per arm and seed)")
    pl_.add_argument("--json", action="store_true")
    pl_.set_defaults(func=cmd_plan)
    seeds = sub.add_parser("seeds", help="seed-library commands")
    seeds_sub = seeds.add_subparsers(dest="seeds_command", required=True)
    validate = seeds_sub.add_parser("validate", help="every seed parses, its reference passes, its known-bad fail")
    validate.add_argument("--seeds-dir", help="default: paths.seeds_dir of the config")
    validate.add_argument("--config", help="pipeline YAML (its seed_sources are validated too)")
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
    ev.add_argument("--limit", type=_positive_int, help="items per benchmark (default: all)")
    ev.add_argument(
        "-k", type=_positive_int, default=1, help="k of pass@k; k > 1 also reports unbiased pass@k (default 1)"
    )
    ev.add_argument(
        "--samples",
        type=_positive_int,
        help="n completions per item, n >= k (default k): pass@1 = mean c/n, pass@k from n and c; n = 1 is greedy",
    )
    ev.add_argument("--benchmarks", help="comma-separated subset of the suite's benchmarks")
    ev.add_argument(
        "--max-new-tokens", type=_positive_int, help="per model turn (default: eval.max_new_tokens of the config)"
    )
    ev.add_argument("--bootstrap-samples", type=_positive_int, help="bootstrap draws (default: eval.bootstrap_samples)")
    ev.add_argument("--bootstrap-seed", type=int, help="bootstrap RNG seed (default: eval.bootstrap_seed, 0)")
    ev.add_argument(
        "--duckdb",
        help="DuckDB file that gets the per-item results (table eval_results); default: the pipeline's own"
        " (paths.duckdb of the config, var/rlvr.duckdb)",
    )
    ev.add_argument("--config")
    ev.add_argument("--json", action="store_true")
    ev.add_argument("--verbose", action="store_true", help="show library logs and progress bars too")
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
    exp = sub.add_parser("export", help="write an arm's training corpus (and the held-out suite) for another trainer")
    exp.add_argument("arm", help="arm key, e.g. aug-0.50 or human-8")
    exp.add_argument("--format", required=True, choices=["verl", "hf", "jsonl", "verifiers"])
    exp.add_argument("--output", required=True, help="directory to write (must be empty or new)")
    exp.add_argument("--force", action="store_true", help="write into a non-empty directory (never over user files)")
    exp.add_argument("--config", help="pipeline YAML (where the DuckDB file is)")
    exp.set_defaults(func=cmd_export)
    scores = sub.add_parser("scores", help="per-item scores produced elsewhere")
    scores_sub = scores.add_subparsers(dest="scores_command", required=True)
    lme = scores_sub.add_parser(
        "from-lm-eval", help="lm-evaluation-harness --log_samples output -> item-level CSV (arm,...,item,reward)"
    )
    lme.add_argument("map", help="YAML mapping each lm-eval output directory to arm, n_human, n_aug, seed")
    lme.add_argument("--output", required=True, help="CSV to write (refuses an existing file unless --force)")
    lme.add_argument("--arms-csv", help="also write per-arm means (arm,n_human,n_aug,score) for `economics`")
    lme.add_argument("--force", action="store_true", help="replace an existing output CSV")
    lme.set_defaults(func=cmd_scores_from_lm_eval)
    schema = sub.add_parser("schema", help="print (or write) the task JSON Schema")
    schema.add_argument("--output", help="write to this file instead of stdout")
    schema.set_defaults(func=cmd_schema)
    from rlvr_assets.audit_cli import add_audit_parser

    add_audit_parser(sub)  # `audit sample|record` (rlvr_assets/audit_cli.py)
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
    except BrokenPipeError:  # `rlvr-assets lineage ... | head -1`: the reader has what it wanted
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())  # Python's own flush at exit must not raise again
        return 141  # as if killed by SIGPIPE, what a shell reports for this


if __name__ == "__main__":
    sys.exit(main())

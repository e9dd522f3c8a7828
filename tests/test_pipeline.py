"""The whole asset graph, materialized in-process with a tiny model: real outcomes, not just green runs."""

import math

import dagster as dg
import polars as pl
import pytest

from rlvr_assets.core.config import load_config
from rlvr_assets.core.store.storage import read_frame
from rlvr_assets.definitions import build_definitions
from rlvr_assets.defs.partitions import arm_keys
from rlvr_assets.sweep import run_sweep
from tests.conftest import TINY, write_config


def _table(sweep, name: str) -> pl.DataFrame:
    return read_frame(sweep["cfg"].paths.duckdb_path, name)


def test_rejected_variants_carry_reasons(tiny_sweep) -> None:
    gate = _table(tiny_sweep, "gate_results")
    assert gate.height > 0
    rejected = gate.filter(~pl.col("passed"))
    assert rejected.height > 0, "the tiny sweep should reject something (e.g. near-duplicates)"
    assert rejected["reason"].str.len_chars().min() > 0
    decisions = gate.filter(pl.col("factor") == "verify")
    for row in decisions.filter(~pl.col("accepted")).iter_rows(named=True):
        assert row["decision_reason"].startswith("V_")
    augmented = _table(tiny_sweep, "augmented_tasks")
    not_applicable = augmented.filter(pl.col("status") != "proposed")
    assert not_applicable.height > 0 and not_applicable["reason"].str.len_chars().min() > 0


def test_every_arm_has_a_score_for_every_item(tiny_sweep) -> None:
    scores = _table(tiny_sweep, "benchmark_scores")
    smoke = _table(tiny_sweep, "smoke_suite")
    assert set(scores["arm"].unique()) == set(arm_keys(tiny_sweep["cfg"]))
    per_arm = scores.group_by("arm").agg(pl.col("item_id").n_unique().alias("n"))
    assert set(per_arm["n"].to_list()) == {smoke.height + 10 * 2}  # smoke + 2 items of each public benchmark
    assert scores["benchmark"].n_unique() == 11


def test_arms_are_compute_matched(tiny_sweep) -> None:
    ckpts = _table(tiny_sweep, "policy_checkpoint")
    assert ckpts["steps"].n_unique() == 1 and ckpts["rollouts"].n_unique() == 1
    assert ckpts["steps"][0] == tiny_sweep["cfg"].training.max_steps


def test_the_report_draws_every_arms_training_curve(tiny_sweep) -> None:
    log = _table(tiny_sweep, "training_log")
    steps = log.group_by("arm", "seed").agg(pl.col("step").n_unique().alias("n"))
    assert set(steps["arm"].to_list()) == set(arm_keys(tiny_sweep["cfg"]))
    report = tiny_sweep["cfg"].paths.artifacts_dir / "report"
    assert (report / "reward_curves.png").stat().st_size > 0 and (report / "training_log.csv").exists()
    event = tiny_sweep["instance"].get_latest_materialization_event(dg.AssetKey("economics_report"))
    assert "data:image/png;base64," in event.asset_materialization.metadata["reward_curves"].value


def test_augmented_arm_trains_on_base_plus_gated_variants(tiny_sweep) -> None:
    corpus = _table(tiny_sweep, "training_corpus")
    gated = set(_table(tiny_sweep, "gated_tasks")["task_id"].to_list())
    aug = corpus.filter(pl.col("arm") == "aug-0.50")
    assert aug.filter(pl.col("origin") == "human")["split"].to_list() == ["base"] * 4
    assert set(aug.filter(pl.col("origin") == "augmented")["task_id"].to_list()) <= gated
    held_out = set(_table(tiny_sweep, "smoke_suite")["task_id"].to_list())
    assert not held_out & set(corpus["task_id"].to_list())


def test_rho_cost_is_finite_and_equals_rho_times_r(tiny_sweep) -> None:
    cost = _table(tiny_sweep, "rho_cost")
    ratios = set(tiny_sweep["cfg"].economics.cost_ratios)
    assert set(cost["cost_ratio"].unique().to_list()) == ratios
    dominance = cost.filter(pl.col("estimator") == "dominance_bound")
    assert dominance.height == len(ratios)
    assert _table(tiny_sweep, "benchmark_scores")["reward"].max() == 0.0, "a random tiny model never answers"
    assert dominance["rho"].is_null().all(), "arms that all score 0 tie at the floor: no trade rate"
    assert cost["identified"].to_list() == [False] * cost.height, "judged by the paired bootstrap, never null"
    assert cost["identified_reason"].str.len_chars().min() > 0
    for row in cost.iter_rows(named=True):
        if row["rho"] is None:
            assert row["reason"], "a null estimate must say why"
            continue
        assert math.isfinite(row["rho_cost"])
        assert row["rho_cost"] == pytest.approx(row["rho"] * row["cost_ratio"])


def test_report_files_are_written(tiny_sweep) -> None:
    report = tiny_sweep["cfg"].paths.artifacts_dir / "report"
    names = ("report.md", "arms.csv", "rho_cost.csv", "funnel.csv", "scaling_curve.png", "rho_cost.png")
    for name in (*names, "reward_curves.png", "training_log.csv"):
        assert (report / name).stat().st_size > 0, name
    text = (report / "report.md").read_text()
    assert "Gate funnel" in text and "## Training" in text and "reward_curves.png" in text
    assert text.split("\n## ")[0].count("NOT IDENTIFIED") == 1, "the report opens with the banner"
    assert "Minimum detectable difference" in text


def test_run_summary_says_not_identified_and_prints_the_mdd(tiny_sweep, capsys) -> None:
    from rlvr_assets.cli import print_economics_summary

    defs, instance = build_definitions(tiny_sweep["cfg"]), tiny_sweep["instance"]  # loaded the way `run` does
    cost = defs.load_asset_value("rho_cost", instance=instance)
    print_economics_summary(cost, defs.load_asset_value("trade_rate", instance=instance))
    out = capsys.readouterr().out
    assert "NOT IDENTIFIED" in out
    items = _table(tiny_sweep, "benchmark_scores")["item_id"].n_unique()
    assert f"Minimum detectable difference at {items} items x 1 seed(s)" in out
    assert "the rewards do not vary at all" in out, "all-zero rewards have no SE, so no MDD is claimed"
    assert "aug-0.50 - human-4 (augmented gain)" in out


def test_training_log_has_every_step_of_every_arm_and_seed(tiny_sweep) -> None:
    cfg = tiny_sweep["cfg"]
    log = _table(tiny_sweep, "training_log")
    expected = {(arm, seed, step) for arm in arm_keys(cfg) for seed in cfg.training.seeds for step in (1, 2)}
    assert set(zip(log["arm"], log["seed"], log["step"], strict=True)) == expected and log.height == len(expected)
    for column in ("reward", "reward_std", "frac_reward_zero_std", "loss", "entropy", "mean_completion_length"):
        assert log[column].null_count() == 0, column
    assert (log["seconds"] > 0).all() and "kl" in log.columns
    assert log["zero_gradient"].to_list() == (log["frac_reward_zero_std"] == 1.0).to_list()
    ckpts = _table(tiny_sweep, "policy_checkpoint")
    per_arm = log.group_by("arm").agg(pl.col("zero_gradient").sum().alias("zero"))
    assert dict(per_arm.iter_rows()) == dict(ckpts.group_by("arm").agg(pl.col("zero_gradient_steps").sum()).iter_rows())
    instance: dg.DagsterInstance = tiny_sweep["instance"]
    for asset, key in (("policy_checkpoint", "reward_curve"), ("economics_report", "reward_curves")):
        event = instance.get_latest_materialization_event(dg.AssetKey(asset))
        assert "data:image/png;base64," in event.asset_materialization.metadata[key].value


def test_checkpoint_lineage_names_corpus_and_base_model(tiny_sweep) -> None:
    import json
    from pathlib import Path

    row = _table(tiny_sweep, "policy_checkpoint").row(0, named=True)
    lineage = json.loads((Path(row["path"]) / "rlvr_lineage.json").read_text())
    assert lineage["corpus_hash"] == row["corpus_hash"]
    assert lineage["base_model"] and lineage["task_ids"]


def test_new_cost_ratio_runs_no_training(tiny_sweep) -> None:
    """Add a cost ratio to the config: only its rho_cost partitions (and the report) materialize."""
    instance: dg.DagsterInstance = tiny_sweep["instance"]
    directory = tiny_sweep["dir"]
    before = {
        k: instance.get_latest_materialization_event(dg.AssetKey(k)).run_id
        for k in ("policy_checkpoint", "benchmark_scores", "gate_results")
    }
    cfg = load_config(write_config(directory, {"economics": {"cost_ratios": [5, 40, 12.5]}}))
    timings = run_sweep(build_definitions(cfg), cfg, instance, missing_only=True, echo=lambda _m: None)
    ran = [(t.stage, t.partition) for t in timings if not t.skipped]
    assert ("rho_cost_job", "aug-0.50|12.5") in ran
    assert not [s for s, _ in ran if s in ("train_arm_job", "prepare_tasks_job")]
    after = {k: instance.get_latest_materialization_event(dg.AssetKey(k)).run_id for k in before}
    assert after == before
    cost = read_frame(cfg.paths.duckdb_path, "rho_cost")
    assert 12.5 in cost["cost_ratio"].to_list()


def test_rerun_trains_only_arms_whose_inputs_changed(tiny_sweep) -> None:
    """A plain rerun retrains nothing; a changed training setting retrains the arms it touches."""
    instance: dg.DagsterInstance = tiny_sweep["instance"]
    directory = tiny_sweep["dir"]
    cfg = load_config(write_config(directory))
    timings = run_sweep(build_definitions(cfg), cfg, instance, echo=lambda _m: None)
    arms = {t.partition: t.skipped for t in timings if t.stage == "train_arm_job"}
    assert arms and all(arms.values()), arms
    changed = load_config(write_config(directory, {"training": {**TINY["training"], "learning_rate": 1e-5}}, base=TINY))
    timings = run_sweep(build_definitions(changed), changed, instance, arms=["human-4"], echo=lambda _m: None)
    ran = [(t.stage, t.partition) for t in timings if not t.skipped]
    assert ("train_arm_job", "human-4") in ran
    forced = run_sweep(
        build_definitions(changed), changed, instance, arms=["human-4"], force=True, echo=lambda _m: None
    )
    assert ("train_arm_job", "human-4") in [(t.stage, t.partition) for t in forced if not t.skipped]
    write_config(directory)  # leave the shared sweep's config as it was


def test_malformed_seed_fails_seed_tasks_naming_file_task_and_field(tmp_path) -> None:
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    (seeds / "bad.jsonl").write_text(
        '{"name": "oops", "domain": "reasoning", "split": "base", "template": "What is {a}?", '
        '"params": {"a": 1}, "solution": "def solve(a):\\n    return a", "answer": "1", "known_bad": 3}\n'
    )
    cfg = load_config(write_config(tmp_path, {"paths": {"seeds_dir": str(seeds)}}, base=TINY))
    result = dg.materialize(
        [build_definitions(cfg).get_assets_def("seed_tasks")],
        resources={
            "cfg": build_definitions(cfg).resources["cfg"],
            "io_manager": build_definitions(cfg).resources["io_manager"],
        },
        raise_on_error=False,
    )
    assert not result.success
    failure = next(e for e in result.all_events if e.is_step_failure)
    message = failure.step_failure_data.error.cause.message if failure.step_failure_data.error.cause else ""
    message += failure.step_failure_data.error.message
    assert "bad.jsonl:1" in message and "oops" in message and "'known_bad'" in message


def test_task_side_handles_all_four_domains(tmp_path) -> None:
    """Seeds of every domain load, are augmented and gated; each rejection keeps its reason."""
    cfg = load_config(
        write_config(
            tmp_path,
            {
                "domains": ["reasoning", "code", "instruction_following", "function_calling"],
                "arms": {"human_sizes": [16, 24], "aug_fractions": [0.5]},
                "gate": {"samples": 4, "pass_at": 2, "solve_band": [0.0, 0.95], "min_informative_fraction": 0.0},
                "operators": {
                    "enabled": ["remove_hint", "densify_formatting", "genericize_names"],
                    "resample_draws": 1,
                },
            },
        )
    )
    (tmp_path / "dagster_home").mkdir()
    instance = dg.DagsterInstance.local_temp(str(tmp_path / "dagster_home"))
    try:
        result = build_definitions(cfg).resolve_job_def("prepare_tasks_job").execute_in_process(instance=instance)
    finally:
        instance.dispose()
    assert result.success
    seeds = read_frame(cfg.paths.duckdb_path, "seed_tasks")
    gate = read_frame(cfg.paths.duckdb_path, "gate_results")
    domains = {"reas": "reasoning", "code": "code", "inst": "instruction_following", "func": "function_calling"}
    assert set(seeds["domain"].unique()) == set(domains.values())
    gated_domains = {domains[v[:4]] for v in gate["variant_id"].unique()}
    assert gated_domains == set(domains.values())
    assert gate.filter(pl.col("factor") == "verify")["passed"].all(), "rephrased variants keep verifiable truth"
    assert gate.filter(~pl.col("passed"))["reason"].str.len_chars().min() > 0


def test_rerunning_the_gate_reuses_rollouts_of_unchanged_variants(tiny_sweep) -> None:
    """A second task preparation with the same policy rolls out nothing again and decides the same."""
    instance: dg.DagsterInstance = tiny_sweep["instance"]
    cfg = tiny_sweep["cfg"]
    before = _table(tiny_sweep, "gate_results").sort(["variant_id", "factor"])
    result = build_definitions(cfg).resolve_job_def("prepare_tasks_job").execute_in_process(instance=instance)
    assert result.success
    event = instance.get_latest_materialization_event(dg.AssetKey("gate_results"))
    metadata = event.asset_materialization.metadata
    assert metadata["variants_rolled_out"].value == 0
    assert metadata["variants_reusing_rollouts"].value == metadata["variants"].value > 0
    assert "rollout_tokens_per_second" not in metadata, "no throughput figure when nothing was rolled out"
    after = _table(tiny_sweep, "gate_results").sort(["variant_id", "factor"])
    assert after.select("variant_id", "factor", "passed", "accepted").equals(
        before.select("variant_id", "factor", "passed", "accepted")
    )

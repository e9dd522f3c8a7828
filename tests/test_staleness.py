"""Staleness Dagster understands: editing one seed makes exactly the arms whose corpus changed stale, as
Dagster's own stale-status resolver (the one behind the UI's "Materialize unsynced") reports it, and
`rlvr-assets run` retrains exactly those arms."""

import json
import shutil
import uuid
from pathlib import Path

import dagster as dg

from rlvr_assets.core.config import load_config
from rlvr_assets.core.tasks.seeds import load_seed_dir
from rlvr_assets.core.training.arms import ordered_human_seeds
from rlvr_assets.definitions import build_definitions
from rlvr_assets.defs.partitions import arm_keys
from rlvr_assets.defs.staleness import CORPUS, arm_states, stale_status_resolver
from rlvr_assets.sweep import run_sweep
from tests.conftest import ROOT, write_config

QUIET = {"loggers": {"console": {"config": {"log_level": "WARNING"}}}}


def _edit_seed(seeds: Path, name: str) -> None:
    """Reword one seed's problem statement (a new content id; still a valid seed)."""
    path = seeds / "reasoning.jsonl"
    lines = path.read_text().splitlines()
    for i, line in enumerate(lines):
        if line.startswith("{") and json.loads(line)["name"] == name:
            record = json.loads(line)
            # a fresh wording each time, so the edit is new even to an instance that saw an earlier one
            record["template"] += f" Think it through before you answer ({uuid.uuid4().hex[:6]})."
            lines[i] = json.dumps(record)
            break
    else:
        raise AssertionError(f"seed {name} not found")
    path.write_text("\n".join(lines) + "\n")


def test_editing_one_seed_makes_only_the_arms_whose_corpus_changed_stale(tiny_sweep, tmp_path: Path) -> None:
    instance: dg.DagsterInstance = tiny_sweep["instance"]
    directory = tiny_sweep["dir"]
    seeds = tmp_path / "seeds"
    shutil.copytree(ROOT / "seeds", seeds)
    cfg = load_config(write_config(directory, {"paths": {"seeds_dir": str(seeds)}}))
    try:
        defs = build_definitions(cfg)
        graph = defs.resolve_asset_graph()
        arms = arm_keys(cfg)
        before = arm_states(instance, graph, arms)
        # a pool seed that human-8 trains on and human-4 (the base) and the augmented arm do not
        reasoning = [t for t in load_seed_dir(seeds) if t.domain == "reasoning"]
        pool_seed = ordered_human_seeds(reasoning)[4]
        assert pool_seed.provenance.split == "pool"
        _edit_seed(seeds, pool_seed.name)

        assert defs.resolve_job_def("prepare_tasks_job").execute_in_process(instance=instance, run_config=QUIET).success
        for arm in arms:  # what the eager corpora do in `dagster dev` once the tasks are re-prepared
            result = defs.resolve_job_def("train_arm_job").execute_in_process(
                instance=instance, partition_key=arm, asset_selection=[CORPUS], run_config=QUIET
            )
            assert result.success

        resolver = stale_status_resolver(instance, graph)
        checkpoint = dg.AssetKey("policy_checkpoint")
        corpus_changed = {
            arm
            for arm in arms
            if any(
                c.dependency is not None and c.dependency.asset_key == CORPUS and "data version" in c.reason
                for c in resolver.get_stale_causes(checkpoint, arm)
            )
        }
        assert corpus_changed == {"human-8"}
        after = arm_states(instance, graph, arms)
        newly_stale = {a for a in arms if after[a].status == "stale" and before[a].status == "fresh"}
        assert newly_stale <= {"human-8"} and after["human-8"].status == "stale"
        assert any("training_corpus[human-8]" in c for c in after["human-8"].causes)
        for arm in ("human-4", "aug-0.50"):
            assert not any("training_corpus" in c for c in after[arm].causes), after[arm]

        # the CLI asks the same question: it retrains human-8 (and whatever was already stale), nothing else
        timings = run_sweep(defs, cfg, instance, echo=lambda _m: None)
        trained = {t.partition for t in timings if t.stage == "train_arm_job" and not t.skipped}
        assert trained == {a for a in arms if after[a].status != "fresh"}
        assert "human-8" in trained
        assert all(s.status == "fresh" for s in arm_states(instance, graph, arms).values())
    finally:
        write_config(directory)  # the shared sweep's config points at the repository's seeds again


def test_seed_sensor_fires_only_when_the_files_differ_from_what_seed_tasks_read(tmp_path: Path) -> None:
    seeds = tmp_path / "seeds"
    shutil.copytree(ROOT / "seeds", seeds)
    cfg = load_config(write_config(tmp_path, {"paths": {"seeds_dir": str(seeds)}}))
    defs = build_definitions(cfg)
    sensor = defs.resolve_sensor_def("seed_files_sensor")
    (tmp_path / "home").mkdir()
    with dg.DagsterInstance.local_temp(str(tmp_path / "home")) as instance:
        fresh = sensor(dg.build_sensor_context(instance=instance, definitions=defs))
        assert fresh.run_requests, "nothing read the seeds yet: prepare them"
        assets = [defs.get_assets_def(name) for name in ("seed_tasks", "smoke_suite")]
        assert dg.materialize(assets, resources=defs.resources, instance=instance).success
        after_run = sensor(dg.build_sensor_context(instance=instance, definitions=defs))
        assert not after_run.run_requests, "seed_tasks already read these files (e.g. `make ui` after `make run`)"
        _edit_seed(seeds, "apples-buy")
        edited = sensor(dg.build_sensor_context(instance=instance, definitions=defs, cursor=after_run.cursor))
        assert len(edited.run_requests) == 1

"""The Dagster layer wires one config, selects jobs by group and takes code versions from one place."""

from __future__ import annotations

from pathlib import Path

import dagster as dg
import pytest

from rlvr_assets.core.arms import arm_fingerprints
from rlvr_assets.core.code_versions import SourceIndex
from rlvr_assets.core.config import load_config
from rlvr_assets.core.seeds import load_seed_dir
from rlvr_assets.definitions import build_definitions
from rlvr_assets.defs.code_versions import with_code_versions
from rlvr_assets.defs.partitions import arm_keys
from tests.conftest import ROOT, write_config


@pytest.fixture(scope="module")
def loaded(tmp_path_factory: pytest.TempPathFactory):
    cfg = load_config(write_config(tmp_path_factory.mktemp("defs")))
    return cfg, build_definitions(cfg)


def test_runs_get_the_config_object_that_shaped_the_partitions(loaded) -> None:
    cfg, defs = loaded
    assert defs.resources["cfg"] is cfg
    job = defs.resolve_job_def("train_arm_job")
    assert job.partitions_def is not None
    assert job.partitions_def.get_partition_keys() == arm_keys(cfg)


def test_every_asset_is_materialized_by_exactly_one_job(loaded) -> None:
    """Jobs select by group, so an asset added to a group is swept without editing a list."""
    _, defs = loaded
    graph = defs.resolve_asset_graph()
    owners: dict[dg.AssetKey, list[str]] = {}
    for name in ("prepare_tasks_job", "train_arm_job", "trade_rate_job", "rho_cost_job", "report_job"):
        for key in defs.resolve_job_def(name).asset_layer.selected_asset_keys:
            owners.setdefault(key, []).append(name)
    assert set(owners) == set(graph.get_all_asset_keys())
    assert all(len(jobs) == 1 for jobs in owners.values()), owners


def test_code_versions_are_derived_and_a_declared_one_is_refused(loaded) -> None:
    _, defs = loaded
    index = SourceIndex()
    for key in defs.resolve_asset_graph().get_all_asset_keys():
        assets_def = defs.resolve_assets_def(key)
        assert assets_def.code_versions_by_key[key] == index.version(assets_def.op.compute_fn.decorated_fn)

    @dg.asset(code_version="7")
    def hand_versioned() -> int:
        return 1

    with pytest.raises(ValueError, match=r"hand_versioned.*declare a code_version"):
        with_code_versions([hand_versioned], index)


def test_an_arm_is_stale_for_the_sweep_when_its_assets_code_changes(tmp_path: Path) -> None:
    cfg = load_config(write_config(tmp_path))
    seeds = load_seed_dir(ROOT / "seeds")
    args = (cfg, seeds, [], "base-fp", ["h1", "h2"])
    before = arm_fingerprints(*args, {"policy_checkpoint": "aaa", "benchmark_scores": "bbb"})
    assert before == arm_fingerprints(*args, {"benchmark_scores": "bbb", "policy_checkpoint": "aaa"})
    after = arm_fingerprints(*args, {"policy_checkpoint": "aab", "benchmark_scores": "bbb"})
    assert set(before) == set(after) == set(arm_keys(cfg))
    assert all(before[k] != after[k] for k in before)

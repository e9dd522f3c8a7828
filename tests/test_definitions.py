"""The Dagster layer wires one config, selects jobs by group and takes code versions from one place."""

from __future__ import annotations

from pathlib import Path

import dagster as dg
import pytest

from rlvr_assets.core.config import load_config
from rlvr_assets.core.store.code_versions import SourceIndex
from rlvr_assets.definitions import build_definitions
from rlvr_assets.defs.code_versions import with_code_versions
from rlvr_assets.defs.partitions import arm_keys
from tests.conftest import TINY, write_config


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
        assert assets_def.code_versions_by_key[key].startswith(index.version(assets_def.op.compute_fn.decorated_fn))

    @dg.asset(code_version="7")
    def hand_versioned() -> int:
        return 1

    with pytest.raises(ValueError, match=r"hand_versioned.*declare a code_version"):
        with_code_versions([hand_versioned], index)


def test_settings_an_asset_reads_are_part_of_its_code_version(tmp_path: Path) -> None:
    """A changed learning rate gives the checkpoint a new code version (Dagster then marks every arm stale);
    a new cost ratio changes no arm asset's version, so it retrains nothing."""

    def versions(cfg) -> dict[str, str]:
        graph = build_definitions(cfg).resolve_asset_graph()
        return {k.to_user_string(): graph.get(k).code_version for k in graph.get_all_asset_keys()}

    base = versions(load_config(write_config(tmp_path)))
    lr = versions(load_config(write_config(tmp_path, {"training": {**TINY["training"], "learning_rate": 1e-5}})))
    ratio = versions(load_config(write_config(tmp_path, {"economics": {"cost_ratios": [5, 40, 12.5]}})))
    other_threads = TINY["model"]["torch_threads"] + 1
    threads = versions(
        load_config(write_config(tmp_path, {"model": {**TINY["model"], "torch_threads": other_threads}}))
    )
    assert "policy_checkpoint" in {k for k in base if base[k] != lr[k]} <= {"policy_checkpoint", "training_log"}
    assert {k for k in base if base[k] != ratio[k]} == {"economics_report"}
    assert threads == base, "thread counts change no result"

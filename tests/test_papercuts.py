"""What a new user trips over first: a copied config, a noisy terminal, unreadable checkpoints, a metadata
panel without Dagster's standard table keys or owners."""

from __future__ import annotations

import stat
from pathlib import Path

import dagster as dg
import yaml

from rlvr_assets.cli import main
from rlvr_assets.core.store.storage import read_frame
from rlvr_assets.definitions import build_definitions
from rlvr_assets.sweep import console_log_level
from tests.conftest import TINY


def test_a_copied_config_with_a_missing_seeds_folder_fails_in_one_line_before_any_model_work(
    tmp_path: Path, capsys
) -> None:
    config = tmp_path / "copied.yaml"
    config.write_text(yaml.safe_dump({**TINY, "paths": {"seeds_dir": "seeds", "var_dir": "var"}}))
    assert main(["run", "--config", str(config)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1
    assert "paths.seeds_dir" in err and str(tmp_path / "seeds") in err and "resolve against" in err
    assert not (tmp_path / "var").exists(), "nothing converted, locked or written before the check"


def test_console_log_level_keeps_debug_events_out_of_the_terminal(tiny_sweep, capfd) -> None:
    defs = build_definitions(tiny_sweep["cfg"])
    job = defs.resolve_job_def("trade_rate_job")
    assert job.execute_in_process(instance=tiny_sweep["instance"], run_config=console_log_level("WARNING")).success
    quiet = capfd.readouterr()
    assert " - DEBUG - " not in quiet.err + quiet.out
    assert job.execute_in_process(instance=tiny_sweep["instance"], run_config=console_log_level("DEBUG")).success
    verbose = capfd.readouterr()
    assert " - DEBUG - " in verbose.err + verbose.out, "--verbose still shows Dagster's event log"


def test_checkpoints_are_fp32_safetensors_readable_by_group_and_others(tiny_sweep) -> None:
    """fp32 on purpose: bf16 would round away updates smaller than its resolution (core/training/checkpoint_files.py)."""
    from safetensors import safe_open

    for row in read_frame(tiny_sweep["cfg"].paths.duckdb_path, "policy_checkpoint").iter_rows(named=True):
        checkpoint = Path(row["path"])
        with safe_open(str(checkpoint / "model.safetensors"), framework="pt") as f:
            dtypes = {f.get_slice(name).get_dtype() for name in f.keys()}  # noqa: SIM118 (not a dict)
        assert dtypes == {"F32"}, dtypes
        for path in [checkpoint, *checkpoint.iterdir()]:
            mode = path.stat().st_mode
            assert mode & stat.S_IRGRP and mode & stat.S_IROTH, f"{path} is {oct(mode)}"


def test_every_table_asset_carries_dagsters_table_keys_and_every_asset_has_owners(tiny_sweep) -> None:
    instance: dg.DagsterInstance = tiny_sweep["instance"]
    graph = build_definitions(tiny_sweep["cfg"]).resolve_asset_graph()
    for key in graph.get_all_asset_keys():
        assert graph.get(key).owners, f"{key.to_user_string()} has no owner"
        if key.to_user_string() == "economics_report":  # files and figures, not a table
            continue
        event = instance.get_latest_materialization_event(key)
        assert event is not None and event.asset_materialization is not None
        metadata = event.asset_materialization.metadata
        assert isinstance(metadata["dagster/row_count"].value, int), key
        columns = metadata["dagster/column_schema"].value.columns
        assert columns and all(c.type for c in columns), key
        assert "rows" not in metadata and "table" not in metadata, "custom keys replaced by Dagster's"
        if graph.get(key).is_partitioned:
            assert metadata["dagster/partition_row_count"].value <= metadata["dagster/row_count"].value


def test_the_partition_key_format_the_docs_give_is_the_one_dagster_accepts(tmp_path: Path) -> None:
    """`dagster asset materialize --partition` takes `arm|cost_ratio` (dimensions in name order)."""
    from rlvr_assets.core.config import load_config
    from rlvr_assets.defs.partitions import economics_partitions
    from tests.conftest import ROOT, write_config

    keys = economics_partitions(load_config(write_config(tmp_path))).get_partition_keys()
    assert "aug-0.50|5" in keys and "5|aug-0.50" not in keys
    docs = (ROOT / "docs" / "design-and-formulas.md").read_text()  # moved there from the README
    assert "`arm|cost_ratio`" in docs and '"aug-0.50|5"' in docs

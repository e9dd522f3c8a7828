"""Class 8 of issue 20: readers change no state and fail in one line; `eval` never loses a finished result."""

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import yaml

from rlvr_assets.cli import main
from tests.test_benchmarks import SMOKE

ROOT = Path(__file__).resolve().parents[1]
ENV = {**os.environ, "PYTHONPATH": str(ROOT)}


def _config(tmp_path: Path, var: Path) -> Path:
    config = tmp_path / "c.yaml"
    paths = {"seeds_dir": str(ROOT / "seeds"), "smoke_suite": str(SMOKE), "var_dir": str(var)}
    config.write_text(yaml.safe_dump({"model": {"source": "tiny"}, "eval": {"max_new_tokens": 4}, "paths": paths}))
    return config


def _hold_write_lock(database: Path) -> subprocess.Popen[str]:
    code = (
        "import duckdb, sys, time\n"
        f"con = duckdb.connect({str(database)!r})\n"
        "con.execute('CREATE TABLE IF NOT EXISTS held (a INT)')\n"
        "print('held', flush=True)\n"
        "time.sleep(120)\n"
    )
    holder = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True, env=ENV)
    assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
    return holder


def test_lineage_with_no_var_directory_is_one_line_and_creates_nothing(tmp_path: Path, capsys) -> None:
    var = tmp_path / "var"
    assert main(["lineage", "aug-0.50", "--config", str(_config(tmp_path, var))]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error:") and "\n" not in err
    assert not var.exists()


def test_lineage_on_a_corrupt_database_is_one_line_at_once(tmp_path: Path, capsys) -> None:
    var = tmp_path / "var"
    var.mkdir()
    (var / "rlvr.duckdb").write_bytes(b"this is not a database" * 1000)
    start = time.monotonic()
    assert main(["lineage", "aug-0.50", "--config", str(_config(tmp_path, var))]) == 2
    assert time.monotonic() - start < 5
    err = capsys.readouterr().err.strip()
    assert err.startswith("error:") and "\n" not in err and "rlvr.duckdb" in err


def test_lineage_on_a_locked_database_is_one_line(tmp_path: Path, capsys) -> None:
    var = tmp_path / "var"
    var.mkdir()
    holder = _hold_write_lock(var / "rlvr.duckdb")
    try:
        start = time.monotonic()
        assert main(["lineage", "aug-0.50", "--config", str(_config(tmp_path, var))]) == 2
        assert time.monotonic() - start < 8
    finally:
        holder.kill()
        holder.wait()
    err = capsys.readouterr().err.strip()
    assert err.startswith("error:") and "\n" not in err and "locked" in err


def test_a_reader_that_closes_the_pipe_gets_no_traceback() -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "rlvr_assets.cli", "schema"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=ENV,
    )
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.close()  # `| head -0`: the reader is gone before the first line
    err = proc.stderr.read()
    proc.wait(timeout=60)
    assert "BrokenPipeError" not in err and "Traceback" not in err


def test_eval_prints_its_result_and_keeps_it_when_the_database_is_locked(tmp_path: Path, capsys) -> None:
    var = tmp_path / "var"
    var.mkdir()
    config = _config(tmp_path, var)
    holder = _hold_write_lock(var / "rlvr.duckdb")
    try:
        args = ["eval", "--model", "tiny", "--suite", "paper10", "--benchmarks", "rg_chain_sum", "--limit", "1"]
        assert main([*args, "--config", str(config), "--json"]) == 0
    finally:
        holder.kill()
        holder.wait()
    captured = capsys.readouterr()
    summary = json.loads(captured.out)
    assert summary["benchmarks"][0]["benchmark"] == "rg_chain_sum"
    warning = [line for line in captured.err.splitlines() if line.startswith("warning:")]
    assert len(warning) == 1 and "locked" in warning[0]
    kept = Path(warning[0].rsplit("kept in ", 1)[1])
    assert kept.is_file() and kept.parent == var
    import polars as pl

    assert pl.read_parquet(kept).height == 1

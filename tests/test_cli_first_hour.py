"""What a new user meets first on the command line: a typo fails at once in one line that says what is valid,
`--version` answers, and `eval` says where it writes (and writes elsewhere when asked)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

from tests.conftest import ROOT, write_config


def _cli(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
    env.pop("RLVR_ASSETS_CONFIG", None)
    return subprocess.run(
        [sys.executable, "-m", "rlvr_assets.cli", *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=60
    )


def test_run_with_an_unknown_arm_fails_in_one_line_naming_the_valid_arms(tmp_path: Path) -> None:
    config = write_config(tmp_path)
    start = time.monotonic()
    done = _cli("run", "--config", str(config), "--arms", "aug-0.5")
    seconds = time.monotonic() - start
    assert done.returncode == 2, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert "'aug-0.5'" in lines[0] and "human-4, human-8, aug-0.50" in lines[0]
    assert seconds < 5, f"took {seconds:.1f}s"
    assert not (tmp_path / "var").exists(), "nothing may be prepared before the arguments are checked"


def test_bad_arguments_are_one_line_and_exit_2() -> None:
    for args, needle in [
        (["run", "--seeds", "0,x"], "--seeds"),
        (["run", "--seeds", "0,0"], "distinct"),
        (["run", "--force", "--missing-only"], "not allowed with"),
        (["eval", "--limit", "0"], "--limit"),
        (["eval", "-k", "two"], "-k"),
        (["eval", "--suite", "nope"], "invalid choice"),
        (["nope"], "invalid choice"),
    ]:
        done = _cli(*args)
        assert done.returncode == 2, (args, done.stderr)
        assert len(done.stderr.strip().splitlines()) == 1 and needle in done.stderr, (args, done.stderr)


def test_version_prints_the_package_version() -> None:
    from importlib.metadata import version

    done = _cli("--version")
    assert done.returncode == 0 and done.stdout.strip() == f"rlvr-assets {version('rlvr_assets')}"


def test_eval_says_where_it_writes_and_writes_where_told(tmp_path: Path) -> None:
    import polars as pl

    from rlvr_assets.core.store.storage import read_frame

    config = write_config(tmp_path)
    target = tmp_path / "elsewhere" / "scores.duckdb"
    done = _cli(
        "eval", "--config", str(config), "--model", "tiny", "--limit", "1", "--benchmarks", "smoke_reasoning",
        "--max-new-tokens", "4", "--bootstrap-samples", "10", "--duckdb", str(target),
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert f"per-item results go to {target}" in done.stdout.splitlines()[0]
    rows = read_frame(target, "eval_results")
    assert isinstance(rows, pl.DataFrame) and rows.height >= 1 and set(rows["model"]) == {"tiny"}
    assert not (tmp_path / "var" / "rlvr.duckdb").exists(), "the pipeline's DuckDB must stay untouched"

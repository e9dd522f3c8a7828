"""Class 7 of issue 20: every file a user names is read as a bounded regular UTF-8 file (core/kernel/files.py); any
other file is one line naming it and exit code 2, never a traceback, a hang or MemoryError."""

import contextlib
import io
import json
import os
import subprocess
import sys
import traceback
from pathlib import Path

import pytest

from rlvr_assets.cli import main
from rlvr_assets.core.tasks.candidates import load_candidates
from rlvr_assets.core.tasks.seeds import SeedFileError, load_seed_dir
from tests.test_cli_gate import CANDIDATES

ROOT = Path(__file__).resolve().parents[1]
SEED = (ROOT / "seeds" / "reasoning.jsonl").read_text()


def _cli(*args: str, hang_risk: bool = False) -> subprocess.CompletedProcess[str]:
    """The command in this process; in a child with a timeout where the old code hung (a FIFO)."""
    if hang_risk:
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        command = [sys.executable, "-m", "rlvr_assets.cli", *args]
        return subprocess.run(command, capture_output=True, text=True, timeout=60, env=env)
    err, out = io.StringIO(), io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(out):
        try:
            code = main(list(args))
        except Exception:
            code, _ = -1, err.write("Traceback (in process)\n" + traceback.format_exc())
    return subprocess.CompletedProcess(list(args), code, out.getvalue(), err.getvalue())


def _one_line_error(run: subprocess.CompletedProcess[str], name: str) -> None:
    assert run.returncode == 2, run.stderr[-500:]
    lines = [line for line in run.stderr.splitlines() if line.strip()]
    assert "Traceback" not in run.stderr
    assert any(line.startswith("error:") and name in line for line in lines), run.stderr[-500:]


def _seeds_with(tmp_path: Path, make) -> Path:
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    (seeds / "reasoning.jsonl").write_text(SEED)
    make(seeds / "bad.jsonl")
    return seeds


SEED_FILE_PROBLEMS = {
    "directory named .jsonl": lambda p: p.mkdir(),
    "not UTF-8": lambda p: p.write_bytes(b'{"name": "caf\xe9"}\n'),
    "FIFO": lambda p: os.mkfifo(p),
    "symlink to an endless device": lambda p: p.symlink_to("/dev/zero"),
}


@pytest.mark.parametrize("problem", SEED_FILE_PROBLEMS)
def test_seeds_validate_names_a_file_it_cannot_read(tmp_path: Path, problem: str) -> None:
    seeds = _seeds_with(tmp_path, SEED_FILE_PROBLEMS[problem])
    _one_line_error(_cli("seeds", "validate", "--seeds-dir", str(seeds), hang_risk=problem == "FIFO"), "bad.jsonl")


@pytest.mark.parametrize("problem", SEED_FILE_PROBLEMS)
def test_loading_the_seed_library_names_the_file(tmp_path: Path, problem: str) -> None:
    seeds = _seeds_with(tmp_path, SEED_FILE_PROBLEMS[problem])
    with pytest.raises(SeedFileError, match=r"bad\.jsonl") as info:
        load_seed_dir(seeds)
    assert "\n" not in str(info.value)


@pytest.mark.parametrize("problem", ["FIFO", "symlink to an endless device", "directory named .jsonl"])
def test_verify_names_a_task_or_completion_it_cannot_read(tmp_path: Path, problem: str) -> None:
    task = tmp_path / "task.json"
    task.write_text(SEED.splitlines()[1] if SEED.startswith("//") else SEED.splitlines()[0])
    (tmp_path / "ok.txt").write_text("Answer: 3")
    bad = tmp_path / "bad.jsonl"
    SEED_FILE_PROBLEMS[problem](bad)
    fifo = problem == "FIFO"
    _one_line_error(_cli("verify", str(bad), str(tmp_path / "ok.txt"), hang_risk=fifo), "bad.jsonl")
    _one_line_error(_cli("verify", str(task), str(bad), hang_risk=fifo), "bad.jsonl")


def test_a_candidate_whose_parent_is_a_list_is_one_line(tmp_path: Path) -> None:
    path = tmp_path / "candidates.jsonl"
    path.write_text(json.dumps({**CANDIDATES[0], "parent": ["apples-buy"]}) + "\n")
    with pytest.raises(SeedFileError, match="field 'parent': must be a task name or id") as info:
        load_candidates(path, load_seed_dir(ROOT / "seeds"))
    assert "\n" not in str(info.value)


def test_a_candidates_fifo_is_one_line_not_a_hang(tmp_path: Path) -> None:
    path = tmp_path / "candidates.jsonl"
    os.mkfifo(path)
    with pytest.raises(SeedFileError, match="FIFO"):
        load_candidates(path, [])


def test_schema_output_to_a_directory_is_one_line(tmp_path: Path) -> None:
    _one_line_error(_cli("schema", "--output", str(tmp_path)), str(tmp_path))
    _one_line_error(_cli("schema", "--output", str(tmp_path / "missing" / "schema.json")), "missing")

"""Bad files and configs are one-line errors with exit code 2; one run per var directory; empty inputs fail."""

import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import yaml

from rlvr_assets.cli import main
from rlvr_assets.core.store.runlock import LockHolder, VarDirBusy, var_dir_lock
from tests.conftest import write_config
from tests.test_cli_gate import CANDIDATES

ROOT = Path(__file__).resolve().parents[1]


def _one_line_error(capsys, *needles: str) -> str:
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: ") and "\n" not in err and "Traceback" not in err, err
    for needle in needles:
        assert needle in err, (needle, err)
    return err


BAD_CONFIGS = {
    "unknown key": ("gate:\n  samplez: 3\n", "'gate.samplez'"),
    "wrong type": ("training:\n  max_steps: many\n", "'training.max_steps'"),
    "not a mapping": ("- model\n- gate\n", "expected a mapping"),
    "bad section type": ("paths: [a, b]\n", "'paths'"),
    "not YAML": ("gate: [\n", "not valid YAML"),
}


@pytest.mark.parametrize("case", sorted(BAD_CONFIGS))
@pytest.mark.parametrize("command", ["run", "gate", "seeds validate"])
def test_a_bad_config_is_one_line_naming_file_and_field(tmp_path: Path, capsys, case: str, command: str) -> None:
    text, field = BAD_CONFIGS[case]
    config = tmp_path / "bad.yaml"
    config.write_text(text)
    candidates = tmp_path / "c.jsonl"
    candidates.write_text(json.dumps(CANDIDATES[0]) + "\n")
    argv = {
        "run": ["run", "--config", str(config)],
        "gate": ["gate", str(candidates), "--config", str(config)],
        "seeds validate": ["seeds", "validate", "--config", str(config)],
    }[command]
    assert main(argv) == 2
    _one_line_error(capsys, str(config), field)


@pytest.mark.parametrize("source", ["/no/such/model", "./missing-model", "missing.gguf", "a/b/c"])
def test_a_missing_model_source_fails_before_any_work(tmp_path: Path, capsys, source: str) -> None:
    config = write_config(tmp_path, {"model": {"source": source}})
    assert main(["run", "--config", str(config)]) == 2
    _one_line_error(capsys, str(config), "'model.source'", source)
    assert not (tmp_path / "var").exists()  # nothing prepared, no Dagster home, no lock
    candidates = tmp_path / "c.jsonl"
    candidates.write_text(json.dumps(CANDIDATES[0]) + "\n")
    assert main(["gate", str(candidates), "--config", str(config)]) == 2
    _one_line_error(capsys, "'model.source'")
    assert main(["eval", "--model", source, "--config", str(config)]) == 2
    _one_line_error(capsys, "--model", source)


def test_a_second_run_on_the_same_var_directory_says_who_holds_it_and_exits(tmp_path: Path, capsys) -> None:
    config = write_config(tmp_path)
    var_dir = tmp_path / "var"
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time; from pathlib import Path; from rlvr_assets.core.store.runlock import var_dir_lock\n"
            "with var_dir_lock(Path(sys.argv[1])):\n    print('held', flush=True); time.sleep(60)",
            str(var_dir),
        ],
        stdout=subprocess.PIPE,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline() == b"held\n"
        assert main(["run", "--config", str(config)]) == 2
        _one_line_error(capsys, str(var_dir), f"pid {holder.pid}", "--wait")
        assert not (var_dir / "dagster_home").exists()  # it did not start
    finally:
        holder.kill()
        holder.wait()
    with var_dir_lock(var_dir):  # the holder's death released the lock: no stale lock
        pass


def test_with_wait_a_run_waits_for_the_lock_instead_of_exiting(tmp_path: Path) -> None:
    told: list[LockHolder] = []
    acquired = threading.Event()

    def second() -> None:
        with var_dir_lock(tmp_path, wait=True, on_wait=told.append):
            acquired.set()

    with var_dir_lock(tmp_path):
        with pytest.raises(VarDirBusy, match=f"pid {os.getpid()}"), var_dir_lock(tmp_path):
            pass
        thread = threading.Thread(target=second)
        thread.start()
        time.sleep(0.5)
        assert not acquired.is_set()  # still waiting while the first holds it
        assert told and told[0].pid == os.getpid()
    thread.join(timeout=10)
    assert acquired.is_set()
    assert (
        "--wait"
        in subprocess.run(
            [sys.executable, "-m", "rlvr_assets.cli", "run", "--help"],
            capture_output=True,
            text=True,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
        ).stdout
    )


def test_seeds_validate_on_an_empty_folder_is_an_error(tmp_path: Path, capsys) -> None:
    assert main(["seeds", "validate", "--seeds-dir", str(tmp_path)]) == 2
    _one_line_error(capsys, str(tmp_path))
    (tmp_path / "empty.jsonl").write_text("// nothing here\n\n")
    assert main(["seeds", "validate", "--seeds-dir", str(tmp_path)]) == 2
    _one_line_error(capsys, "no seed tasks")
    assert main(["seeds", "validate", "--seeds-dir", str(tmp_path / "missing")]) == 2
    _one_line_error(capsys, "does not exist")


def test_gate_on_an_empty_file_is_an_error_before_any_model_loads(tmp_path: Path, capsys) -> None:
    config = write_config(tmp_path)
    empty = tmp_path / "empty.jsonl"
    empty.write_text("")
    assert main(["gate", str(empty), "--config", str(config)]) == 2
    _one_line_error(capsys, str(empty), "no candidate")
    assert not (tmp_path / "var" / "artifacts" / "base_model").exists()
    binary = tmp_path / "binary.jsonl"
    binary.write_bytes(b"\xff\xfe\x00garbage")
    assert main(["gate", str(binary), "--config", str(config)]) == 2
    _one_line_error(capsys, str(binary))


def test_a_100kb_answer_gives_a_bounded_reason(tmp_path: Path, capsys) -> None:
    task = tmp_path / "task.json"
    seed = next(json.loads(line) for line in (ROOT / "seeds" / "reasoning.jsonl").read_text().splitlines()[1:2])
    task.write_text(json.dumps(seed))
    completion = tmp_path / "completion.txt"
    completion.write_text("Answer: " + "7" * 100_000)
    assert main(["verify", str(task), str(completion), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["reward"] == 0.0 and len(out["reason"]) <= 300


def test_the_config_error_is_one_line_for_the_library_too(tmp_path: Path) -> None:
    from rlvr_assets.core.config import ConfigError, load_config

    config = tmp_path / "c.yaml"
    config.write_text(yaml.safe_dump({"gate": {"samples": "sixteen"}}))
    with pytest.raises(ConfigError) as info:
        load_config(config)
    assert "\n" not in str(info.value) and "'gate.samples'" in str(info.value)
    assert info.value.__cause__ is None and info.value.__suppress_context__

"""Scale-out: arm training through Dagster Pipes in its own process, resume after SIGKILL, parallel arms in the
`rlvr_training` pool, and a killed sweep that the next `rlvr-assets run` finishes."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import dagster as dg
import polars as pl
import psutil
import pytest

from rlvr_assets.core.config import PipelineConfig, ScaleConfig
from rlvr_assets.core.store.storage import read_frame
from rlvr_assets.core.training.launch import (
    HISTORY_FILE,
    TrainingJob,
    accelerate_command,
    child_env,
    from_plain,
    k8s_pod_spec,
    lease_devices,
    prepare_resume,
    resume_point,
    train_command,
)
from tests.conftest import ROOT, TINY, write_config
from tests.scale_support import (
    ARM,
    arm_setup,
    materialize,
    materialize_command,
    parse_result,
    script_env,
    tiny_training,
)


def _job(out_dir: Path, seed: int = 0, lr: float = 5e-6) -> TrainingJob:
    cfg = PipelineConfig.model_validate({"training": {"learning_rate": lr}})
    return TrainingJob("human-4", seed, ["{}"], "/m", str(out_dir), cfg.model_dump(mode="json"), {})


def test_a_checkpoint_is_resumed_only_by_the_training_that_wrote_it(tmp_path: Path) -> None:
    job = _job(tmp_path)
    assert prepare_resume(tmp_path, job.resume_key) is None
    for step in (2, 4):
        ckpt = tmp_path / "trainer" / f"checkpoint-{step}"
        ckpt.mkdir(parents=True)
        (ckpt / "trainer_state.json").write_text("{}")
    (tmp_path / "trainer" / "checkpoint-6").mkdir()  # torn by a kill: no trainer_state.json
    (tmp_path / HISTORY_FILE).write_text("".join(json.dumps({"step": s}) + "\n" for s in range(1, 6)) + '{"st')
    point = prepare_resume(tmp_path, job.resume_key)
    assert point == (tmp_path / "trainer" / "checkpoint-4", 4)
    assert [json.loads(x)["step"] for x in (tmp_path / HISTORY_FILE).read_text().splitlines()] == [1, 2, 3, 4]
    # another seed or setting must not pick up these checkpoints
    assert prepare_resume(tmp_path, _job(tmp_path, lr=1e-5).resume_key) is None
    assert resume_point(tmp_path / "trainer") is None


def test_gpu_leases_are_exclusive_across_holders(tmp_path: Path) -> None:
    devices = ["0", "1", "2"]
    with lease_devices(tmp_path, devices, 2) as first:
        assert len(first) == 2
        got: list[list[str]] = []

        def take() -> None:
            with lease_devices(tmp_path, devices, 2, poll_seconds=0.05) as second:
                got.append(second)

        waiter = threading.Thread(target=take)
        waiter.start()
        time.sleep(0.4)
        assert not got, "a second pair was leased while only one device was free"
        with lease_devices(tmp_path, devices, 1) as third:
            assert set(third).isdisjoint(first)
    waiter.join(5)
    assert got and len(got[0]) == 2
    with lease_devices(tmp_path, [], 1) as none:
        assert none == []


def test_children_are_pinned_to_their_devices_or_kept_off_gpus() -> None:
    scale = ScaleConfig(gpus=["2", "3"])
    assert child_env(scale, "cuda", ["3"]) == {"CUDA_VISIBLE_DEVICES": "3"}
    assert child_env(ScaleConfig(), "cpu", []) == {"CUDA_VISIBLE_DEVICES": ""}
    assert child_env(ScaleConfig(), "auto", []) == {}
    assert ScaleConfig().training_slots == 1
    assert ScaleConfig(gpus=["0", "1", "2", "3"], processes_per_arm=2).training_slots == 2
    with pytest.raises(ValueError, match="processes_per_arm"):
        ScaleConfig(gpus=["0"], processes_per_arm=2)


def test_multi_gpu_arms_go_through_accelerate_launch() -> None:
    assert train_command("py", "/j.json", 1) == ["py", "-m", "rlvr_assets.train", "/j.json"]
    assert train_command("py", "/j.json", 4)[-2:] == ["--num-processes", "4"]
    cmd = accelerate_command("py", "/j.json", 4, cpu=False)
    assert cmd[:3] == ["py", "-m", "accelerate.commands.launch"] and "--multi_gpu" in cmd
    assert cmd[3:5] == ["--num_processes", "4"] and cmd[-3:] == ["-m", "rlvr_assets.train", "/j.json"]
    with pytest.raises(ValueError, match="processes_per_arm"):
        PipelineConfig.model_validate({"scale": {"processes_per_arm": 2}})  # the CPU default has no GPUs to span


def test_k8s_pod_spec_requests_gpus_and_mounts_the_checkpoint_volume() -> None:
    scale = ScaleConfig(launcher="k8s", k8s={"gpus_per_pod": 2, "checkpoint_claim": "rlvr-var"})
    spec = k8s_pod_spec(scale, Path("/data/var"))
    container = spec["containers"][0]
    assert container["resources"]["limits"]["nvidia.com/gpu"] == "2"
    assert container["volume_mounts"] == [{"name": "rlvr-var", "mount_path": "/data/var"}]
    assert spec["volumes"][0]["persistent_volume_claim"]["claim_name"] == "rlvr-var"


@dataclass(frozen=True)
class _Inner:
    step: int


@dataclass(frozen=True)
class _Outer:
    name: str
    log: tuple[_Inner, ...] = ()
    loss: float | None = None


def test_a_reported_result_round_trips_through_json() -> None:
    value = _Outer("a", (_Inner(1), _Inner(2)), None)
    assert from_plain(_Outer, json.loads(json.dumps(asdict(value)))) == value


def test_subprocess_training_in_the_sweep_ran_in_another_process(tiny_sweep) -> None:
    """The shared tiny sweep trained every arm through PipesSubprocessClient: not in the Dagster process, with
    per-step metrics streamed back onto the materialization."""
    ckpts = read_frame(tiny_sweep["cfg"].paths.duckdb_path, "policy_checkpoint")
    assert ckpts.height and os.getpid() not in ckpts["train_pid"].to_list()
    assert (ckpts["resumed_from_step"] == 0).all()
    event = tiny_sweep["instance"].get_latest_materialization_event(dg.AssetKey("policy_checkpoint"))
    metadata = event.asset_materialization.metadata
    assert metadata["launcher"].value == "subprocess"
    assert "| 0 | 1 |" in metadata["per_step"].value  # step 1 of seed 0
    logs = tiny_sweep["instance"].all_logs(event.run_id)
    assert any("step 2/2" in (e.user_message or "") for e in logs), "the trainer's step log did not stream back"


def _training_children(pid: int) -> list[psutil.Process]:
    try:
        procs = psutil.Process(pid).children(recursive=True)
    except psutil.NoSuchProcess:
        return []
    out = []
    for p in procs:
        try:
            if "rlvr_assets.train" in " ".join(p.cmdline()):
                out.append(p)
        except psutil.NoSuchProcess:
            continue
    return out


def test_sigkilled_training_resumes_from_its_last_checkpoint(tmp_path: Path) -> None:
    """Kill the training process (not Dagster) after its first checkpoint; the next materialization resumes
    there, ends at the configured step count, and says so in its metadata, table row, lineage and training_log.
    Neither Dagster step process imported TRL."""
    setup = arm_setup(tmp_path, tiny_training(steps=4, checkpoint_every=2))
    seed_dir = setup["checkpoints"] / ARM / "seed-0"
    run = subprocess.Popen(
        materialize_command(setup),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=script_env(),
        cwd=ROOT,
    )
    deadline = time.monotonic() + 240
    while not (seed_dir / "trainer" / "checkpoint-2" / "trainer_state.json").exists():
        assert run.poll() is None, run.communicate()[1][-3000:]
        assert time.monotonic() < deadline, "no checkpoint within 240 s"
        time.sleep(0.05)
    children = _training_children(run.pid)
    assert len(children) == 1
    killed = children[0].pid
    os.kill(killed, signal.SIGKILL)
    stdout, _stderr = run.communicate(timeout=120)
    first = parse_result(stdout)
    assert not first["success"]
    point = resume_point(seed_dir / "trainer")
    assert point is not None and 2 <= point[1] < 4
    resumed_from = point[1]

    second = materialize(setup)
    assert second["success"], second
    assert not first["trl_imported"] and not second["trl_imported"]  # TRL (the trainer) never loaded in Dagster
    assert second["metadata"]["resumed_from_step"] == {"0": resumed_from}
    row = read_frame(setup["cfg"].paths.duckdb_path, "policy_checkpoint").row(0, named=True)
    assert row["steps"] == 4 and row["resumed_from_step"] == resumed_from
    assert row["train_pid"] not in (killed, second["pid"])
    lineage = json.loads((Path(row["path"]) / "rlvr_lineage.json").read_text())
    assert lineage["steps"] == 4 and lineage["resumed_from_step"] == resumed_from
    assert lineage["corpus_hash"] == row["corpus_hash"]
    history = json.loads((seed_dir / "outcome.json").read_text())["history"]
    assert [h["step"] for h in history] == [1, 2, 3, 4]
    assert {h["pid"] for h in history if h["step"] <= resumed_from} == {killed}
    assert {h["pid"] for h in history if h["step"] > resumed_from} == {row["train_pid"]}
    assert not (seed_dir / "trainer").exists(), "a finished training keeps no resume state"
    training_log = read_frame(setup["cfg"].paths.duckdb_path, "training_log")
    assert training_log["step"].to_list() == [1, 2, 3, 4], "the steps before the kill are missing from training_log"


def _run_cli(config: Path, home: Path) -> subprocess.Popen:
    env = {**script_env(), "DAGSTER_HOME": str(home), "PYTHONUNBUFFERED": "1"}
    return subprocess.Popen(
        [sys.executable, "-m", "rlvr_assets.cli", "run", "--config", str(config)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
        cwd=ROOT,
    )


def _overlap(a: dict, b: dict) -> float:
    return min(a["train_ended_at"], b["train_ended_at"]) - max(a["train_started_at"], b["train_started_at"])


def test_killed_parallel_sweep_finishes_on_rerun_without_retraining_finished_arms(tmp_path: Path) -> None:
    """Two pool slots: arms train two at a time in separate processes. SIGKILL `rlvr-assets run` once an arm is
    done: its workers and trainings die with it, DuckDB and the instance stay usable, and the rerun skips the
    finished arm, fails the dead runs, frees their slots and trains the other two arms concurrently."""
    heldout = tmp_path / "heldout.jsonl"  # two smoke items keep evaluation short
    heldout.write_text("\n".join((ROOT / "heldout" / "smoke_reasoning.jsonl").read_text().splitlines()[1:3]) + "\n")
    config = write_config(
        tmp_path,
        {  # the smallest sweep that still has human and augmented arms
            "gate": {**TINY["gate"], "samples": 4, "pass_at": 2},
            "operators": {"resample_draws": 2, "enabled": ["resample_params", "add_hint"]},
            "training": {**TINY["training"], "max_steps": 2},
            "eval": {**TINY["eval"], "suites": ["smoke"]},
            "economics": {"cost_ratios": [5]},
            "scale": {"parallel_arms": 2, "checkpoint_every": 1},
            "paths": {"smoke_suite": str(heldout)},
        },
    )
    home = tmp_path / "dagster_home"
    sweep = _run_cli(config, home)
    finished = None
    lines = []
    assert sweep.stdout is not None
    for line in sweep.stdout:
        lines.append(line)
        if line.startswith("== train_arm_job[") and ": done" in line:
            finished = line.split("[", 1)[1].split("]", 1)[0]
            break
    assert finished, "".join(lines)[-3000:]
    survivors = psutil.Process(sweep.pid).children(recursive=True)
    sweep.kill()
    sweep.wait(30)
    _gone, alive = psutil.wait_procs(survivors, timeout=30)
    assert not alive, f"left running after the sweep was killed: {[p.cmdline() for p in alive]}"

    db = tmp_path / "var" / "rlvr.duckdb"
    done_row = read_frame(db, "policy_checkpoint", [finished]).row(0, named=True)

    rerun_started = time.time()
    rerun = _run_cli(config, home)
    out, _ = rerun.communicate(timeout=900)
    assert rerun.returncode == 0, out[-4000:]
    assert f"== train_arm_job[{finished}]: skipped (up to date" in out
    assert "its process died mid-run; marked failed" in out
    ckpts = read_frame(db, "policy_checkpoint")
    assert read_frame(db, "policy_checkpoint", [finished]).row(0, named=True)["train_pid"] == done_row["train_pid"]
    rest = ckpts.filter(pl.col("arm") != finished).to_dicts()
    assert len(rest) == 2 and all(r["steps"] == 2 for r in rest)
    retrained = [r for r in rest if r["train_started_at"] >= rerun_started]
    if len(retrained) == 2:  # the usual case: the kill caught both other arms before their checkpoints landed
        assert _overlap(*retrained) > 0, f"the rerun trained the two arms one after the other: {rest}"
    else:  # the second slot's arm had finished training (not evaluating) before the kill: it was not retrained
        assert len(retrained) == 1, f"an arm was neither retrained nor carried over: {rest}"
        carried = next(r for r in rest if r["train_started_at"] < rerun_started)
        assert _overlap(carried, done_row) > 0, f"the first sweep trained its two arms one after the other: {rest}"
    assert any((tmp_path / "var" / "artifacts" / "report").iterdir())
    with dg.DagsterInstance.from_config(str(home)) as instance:
        assert instance.event_log_storage.get_concurrency_info("rlvr_training").slot_count == 2
        assert not instance.get_runs(filters=dg.RunsFilter(statuses=[dg.DagsterRunStatus.STARTED]))


def test_only_runs_whose_sweep_process_died_are_failed(tmp_path: Path) -> None:
    from rlvr_assets.sweep import SWEEP_TAG, fail_orphaned_runs, sweep_owner

    @dg.op
    def noop() -> None:
        return None

    @dg.job
    def job() -> None:
        noop()

    with dg.DagsterInstance.local_temp(str(tmp_path)) as instance:
        live = instance.create_run_for_job(job, tags={SWEEP_TAG: sweep_owner()})
        host = sweep_owner().split(":")[0]
        dead = instance.create_run_for_job(job, tags={SWEEP_TAG: f"{host}:{os.getpid()}:1.00"})  # pid reused
        elsewhere = instance.create_run_for_job(job, tags={SWEEP_TAG: "other-host:1:1.00"})
        assert fail_orphaned_runs(instance) == [dead.run_id]
        assert instance.get_run_by_id(dead.run_id).status == dg.DagsterRunStatus.FAILURE
        for run in (live, elsewhere):
            assert instance.get_run_by_id(run.run_id).status == dg.DagsterRunStatus.NOT_STARTED

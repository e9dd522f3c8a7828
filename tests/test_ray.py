"""`scale.launcher: ray`: arm trainings as Ray jobs through dagster-ray's Pipes client, on a real local Ray
cluster (`ray start --head` on 127.0.0.1 in a temporary directory). The cluster tests are marked `ray`
(`make test-ray`); the job-parameter and slot arithmetic tests need no cluster and run in `make test`."""

from __future__ import annotations

import shlex
import signal
import subprocess
import sys
import time
from pathlib import Path

import polars as pl
import psutil
import pytest

from rlvr_assets.core.config import PipelineConfig, RayLocalClusterConfig
from rlvr_assets.core.store.storage import read_frame, write_frame
from rlvr_assets.core.training.launch import train_command
from rlvr_assets.core.training.ray_cluster import (
    RayClusterError,
    TrainingResources,
    cluster_slots,
    last_log_lines,
    slots_on_node,
    submit_job_params,
    training_resources,
)
from tests.conftest import ROOT, TINY, write_config
from tests.scale_support import ARM, arm_setup, materialize, materialize_command, parse_result, script_env

OTHER_ARM = "human-8"


def test_a_ray_job_runs_the_same_entry_point_with_the_configured_resources(tmp_path: Path) -> None:
    cfg = PipelineConfig.model_validate(
        {"scale": {"launcher": "ray", "ray": {"num_cpus": 2, "memory_gib": 1.5, "runtime_env": {"env_vars": {"A": 1}}}}}
    )
    params = submit_job_params(cfg, tmp_path / "job.json", "rlvr-x", {"k": "v"}, "rlvr_assets.train")
    assert shlex.split(params["entrypoint"]) == train_command(sys.executable, tmp_path / "job.json", 1)
    assert params["entrypoint_num_cpus"] == 2 and params["entrypoint_num_gpus"] == 0.0
    assert params["entrypoint_memory"] == int(1.5 * 2**30)
    env = params["runtime_env"]["env_vars"]
    assert env["A"] == "1" and env["CUDA_VISIBLE_DEVICES"] == ""  # the CPU default stays off GPUs
    assert env["PYTHONPATH"] == str(ROOT) and env["PYTHONUNBUFFERED"] == "1"
    assert params["submission_id"] == "rlvr-x" and params["metadata"] == {"k": "v"}
    gpu = PipelineConfig.model_validate(
        {"model": {"device": "cuda"}, "scale": {"launcher": "ray", "gpus": ["0", "1"], "processes_per_arm": 2}}
    )
    assert training_resources(gpu).num_gpus == 2  # one GPU per accelerate process, unless scale.ray.num_gpus says
    gpu_params = submit_job_params(gpu, tmp_path / "job.json", "rlvr-y", {}, "rlvr_assets.train")
    assert "CUDA_VISIBLE_DEVICES" not in gpu_params["runtime_env"]["env_vars"]  # Ray sets it for the job's GPUs
    assert shlex.split(gpu_params["entrypoint"])[-2:] == ["--num-processes", "2"]


def test_cluster_capacity_is_what_every_node_holds_summed() -> None:
    need = TrainingResources(num_cpus=2, num_gpus=1, memory_bytes=None)
    assert slots_on_node({"CPU": 16, "GPU": 4}, need) == 4
    assert slots_on_node({"CPU": 5, "GPU": 8}, need) == 2
    assert slots_on_node({"CPU": 16}, need) == 0
    cpu_only = TrainingResources(num_cpus=1, num_gpus=0, memory_bytes=2**30)
    assert slots_on_node({"CPU": 8, "memory": 3.5 * 2**30}, cpu_only) == 3


def test_the_failure_tail_shows_the_trainings_log_lines_not_pipes_metrics() -> None:
    logs = "\n".join(
        [
            "Running entrypoint for job rlvr-a",
            '{"__dagster_pipes_version": "0.1", "method": "log", "params": {"message": "step 2/4: reward 0.5", "level": "INFO"}}',
            '{"__dagster_pipes_version": "0.1", "method": "report_custom_message", "params": {"payload": {}}}',
            "Traceback (most recent call last):",
        ]
    )
    assert last_log_lines(logs) == [
        "Running entrypoint for job rlvr-a",
        "INFO: step 2/4: reward 0.5",
        "Traceback (most recent call last):",
    ]
    assert last_log_lines(logs, 1) == ["Traceback (most recent call last):"]


@pytest.fixture(scope="module")
def ray_cluster_2cpu():
    """A real local Ray cluster of 2 CPUs and no GPUs, started the way the project starts one, stopped after."""
    pytest.importorskip("ray")
    from rlvr_assets.core.training.ray_cluster import LocalRayCluster

    cluster = LocalRayCluster(RayLocalClusterConfig(num_cpus=2, num_gpus=0))
    cluster.start()
    try:
        yield cluster
    finally:
        cluster.stop()
    assert not cluster.processes(), "processes of the local Ray cluster outlived its stop"
    assert not cluster.temp_dir.exists()


@pytest.mark.ray
def test_the_sweep_keeps_as_many_arms_in_flight_as_the_cluster_holds(ray_cluster_2cpu) -> None:
    address = ray_cluster_2cpu.address
    assert cluster_slots(address, TrainingResources(1, 0, None)) == 2
    assert cluster_slots(address, TrainingResources(1.5, 0, None)) == 1
    with pytest.raises(RayClusterError, match="no node"):
        cluster_slots(address, TrainingResources(1, 1, None))


def _jobs_of(client, arm: str) -> list:
    return [j for j in client.list_jobs() if (j.metadata or {}).get("rlvr_arm") == arm]


def _overlap_ms(a, b) -> float:
    return min(a.end_time, b.end_time) - max(a.start_time, b.start_time)


@pytest.mark.ray
def test_two_arms_train_as_overlapping_ray_jobs_and_a_stopped_one_resumes(tmp_path: Path, ray_cluster_2cpu) -> None:
    """Two arms' trainings are Ray jobs in flight at once on the 2-CPU cluster. Stopping one job after its first
    checkpoint fails that materialization with the job's status and last log lines; the next materialization
    resumes from the checkpoint and ends at the configured step count."""
    from ray.job_submission import JobStatus, JobSubmissionClient

    address = ray_cluster_2cpu.address
    setup = arm_setup(
        tmp_path,
        {
            "training": {"max_steps": 4, "num_generations": 2, "max_new_tokens": 8, "seeds": [0]},
            "scale": {"launcher": "ray", "checkpoint_every": 2, "ray": {"address": address, "num_cpus": 1}},
            "model": {"source": "tiny", "device": "cpu", "torch_threads": 1},
        },
    )
    db = setup["cfg"].paths.duckdb_path
    corpus = read_frame(db, "training_corpus", [ARM]).with_columns(pl.lit(OTHER_ARM).alias("arm"))
    write_frame(db, "training_corpus", corpus, OTHER_ARM)
    seed_dir = setup["checkpoints"] / ARM / "seed-0"
    runs = {
        arm: subprocess.Popen(
            materialize_command(setup, arm),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=script_env(),
            cwd=ROOT,
        )
        for arm in (ARM, OTHER_ARM)
    }
    client = JobSubmissionClient(address)
    deadline = time.monotonic() + 300
    while not (seed_dir / "trainer" / "checkpoint-2" / "trainer_state.json").exists():
        assert runs[ARM].poll() is None, runs[ARM].communicate()[1][-3000:]
        assert time.monotonic() < deadline, "no checkpoint within 300 s"
        time.sleep(0.1)
    running = [j for j in _jobs_of(client, ARM) if j.status == JobStatus.RUNNING]
    assert len(running) == 1
    client.stop_job(running[0].submission_id)
    first = parse_result(runs[ARM].communicate(timeout=120)[0])
    other = parse_result(runs[OTHER_ARM].communicate(timeout=300)[0])

    assert not first["success"]
    assert f"Ray job {running[0].submission_id} STOPPED" in first["failure"]
    assert "last log lines:" in first["failure"] and "INFO: arm human-4 seed 0 step 1/4" in first["failure"]
    assert other["success"], other["failure"][-3000:]
    assert other["metadata"]["launcher"] == "ray"
    stopped = client.get_job_info(running[0].submission_id)
    (finished,) = _jobs_of(client, OTHER_ARM)
    assert stopped.status == JobStatus.STOPPED and finished.status == JobStatus.SUCCEEDED
    assert _overlap_ms(stopped, finished) > 0, "the two arms' Ray jobs ran one after the other"

    second = materialize(setup, arm=ARM)
    assert second["success"], second["failure"][-3000:]
    assert second["metadata"]["resumed_from_step"] == {"0": 2}
    row = read_frame(db, "policy_checkpoint", [ARM]).row(0, named=True)
    assert row["steps"] == 4 and row["resumed_from_step"] == 2
    assert read_frame(db, "training_log", [ARM])["step"].to_list() == [1, 2, 3, 4]
    assert not (seed_dir / "trainer").exists(), "a finished training keeps no resume state"
    assert all(j.status.is_terminal() for j in client.list_jobs()), "a Ray job outlived its materialization"


def _trainings_of(job_file: Path) -> list[psutil.Process]:
    found = []
    for proc in psutil.process_iter(["cmdline"]):
        cmdline = " ".join(proc.info["cmdline"] or ())
        if "rlvr_assets.train" in cmdline and str(job_file) in cmdline:
            found.append(proc)
    return found


@pytest.mark.ray
def test_interrupting_the_run_stops_its_job_and_the_cluster_started_for_it(tmp_path: Path) -> None:
    """With no `scale.ray.address` the training starts a local cluster of its own; Ctrl-C on the Dagster run
    stops the Ray job (its training process ends) and the cluster (no process of it left, its directory gone)."""
    before = set(Path("/tmp").glob("rlvr-ray-*"))
    setup = arm_setup(
        tmp_path,
        {
            "training": {"max_steps": 60, "num_generations": 2, "max_new_tokens": 8, "seeds": [0]},
            "scale": {"launcher": "ray", "checkpoint_every": 60, "ray": {"local": {"num_cpus": 1, "num_gpus": 0}}},
            "model": {"source": "tiny", "device": "cpu", "torch_threads": 1},
        },
    )
    job_file = setup["checkpoints"] / ARM / "seed-0" / "job.json"
    run = subprocess.Popen(
        materialize_command(setup),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=script_env(),
        cwd=ROOT,
    )
    deadline = time.monotonic() + 240
    while not (trainings := _trainings_of(job_file)):
        assert run.poll() is None, run.communicate()[1][-3000:]
        assert time.monotonic() < deadline, "the Ray job's training never started"
        time.sleep(0.2)
    started = set(Path("/tmp").glob("rlvr-ray-*")) - before
    assert len(started) == 1, started  # the local cluster of this run
    cluster_dir = started.pop()
    run.send_signal(signal.SIGINT)
    _out, err = run.communicate(timeout=120)
    # dagster-ray stops the job on Dagster's interrupt error; the launcher itself on any other exit
    stop_logged = ("Will terminate RayJob rlvr-human-4-seed0-", "interrupted: stopping Ray job rlvr-human-4-seed0-")
    assert any(line in err for line in stop_logged), err[-3000:]
    _gone, alive = psutil.wait_procs(trainings, timeout=30)
    assert not alive, "the training kept running after its Dagster run was stopped"
    left = [p for p in psutil.process_iter(["cmdline"]) if str(cluster_dir) in " ".join(p.info["cmdline"] or ())]
    assert not left, f"processes of the run's Ray cluster outlived it: {[p.info['cmdline'][:3] for p in left]}"
    assert not cluster_dir.exists()


@pytest.mark.ray
def test_the_sweep_on_ray_keeps_the_clusters_capacity_of_arms_in_flight(tmp_path: Path) -> None:
    """`rlvr-assets run` under `launcher: ray` with no address: a local cluster of 2 CPUs for the sweep, one CPU
    per training, so the pool and the arm workers get 2 slots, two arms train at once, and the cluster is gone
    when the sweep ends."""
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
            "model": {**TINY["model"], "torch_threads": 1},
            "scale": {"launcher": "ray", "ray": {"num_cpus": 1, "local": {"num_cpus": 2, "num_gpus": 0}}},
            "paths": {"smoke_suite": str(heldout)},
        },
    )
    before = set(Path("/tmp").glob("rlvr-ray-*"))
    env = {**script_env(), "DAGSTER_HOME": str(tmp_path / "home"), "PYTHONUNBUFFERED": "1"}
    done = subprocess.run(
        [sys.executable, "-m", "rlvr_assets.cli", "run", "--config", str(config)],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        timeout=1200,
    )
    assert done.returncode == 0, (done.stdout + done.stderr)[-4000:]
    assert ": 2 arm trainings at once" in done.stdout and "3 arms, 2 at a time" in done.stdout, done.stdout[-3000:]
    rows = read_frame(tmp_path / "var" / "rlvr.duckdb", "policy_checkpoint").sort("train_started_at").to_dicts()
    assert len(rows) == 3 and all(r["steps"] == 2 for r in rows)
    first, second = rows[0], rows[1]
    overlap = min(first["train_ended_at"], second["train_ended_at"]) - max(
        first["train_started_at"], second["train_started_at"]
    )
    assert overlap > 0, f"the first two arms trained one after the other: {rows}"
    assert set(Path("/tmp").glob("rlvr-ray-*")) == before, "the sweep's Ray cluster directory was left behind"

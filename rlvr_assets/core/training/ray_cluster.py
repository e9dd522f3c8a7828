"""The Ray side of `scale.launcher: ray`, as plain Python: which cluster a training goes to, the local cluster the
project starts when no address is configured, how many trainings the cluster holds at once, and what one Ray job
submission looks like (entry point, runtime env, resources).

A local cluster is `ray start --head --block` in a child process with its own temporary directory and ports on
127.0.0.1; stopping it signals that process (Ray then stops every process of that cluster) and kills, by pid,
anything left whose command line names its directory. `ray stop` is never used: it stops every Ray cluster of
the user on the machine, including ones this project did not start.
"""

from __future__ import annotations

import ctypes
import json
import math
import os
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psutil

from rlvr_assets.core.config import PipelineConfig, RayLaunchConfig, RayLocalClusterConfig
from rlvr_assets.core.training.launch import child_env, train_command

# set while a sweep's local cluster is up, so the trainings of that run (in worker processes too) reuse it
RAY_ADDRESS_ENV = "RLVR_RAY_ADDRESS"
PIPES_MESSAGE_PREFIX = '{"__dagster_pipes_version"'
_PR_SET_PDEATHSIG = 1


class RayClusterError(RuntimeError):
    """The local Ray cluster did not start, or the cluster cannot hold a single training."""


@dataclass(frozen=True)
class TrainingResources:
    """What one arm/seed training reserves on the cluster (Ray's entrypoint resources)."""

    num_cpus: float
    num_gpus: float
    memory_bytes: int | None

    def submit_kwargs(self) -> dict[str, Any]:
        kwargs: dict[str, Any] = {"entrypoint_num_cpus": self.num_cpus, "entrypoint_num_gpus": self.num_gpus}
        if self.memory_bytes:
            kwargs["entrypoint_memory"] = self.memory_bytes
        return kwargs


def training_resources(cfg: PipelineConfig) -> TrainingResources:
    """Resources per training from `scale.ray`; GPUs default to one per process on a GPU config, none on CPU."""
    ray = cfg.scale.ray
    gpus = ray.num_gpus
    if gpus is None:
        gpus = 0.0 if cfg.model.device == "cpu" else float(cfg.scale.processes_per_arm)
    memory = int(ray.memory_gib * 2**30) if ray.memory_gib else None
    return TrainingResources(num_cpus=ray.num_cpus, num_gpus=gpus, memory_bytes=memory)


def slots_on_node(total: dict[str, float], need: TrainingResources) -> int:
    """How many trainings fit on one node with `total` resources."""
    fits = [math.floor(total.get("CPU", 0.0) / need.num_cpus + 1e-9)]
    if need.num_gpus:
        fits.append(math.floor(total.get("GPU", 0.0) / need.num_gpus + 1e-9))
    if need.memory_bytes:
        fits.append(math.floor(total.get("memory", 0.0) / need.memory_bytes + 1e-9))
    return max(0, min(fits))


def cluster_slots(address: str, need: TrainingResources) -> int:
    """Trainings the cluster holds at once: per alive node, what its total resources fit, summed (Ray's state API
    over the dashboard; nothing joins the cluster). Raises when no node fits one training."""
    from ray.util.state import list_nodes

    nodes = list_nodes(address=address, detail=True, raise_on_missing_output=False)
    slots = sum(slots_on_node(dict(n.resources_total or {}), need) for n in nodes if n.state == "ALIVE")
    if slots == 0:
        raise RayClusterError(
            f"Ray cluster {address}: no node has {need.num_cpus} CPUs, {need.num_gpus} GPUs and "
            f"{need.memory_bytes or 0} bytes of memory for one training (scale.ray.num_cpus/num_gpus/memory_gib)"
        )
    return slots


def _free_ports(count: int) -> list[int]:
    """Ports free on 127.0.0.1 now (bound together, so distinct)."""
    sockets = []
    try:
        for _ in range(count):
            s = socket.socket()
            s.bind(("127.0.0.1", 0))
            sockets.append(s)
        return [s.getsockname()[1] for s in sockets]
    finally:
        for s in sockets:
            s.close()


def _term_with_parent() -> None:
    """In the `ray start` child: get SIGTERM (a clean cluster stop) when the process that started it dies."""
    if sys.platform.startswith("linux"):
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)


class LocalRayCluster:
    """A one-machine Ray cluster for one run: `ray start --head --block`, every port on 127.0.0.1 chosen free, its
    own temporary directory; the job server (dashboard) at `address`."""

    def __init__(self, local: RayLocalClusterConfig, ray_executable: str | None = None) -> None:
        self.local = local
        self.ray = ray_executable or str(Path(sys.executable).with_name("ray"))
        self._own_dir = local.temp_dir is None
        self.temp_dir = Path(local.temp_dir or tempfile.mkdtemp(prefix="rlvr-ray-", dir="/tmp"))
        self.address = ""
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def log_path(self) -> Path:
        return self.temp_dir / "ray-start.log"

    def start(self) -> str:
        if not Path(self.ray).exists():
            raise RayClusterError(
                f"{self.ray}: no `ray` executable next to {sys.executable}; pip install 'ray[default]'"
            )
        gcs, dashboard, client, agent_http, agent_grpc, runtime_env, metrics = _free_ports(7)
        command = [
            self.ray, "start", "--head", "--block", "--disable-usage-stats",
            "--node-ip-address", "127.0.0.1", "--port", str(gcs),
            "--dashboard-host", "127.0.0.1", "--dashboard-port", str(dashboard),
            "--ray-client-server-port", str(client),
            "--dashboard-agent-listen-port", str(agent_http), "--dashboard-agent-grpc-port", str(agent_grpc),
            "--runtime-env-agent-port", str(runtime_env), "--metrics-export-port", str(metrics),
            "--temp-dir", str(self.temp_dir),
        ]  # fmt: skip
        if self.local.num_cpus is not None:
            command += ["--num-cpus", str(self.local.num_cpus)]
        if self.local.num_gpus is not None:
            command += ["--num-gpus", str(self.local.num_gpus)]
        self.temp_dir.mkdir(parents=True, exist_ok=True)
        env = {**os.environ, "RAY_USAGE_STATS_ENABLED": "0"}
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(
                command, stdout=log, stderr=subprocess.STDOUT, env=env, preexec_fn=_term_with_parent
            )
        self.address = f"http://127.0.0.1:{dashboard}"
        deadline = time.monotonic() + self.local.start_timeout_s
        while not self._serving():
            if self.process.poll() is not None or time.monotonic() > deadline:
                tail = self.log_path.read_text(errors="replace").splitlines()[-15:]
                self.stop()
                raise RayClusterError("`ray start --head` did not come up:\n" + "\n".join(tail))
            time.sleep(0.5)
        return self.address

    def _serving(self) -> bool:
        """The job server answers and the head node has registered (its resources are what jobs wait on)."""
        try:
            with urllib.request.urlopen(f"{self.address}/api/version", timeout=2) as response:
                if response.status != 200:
                    return False
            from ray.util.state import list_nodes

            return any(n.state == "ALIVE" for n in list_nodes(address=self.address, raise_on_missing_output=False))
        except Exception:  # not up yet: refused connections, the state API's own errors while it starts
            return False

    def processes(self) -> list[psutil.Process]:
        """Every process of this cluster: its command line names this cluster's temporary directory."""
        marker = str(self.temp_dir)
        found = []
        for proc in psutil.process_iter(["pid", "cmdline"]):
            try:
                if any(marker in part for part in proc.info["cmdline"] or ()):
                    found.append(proc)
            except (psutil.NoSuchProcess, psutil.AccessDenied):
                continue
        return found

    def stop(self, timeout: float = 60.0) -> None:
        """SIGTERM to `ray start --block` (it stops its cluster), then SIGKILL by pid to anything of it left."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)
        leftover = self.processes()
        for proc in leftover:
            try:
                proc.kill()
            except psutil.NoSuchProcess:
                continue
        psutil.wait_procs(leftover, timeout=10)
        if self._own_dir:
            shutil.rmtree(self.temp_dir, ignore_errors=True)

    def __enter__(self) -> LocalRayCluster:
        self.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.stop()


@contextmanager
def ray_cluster(ray: RayLaunchConfig) -> Iterator[str]:
    """The job-server address trainings go to: `scale.ray.address`, else the cluster an enclosing run already
    started (RLVR_RAY_ADDRESS), else a local cluster started now and stopped on exit (its address published in
    RLVR_RAY_ADDRESS meanwhile, for the run's worker processes)."""
    if ray.address:
        yield ray.address
        return
    if os.environ.get(RAY_ADDRESS_ENV):
        yield os.environ[RAY_ADDRESS_ENV]
        return
    with LocalRayCluster(ray.local) as cluster:
        os.environ[RAY_ADDRESS_ENV] = cluster.address
        try:
            yield cluster.address
        finally:
            os.environ.pop(RAY_ADDRESS_ENV, None)


def submit_job_params(
    cfg: PipelineConfig, job_file: Path, submission_id: str, metadata: dict[str, str], module: str
) -> dict[str, Any]:
    """`JobSubmissionClient.submit_job` arguments of one training: `python -m rlvr_assets.train JOB` with the
    training's resources, run on the cluster from the code Dagster runs (PYTHONPATH) unless `scale.ray.python`
    names the cluster's own interpreter."""
    ray = cfg.scale.ray
    runtime_env = {k: v for k, v in ray.runtime_env.items() if k != "env_vars"}
    env_vars = {str(k): str(v) for k, v in dict(ray.runtime_env.get("env_vars") or {}).items()}
    env_vars |= child_env(cfg.scale, cfg.model.device, [])  # a CPU config stays off GPUs
    env_vars["PYTHONUNBUFFERED"] = "1"  # Pipes messages go over stdout into the job log: each must land at once
    python = ray.python or sys.executable
    if ray.python is None:
        # the source tree holding rlvr_assets/
        env_vars.setdefault("PYTHONPATH", str(Path(__file__).resolve().parents[3]))
    runtime_env["env_vars"] = env_vars
    command = train_command(python, job_file, cfg.scale.processes_per_arm, module)
    return {
        "entrypoint": shlex.join(command),
        "runtime_env": runtime_env,
        "submission_id": submission_id,
        "metadata": dict(metadata),
        **training_resources(cfg).submit_kwargs(),
    }


def last_log_lines(logs: str, count: int = 25) -> list[str]:
    """The job's last log lines as a person reads them: Pipes `log` messages as their text, other Pipes messages
    (metrics, materializations) left out."""
    lines = []
    for line in logs.splitlines():
        if not line.strip():
            continue
        if line.startswith(PIPES_MESSAGE_PREFIX):
            try:
                message = json.loads(line)
            except ValueError:
                continue
            if message.get("method") == "log":
                params = message.get("params") or {}
                lines.append(f"{params.get('level', 'INFO')}: {params.get('message', '')}")
            continue
        lines.append(line)
    return lines[-count:]

"""The Pipes client a training runs through, picked from `scale.launcher`: wiring only.

`launch_training` writes the job file, leases GPUs (pinned with CUDA_VISIBLE_DEVICES or Docker device requests),
starts `python -m rlvr_assets.train` through `PipesSubprocessClient`, `PipesDockerClient` or `PipesK8sClient`,
and returns the outcome the child reported. Under `scale.launcher: ray` the same command is a Ray job submitted
through dagster-ray's `PipesRayJobClient`, and Ray, not the file leases, hands out GPUs. The Dagster process never
imports torch or TRL for training.
"""

from __future__ import annotations

import sys
import time
import uuid
from pathlib import Path
from typing import Any

import dagster as dg

from rlvr_assets import train as entry_point  # named here so its source is part of policy_checkpoint's code version
from rlvr_assets.core.config import PipelineConfig
from rlvr_assets.core.training.launch import (
    TrainingJob,
    TrainingOutcome,
    child_env,
    k8s_pod_spec,
    lease_devices,
    train_command,
)
from rlvr_assets.core.training.ray_cluster import last_log_lines, ray_cluster, submit_job_params

RAY_JOB_FILE_KEY = "rlvr_job_file"


class TrainingNotReported(RuntimeError):
    """The training process exited cleanly but never reported its outcome over Pipes."""


class RayTrainingFailed(RuntimeError):
    """The training's Ray job failed or was stopped; the message carries its status and last log lines."""


def _stop_stale_ray_jobs(context: dg.AssetExecutionContext, jobs: Any, job_file: Path) -> None:
    """Stop jobs of this same training still running on the cluster (their Dagster process was killed, so nothing
    stopped them): two jobs must not write one checkpoint directory."""
    stale = [
        j.submission_id
        for j in jobs.list_jobs()
        if (j.metadata or {}).get(RAY_JOB_FILE_KEY) == str(job_file) and not j.status.is_terminal()
    ]
    for job_id in stale:
        context.log.warning(f"Ray job {job_id} of the same training is still running (its run died): stopping it")
        jobs.stop_job(job_id)
    deadline = time.monotonic() + 60
    while stale and time.monotonic() < deadline:
        stale = [j for j in stale if not jobs.get_job_status(j).is_terminal()]
        time.sleep(0.5)


def _run_ray(
    context: dg.AssetExecutionContext, cfg: PipelineConfig, job_file: Path, extras: dict[str, Any]
) -> dg.PipesClientCompletedInvocation:
    try:
        from dagster_ray import PipesRayJobClient
    except ImportError as exc:
        raise RuntimeError("scale.launcher ray needs the `ray` extra: pip install 'rlvr_assets[ray]'") from exc
    with ray_cluster(cfg.scale.ray) as address:
        client = PipesRayJobClient(address=address, poll_interval=cfg.scale.ray.poll_interval_s)
        jobs = client.client  # ray.job_submission.JobSubmissionClient
        _stop_stale_ray_jobs(context, jobs, job_file)
        submission_id = f"rlvr-{extras['arm']}-seed{extras['seed']}-{uuid.uuid4().hex[:10]}"
        metadata = {RAY_JOB_FILE_KEY: str(job_file), "rlvr_arm": str(extras["arm"]), "rlvr_seed": str(extras["seed"])}
        params = submit_job_params(cfg, job_file, submission_id, metadata, entry_point.__name__)
        context.log.info(f"Ray job {submission_id} on {address}: {params['entrypoint']}")
        try:
            return client.run(context=context, submit_job_params=params, extras=extras)  # type: ignore[arg-type]
        except RuntimeError as exc:  # dagster-ray's error for a FAILED or STOPPED job names only its status
            try:
                info = jobs.get_job_info(submission_id)
            except Exception:  # the submission itself failed: its own error says why
                raise exc from None
            if info.status.is_terminal():
                tail = "\n".join(last_log_lines(jobs.get_job_logs(submission_id)))
                raise RayTrainingFailed(
                    f"arm {extras['arm']} seed {extras['seed']}: Ray job {submission_id} {info.status}: "
                    f"{info.message}\nlast log lines:\n{tail}"
                ) from exc
            _stop_ray_job(context, jobs, submission_id, "the Dagster step failed")
            raise
        except BaseException:  # the run was stopped (KeyboardInterrupt or Dagster's interrupt error) or crashed
            _stop_ray_job(context, jobs, submission_id, "the Dagster run was interrupted")
            raise


def _stop_ray_job(context: dg.AssetExecutionContext, jobs: Any, submission_id: str, why: str) -> None:
    """Stop the training's job (if it was submitted and still runs) and wait, bounded, until Ray reports it ended."""
    try:
        if jobs.get_job_status(submission_id).is_terminal():
            return
        context.log.warning(f"{why}: stopping Ray job {submission_id}")
        jobs.stop_job(submission_id)
        deadline = time.monotonic() + 30
        while not jobs.get_job_status(submission_id).is_terminal() and time.monotonic() < deadline:
            time.sleep(0.5)
    except Exception as exc:  # never submitted, or the cluster is gone: nothing left to stop here
        context.log.warning(f"could not stop Ray job {submission_id}: {exc}")


def _run(
    context: dg.AssetExecutionContext,
    cfg: PipelineConfig,
    job_file: Path,
    devices: list[str],
    extras: dict[str, Any],
) -> dg.PipesClientCompletedInvocation:
    scale = cfg.scale
    if scale.launcher == "ray":
        return _run_ray(context, cfg, job_file, extras)
    env = child_env(scale, cfg.model.device, devices)
    if scale.launcher == "subprocess":
        command = train_command(scale.python or sys.executable, job_file, scale.processes_per_arm, entry_point.__name__)
        return dg.PipesSubprocessClient(forward_termination=True).run(
            context=context, command=command, extras=extras, env=env
        )
    if scale.launcher == "docker":
        import docker
        from dagster_docker import PipesDockerClient

        var_dir = str(cfg.paths.var_dir)
        volumes = {var_dir: {"bind": var_dir, "mode": "rw"}}
        for host, inside in scale.docker.volumes.items():
            bind, _, mode = inside.partition(":")
            volumes[host] = {"bind": bind, "mode": mode or "rw"}
        label = {"rlvr_assets.run_id": context.run_id, "rlvr_assets.job": str(job_file)}
        kwargs: dict[str, Any] = {"volumes": volumes, "labels": label}
        if scale.docker.network:
            kwargs["network_mode"] = scale.docker.network
        if scale.docker.network != "none" and "function_calling" in cfg.domains:
            context.log.warning(
                f"scale.docker.network is {scale.docker.network!r}: tool sessions in the container get no network "
                "namespace of their own (no `unshare` there), so only `none` keeps tool calls offline"
            )
        if scale.docker.workdir:
            kwargs["working_dir"] = scale.docker.workdir
        if devices:  # the container sees only its leased GPUs, renumbered from 0
            kwargs["device_requests"] = [docker.types.DeviceRequest(device_ids=devices, capabilities=[["gpu"]])]
            env = {k: v for k, v in env.items() if k != "CUDA_VISIBLE_DEVICES"}
        command = train_command(scale.docker.python, job_file, scale.processes_per_arm, entry_point.__name__)
        try:
            return PipesDockerClient().run(
                context=context,
                image=scale.docker.image,
                command=command,
                env={**scale.docker.env, **env},
                extras=extras,
                container_kwargs=kwargs,
            )
        finally:  # the client stops its container but leaves it behind
            client = docker.from_env()
            for container in client.containers.list(all=True, filters={"label": f"rlvr_assets.job={job_file}"}):
                container.remove(force=True)
    try:
        from dagster_k8s import PipesK8sClient  # type: ignore[import-not-found]
    except ImportError as exc:
        raise RuntimeError("scale.launcher k8s needs the `k8s` extra: pip install 'rlvr_assets[k8s]'") from exc
    return PipesK8sClient(load_incluster_config=scale.k8s.load_incluster_config).run(
        context=context, namespace=scale.k8s.namespace, extras=extras, **_k8s_pod_args(cfg, job_file, env)
    )


def _k8s_pod_args(cfg: PipelineConfig, job_file: Path, env: dict[str, str]) -> dict[str, Any]:
    """Image, command, env and base pod spec of a training pod: what PipesK8sClient.run builds the pod from."""
    return {
        "image": cfg.scale.k8s.image,
        "command": train_command("python", job_file, cfg.scale.processes_per_arm, entry_point.__name__),
        "env": {k: v for k, v in env.items() if k != "CUDA_VISIBLE_DEVICES" or not v},  # the pod's GPUs are its own
        "base_pod_spec": k8s_pod_spec(cfg.scale, cfg.paths.var_dir),
    }


def render_k8s_pod(cfg: PipelineConfig, job_file: Path, pod_name: str = "rlvr-train") -> dict[str, Any]:
    """The pod `scale.launcher: k8s` submits for one training, as the API server receives it (camelCase), built by
    dagster-k8s's own `build_pod_body` (less the Pipes bootstrap variables, which exist only inside a run)."""
    import kubernetes
    from dagster_k8s.pipes import build_pod_body  # type: ignore[import-not-found]

    args = _k8s_pod_args(cfg, job_file, child_env(cfg.scale, cfg.model.device, []))
    pod = build_pod_body(pod_name, args["image"], args["command"], args["env"], None, args["base_pod_spec"])
    return kubernetes.client.ApiClient().sanitize_for_serialization(pod)


def launch_training(
    context: dg.AssetExecutionContext, cfg: PipelineConfig, job: TrainingJob
) -> tuple[TrainingOutcome, dict[str, Any]]:
    """Run one arm/seed training out of process; its outcome and the metadata of the materialization it reported."""
    job_file = job.write()
    scale = cfg.scale
    leased = [] if scale.launcher == "ray" else scale.gpus  # Ray schedules GPUs itself under its launcher
    with lease_devices(cfg.paths.var_dir / "gpu-leases", leased, scale.processes_per_arm) as devices:
        where = f"GPUs {','.join(devices)}" if devices else cfg.model.device
        context.log.info(f"arm {job.arm} seed {job.seed}: training through {scale.launcher} on {where}")
        extras = {"job_file": str(job_file), "arm": job.arm, "seed": job.seed, "devices": devices}
        invocation = _run(context, cfg, job_file, devices, extras)
    reported = [m for m in invocation.get_custom_messages() if isinstance(m, dict) and m.get("kind") == "outcome"]
    if not reported:
        raise TrainingNotReported(f"arm {job.arm} seed {job.seed}: the training process reported no outcome")
    metadata: dict[str, Any] = {}
    for result in invocation.get_results(implicit_materializations=False):
        if isinstance(result, dg.MaterializeResult):
            metadata |= dict(result.metadata or {})
    return TrainingOutcome(**{k: v for k, v in reported[-1].items() if k != "kind"}), metadata

"""The Pipes client a training runs through, picked from `scale.launcher`: wiring only.

`launch_training` writes the job file, leases GPUs (pinned with CUDA_VISIBLE_DEVICES or Docker device requests),
starts `python -m rlvr_assets.train` through `PipesSubprocessClient`, `PipesDockerClient` or `PipesK8sClient`,
and returns the outcome the child reported. The Dagster process never imports torch or TRL for training.
"""

from __future__ import annotations

import sys
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


class TrainingNotReported(RuntimeError):
    """The training process exited cleanly but never reported its outcome over Pipes."""


def _run(
    context: dg.AssetExecutionContext,
    cfg: PipelineConfig,
    job_file: Path,
    devices: list[str],
    extras: dict[str, Any],
) -> dg.PipesClientCompletedInvocation:
    scale = cfg.scale
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
    command = train_command("python", job_file, scale.processes_per_arm, entry_point.__name__)
    return PipesK8sClient(load_incluster_config=scale.k8s.load_incluster_config).run(
        context=context,
        image=scale.k8s.image,
        command=command,
        namespace=scale.k8s.namespace,
        env={k: v for k, v in env.items() if k != "CUDA_VISIBLE_DEVICES" or not v},  # the pod's GPUs are its own
        base_pod_spec=k8s_pod_spec(scale, cfg.paths.var_dir),
        extras=extras,
    )


def launch_training(
    context: dg.AssetExecutionContext, cfg: PipelineConfig, job: TrainingJob
) -> tuple[TrainingOutcome, dict[str, Any]]:
    """Run one arm/seed training out of process; its outcome and the metadata of the materialization it reported."""
    job_file = job.write()
    scale = cfg.scale
    with lease_devices(cfg.paths.var_dir / "gpu-leases", scale.gpus, scale.processes_per_arm) as devices:
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

"""Kubernetes and KubeRay on paper: the pod `scale.launcher: k8s` submits and the RayJob the project would hand
to dagster-ray's PipesKubeRayJobClient, rendered and checked against the Kubernetes API schema (the `kubernetes`
client's models) with no cluster."""

from __future__ import annotations

import shlex
from pathlib import Path

import pytest
import yaml

from rlvr_assets.core.config import PipelineConfig
from rlvr_assets.core.training.k8s_manifests import kuberay_rayjob, rayjob_errors, schema_errors
from rlvr_assets.core.training.launch import train_command
from rlvr_assets.core.training.ray_cluster import submit_job_params

pytest.importorskip("kubernetes")

JOB = Path("/data/var/artifacts/checkpoints/human-4/seed-0/job.json")


def _cfg(**scale: object) -> PipelineConfig:
    return PipelineConfig.model_validate(
        {
            "model": {"device": "cuda"},
            "paths": {"var_dir": "/data/var"},
            "scale": {
                "k8s": {
                    "image": "registry.example/rlvr-train:1",
                    "namespace": "ml",
                    "gpus_per_pod": 2,
                    "checkpoint_claim": "rlvr-var",
                    "base_pod_spec": {"node_selector": {"gpu": "h100"}},
                },
                **scale,
            },
        }
    )


def test_the_k8s_launchers_pod_is_a_valid_kubernetes_pod() -> None:
    pytest.importorskip("dagster_k8s")
    from rlvr_assets.defs.launchers import render_k8s_pod

    pod = render_k8s_pod(_cfg(launcher="k8s"), JOB)
    assert schema_errors(pod, "V1Pod") == []
    container = pod["spec"]["containers"][0]
    assert container["command"] == train_command("python", JOB, 1)
    assert container["resources"]["limits"] == {"nvidia.com/gpu": "2"}
    assert container["volumeMounts"] == [{"name": "rlvr-var", "mountPath": "/data/var"}]
    assert pod["spec"]["volumes"][0]["persistentVolumeClaim"] == {"claimName": "rlvr-var"}
    assert pod["spec"]["nodeSelector"] == {"gpu": "h100"} and pod["spec"]["restartPolicy"] == "Never"


def test_the_kuberay_rayjob_is_valid_and_runs_the_same_training_command() -> None:
    pytest.importorskip("dagster_ray")
    from dagster_ray.kuberay.pipes import _merge_submit_params_into_ray_job

    cfg = _cfg(launcher="ray", processes_per_arm=2, gpus=["0", "1"], ray={"python": "python", "memory_gib": 40})
    template = kuberay_rayjob(cfg, "rlvr-human-4-seed0", workers=2)
    params = submit_job_params(cfg, JOB, "rlvr-human-4-seed0-x", {"rlvr_arm": "human-4"}, "rlvr_assets.train")
    rayjob = _merge_submit_params_into_ray_job(template, params)  # what PipesKubeRayJobClient.run submits
    assert rayjob_errors(rayjob) == []
    spec = rayjob["spec"]
    assert shlex.split(spec["entrypoint"]) == train_command("python", JOB, 2)
    assert spec["entrypointNumGpus"] == 2 and spec["entrypointMemory"] == 40 * 2**30
    assert yaml.safe_load(spec["runtimeEnvYAML"])["env_vars"]["PYTHONUNBUFFERED"] == "1"
    worker = spec["rayClusterSpec"]["workerGroupSpecs"][0]
    assert worker["replicas"] == 2
    assert worker["template"]["spec"]["nodeSelector"] == {"gpu": "h100"}  # base_pod_spec's snake_case, camelCased
    container = worker["template"]["spec"]["containers"][0]
    assert container["resources"]["limits"]["nvidia.com/gpu"] == "2"
    assert container["volumeMounts"] == [{"name": "rlvr-var", "mountPath": "/data/var"}]


def test_schema_errors_name_the_field_that_breaks_the_kubernetes_schema() -> None:
    cfg = _cfg(launcher="ray")
    rayjob = kuberay_rayjob(cfg, "rlvr-x")
    rayjob["spec"]["entrypoint"] = "python -m rlvr_assets.train job.json"
    assert rayjob_errors(rayjob) == []
    head = rayjob["spec"]["rayClusterSpec"]["headGroupSpec"]
    head["template"]["spec"]["containers"][0]["resource"] = {}  # misspelled `resources`
    head["template"]["spec"]["containers"][0]["ports"][0]["containerPort"] = "6379"  # a string, not an int
    del head["template"]["spec"]["containers"][0]["name"]  # required
    rayjob["spec"]["rayClusterSpec"]["workerGroupSpecs"][0]["replica"] = 3  # not a KubeRay field
    errors = rayjob_errors(rayjob)
    where = "spec.rayClusterSpec.headGroupSpec.template.spec.containers[0]"
    assert f"{where}.resource: not a field of V1Container" in errors
    assert any(e.startswith(f"{where}.ports[0].containerPort: expected int") for e in errors)
    assert "spec.rayClusterSpec.workerGroupSpecs[0].replica: not a field of KubeRay WorkerGroupSpec" in errors
    del head["template"]["spec"]["containers"][0]["resource"]
    head["template"]["spec"]["containers"][0]["ports"][0]["containerPort"] = 6379
    assert any("name" in e and "None" in e for e in schema_errors(head["template"], "V1PodTemplateSpec"))


def test_the_shipped_overlays_render_valid_manifests() -> None:
    """deploy/k8s/pipeline-k8s.yaml (snake_case tolerations and node selector) gives a valid pod and RayJob, and
    deploy/ray/pipeline-ray.yaml is a valid config."""
    pytest.importorskip("dagster_k8s")
    from rlvr_assets.defs.launchers import render_k8s_pod

    root = Path(__file__).resolve().parents[1] / "deploy"
    cfg = PipelineConfig.model_validate(yaml.safe_load((root / "k8s" / "pipeline-k8s.yaml").read_text()))
    pod = render_k8s_pod(cfg, JOB)
    assert schema_errors(pod, "V1Pod") == []
    assert pod["spec"]["tolerations"] == [{"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}]
    rayjob = kuberay_rayjob(cfg, "rlvr-x")
    rayjob["spec"]["entrypoint"] = "python -m rlvr_assets.train job.json"
    assert rayjob_errors(rayjob) == []
    ray_cfg = PipelineConfig.model_validate(yaml.safe_load((root / "ray" / "pipeline-ray.yaml").read_text()))
    assert ray_cfg.scale.launcher == "ray" and ray_cfg.scale.ray.num_gpus == 1

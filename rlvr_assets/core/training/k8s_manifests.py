"""Kubernetes manifests of the scale-out paths that cannot run on this machine, rendered and checked on paper.

`kuberay_rayjob` is the KubeRay `RayJob` template the project would hand to dagster-ray's `PipesKubeRayJobClient`
(`run(ray_job=template, submit_job_params=...)`, which fills in the entry point, runtime env and resources of
`ray_cluster.submit_job_params`): a head pod that schedules nothing and worker pods with the training image, GPUs
and the checkpoint volume at `paths.var_dir`. `schema_errors` checks a manifest against the Kubernetes API schema
as the official `kubernetes` client's models describe it (unknown fields, wrong types, missing required fields),
with no cluster. Imports no Dagster.
"""

from __future__ import annotations

import re
from typing import Any

from rlvr_assets.core.config import PipelineConfig

RAYJOB_API_VERSION = "ray.io/v1"
VAR_VOLUME = "rlvr-var"


def _pod_template(cfg: PipelineConfig, container: dict[str, Any], labels: dict[str, str]) -> dict[str, Any]:
    k8s = cfg.scale.k8s
    spec: dict[str, Any] = {"containers": [container]}
    if k8s.checkpoint_claim:
        container["volumeMounts"] = [{"name": VAR_VOLUME, "mountPath": str(cfg.paths.var_dir)}]
        spec["volumes"] = [{"name": VAR_VOLUME, "persistentVolumeClaim": {"claimName": k8s.checkpoint_claim}}]
    return {"metadata": {"labels": labels}, "spec": {**spec, **camel_case(k8s.base_pod_spec, "V1PodSpec")}}


def camel_case(data: Any, type_name: str) -> Any:
    """`data` with the Kubernetes model's snake_case field names (as dagster-k8s takes `base_pod_spec`) turned into
    the API's camelCase, recursively; keys the model does not know are kept for `schema_errors` to report."""
    import kubernetes.client

    if match := re.fullmatch(r"list\[(.+)\]", type_name):
        return [camel_case(item, match[1]) for item in data] if isinstance(data, list) else data
    if match := re.fullmatch(r"dict[(\[]str, (.+)[)\]]", type_name):
        return {k: camel_case(v, match[1]) for k, v in data.items()} if isinstance(data, dict) else data
    model = getattr(kubernetes.client, type_name, None)
    if model is None or not isinstance(data, dict):
        return data
    out = {}
    for key, value in data.items():
        attr = key if key in model.attribute_map else None
        attr = attr or next((a for a, j in model.attribute_map.items() if j == key), None)
        out[model.attribute_map[attr] if attr else key] = (
            camel_case(value, model.openapi_types[attr]) if attr else value
        )
    return out


def kuberay_rayjob(cfg: PipelineConfig, name: str, workers: int = 1) -> dict[str, Any]:
    """The RayJob template (camelCase, as the Kubernetes API takes it) for one training: a cluster of `workers`
    pods of `scale.k8s.image`, each with `scale.k8s.gpus_per_pod` GPUs and the CPUs/memory of one training."""
    k8s, ray = cfg.scale.k8s, cfg.scale.ray
    labels = {"app.kubernetes.io/part-of": "rlvr-assets", "rlvr-assets/job": name}
    head = {
        "name": "ray-head",
        "image": k8s.image,
        "ports": [
            {"containerPort": 6379, "name": "gcs"},
            {"containerPort": 8265, "name": "dashboard"},
            {"containerPort": 10001, "name": "client"},
        ],
        "resources": {"requests": {"cpu": "1", "memory": "2Gi"}, "limits": {"cpu": "1", "memory": "2Gi"}},
    }
    limits = {"cpu": _quantity(ray.num_cpus), "memory": f"{ray.memory_gib or 8:g}Gi"}
    if k8s.gpus_per_pod:
        limits["nvidia.com/gpu"] = str(k8s.gpus_per_pod)
    worker = {"name": "ray-worker", "image": k8s.image, "resources": {"requests": dict(limits), "limits": limits}}
    metadata: dict[str, Any] = {"name": name, "labels": labels}
    if k8s.namespace:
        metadata["namespace"] = k8s.namespace
    return {
        "apiVersion": RAYJOB_API_VERSION,
        "kind": "RayJob",
        "metadata": metadata,
        "spec": {
            "submissionMode": "K8sJobMode",
            "shutdownAfterJobFinishes": True,
            "ttlSecondsAfterFinished": 300,
            "backoffLimit": 0,
            "rayClusterSpec": {
                # the head schedules no training: every job lands on a worker with its GPUs
                "headGroupSpec": {
                    "rayStartParams": {"dashboard-host": "0.0.0.0", "num-cpus": "0"},
                    "template": _pod_template(cfg, head, labels),
                },
                "workerGroupSpecs": [
                    {
                        "groupName": "train",
                        "replicas": workers,
                        "minReplicas": workers,
                        "maxReplicas": workers,
                        "rayStartParams": {},
                        "template": _pod_template(cfg, worker, labels),
                    }
                ],
            },
        },
    }


def _quantity(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{int(value * 1000)}m"


def kuberay_pod_templates(rayjob: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The pod templates inside a RayJob, by where they sit (each one a Kubernetes PodTemplateSpec)."""
    cluster = rayjob.get("spec", {}).get("rayClusterSpec", {})
    found = {"headGroupSpec.template": cluster.get("headGroupSpec", {}).get("template", {})}
    for i, group in enumerate(cluster.get("workerGroupSpecs", [])):
        found[f"workerGroupSpecs[{i}].template"] = group.get("template", {})
    return found


# KubeRay v1 API fields (ray.io/v1 RayJob, RayCluster): the CRD's schema is not in the kubernetes client, so the
# RayJob's own fields are checked by name and every pod template inside it against the Kubernetes schema
KUBERAY_FIELDS: dict[str, frozenset[str]] = {
    "RayJobSpec": frozenset(
        [
            "entrypoint",
            "metadata",
            "runtimeEnvYAML",
            "jobId",
            "submissionMode",
            "entrypointResources",
            "entrypointNumCpus",
            "entrypointMemory",
            "entrypointNumGpus",
            "ttlSecondsAfterFinished",
            "shutdownAfterJobFinishes",
            "suspend",
            "rayClusterSpec",
            "clusterSelector",
            "submitterPodTemplate",
            "submitterConfig",
            "activeDeadlineSeconds",
            "backoffLimit",
            "managedBy",
            "deletionStrategy",
            "preRunningDeadlineSeconds",
        ]
    ),
    "RayClusterSpec": frozenset(
        [
            "headGroupSpec",
            "workerGroupSpecs",
            "rayVersion",
            "enableInTreeAutoscaling",
            "autoscalerOptions",
            "headServiceAnnotations",
            "suspend",
            "managedBy",
            "gcsFaultToleranceOptions",
        ]
    ),
    "HeadGroupSpec": frozenset(["serviceType", "headService", "enableIngress", "rayStartParams", "template"]),
    "WorkerGroupSpec": frozenset(
        [
            "groupName",
            "replicas",
            "minReplicas",
            "maxReplicas",
            "idleTimeoutSeconds",
            "rayStartParams",
            "template",
            "scaleStrategy",
            "numOfHosts",
            "suspend",
        ]
    ),
}


def rayjob_errors(rayjob: dict[str, Any]) -> list[str]:
    """Where a RayJob manifest breaks KubeRay's field names or, in its metadata and pod templates, the Kubernetes
    schema. Empty: valid."""
    errors = (
        []
        if rayjob.get("apiVersion") == RAYJOB_API_VERSION and rayjob.get("kind") == "RayJob"
        else [f"RayJob: apiVersion/kind must be {RAYJOB_API_VERSION}/RayJob"]
    )
    errors += schema_errors(rayjob.get("metadata", {}), "V1ObjectMeta", "metadata")
    spec = rayjob.get("spec", {})
    cluster = spec.get("rayClusterSpec", {})
    parts = [("spec", spec, "RayJobSpec"), ("spec.rayClusterSpec", cluster, "RayClusterSpec")]
    parts.append(("spec.rayClusterSpec.headGroupSpec", cluster.get("headGroupSpec", {}), "HeadGroupSpec"))
    for i, group in enumerate(cluster.get("workerGroupSpecs", [])):
        parts.append((f"spec.rayClusterSpec.workerGroupSpecs[{i}]", group, "WorkerGroupSpec"))
    for where, part, kind in parts:
        errors += [f"{where}.{key}: not a field of KubeRay {kind}" for key in part if key not in KUBERAY_FIELDS[kind]]
    if not isinstance(spec.get("entrypoint"), str):
        errors.append("spec.entrypoint: the job's command is missing")
    for where, template in kuberay_pod_templates(rayjob).items():
        errors += schema_errors(template, "V1PodTemplateSpec", f"spec.rayClusterSpec.{where}")
    return errors


_SCALARS: dict[str, tuple[type, ...]] = {
    "str": (str,),
    "int": (int,),
    "float": (int, float),
    "bool": (bool,),
    "datetime": (str,),
    "date": (str,),
}


def schema_errors(data: Any, type_name: str, path: str = "") -> list[str]:
    """Where `data` (camelCase, as sent to the API server) breaks the Kubernetes schema of `type_name` (e.g.
    "V1Pod", "V1PodTemplateSpec"): unknown fields, wrong value types, missing required fields. Empty: valid."""
    import kubernetes.client

    where = path or type_name
    if type_name == "object":
        return []
    if match := re.fullmatch(r"list\[(.+)\]", type_name):
        if not isinstance(data, list):
            return [f"{where}: expected a list, got {type(data).__name__}"]
        return [e for i, item in enumerate(data) for e in schema_errors(item, match[1], f"{where}[{i}]")]
    if match := re.fullmatch(r"dict[(\[]str, (.+)[)\]]", type_name):  # dict[str, X] (older clients: dict(str, X))
        if not isinstance(data, dict):
            return [f"{where}: expected a mapping, got {type(data).__name__}"]
        return [e for k, v in data.items() for e in schema_errors(v, match[1], f"{where}.{k}")]
    if type_name in _SCALARS:
        ok = isinstance(data, _SCALARS[type_name]) and not (type_name != "bool" and isinstance(data, bool))
        return [] if ok else [f"{where}: expected {type_name}, got {type(data).__name__} {data!r}"]
    model = getattr(kubernetes.client, type_name)
    if not isinstance(data, dict):
        return [f"{where}: expected a {type_name} mapping, got {type(data).__name__}"]
    by_json = {json_key: attr for attr, json_key in model.attribute_map.items()}
    errors = [f"{where}.{key}: not a field of {type_name}" for key in data if key not in by_json]
    for key, value in data.items():
        if key in by_json:
            errors += schema_errors(value, model.openapi_types[by_json[key]], f"{where}.{key}")
    if not errors:  # the model's constructor enforces required fields (client-side validation)
        try:
            kubernetes.client.ApiClient()._ApiClient__deserialize(data, type_name)  # type: ignore[attr-defined]
        except (ValueError, TypeError) as exc:
            errors.append(f"{where}: {exc}")
    return errors

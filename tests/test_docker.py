"""The Docker launcher for real: an arm trains in a container through PipesDockerClient (`make test-docker`).

Needs a running Docker daemon and the image `scripts/docker_local_image.sh` builds (no registry is needed: a
minimal root filesystem imported with `docker import`, the interpreter, virtualenv and source mounted read-only).
Not part of `make test`: the `docker` marker is deselected by default.
"""

from __future__ import annotations

import os
import socket
import sys
from pathlib import Path

import pytest

from rlvr_assets.core.store.storage import read_frame
from tests.conftest import ROOT
from tests.scale_support import arm_setup, materialize, tiny_training

IMAGE = os.environ.get("RLVR_TEST_IMAGE", "rlvr-assets-train:local")

pytestmark = pytest.mark.docker


def test_arm_trains_in_a_container_through_pipes(tmp_path: Path) -> None:
    import docker

    client = docker.from_env()
    client.images.get(IMAGE)  # fails loudly when the image was not built: run `make test-docker`
    mounts = {p: f"{p}:ro" for p in {sys.base_prefix, sys.prefix, str(ROOT)}}
    overrides = tiny_training(steps=2, checkpoint_every=1)
    overrides["scale"] |= {
        "launcher": "docker",
        "docker": {
            "image": IMAGE,
            "python": sys.executable,
            "volumes": mounts,
            "env": {"PYTHONPATH": str(ROOT), "HF_HUB_OFFLINE": "1"},
            "network": "none",
        },
    }
    setup = arm_setup(tmp_path, overrides)
    result = materialize(setup)
    assert result["success"], result
    assert result["metadata"]["launcher"] == "docker"
    assert not result["trl_imported"]
    row = read_frame(setup["cfg"].paths.duckdb_path, "policy_checkpoint").row(0, named=True)
    assert row["steps"] == 2
    assert row["train_host"] != socket.gethostname(), "the training ran on this host, not in a container"
    assert (Path(row["path"]) / "rlvr_lineage.json").exists()
    assert "| 0 | 2 |" in result["metadata"]["per_step"], "per-step metrics did not come back from the container"
    leftover = client.containers.list(all=True, filters={"label": "rlvr_assets.job"})
    assert not leftover, "finished training containers were left behind"


# in the training image, with the launcher's container options: a real tool call through the tool sandbox
_SANDBOX_PROBE = """
import json
from rlvr_assets.core.domains.function_calling.tool_sandbox import ToolSandbox
with ToolSandbox() as box:
    state, results = box.project_step(
        "filesystem", {"files": {"a.txt": "x"}}, [("write_file", {"path": "b.txt", "content": "y"})]
    )
    print(json.dumps({"guard": box.guard, "files": sorted(state["files"]), "results": results}))
"""


def test_function_calling_arm_trains_in_a_container_with_no_network(tmp_path: Path) -> None:
    """A function-calling arm (live multi-turn episodes over the simulated environments) trains in a container
    with `--network none`, and in that image the tool sandbox answers a real tool call under the guards the
    container allows (chroot and a uid per session; no namespaces: the container has no `unshare`)."""
    import json

    import docker
    import polars as pl

    from rlvr_assets.core.gate.frames import tasks_to_frame
    from rlvr_assets.core.store.storage import write_frame
    from rlvr_assets.core.tasks.seeds import load_seed_dir
    from tests.scale_support import ARM

    client = docker.from_env()
    client.images.get(IMAGE)
    mounts = {p: f"{p}:ro" for p in {sys.base_prefix, sys.prefix, str(ROOT)}}
    overrides = tiny_training(steps=2, checkpoint_every=1)
    overrides["domains"] = ["function_calling"]
    overrides["scale"] |= {
        "launcher": "docker",
        "docker": {
            "image": IMAGE,
            "python": sys.executable,
            "volumes": mounts,
            "env": {"PYTHONPATH": str(ROOT), "HF_HUB_OFFLINE": "1"},
            "network": "none",
        },
    }
    setup = arm_setup(tmp_path, overrides)
    seeds = [
        t for t in load_seed_dir(ROOT / "seeds") if t.domain == "function_calling" and t.provenance.split == "base"
    ]
    corpus = tasks_to_frame(seeds[:4]).with_columns(pl.lit(ARM).alias("arm"), pl.lit("human").alias("arm_kind"))
    write_frame(setup["cfg"].paths.duckdb_path, "training_corpus", corpus, ARM)
    result = materialize(setup)
    assert result["success"], result["failure"][-3000:]
    row = read_frame(setup["cfg"].paths.duckdb_path, "policy_checkpoint").row(0, named=True)
    assert row["steps"] == 2 and row["train_host"] != socket.gethostname()
    outcome = json.loads((setup["checkpoints"] / ARM / "seed-0" / "outcome.json").read_text())
    assert all("episodes" in h for h in outcome["history"]), "the arm did not train on live episodes"

    probe = client.containers.run(
        IMAGE,
        [sys.executable, "-c", _SANDBOX_PROBE],
        volumes={host: {"bind": host, "mode": "ro"} for host in mounts},
        environment={"PYTHONPATH": str(ROOT)},
        network_mode="none",
        working_dir="/tmp",
        remove=True,
    )
    report = json.loads(probe.decode().strip().splitlines()[-1])
    assert report["files"] == ["a.txt", "b.txt"], report
    assert "chroot" in report["guard"] and "uid-per-session" in report["guard"], report

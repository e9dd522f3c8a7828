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

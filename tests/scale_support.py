"""Helpers for the scale-out tests: one arm's upstream tables written directly (no task preparation), and a script
that materializes `policy_checkpoint` alone in a fresh Python process, as a Dagster run process would."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import polars as pl

from rlvr_assets.core.config import load_config
from rlvr_assets.core.gate.frames import tasks_to_frame
from rlvr_assets.core.policy.models import base_model_dir, materialize_base_model
from rlvr_assets.core.store.storage import write_frame
from rlvr_assets.core.tasks.seeds import load_seed_dir
from tests.conftest import ROOT, TINY, write_config

ARM = "human-4"

# Materialize policy_checkpoint for one arm against a persistent instance, upstream read from DuckDB; print what
# the step process imported and the materialization's metadata.
MATERIALIZE = """
import json, os, sys
import dagster as dg
from rlvr_assets.core.config import load_config
from rlvr_assets.definitions import build_definitions

cfg = load_config(sys.argv[1])
defs = build_definitions(cfg)
with dg.DagsterInstance.from_config(sys.argv[2]) as instance:
    job = defs.resolve_job_def("train_arm_job").get_subset(asset_selection={dg.AssetKey("policy_checkpoint")})
    result = job.execute_in_process(instance=instance, partition_key=sys.argv[3], raise_on_error=False)
    meta = {}
    if result.success:
        event = instance.get_latest_materialization_event(dg.AssetKey("policy_checkpoint"))
        def plain(value):
            if isinstance(value, dict):
                return {str(a): plain(b) for a, b in value.items()}
            return value if isinstance(value, (str, int, float, bool, list, type(None))) else str(value)

        meta = {k: plain(getattr(v, "value", str(v))) for k, v in event.asset_materialization.metadata.items()}
print("RESULT " + json.dumps({
    "success": result.success,
    "pid": os.getpid(),
    "trl_imported": "trl" in sys.modules,
    "metadata": meta,
    "failure": "\\n".join(e.step_failure_data.error.to_string() for e in result.get_step_failure_events()),
}, default=str))
"""


def arm_setup(directory: Path, overrides: dict | None = None) -> dict:
    """A tiny-model config, its base model and one arm's corpus in DuckDB, and a Dagster home with pools."""
    cfg_path = write_config(directory, overrides)
    cfg = load_config(cfg_path)
    info = materialize_base_model(cfg.model, base_model_dir(cfg.model, cfg.paths.artifacts_dir))
    seeds = [t for t in load_seed_dir(ROOT / "seeds") if t.domain == "reasoning" and t.provenance.split == "base"]
    corpus = tasks_to_frame(seeds[:4]).with_columns(pl.lit(ARM).alias("arm"), pl.lit("human").alias("arm_kind"))
    db = cfg.paths.duckdb_path
    write_frame(db, "training_corpus", corpus, ARM)
    write_frame(
        db,
        "base_model",
        pl.DataFrame(
            [{"path": info.path, "source": info.source, "parameters": info.parameters, "fingerprint": info.fingerprint}]
        ),
    )
    # a human arm's corpus holds no gated variants: the gate has no pass rates for it to seed dynamic sampling with
    gate = pl.DataFrame(schema={"variant_id": pl.String, "factor": pl.String, "pass_rate": pl.Float64})
    write_frame(db, "gate_results", gate)
    home = directory / "dagster_home"
    home.mkdir(exist_ok=True)
    (home / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    # create the instance's SQLite storage once here: two materializations that start together would both
    # create it, and alembic then finds two version heads ("more than one head present")
    import dagster as dg

    with dg.DagsterInstance.from_config(str(home)):
        pass
    return {"config": cfg_path, "cfg": cfg, "home": home, "checkpoints": cfg.paths.artifacts_dir / "checkpoints"}


def materialize_command(setup: dict, arm: str = ARM) -> list[str]:
    return [sys.executable, "-c", MATERIALIZE, str(setup["config"]), str(setup["home"]), arm]


def script_env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(ROOT)}


def parse_result(stdout: str) -> dict:
    line = next(line for line in stdout.splitlines() if line.startswith("RESULT "))
    return json.loads(line.removeprefix("RESULT "))


def materialize(setup: dict, timeout: float = 300, arm: str = ARM) -> dict:
    done = subprocess.run(
        materialize_command(setup, arm), capture_output=True, text=True, timeout=timeout, env=script_env(), cwd=ROOT
    )
    assert "RESULT " in done.stdout, done.stderr[-3000:]
    return parse_result(done.stdout)


def tiny_training(steps: int, checkpoint_every: int) -> dict:
    return {
        "training": {**TINY["training"], "max_steps": steps},
        "scale": {"checkpoint_every": checkpoint_every},
    }
